"""Settings for the benchmark's baseline: ONE pool serves reads and writes (the original "before").

Everything is the service's settings, except that `SinglePoolRouter` comes first and sends
reads to the `write` alias too, so dashboards and writers compete for the same QueuePool
(sized by WRITE_POOL_SIZE / WRITE_POOL_MAX_OVERFLOW; the benchmark sets 20 + 10). Pointing
READ_DATABASE_URL at DATABASE_URL would not do: each alias would still have its own pool.
Selected with DJANGO_SETTINGS_MODULE=benchmarks.settings_shared.
"""

from verisyntra.settings import *  # noqa: F403
from verisyntra.settings import DATABASE_ROUTERS

DATABASE_ROUTERS = ["benchmarks.settings_shared.SinglePoolRouter", *DATABASE_ROUTERS]


class SinglePoolRouter:
    """Reads go where writes go; everything else is left to `ReadWriteRouter`."""

    def db_for_read(self, model, **hints):
        from verisyntra.db.config import WRITE_ALIAS

        return WRITE_ALIAS
