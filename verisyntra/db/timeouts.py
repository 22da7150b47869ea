"""Per-transaction settings that survive a transaction-mode pooler, sent with every statement.

Two settings travel this way: the alias's statement timeout, and the tenant scope that row-level
security reads (`verisyntra.db.tenant_scope`). The reasoning below is the timeout's; it holds the
same for `set_config(..., true)`, which is `SET LOCAL` as a function.

A timeout set for the whole session (libpq's startup parameter `options=-c statement_timeout=...`,
or a plain `SET`) does not survive PgBouncer in transaction mode: PgBouncer refuses the startup
parameter outright (FATAL "unsupported startup parameter: options"), or drops it when told to
ignore it, and a session `SET` would stay on a server connection other clients then share.
`SET LOCAL` lasts until the end of the current transaction, which is exactly the span a
transaction-mode pooler lends a server connection for. So each statement on an alias with a
timeout is sent as `SET LOCAL statement_timeout = N; <statement>` in the same query string:

- outside a transaction block, PostgreSQL runs a multi-statement query string as one implicit
  transaction, so the `SET LOCAL` holds for exactly that statement ("Multiple Statements in a
  Simple Query", PostgreSQL's protocol documentation);
- inside one (`atomic()`), it holds until that transaction ends, and sending it again costs no
  round trip: it travels in the statement's own message.

It works the same way on a direct connection to PostgreSQL, so there is one mechanism whatever
sits in front. Statements that PostgreSQL refuses inside a transaction block (VACUUM, CREATE
DATABASE, ... CONCURRENTLY) and transaction control itself (a `ROLLBACK TO SAVEPOINT` in a failed
transaction must not be preceded by a statement that fails) are sent unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg2.extensions
import psycopg2.sql

from verisyntra.db.tenant_scope import scope_sql

# Statements sent as they are: transaction control, and those that cannot run inside a transaction block.
_UNPREFIXED = re.compile(
    r"""\s*(?:
        SAVEPOINT|RELEASE|ROLLBACK|COMMIT|BEGIN|START\s+TRANSACTION|END|ABORT|PREPARE\s+TRANSACTION|DISCARD|VACUUM
        |(?:CREATE|DROP|ALTER)\s+(?:DATABASE|TABLESPACE|SUBSCRIPTION)|ALTER\s+SYSTEM
        |(?:CREATE|DROP)\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|REINDEX\b[^;]*\bCONCURRENTLY
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


def settings_sql(timeout_ms: int, scope: str | None = None) -> str:
    """The statements that put this alias's timeout and the tenant scope into the current transaction."""
    timeout = f"SET LOCAL statement_timeout = {int(timeout_ms)}; " if timeout_ms > 0 else ""
    return f"{timeout}{scope_sql(scope)}"


def statement_with_timeout(sql: str, timeout_ms: int, scope: str | None = None) -> str:
    """`sql` preceded by its transaction's settings, unless it must run on its own (transaction control and the like)."""
    if _UNPREFIXED.match(sql):
        return sql
    return f"{settings_sql(timeout_ms, scope)}; {sql}"


# What `statement_with_timeout` puts before a statement, for code that shows a statement to people
# (the health views' last query of a connection).
SETTINGS_PREFIX_PATTERN = re.compile(r"^(?:SET LOCAL statement_timeout = \d+; )?SELECT set_config\('app\.tenant_id', [^;]*; ")


class TimeoutCursor(psycopg2.extensions.cursor):
    """A psycopg2 cursor that sends each statement with its transaction's settings (see the module's docstring).

    Made per timeout by `timeout_cursor()`, and handed to psycopg2 as the connection's `cursor_factory`
    (Django passes OPTIONS["cursor_factory"] through), so it sits below every Django execute wrapper
    and query log: they see the statement as the code wrote it. A named (server-side) cursor's
    DECLARE, and COPY, cannot carry a prefix: inside a transaction the settings go first on their
    own; in autocommit (a WITH HOLD cursor, which runs its query when its transaction commits) the
    statement runs in a transaction of its own that begins with them.
    """

    statement_timeout_ms = 0

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 - psycopg2's own parameter name
        if self.name is not None and isinstance(query, str):
            with self._settings_first():
                super().execute(query, vars)
            return
        super().execute(self._with_settings(query), vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        super().executemany(self._with_settings(query), vars_list)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        with self._settings_first():
            super().copy_expert(sql, file, size)

    def copy_from(self, *args: Any, **kwargs: Any) -> None:
        with self._settings_first():
            super().copy_from(*args, **kwargs)

    def copy_to(self, *args: Any, **kwargs: Any) -> None:
        with self._settings_first():
            super().copy_to(*args, **kwargs)

    def _with_settings(self, query: Any) -> Any:
        if isinstance(query, psycopg2.sql.Composable):
            query = query.as_string(self.connection)  # composed statements carry the settings too
        if not isinstance(query, str):
            return query  # bytes: sent as they are
        return statement_with_timeout(query, self.statement_timeout_ms)

    @contextmanager
    def _settings_first(self) -> Iterator[None]:
        """Run the settings on their own before a statement that cannot carry them.

        Inside the caller's transaction they simply go first. In autocommit the statement gets a
        transaction of its own (BEGIN ... COMMIT) so the settings stay transaction-local: a
        session-level scope could outlive the statement on this connection, or, behind a
        transaction-mode pooler, land on a server connection another client gets next.
        """
        with psycopg2.extensions.cursor(self.connection) as cursor:
            if not self.connection.autocommit:
                cursor.execute(settings_sql(self.statement_timeout_ms))
                yield
                return
            cursor.execute(f"BEGIN; {settings_sql(self.statement_timeout_ms)}")
            try:
                yield
            except BaseException:
                with suppress(psycopg2.Error):  # a broken connection is discarded anyway
                    cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")


@functools.cache
def timeout_cursor(timeout_ms: int) -> type[TimeoutCursor]:
    """The cursor class for connections with this timeout in ms (one class per value, made once)."""
    return type(f"TimeoutCursor{timeout_ms}", (TimeoutCursor,), {"statement_timeout_ms": max(int(timeout_ms), 0)})
