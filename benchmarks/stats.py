"""Summaries of one benchmark run: latency percentiles, failures, writer rows/s, pool waits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np


def percentiles_ms(seconds: list[float], digits: int = 1) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    values = np.asarray(seconds) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": round(float(p50), digits),
        "p95": round(float(p95), digits),
        "p99": round(float(p99), digits),
        "mean": round(float(values.mean()), digits),
        "max": round(float(values.max()), digits),
    }


def _failures(statuses) -> dict[str, int]:
    return dict(Counter(str(status) for status in statuses if status not in (200, 201)))


def summarize_readers(samples: list, window: tuple[float, float]) -> dict:
    start, end = window
    in_window = [s for s in samples if start <= s[0] < end]
    ok = [elapsed for _, elapsed, status in in_window if status == 200]
    statuses = [status for _, _, status in in_window]
    return {
        "requests": len(in_window),
        "ok": len(ok),
        "requests_per_s": round(len(ok) / (end - start), 1),
        "timeouts": sum(1 for s in statuses if s == "timeout"),
        "failures": _failures(statuses),
        "latency_ms": percentiles_ms(ok),
    }


def summarize_writers(samples: list, window: tuple[float, float], rows_in_database: int) -> dict:
    """`rows_per_s` counts rows the database gained in the window; `rows_acknowledged` what clients were told."""
    start, end = window
    # Throughput counts work finished inside the window; failures count everything that ended in it or after.
    finished = [s for s in samples if start <= s[1] <= end]
    statuses = [status for _, _, _, status, _ in samples if status not in (200, 201)]
    rows = sum(written for *_, written in finished)
    ok = [elapsed for _, _, elapsed, status, _ in finished if status in (200, 201)]
    return {
        "requests": len(samples),
        "ok": len(ok),
        "rows": rows_in_database,
        "rows_per_s": round(rows_in_database / (end - start)),
        "rows_acknowledged": rows,
        "timeouts": sum(1 for s in statuses if s == "timeout"),
        "rejected_503": sum(1 for s in statuses if s == 503),
        "failures": _failures(statuses),
        "latency_ms": percentiles_ms(ok),
    }


def read_waits(wait_dir: Path, window: tuple[float, float]) -> dict[str, dict]:
    """Pool checkout waits recorded by `benchmarks.recorder`, by `role/alias`, inside the window."""
    start, end = window
    waits: dict[str, list[float]] = {}
    for path in wait_dir.glob("waits-*.tsv"):
        for line in path.read_text(encoding="ascii").splitlines():
            parts = line.split("\t")
            if len(parts) != 4:
                continue  # a line being written while we read
            ts, role, alias, waited = parts
            if start <= float(ts) < end:
                waits.setdefault(f"{role}/{alias}", []).append(float(waited))
    return {
        key: {"checkouts": len(values), **{k: v for k, v in percentiles_ms(values, digits=2).items() if k in ("p50", "p95", "max")}}
        for key, values in sorted(waits.items())
    }
