"""Settings for the connection-cost comparison: no pool, a new server connection for every request.

The same aliases, router and CONN_MAX_AGE=0 as the service, on Django's own PostgreSQL backend
instead of the pooled one, so each request connects and disconnects (what the promised "40% less
connection overhead" of pooling is measured against). Selected with DJANGO_SETTINGS_MODULE=benchmarks.settings_unpooled.
"""

from verisyntra.settings import *  # noqa: F403
from verisyntra.settings import DATABASES

for _alias, _database in DATABASES.items():
    if _database.get("ENGINE") == "dj_db_conn_pool.backends.postgresql":
        _database["ENGINE"] = "django.db.backends.postgresql"
