"""Records every pool checkout of a benchmarked process, for connection-wait percentiles.

The pool layer already times every checkout and tells `verisyntra.db.pools.checkout_observers`;
this module is one more observer. It tags each wait with the role of the work that asked for the
connection (dashboard, writer, scan), so a shared pool's waits can still be split by who waited,
and appends `time role alias seconds` lines to `$BENCH_WAIT_DIR/waits-<pid>.tsv`, flushed every
half second by a daemon thread (a request never writes to disk itself).
"""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
import time

role: contextvars.ContextVar[str] = contextvars.ContextVar("bench_role", default="other")

_lines: list[str] = []
_lock = threading.Lock()
_started_pid: int | None = None


def _observe(alias: str, seconds_waited: float) -> None:
    line = f"{time.time():.4f}\t{role.get()}\t{alias}\t{seconds_waited:.6f}\n"
    with _lock:
        _lines.append(line)


def _flush() -> None:
    with _lock:
        pending = _lines[:]
        _lines.clear()
    if pending:
        path = os.path.join(os.environ["BENCH_WAIT_DIR"], f"waits-{os.getpid()}.tsv")
        with open(path, "a", encoding="ascii") as handle:
            handle.writelines(pending)


def _flush_forever() -> None:
    while True:
        time.sleep(0.5)
        _flush()


def install() -> None:
    """Start recording in this process (call once per process, after any fork). No-op without BENCH_WAIT_DIR."""
    global _started_pid
    if not os.environ.get("BENCH_WAIT_DIR") or _started_pid == os.getpid():
        return
    from verisyntra.db.pools import checkout_observers

    _started_pid = os.getpid()
    with _lock:
        _lines.clear()  # inherited from a parent by fork: not ours
    if _observe not in checkout_observers:
        checkout_observers.append(_observe)
    threading.Thread(target=_flush_forever, name="bench-wait-flush", daemon=True).start()
    atexit.register(_flush)


def role_for_path(path: str) -> str:
    if path.startswith("/analytics/"):
        return "dashboard"
    if path.startswith("/batch/") or path.startswith("/data-scans"):
        return "writer"
    return "other"
