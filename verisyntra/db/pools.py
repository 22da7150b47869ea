"""The pool layer: checkout timing, exhaustion, fork safety and the one reader of pool statistics.

django-db-connection-pool keeps one SQLAlchemy `QueuePool` per alias and process in
`dj_db_conn_pool.core.pool_container`, created on the alias's first connection. This module
swaps that container's class for `InstrumentedPoolContainer` (same dict, same data) so that
every checkout is timed and a full pool raises `PoolExhausted`, which the error layer turns
into a bilingual 503. It also makes the pools fork-safe, which the library is not.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy.exc
from dj_db_conn_pool.core import PoolContainer, pool_container
from django.conf import settings
from django.db import connections
from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection, QueuePool

from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS

logger = logging.getLogger(__name__)


class PoolExhausted(Exception):
    """No connection could be checked out of `alias`'s pool within its timeout."""

    def __init__(self, alias: str, pool_size: int, max_overflow: int, timeout: float, waited: float):
        self.alias = alias
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.timeout = timeout
        self.waited = waited
        super().__init__(
            f"Connection pool {alias!r} exhausted: size {pool_size}, overflow {max_overflow}, waited {waited:.2f}s (timeout {timeout:.0f}s)"
        )


# Observers are called as observer(alias, seconds_waited) after every checkout, as
# checkin_observer(alias) after a connection went back to its pool, and as
# exhaustion_observer(PoolExhausted) when a checkout times out. The health app registers
# its Prometheus metrics and audit log here; the database layer knows nothing of them.
# connect_failure_observer(alias, exception) runs when the server refused a new connection
# (the replica monitor then stops routing reads there at once, not at its next probe).
checkout_observers: list[Callable[[str, float], None]] = []
checkin_observers: list[Callable[[str], None]] = []
exhaustion_observers: list[Callable[[PoolExhausted], None]] = []
connect_failure_observers: list[Callable[[str, BaseException], None]] = []


def configured_pool_options(alias: str) -> dict[str, Any]:
    """POOL_OPTIONS as configured for `alias` (the pool itself hides max_overflow in a private field)."""
    return dict(settings.DATABASES[alias].get("POOL_OPTIONS", {}))


def _timed_connect(pool: QueuePool, alias: str) -> PoolProxiedConnection:
    started = time.perf_counter()
    try:
        connection = QueuePool.connect(pool)
    except sqlalchemy.exc.TimeoutError as exc:
        options = configured_pool_options(alias)
        exhausted = PoolExhausted(
            alias=alias,
            pool_size=pool.size(),
            max_overflow=options.get("MAX_OVERFLOW", 0),
            timeout=pool.timeout(),
            waited=time.perf_counter() - started,
        )
        for on_exhausted in exhaustion_observers:
            _call_observer(on_exhausted, exhausted)
        raise exhausted from exc
    except Exception as exc:
        for on_connect_failure in connect_failure_observers:
            _call_observer(on_connect_failure, alias, exc)
        raise
    waited = time.perf_counter() - started
    for on_checkout in checkout_observers:
        _call_observer(on_checkout, alias, waited)
    return connection


def _observed_return(pool: QueuePool, alias: str, record: ConnectionPoolEntry) -> None:
    # After the return, not in SQLAlchemy's "checkin" event: that fires while the connection
    # still counts as checked out, so a gauge set there would be one too high.
    QueuePool._return_conn(pool, record)
    for on_checkin in checkin_observers:
        _call_observer(on_checkin, alias)


def _call_observer(observer: Callable[..., object], *args: object) -> None:
    try:
        observer(*args)
    except Exception:  # an observer must never break a checkout
        logger.exception("pool observer %r failed", observer)


# Every DBAPI connection this process opened through a pool, so a forked child can neutralise them.
# Any: the DBAPI connection type of whichever driver the pool uses (psycopg2 here).
_live_connections: weakref.WeakSet[Any] = weakref.WeakSet()
_live_lock = threading.Lock()


