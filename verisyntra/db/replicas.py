"""Read replicas: which read aliases may serve reads right now, and why not when they may not.

Each read alias (`read`, `read_1`, ... from READ_DATABASE_URLS) that points at a server other
than the primary is probed by one background thread per process, every REPLICA_CHECK_SECONDS,
on short-lived connections of its own (never a pooled one: a probe must not wait behind the
requests it protects, nor create a pool as a side effect). The router (`verisyntra.db.router`)
asks `healthy_read_aliases()`, which only reads the last published snapshot: no request waits
for a probe, except the very first read of a process, which probes once so it does not start
on a replica that is down.

A replica is unfit when it does not answer, or when it may be missing more than
REPLICA_MAX_LAG_SECONDS of the primary's commits; it becomes fit again once its lag is back
under RECOVERY_FRACTION (80 %) of that limit, so a replica hovering at the limit does not flap. When no read alias
is fit, reads fall back to the primary (`write`), and `replica_states()` says so.

How the lag is measured: every probe first records the primary's current WAL position with
the time it was read. A replica that has replayed up to position R holds every commit made
before the newest recorded time at which the primary was at or below R, so the time since then
bounds how much it may be missing. This needs no clock agreement between servers, sees a
replica whose WAL receiver stalled (its own figures would say "caught up"), and is not fooled
by an idle primary (where `now() - pg_last_xact_replay_timestamp()` grows without any lag).
That replica-side age is still used when it is the tighter bound, e.g. for a process's first
probe, before any history exists. With recovery_min_apply_delay = N s the lag reads about N s.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
from django.conf import settings
from django.db import connections

from verisyntra.db import pools
from verisyntra.db.config import READ_ALIASES, WRITE_ALIAS
from verisyntra.db.direct import direct_connection

logger = logging.getLogger(__name__)

PROBE_APPLICATION_NAME = "verisyntra-replica-probe"
# libpq's smallest connect_timeout; a replica that takes longer to accept is not serving reads well.
PROBE_CONNECT_TIMEOUT = 2
PROBE_STATEMENT_TIMEOUT_MS = 2000
# An unfit replica returns once its lag is this share of REPLICA_MAX_LAG_SECONDS: a band wide enough
# not to flap on noise, narrow enough that a steadily lagging but acceptable replica is used again.
RECOVERY_FRACTION = 0.8

_REPLICA_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn()::text,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
"""


@dataclass(frozen=True)
class ReplicaState:
    """One read alias as the last probe saw it.

    `status` is one of: `primary` (the alias is the primary itself, never probed), `streaming`
    (fit), `not_in_recovery` (fit: a server that is no standby, e.g. a pooler in front of the
    primary), `primary_unreachable` (fit: the lag cannot be measured, and a stale answer beats
    none while writes fail anyway), `lagging` and `down` (unfit).
    """

    alias: str
    host: str
    port: int
    healthy: bool
    status: str
    in_recovery: bool | None = None
    lag_seconds: float | None = None
    error: str | None = None
    checked_at: float | None = None  # time.time() of the probe
    # pg_last_wal_replay_lsn() as a byte position: every commit that ended at or before it is visible here.
    replay_lsn: int | None = None

    def has_replayed(self, position: int) -> bool:
        """True when a read here sees every commit that ended at or before WAL `position`.

        A server in no recovery is the primary itself (e.g. a pooler in front of it): it has all of them.
        """
        if self.in_recovery is False:
            return True
        return self.replay_lsn is not None and self.replay_lsn >= position

    @property
    def is_replica(self) -> bool:
        return self.status != "primary"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3)}


def lsn_to_int(lsn: str) -> int:
    """'16/B374D848' -> a byte position, comparable across servers of one cluster."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def replica_lag_seconds(
    replay_lsn: int | None,
    primary_history: Sequence[tuple[float, int]],
    now: float,
    replay_age_seconds: float | None,
) -> float | None:
    """An upper bound on how many seconds of the primary's commits the replica may be missing.

    `primary_history` holds (monotonic time, primary WAL position) samples, oldest first.
    Returns None when nothing bounds it (no history and no replayed transaction yet).
    """
    bounds = []
    if replay_age_seconds is not None:
        bounds.append(max(replay_age_seconds, 0.0))
    if replay_lsn is not None and primary_history:
        for taken_at, primary_lsn in reversed(primary_history):
            if primary_lsn <= replay_lsn:
                bounds.append(max(now - taken_at, 0.0))
                break
        else:
            if not bounds:
                # Behind every sample we kept: at least as old as the oldest one.
                bounds.append(max(now - primary_history[0][0], 0.0))
    return min(bounds) if bounds else None


def server_of(alias: str) -> tuple[str, int]:
    params = connections[alias].settings_dict
    return (params.get("HOST") or "localhost", int(params.get("PORT") or 5432))


def database_of(alias: str) -> tuple[str, int, str]:
    """Host, port and database name: one PgBouncer may front the primary and a replica under two names."""
    return (*server_of(alias), connections[alias].settings_dict.get("NAME") or "")


def probed_aliases() -> tuple[str, ...]:
    """Read aliases that are not the primary's database: the ones that are replicas."""
    primary = database_of(WRITE_ALIAS)
    return tuple(alias for alias in READ_ALIASES if database_of(alias) != primary)


