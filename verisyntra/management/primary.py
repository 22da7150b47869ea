"""Make Django's database-taking commands default to the write alias instead of the dummy `default`."""

from __future__ import annotations

from verisyntra.db.config import WRITE_ALIAS


def default_to_primary(command_class: type) -> type:
    """A subclass of `command_class` whose `--database` defaults to the write alias (the primary)."""

    class Command(command_class):
        def add_arguments(self, parser):
            super().add_arguments(parser)
            parser.set_defaults(database=WRITE_ALIAS)

    Command.__doc__ = command_class.__doc__
    return Command
