"""`manage.py createcachetable` on the table owner's alias by default (`default` is a dummy; see README, Architecture)."""

from django.core.management.commands.createcachetable import Command as DjangoCommand

from verisyntra.management.primary import default_to_owner

Command = default_to_owner(DjangoCommand)
