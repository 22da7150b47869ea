"""Statement timeouts that survive a transaction-mode pooler: `SET LOCAL` sent with every statement.

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
from typing import Any

import psycopg2.extensions

# Statements sent as they are: transaction control, and those that cannot run inside a transaction block.
_UNPREFIXED = re.compile(
    r"""\s*(?:
        SAVEPOINT|RELEASE|ROLLBACK|COMMIT|BEGIN|START\s+TRANSACTION|END|ABORT|PREPARE\s+TRANSACTION|DISCARD|VACUUM
        |(?:CREATE|DROP|ALTER)\s+(?:DATABASE|TABLESPACE|SUBSCRIPTION)|ALTER\s+SYSTEM
        |(?:CREATE|DROP)\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|REINDEX\b[^;]*\bCONCURRENTLY
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)


def statement_with_timeout(sql: str, timeout_ms: int) -> str:
    """`sql` preceded by `SET LOCAL statement_timeout`, unless it has no timeout or must run on its own."""
    if timeout_ms <= 0 or _UNPREFIXED.match(sql):
        return sql
    return f"SET LOCAL statement_timeout = {int(timeout_ms)}; {sql}"


class TimeoutCursor(psycopg2.extensions.cursor):
    """A psycopg2 cursor that sends each statement with `SET LOCAL statement_timeout` (see the module's docstring).

    Made per timeout by `timeout_cursor()`, and handed to psycopg2 as the connection's `cursor_factory`
    (Django passes OPTIONS["cursor_factory"] through), so it sits below every Django execute wrapper
    and query log: they see the statement as the code wrote it. A named (server-side) cursor's
    DECLARE cannot carry a prefix: inside a transaction the SET LOCAL goes first on its own; in
    autocommit (a WITH HOLD cursor, off behind a pooler with DISABLE_SERVER_SIDE_CURSORS) it has none.
    """

    statement_timeout_ms = 0

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 - psycopg2's own parameter name
        super().execute(self._with_timeout(query), vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        super().executemany(self._with_timeout(query), vars_list)

    def _with_timeout(self, query: Any) -> Any:
        timeout_ms = self.statement_timeout_ms
        if timeout_ms <= 0 or not isinstance(query, str):
            return query
        if self.name is None:
            return statement_with_timeout(query, timeout_ms)
        if not self.connection.autocommit:
            with psycopg2.extensions.cursor(self.connection) as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        return query


@functools.cache
def timeout_cursor(timeout_ms: int) -> type[TimeoutCursor]:
    """The cursor class for connections with this timeout in ms (one class per value, made once)."""
    return type(f"TimeoutCursor{timeout_ms}", (TimeoutCursor,), {"statement_timeout_ms": max(int(timeout_ms), 0)})
