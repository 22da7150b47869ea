"""The health vocabulary: healthy / warning / critical in both languages, and when each applies.

Thresholds: a pool should stay under 70% in normal operation, leaving room for bursts, and above
90% requests are about to wait for connections (the exhaustion symptoms). A pool that actually ran
out recently is critical whatever its figures say now.
"""

from __future__ import annotations

import threading
import time

from verisyntra.messages import Bilingual, render

HEALTHY = "healthy"
WARNING = "warning"
CRITICAL = "critical"
# What a failed check (a database alias, the endpoint as a whole) answers; not a pool's severity.
UNHEALTHY = "unhealthy"
# What GET /health/ready answers when the database answers through the pools.
READY = "ready"
_SEVERITY = {HEALTHY: 0, WARNING: 1, CRITICAL: 2}


def status_label(status: str) -> Bilingual:
    """A health status in both languages (catalogue `status.<status>`)."""
    return render(f"status.{status}")


STATUS_VI = {status: status_label(status).vi for status in (HEALTHY, WARNING, CRITICAL, UNHEALTHY, READY)}

WARNING_UTILIZATION_PERCENT = 70.0
CRITICAL_UTILIZATION_PERCENT = 90.0
# Share of the server's usable connections (max_connections - reserved) in use.
WARNING_SERVER_PERCENT = 80.0
CRITICAL_SERVER_PERCENT = 95.0
# How long an exhaustion keeps this process's pool critical.
RECENT_EXHAUSTION_SECONDS = 60.0


def worst(*statuses: str) -> str:
    return max(statuses, key=_SEVERITY.__getitem__, default=HEALTHY)


def utilization_status(percent: float) -> str:
    if percent >= CRITICAL_UTILIZATION_PERCENT:
        return CRITICAL
    if percent >= WARNING_UTILIZATION_PERCENT:
        return WARNING
    return HEALTHY


def server_usage_status(percent: float) -> str:
    if percent >= CRITICAL_SERVER_PERCENT:
        return CRITICAL
    if percent >= WARNING_SERVER_PERCENT:
        return WARNING
    return HEALTHY


_last_exhausted: dict[str, float] = {}
_lock = threading.Lock()


def note_exhaustion(exc) -> None:
    """Exhaustion observer: remember when this process's pool last ran out."""
    with _lock:
        _last_exhausted[exc.alias] = time.monotonic()


def seconds_since_exhaustion(alias: str) -> float | None:
    """Seconds since `alias`'s pool last ran out in this process, if within RECENT_EXHAUSTION_SECONDS."""
    with _lock:
        last = _last_exhausted.get(alias)
    if last is None:
        return None
    elapsed = time.monotonic() - last
    return elapsed if elapsed <= RECENT_EXHAUSTION_SECONDS else None


def forget_exhaustions() -> None:
    """For tests."""
    with _lock:
        _last_exhausted.clear()
