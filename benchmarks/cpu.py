"""CPU used during a run's window, by part: the web processes, the Celery worker, the database, the driver.

Answers "is the limit the database's CPU or the interpreter?": a gunicorn process whose threads
share one interpreter lock cannot use much more than one core for Python work, whatever its pools
allow. Samples /proc every 0.25 s; a PostgreSQL backend is ours when its process title names the
benchmark database; parallel query workers are counted with the database (their title names no
database, so every parallel worker on the machine is counted: an over-estimate when others run).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command line, CPU seconds so far)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), cmdline, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def _machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def _descendants(table, roots: set[int]) -> set[int]:
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in table.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return found


class CpuSampler:
    """Collects per-part CPU seconds; `usage(window)` gives cores used per part inside the window."""

    def __init__(self, *, web_roots: set[int], worker_roots: set[int], database_name: str):
        self.web_roots, self.worker_roots, self.database_name = web_roots, worker_roots, database_name
        self.samples: list[tuple[float, dict[str, float], tuple[float, float]]] = []
        self._seen: dict[int, tuple[str, float]] = {}  # pid -> (part, last CPU seconds): exited processes keep their total
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def _classify(self, table, pid: int, web: set[int], worker: set[int], driver: set[int]) -> str | None:
        cmdline = table[pid][1]
        if pid in web:
            return "web"
        if pid in worker:
            return "worker"
        if pid in driver:
            return "driver"
        if cmdline.startswith("postgres:") and (f" {self.database_name} " in cmdline or "parallel worker" in cmdline):
            return "database"
        return None

    def _sample(self) -> None:
        table = _proc_table()
        web = _descendants(table, self.web_roots)
        worker = _descendants(table, self.worker_roots)
        driver = _descendants(table, {os.getpid()}) - {os.getpid()} - web - worker
        for pid in table:
            part = self._classify(table, pid, web, worker, driver)
            if part:
                self._seen[pid] = (part, table[pid][2])
        totals: dict[str, float] = {}
        for part, seconds in self._seen.values():
            totals[part] = totals.get(part, 0.0) + seconds
        self.samples.append((time.time(), totals, _machine_busy()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.25)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def usage(self, window: tuple[float, float]) -> dict[str, float]:
        """Cores used on average in the window, per part, and by the whole machine."""
        inside = [s for s in self.samples if window[0] <= s[0] <= window[1]]
        if len(inside) < 2:
            return {}
        (t0, first, (busy0, _)), (t1, last, (busy1, _)) = inside[0], inside[-1]
        span = t1 - t0
        usage = {part: round((last.get(part, 0.0) - first.get(part, 0.0)) / span, 2) for part in last}
        usage["machine"] = round((busy1 - busy0) / span, 2)
        return usage
