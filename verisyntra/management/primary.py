"""Make Django's database-taking commands default to the right alias instead of the dummy `default`.

Commands that read or write rows default to the write alias (the primary, as the runtime role);
those that change the schema (`migrate`, `createcachetable`) to the table owner's alias
(`verisyntra.db.config.migration_alias`). `flush` runs on the alias it is given but empties the
tables as their owner: TRUNCATE is a privilege the runtime role does not have.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from verisyntra.db.config import MIGRATION_ALIAS, WRITE_ALIAS, migration_alias


def default_to_primary(command_class: type) -> type:
    """A subclass of `command_class` whose `--database` defaults to the write alias (the primary)."""
    return _default_to(command_class, lambda: WRITE_ALIAS)


def default_to_owner(command_class: type) -> type:
    """A subclass of `command_class` whose `--database` defaults to the table owner's alias.

    Without an owner's alias (no MIGRATION_DATABASE_URL, DEBUG off) it refuses to run on the write
    alias with a message that says what to set, rather than fail half-way with PostgreSQL's
    `permission denied for schema public`: that alias connects as the runtime role.
    """

    class Command(_default_to(command_class, migration_alias)):  # type: ignore[misc]
        def handle(self, *args, **options):
            from django.conf import settings
            from django.core.management.base import CommandError

            if options.get("database") == WRITE_ALIAS and MIGRATION_ALIAS not in settings.DATABASES and not settings.DEBUG:
                raise CommandError(
                    "MIGRATION_DATABASE_URL is not set: schema changes run as the tables' owner, and DATABASE_URL "
                    "names the runtime role, which may not make them (docs/configuration.md, Database roles)."
                )
            return super().handle(*args, **options)

    Command.__doc__ = command_class.__doc__
    return Command


def _default_to(command_class: type, alias: Any) -> type:
    class Command(command_class):
        def add_arguments(self, parser):
            super().add_arguments(parser)
            parser.set_defaults(database=alias())

    Command.__doc__ = command_class.__doc__
    return Command


def flush_as_owner(command_class: type) -> type:
    """`flush` whose TRUNCATE statements run on the owner's connection to the same database."""

    class Command(default_to_primary(command_class)):  # type: ignore[misc]
        def handle(self, **options):
            database = options["database"]
            owner = migration_alias()
            if owner == database or owner != MIGRATION_ALIAS:
                return super().handle(**options)
            ops = connections[database].ops
            ops.execute_sql_flush = lambda sql_list: _execute_as_owner(database, sql_list)
            try:
                return super().handle(**options)
            finally:
                del ops.execute_sql_flush

    Command.__doc__ = command_class.__doc__
    return Command


def _execute_as_owner(database: str, sql_list: list[str]) -> None:
    from verisyntra.db.direct import direct_connection

    conn = direct_connection(
        MIGRATION_ALIAS,
        application_name="verisyntra-flush",
        autocommit=False,
        database=connections[database].settings_dict["NAME"],
    )
    try:
        with conn, conn.cursor() as cursor:
            for sql in sql_list:
                cursor.execute(sql)
    finally:
        conn.close()
