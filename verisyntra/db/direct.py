"""Short-lived, unpooled server connections for checks, probes and health views.

Some code must reach a server without going through its pool: the capacity system check (a pool
made before the test databases exist would keep the real database), the health views (a pooled
checkout would wait for the very connections they report on) and the replica probes (a probe
must not queue behind the requests it protects). They all connect here, tagged with their own
`application_name` so `pg_stat_activity` never counts them as pool connections.
"""

from __future__ import annotations

import psycopg2
import psycopg2.extensions
from django.conf import settings

from verisyntra.db.timeouts import timeout_cursor


def direct_connection(
    alias: str,
    *,
    application_name: str,
    connect_timeout: int = 3,
    statement_timeout_ms: int | None = None,
    autocommit: bool = True,
    database: str | None = None,
) -> psycopg2.extensions.connection:
    """A new psycopg2 connection to `alias`'s server and database (or `database` on it); the caller closes it.

    The statement timeout travels with each statement (`SET LOCAL`, verisyntra.db.timeouts), never as
    the startup parameter `options`, which PgBouncer in transaction mode refuses.
    """
    params = settings.DATABASES[alias]
    conn = psycopg2.connect(
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        dbname=database or params.get("NAME") or "postgres",
        connect_timeout=connect_timeout,
        application_name=application_name,
        cursor_factory=timeout_cursor(statement_timeout_ms or 0),
    )
    conn.autocommit = autocommit
    return conn