def _connect(alias: str) -> psycopg2.extensions.connection:
    return direct_connection(
        alias,
        application_name=PROBE_APPLICATION_NAME,
        connect_timeout=PROBE_CONNECT_TIMEOUT,
        statement_timeout_ms=PROBE_STATEMENT_TIMEOUT_MS,
    )


def _one_row(cursor: psycopg2.extensions.cursor) -> tuple[Any, ...]:
    """The row of a probe query (a SELECT without FROM, so always exactly one)."""
    row = cursor.fetchone()
    if row is None:  # cannot happen for such a query; a psycopg2.Error makes the probe say "down"
        raise psycopg2.ProgrammingError("probe query returned no row")
    return row


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


class ReplicaMonitor:
    """The probe thread of one process and the snapshot it publishes (thread-safe: one writer, readers copy nothing)."""

    def __init__(self, aliases: tuple[str, ...], *, interval: float, max_lag: float):
        self.aliases = aliases
        self.interval = max(interval, 0.05)
        self.max_lag = max_lag
        # Enough samples to bound any lag up to well past the limit.
        self._history: deque[tuple[float, int]] = deque(maxlen=max(8, int((2 * max_lag + 10) / self.interval) + 2))
        self._states: dict[str, ReplicaState] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    # --- readers (request path) ---------------------------------------------------------------

    def states(self) -> dict[str, ReplicaState]:
        self._ensure_running()
        return self._states

    def _ensure_running(self) -> None:
        thread = self._thread
        if thread is not None and self._pid == os.getpid() and thread.is_alive():
            return
        with self._lock:
            thread = self._thread
            if thread is not None and self._pid == os.getpid() and thread.is_alive():
                return
            if self._stopped.is_set():
                return
            # First use in this process (or in a forked child, which has no probe thread): one
            # synchronous probe unless the parent's snapshot came along, then the thread.
            if not self._states:
                self.probe_once()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="verisyntra-replica-monitor", daemon=True)
            self._thread.start()

    def request_probe(self) -> None:
        """Probe now rather than at the next interval."""
        self._wake.set()

    def mark_down(self, alias: str, exc: BaseException) -> None:
        """A request could not connect to `alias`: stop routing reads there now, and re-probe at once."""
        previous = self._states.get(alias)
        if previous is None or previous.healthy:
            host, port = server_of(alias)
            state = ReplicaState(
                alias=alias, host=host, port=port, healthy=False, status="down", error=_first_line(exc), checked_at=time.time()
            )
            self._log_change(state)
            self._states = {**self._states, alias: state}
        self.request_probe()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # --- the probe thread -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopped.is_set() or self._pid != os.getpid():
                return
            try:
                self.probe_once()
            except Exception:  # the monitor must outlive any surprise; the next round tries again
                logger.exception("replica probe failed")

    def _primary_lsn(self) -> int | None:
        try:
            conn = _connect(WRITE_ALIAS)
        except psycopg2.Error:
            return None
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                return lsn_to_int(_one_row(cursor)[0])
        except psycopg2.Error:
            return None
        finally:
            conn.close()

    def probe_once(self) -> dict[str, ReplicaState]:
        """Probe the primary, then every replica, and publish the new snapshot."""
        primary_lsn = self._primary_lsn()
        if primary_lsn is not None:
            self._history.append((time.monotonic(), primary_lsn))
        states = {alias: self._probe(alias, primary_reachable=primary_lsn is not None) for alias in self.aliases}
        self._states = states  # one reference swap: readers see the old snapshot or the new one
        return states

    def _probe(self, alias: str, *, primary_reachable: bool) -> ReplicaState:
        host, port = server_of(alias)
        base: dict[str, Any] = {"alias": alias, "host": host, "port": port, "checked_at": time.time()}
        try:
            conn = _connect(alias)
            try:
                with conn.cursor() as cursor:
                    cursor.execute(_REPLICA_SQL)
                    in_recovery, replay_lsn, replay_age = _one_row(cursor)
            finally:
                conn.close()
        except psycopg2.Error as exc:
            state = ReplicaState(**base, healthy=False, status="down", error=_first_line(exc))
            self._log_change(state)
            return state
        replay_position = lsn_to_int(replay_lsn) if replay_lsn else None
        base["replay_lsn"] = replay_position
        if not in_recovery:
            return ReplicaState(**base, healthy=True, status="not_in_recovery", in_recovery=False, lag_seconds=0.0)
        lag = replica_lag_seconds(replay_position, tuple(self._history), time.monotonic(), replay_age)
        if not primary_reachable:
            return ReplicaState(**base, healthy=True, status="primary_unreachable", in_recovery=True, lag_seconds=lag)
        was_lagging = self._states.get(alias, None)
        limit = self.max_lag * RECOVERY_FRACTION if was_lagging is not None and not was_lagging.healthy else self.max_lag
        healthy = lag is not None and lag <= limit
        state = ReplicaState(**base, healthy=healthy, status="streaming" if healthy else "lagging", in_recovery=True, lag_seconds=lag)
        self._log_change(state)
        return state

    def _log_change(self, state: ReplicaState) -> None:
        previous = self._states.get(state.alias)
        if previous is None or previous.healthy != state.healthy:
            level = logging.INFO if state.healthy else logging.WARNING
            logger.log(
                level,
                "read alias %s (%s:%s) is %s%s",
                state.alias,
                state.host,
                state.port,
                state.status,
                f": {state.error}" if state.error else (f", lag {state.lag_seconds:.1f}s" if state.lag_seconds is not None else ""),
            )


