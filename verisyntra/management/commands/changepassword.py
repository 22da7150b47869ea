"""`manage.py changepassword` on the write alias by default (`default` is a dummy; see README, Architecture)."""

from django.contrib.auth.management.commands.changepassword import Command as DjangoCommand

from verisyntra.management.primary import default_to_primary

Command = default_to_primary(DjangoCommand)
