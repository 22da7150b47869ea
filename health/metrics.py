"""Prometheus metrics for the pools and the data scans, correct across many processes.

Pools are per process, and gunicorn and Celery run several processes, so a scrape served by one
gunicorn worker must report all of them. prometheus-client's multiprocess mode does that: when
`PROMETHEUS_MULTIPROC_DIR` is set (gunicorn.conf.py and scripts/dev set it), every process writes
its values to memory-mapped files in that directory and `/metrics` merges the files. Gauges
therefore cannot be computed at scrape time; they are written when they change, from the pool
layer's checkout and checkin observers (`verisyntra.db.pools`), through `pool_statistics()`.

Per pool (label `pool`: `read` or `write`):
- `verisyntra_pool_connections_in_use`: checked-out connections, summed over live processes.
- `verisyntra_pool_connections_open`: server connections the pools hold, summed over live processes.
- `verisyntra_pool_utilization_ratio`: checked out / (size + overflow) of the busiest live process
  (exhaustion is per process, so the maximum is what predicts a 503).
- `verisyntra_pool_checkout_wait_seconds`: histogram of the wait for every checkout, including the
  ones that ended in exhaustion.
- `verisyntra_pool_exhausted_total`: checkouts that timed out (answered 503).
And `verisyntra_data_scans_finished_total` by `status`, through `record_scan_finished()`.

Each process's files are named after its host and pid (`counter_<host>-<pid>.db`), not the pid
alone: containers that share one directory (docker-compose.yml's `metrics` volume) each number
their processes from 1, and two processes writing one file would corrupt each other's figures.
"""

from __future__ import annotations

import os
import re
import socket

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client import values as prometheus_values

from verisyntra.db.config import POOLED_ALIASES
from verisyntra.db.pools import PoolExhausted, pool_statistics
from verisyntra.env import env_str

# Letters, digits and "-" only: prometheus-client splits file names on "_".
HOST = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname()).strip("-") or "host"


def process_identifier(pid: int | None = None) -> str:
    """The name of a process's metrics files: `<host>-<pid>` (this process's when `pid` is None)."""
    return f"{HOST}-{os.getpid() if pid is None else pid}"


def multiprocess_directory() -> str | None:
    return env_str("PROMETHEUS_MULTIPROC_DIR") or None


# Before the first metric below: the value class decides the file names. prometheus-client's own
# default identifies a process by its pid alone (MultiProcessValue takes another identifier).
if multiprocess_directory():
    prometheus_values.ValueClass = prometheus_values.MultiProcessValue(process_identifier=process_identifier)

POOL_CONNECTIONS_IN_USE = Gauge(
    "verisyntra_pool_connections_in_use",
    "Connections checked out of the pool, summed over live processes.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_CONNECTIONS_OPEN = Gauge(
    "verisyntra_pool_connections_open",
    "Server connections held by the pool (idle or checked out), summed over live processes.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_UTILIZATION = Gauge(
    "verisyntra_pool_utilization_ratio",
    "Checked out / (pool_size + max_overflow) in the busiest live process (0 to 1).",
    ["pool"],
    multiprocess_mode="livemax",
)
# Local checkouts take well under a millisecond; a full pool waits up to its TIMEOUT (10 s / 30 s).
POOL_CHECKOUT_WAIT = Histogram(
    "verisyntra_pool_checkout_wait_seconds",
    "Seconds waited to check a connection out of the pool (exhausted checkouts included).",
    ["pool"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
POOL_EXHAUSTED = Counter(
    "verisyntra_pool_exhausted",
    "Checkouts that found the pool exhausted and timed out (each answered 503).",
    ["pool"],
)
DATA_SCANS_FINISHED = Counter(
    "verisyntra_data_scans_finished",
    "Data scans that reached a final status.",
    ["status"],
)


def update_pool_gauges(alias: str) -> None:
    """Write this process's current figures for `alias` (called on every checkout and checkin)."""
    if alias not in POOLED_ALIASES:  # Django's own short-lived "__no_db__" connection, when creating databases
        return
    stats = pool_statistics(alias)
    POOL_CONNECTIONS_IN_USE.labels(pool=alias).set(stats.checked_out)
    POOL_CONNECTIONS_OPEN.labels(pool=alias).set(stats.open_connections)
    POOL_UTILIZATION.labels(pool=alias).set(stats.checked_out / stats.capacity if stats.capacity else 0.0)


def record_checkout(alias: str, waited: float) -> None:
    POOL_CHECKOUT_WAIT.labels(pool=alias).observe(waited)
    update_pool_gauges(alias)


def record_checkin(alias: str) -> None:
    update_pool_gauges(alias)


def record_exhaustion(exc: PoolExhausted) -> None:
    POOL_EXHAUSTED.labels(pool=exc.alias).inc()
    POOL_CHECKOUT_WAIT.labels(pool=exc.alias).observe(exc.waited)
    update_pool_gauges(exc.alias)


def record_scan_finished(status: str) -> None:
    """Count a data scan that reached a final status (`completed`, `failed`, ...); call it once per scan."""
    DATA_SCANS_FINISHED.labels(status=status).inc()


def initialise_series() -> None:
    """Create every pool's series at zero, so dashboards and rate() see them before the first event.

    Touches no database: `pool_statistics()` answers from the configuration before any connection.
    """
    for alias in POOLED_ALIASES:
        POOL_EXHAUSTED.labels(pool=alias)
        POOL_CHECKOUT_WAIT.labels(pool=alias)
        update_pool_gauges(alias)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text for `/metrics`: every process's values in multiprocess mode, else this process's."""
    directory = multiprocess_directory()
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Drop a dead process's live gauges (gunicorn's child_exit, Celery's worker_process_shutdown)."""
    directory = multiprocess_directory()
    if directory:
        multiprocess.mark_process_dead(process_identifier(pid), directory)