@event.listens_for(Pool, "connect")
def _track_connection(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    with _live_lock:
        _live_connections.add(dbapi_connection)


class InstrumentedPoolContainer(PoolContainer):
    """`pool_container` with timed checkouts and observed checkins; installed by `install()`."""

    def put(self, pool_name: str, pool: QueuePool) -> None:
        # Shadow the bound methods on this pool object only: the library calls `pool.connect()`,
        # and SQLAlchemy returns every connection through `pool._return_conn(record)`. mypy forbids
        # assigning to a method; shadowing it on one instance is the point here.
        pool.connect = lambda: _timed_connect(pool, pool_name)  # type: ignore[method-assign]
        pool._return_conn = lambda record: _observed_return(pool, pool_name, record)  # type: ignore[method-assign]
        super().put(pool_name, pool)


# Objects inherited by a forked child that must never be finalised there (see `_after_fork_in_child`).
_inherited: list[object] = []


def _after_fork_in_child() -> None:
    """Give a forked child fresh pools and no inherited sockets.

    The child shares the parent's sockets. Closing them, or letting psycopg2 finalise them
    (which sends Terminate), or returning them to a pool (which sends ROLLBACK), would break
    the parent's sessions. So each inherited socket's file descriptor is pointed at /dev/null
    in the child only, the objects are kept alive, and every pool is recreated empty.
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for dbapi_connection in list(_live_connections):
            try:
                os.dup2(devnull, dbapi_connection.fileno())
            except Exception:  # already closed in the parent: nothing to neutralise
                pass
            _inherited.append(dbapi_connection)
    finally:
        os.close(devnull)
    _live_connections.clear()
    with pool_container.lock:
        for alias, pool in list(pool_container.items()):
            _inherited.append(pool)
            pool_container.put(alias, pool.recreate())
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited.append(connection.connection)
            connection.connection = None
            connection.in_atomic_block = False
            connection.needs_rollback = False
            connection.savepoint_ids = []
            connection.atomic_blocks = []
            connection.closed_in_transaction = False


def release_read_connections() -> None:
    """Hand this thread's read connections back to their pools now, before it waits for a write one.

    A writing request reads first (token, tenant membership) and would otherwise keep that read
    connection until the response, also while it queues for the write pool: under many writers
    the read pool empties and dashboards wait for it (docs/benchmarks.md, pool sizing). A later
    read in the same request simply checks a connection out again.
    """
    for alias in POOLED_ALIASES:
        if alias == WRITE_ALIAS:
            continue
        connection = connections[alias]
        if connection.connection is not None and not connection.in_atomic_block:
            connection.close()


_installed = False


def install() -> None:
    """Instrument the library's pool container and make pools fork-safe. Idempotent."""
    global _installed
    if _installed:
        return
    pool_container.__class__ = InstrumentedPoolContainer
    # Pools made before install(): `put` is now the instrumented one.
    for alias, pool in list(pool_container.items()):
        pool_container.put(alias, pool)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    _installed = True


def reset_pools(aliases: Iterable[str] | None = None) -> None:
    """Close and forget the pools of `aliases` (default: all) in this process; the next connection builds a fresh one.

    Used before test databases are created, so no pool keeps a real database's parameters, and by
    tests that rebuild one pool with other options (a tiny pool, a dead server).
    """
    with pool_container.lock:
        for alias in list(pool_container) if aliases is None else list(aliases):
            pool = pool_container.pop(alias, None)
            if pool is not None:
                pool.dispose()


@dataclass(frozen=True)
class PoolStatistics:
    """One alias's pool, as this process sees it. `exists` is False before the first connection."""

    alias: str
    exists: bool
    pool_size: int
    max_overflow: int
    checked_in: int
    checked_out: int
    overflow: int
    timeout: float
    recycle: int

    @property
    def capacity(self) -> int:
        return self.pool_size + self.max_overflow

    @property
    def open_connections(self) -> int:
        """Server connections this pool holds open (idle in the pool or checked out)."""
        return self.checked_in + self.checked_out

    @property
    def utilization_percent(self) -> float:
        return round(100.0 * self.checked_out / self.capacity, 1) if self.capacity > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "capacity": self.capacity,
            "open_connections": self.open_connections,
            "utilization_percent": self.utilization_percent,
        }


def pool_statistics(alias: str) -> PoolStatistics:
    """The one place that reads pool statistics, correct before any connection was made."""
    options = configured_pool_options(alias)
    pool = pool_container.get(alias) if pool_container.has(alias) else None
    if pool is None:
        return PoolStatistics(
            alias=alias,
            exists=False,
            pool_size=options.get("POOL_SIZE", 0),
            max_overflow=options.get("MAX_OVERFLOW", 0),
            checked_in=0,
            checked_out=0,
            overflow=0,
            timeout=float(options.get("TIMEOUT", 0)),
            recycle=options.get("RECYCLE", 0),
        )
    return PoolStatistics(
        alias=alias,
        exists=True,
        pool_size=pool.size(),
        max_overflow=options.get("MAX_OVERFLOW", 0),
        checked_in=pool.checkedin(),
        checked_out=max(pool.checkedout(), 0),
        overflow=max(pool.overflow(), 0),
        timeout=float(pool.timeout()),
        recycle=options.get("RECYCLE", 0),
    )


def all_pool_statistics() -> dict[str, PoolStatistics]:
    return {alias: pool_statistics(alias) for alias in POOLED_ALIASES}