_monitor: ReplicaMonitor | None = None
_monitor_lock = threading.Lock()
_probed: tuple[str, ...] | None = None


def _after_fork_in_child() -> None:
    # A lock held by another thread of the parent at fork time would stay held forever in the child.
    global _monitor_lock
    _monitor_lock = threading.Lock()
    if _monitor is not None:
        _monitor._lock = threading.Lock()
        _monitor._wake = threading.Event()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _connect_failed(alias: str, exc: BaseException) -> None:
    current = _monitor
    if current is not None and alias in current.aliases:
        current.mark_down(alias, exc)


pools.connect_failure_observers.append(_connect_failed)


def monitor() -> ReplicaMonitor | None:
    """This process's monitor, created on first use; None when every read alias is the primary itself."""
    global _monitor, _probed
    if _probed is None:
        _probed = probed_aliases()
    if not _probed:
        return None
    if _monitor is None:
        with _monitor_lock:
            if _monitor is None:
                _monitor = ReplicaMonitor(_probed, interval=settings.REPLICA_CHECK_SECONDS, max_lag=settings.REPLICA_MAX_LAG_SECONDS)
    return _monitor


def reset_monitor() -> None:
    """Stop and forget the monitor; the next use builds one from the current settings (tests)."""
    global _monitor, _probed
    with _monitor_lock:
        if _monitor is not None:
            _monitor.stop()
        _monitor = None
        _probed = None


def replicas_in_use() -> bool:
    """True when at least one read alias is a server other than the primary."""
    return monitor() is not None


def replica_states() -> list[ReplicaState]:
    """Every read alias, in configuration order, with the last probe's verdict."""
    current = monitor()
    snapshot = current.states() if current is not None else {}
    states = []
    for alias in READ_ALIASES:
        if alias in snapshot:
            states.append(snapshot[alias])
        else:
            host, port = server_of(alias)
            is_replica = current is not None and alias in current.aliases
            states.append(
                ReplicaState(
                    alias=alias,
                    host=host,
                    port=port,
                    healthy=not is_replica,
                    status="down" if is_replica else "primary",
                    error="not probed yet" if is_replica else None,
                )
            )
    return states


def healthy_read_aliases() -> tuple[str, ...]:
    """Read aliases fit to serve reads now; empty means reads fall back to the primary."""
    current = monitor()
    if current is None:
        return READ_ALIASES
    snapshot = current.states()
    return tuple(alias for alias in READ_ALIASES if alias not in current.aliases or (alias in snapshot and snapshot[alias].healthy))


def read_aliases_past(aliases: Sequence[str], position: int) -> tuple[str, ...]:
    """Those of `aliases` whose last probe had replayed WAL `position` (read-your-writes by position).

    The snapshot is at most REPLICA_CHECK_SECONDS old and replay only moves forward, so an alias
    listed here has at least the position the probe saw; one behind it is left out until a later
    probe sees it pass. The primary's own aliases always qualify.
    """
    current = monitor()
    if current is None:
        return tuple(aliases)
    snapshot = current.states()
    return tuple(
        alias for alias in aliases if alias not in current.aliases or (alias in snapshot and snapshot[alias].has_replayed(position))
    )


def read_fallback_active() -> bool:
    """True when replicas are configured and none is fit: every read is served by the primary."""
    return replicas_in_use() and not healthy_read_aliases()


def replica_report() -> dict[str, Any]:
    """The replica part of `/health/database` and `pool_report`."""
    states = replica_states()
    in_use = any(state.is_replica for state in states)
    fallback = in_use and not any(state.healthy for state in states)
    return {
        "replicas_configured": in_use,
        "reads_served_by": "primary" if (fallback or not in_use) else "replicas",
        "fallback_to_primary": fallback,
        "max_lag_seconds": settings.REPLICA_MAX_LAG_SECONDS,
        "check_interval_seconds": settings.REPLICA_CHECK_SECONDS,
        "read_aliases": [state.as_dict() for state in states],
    }
