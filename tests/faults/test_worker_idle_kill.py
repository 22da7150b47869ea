"""A Celery worker SIGKILLed while idle (the data-scan kill tests kill one mid-scan): nothing it held is
lost, nothing it left behind runs twice, and the next worker processes the scan exactly once.

Slow (two worker start-ups): real worker processes on this run's test database and broker.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connections

from inventory.tests.scan_support import activities, activity_counts, scan_row, start_worker, tenant_client, wait_for_scan
from tests.faults.load import save_figures
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])]

RECORDS = 3_000


def tcp_client_ports(pids: list[int]) -> set[int]:
    """Local TCP ports of the sockets these processes hold (their database connections among them)."""
    inodes = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir() if fd_dir.exists() else []:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def server_sessions(client_ports: set[int]) -> list[int]:
    """Backend pids of the server sessions whose client is on one of `client_ports`."""
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", [list(client_ports) or [0]])
        return [row[0] for row in cursor.fetchall()]


def test_worker_killed_while_idle_loses_nothing_and_the_next_worker_writes_each_record_once(settings):
    settings.DATA_SCAN_CHUNK_SIZE = 500
    tenant, client = tenant_client("Công ty Công Nhân Nghỉ", "idlekill")
    idle = start_worker("idle-kill")
    try:
        # One small scan first, so the idle worker holds what a real one does: pooled server sessions.
        warm_up = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": activities(100)}, format="json").json()
        wait_for_scan(warm_up["scan_id"], lambda s: s.status == "completed", what="warm-up scan completed")
        time.sleep(1.0)  # idle now: connected to the broker, waiting for work
        children = idle.pool_children()
        assert children, "the worker has no pool process"
        sessions = server_sessions(tcp_client_ports([idle.pid, *children]))
        idle.signal_group(signal.SIGKILL)
        idle.process.wait(timeout=10)
    finally:
        idle.stop()
    killed_at = time.monotonic()

    response = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": activities(RECORDS)}, format="json")
    assert response.status_code == 202, response.content
    scan_id = response.json()["scan_id"]
    time.sleep(1.0)
    assert scan_row(scan_id).status == "pending", "no worker is alive, yet the scan moved"

    successor = start_worker("idle-successor")
    try:
        done = wait_for_scan(scan_id, lambda s: s.status == "completed", what="scan completed by the successor")
        time.sleep(1.0)  # anything redelivered would run now
    finally:
        successor.stop()
    rows, distinct = activity_counts(scan_id)
    # The killed worker's server sessions died with it (the kernel closed its sockets): none lingers.
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [sessions or [0]])
        lingering = cursor.fetchone()[0]
    save_figures(
        "worker_idle_kill",
        {
            "records_submitted": RECORDS,
            "killed_worker_server_sessions": len(sessions),
            "of_which_lingering": lingering,
            "rows_found": rows,
            "distinct_record_positions": distinct,
            "status": done.status,
            "seconds_from_kill_to_completion": round(time.monotonic() - killed_at, 1),
        },
    )
    assert (rows, distinct) == (RECORDS, RECORDS)
    assert sessions, "the idle worker held no server session: nothing was tested about them"
    assert lingering == 0
    assert done.records_processed == done.records_total == RECORDS
