"""Settings for the pool comparison's peer "persistent connections": no application pool at all.

Selected with DJANGO_SETTINGS_MODULE=benchmarks.settings_persistent, with DATABASE_URL pointing at
PgBouncer (`python -m benchmarks.pool_peers` does both). The same aliases, router, statement
timeouts (psycopg2's TimeoutCursor) and DISABLE_SERVER_SIDE_CURSORS as the service, on Django's
own PostgreSQL backend with CONN_MAX_AGE=600: each gunicorn thread keeps one connection per alias
for ten minutes, the usual setup in front of a transaction-mode pooler
(with CONN_HEALTH_CHECKS, so a connection PgBouncer dropped is replaced at the next request).
"""

from verisyntra.db.config import POOLED_ENGINE
from verisyntra.settings import *  # noqa: F403
from verisyntra.settings import DATABASES

for _alias, _database in DATABASES.items():
    if _database.get("ENGINE") == POOLED_ENGINE:
        _database["ENGINE"] = "django.db.backends.postgresql"
        _database["CONN_MAX_AGE"] = 600
        _database["CONN_HEALTH_CHECKS"] = True
