"""`manage.py flush` on the write alias by default, emptying the tables as their owner (see verisyntra.management.primary)."""

from django.core.management.commands.flush import Command as DjangoCommand

from verisyntra.management.primary import flush_as_owner

Command = flush_as_owner(DjangoCommand)
