"""`manage.py sqlmigrate` on the write alias by default (`default` is a dummy; see README, Architecture)."""

from django.core.management.commands.sqlmigrate import Command as DjangoCommand

from verisyntra.management.primary import default_to_primary

Command = default_to_primary(DjangoCommand)
