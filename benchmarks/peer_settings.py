"""Settings for the pool comparison's peer "Django's native pool": psycopg 3's pool instead of ours.

Selected with DJANGO_SETTINGS_MODULE=benchmarks.peer_settings, and only in the second virtualenv of
`python -m benchmarks.pool_peers` (benchmarks/requirements-peers.txt: the project's requirements
plus psycopg 3 and psycopg-pool): Django 5.2 pools only on psycopg 3, and the project's own
virtualenv must stay psycopg2-only (django-db-connection-pool switches to psycopg 3 whenever
`import psycopg` works). Everything is the service's settings except each pooled alias:

- ENGINE `django.db.backends.postgresql` with OPTIONS["pool"] sized like ours: `max_size` =
  POOL_SIZE + MAX_OVERFLOW (a QueuePool's ceiling), `timeout` = TIMEOUT, `max_lifetime` =
  RECYCLE, and `min_size` 0, so that it opens connections on demand as a QueuePool does.
  (`min_size` = POOL_SIZE would open 20 read + 50 write connections per process as soon as each
  pool is first used and keep them: 90 for the two web processes, against a development server's
  `max_connections` of 100.) CONN_HEALTH_CHECKS on: psycopg checks a connection at every
  checkout, as our PRE_PING does. Django refuses a pool with CONN_MAX_AGE other than 0, ours anyway.
- Not the service's `cursor_factory`: `verisyntra.db.timeouts.TimeoutCursor` is a psycopg2 cursor. The read
  statement timeout travels as the startup parameter `options=-c statement_timeout=N` instead,
  which works on a direct connection (this peer talks to PostgreSQL directly) but not behind
  PgBouncer.
- `ScopedCursor`: the service's psycopg2 cursor also sends the tenant scope row-level security
  reads with every statement (`verisyntra.db.tenant_scope`); without it the runtime role sees no
  tenant's rows. This psycopg 3 cursor does the same (the statement timeout stays in `options`).
- `psycopg.Cursor.copy_expert`: the batch API writes through psycopg2's `copy_expert`, which
  psycopg 3 does not have (it has `cursor.copy()`). The small adapter below is what a port
  would need; it exists here only so the batch can be measured on this peer.

What else does not carry over is listed in docs/benchmarks.md ("Pool peers").
"""

from __future__ import annotations

from typing import Any

import psycopg

from verisyntra.db.config import POOLED_ENGINE, STATEMENT_TIMEOUT_KEY
from verisyntra.db.tenant_scope import scope_sql
from verisyntra.db.timeouts import statement_with_timeout
from verisyntra.settings import *  # noqa: F403
from verisyntra.settings import DATABASES

_COPY_BLOCK = 65536


def _copy_expert(self: psycopg.Cursor, sql: str, file: Any, size: int = _COPY_BLOCK) -> None:
    """psycopg2's `copy_expert(sql, file, size)` for COPY ... FROM STDIN, on psycopg 3's `copy()`.

    An exception from `file.read` leaves the `with` block, so psycopg aborts the COPY (CopyFail)
    and the exception propagates, as it does under psycopg2.
    """
    with self.copy(sql) as copy:
        while block := file.read(size):
            copy.write(block)


psycopg.Cursor.copy_expert = _copy_expert  # type: ignore[attr-defined]


class ScopedCursor(psycopg.ClientCursor):
    """Django's client-side-binding cursor, each statement preceded by its transaction's tenant scope."""

    def execute(self, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        prefixed = isinstance(query, str) and statement_with_timeout(query, 0) != query
        result = super().execute(statement_with_timeout(query, 0) if prefixed else query, params, *args, **kwargs)
        if prefixed:
            # psycopg 3 stays on a multi-statement's first result (psycopg2 on its last): skip the scope's.
            self.nextset()
        return result

    def copy_expert(self, sql: str, file: Any, size: int = _COPY_BLOCK) -> None:
        # COPY takes no prefix: the scope first, in the same transaction (the batch runs in one).
        super().execute(scope_sql())
        _copy_expert(self, sql, file, size)


for _alias, _database in DATABASES.items():
    if _database.get("ENGINE") != POOLED_ENGINE:
        continue
    _pool = _database["POOL_OPTIONS"]  # kept: the capacity check (verisyntra.W001) reads the sizes there
    _options = _database["OPTIONS"]
    _options["cursor_factory"] = ScopedCursor
    if _database[STATEMENT_TIMEOUT_KEY]:
        _options["options"] = f"-c statement_timeout={int(_database[STATEMENT_TIMEOUT_KEY])}"
    _options["pool"] = {
        "min_size": 0,
        "max_size": _pool["POOL_SIZE"] + _pool["MAX_OVERFLOW"],
        "timeout": _pool["TIMEOUT"],
        "max_lifetime": _pool["RECYCLE"],
        "name": f"verisyntra-{_alias}",
    }
    _database["ENGINE"] = "django.db.backends.postgresql"
    _database["CONN_MAX_AGE"] = 0
    _database["CONN_HEALTH_CHECKS"] = True
