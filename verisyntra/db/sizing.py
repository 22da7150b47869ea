"""The pool sizes we recommend, as measured on this stack by `python -m benchmarks.pools`.

The evidence is in docs/benchmarks.md, "Pool sizing under concurrent load" (figures in
docs/pool-sizing/results.md). In short, on the real service (threaded gunicorn, PostgreSQL, Celery):

- Separate read and write pools protect dashboards only when the write pool also bounds how much
  write work runs at once. A write pool far larger than the database server's cores (the default
  50 + 20, `verisyntra.db.config.POOL_DEFAULTS`) lets every writer run at once; they then queue
  for CPU inside PostgreSQL, and every dashboard queues with them.
- A writer request takes a read connection first (token and tenant checks go through `read`) and
  keeps it until the request ends, also while it queues for the write pool. A read pool smaller than
  a process's threads can therefore be emptied by writers, and dashboards wait for it. Each thread
  holds at most one connection per pool, so a read capacity of WEB_THREADS can never make one wait.

This module only states the rule and its advice; `health.sizing` (what `pool_report` and
`/health/connection-pools` show) decides where to quote it. It changes no default by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verisyntra.messages import LANGUAGES, Bilingual, render, render_in

# With 30 writers, how much slower dashboards were than without writers: in the same processes
# as the writers, and with nginx sending heavy writes to processes of their own (docs/benchmarks.md,
# "Pool sizing under concurrent load"; the advice cites it as catalogue entry `sizing.evidence`).
UNSPLIT_DASHBOARD_SLOWDOWN = 7.8
SPLIT_DASHBOARD_SLOWDOWN = 1.9


@dataclass(frozen=True)
class PoolRecommendation:
    """Per web process: write pool size (overflow 0) and the read capacity (size + overflow) to allow."""

    write_pool_size: int
    write_max_overflow: int
    read_capacity: int


def recommended_pools(*, server_cores: int, web_processes: int, web_threads: int) -> PoolRecommendation:
    """About two write connections per database core, shared by the web processes; reads for every thread."""
    return PoolRecommendation(
        write_pool_size=max(1, 2 * server_cores // max(web_processes, 1)),
        write_max_overflow=0,
        read_capacity=web_threads,
    )


def measured_advice(
    *, server_cores: int, web_processes: int, web_threads: int, read_capacity: int, write_capacity: int, split: bool = True
) -> list[tuple[str, str]]:
    """(English, Vietnamese) advice for the configured pools, from the benchmark's recommendation.

    `web_processes` are the processes that serve heavy writes: the write group's when nginx splits
    the traffic (`split`), every web process otherwise.
    """
    rec = recommended_pools(server_cores=server_cores, web_processes=web_processes, web_threads=web_threads)
    advice: list[tuple[str, str]] = []
    if not split:
        advice.append(
            _advice(
                "sizing.measured_split",
                unsplit=UNSPLIT_DASHBOARD_SLOWDOWN,
                split=SPLIT_DASHBOARD_SLOWDOWN,
            )
        )
    if write_capacity > 2 * rec.write_pool_size:
        writers = render("sizing.writers.write_group" if split else "sizing.writers.web", count=web_processes)
        advice.append(
            _advice(
                "sizing.measured_write_pool",
                capacity=write_capacity,
                cores=server_cores,
                pool_size=rec.write_pool_size,
                writers=writers,
            )
        )
    if read_capacity < rec.read_capacity:
        advice.append(_advice("sizing.measured_read_pool", threads=web_threads, capacity=read_capacity, needed=rec.read_capacity))
    return advice


def _advice(code: str, **params: Any) -> tuple[str, str]:
    return advice_text(code, evidence=render("sizing.evidence"), **params)


def advice_text(code: str, **params: Any) -> tuple[str, str]:
    """(English, Vietnamese) of a catalogue sentence; a `Bilingual` parameter is filled in per language."""
    english, vietnamese = (
        render_in(
            language, code, **{name: getattr(value, language) if isinstance(value, Bilingual) else value for name, value in params.items()}
        )
        for language in LANGUAGES
    )
    return english, vietnamese
