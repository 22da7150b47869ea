"""Types for `dj_db_conn_pool.core` (django-db-connection-pool 1.2.6): only the parts this project uses."""

import threading
from typing import ClassVar

from sqlalchemy.pool import QueuePool

class PoolContainer(dict[str, QueuePool]):
    """One SQLAlchemy pool per database alias, per process (the library's `pool_container`)."""

    lock: ClassVar[threading.Lock]

    def has(self, pool_name: str) -> bool: ...
    def put(self, pool_name: str, pool: QueuePool) -> None: ...

pool_container: PoolContainer
