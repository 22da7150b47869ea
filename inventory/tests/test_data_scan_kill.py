"""A whole worker SIGKILLed mid-scan, a scan held slow, a scan cancelled mid-run: with each broker.

Every test runs twice, on Redis and on RabbitMQ (the `broker` fixture, conftest.py), with real
`celery worker` processes and, where the sweep matters, a real `celery beat`.

- A worker that dies (main and pool processes at once, as an OOM kill or a lost node does) takes
  its scan's liveness lock with it: with default settings the sweep dispatches the scan again at
  its next run, and a new worker completes it with exact counts within 30 s of starting. On
  RabbitMQ the broker also requeues the dead worker's message as soon as its connection drops;
  on Redis the message would wait for the visibility timeout (hours), so the sweep is what saves it.
- A scan held slow (a row lock its next chunk waits for) for longer than several sweeps is not
  dispatched again while its worker lives, even with a stall time the old progress-time sweep
  would have acted on.
- A scan cancelled while its worker writes a chunk: the worker stops at that chunk, which rolls back.

Its own module, so no other worker (the other modules' `scan_worker`) can take the scans. Marked
slow (worker start-ups and 12,000-record scans): `scripts/test-slow inventory/tests/test_data_scan_kill.py`.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest
from django.db import connections

from inventory.scan_services import LIVENESS_LOCK_CLASS, liveness_key
from inventory.tests.scan_support import (
    activities_held_from,
    activity_counts,
    held_mid_way,
    scan_row,
    start_beat,
    start_worker,
    summary_group_held,
    tenant_client,
    wait_for_scan,
)
from tests.faults.load import save_figures
from tests.faults.servers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["read", "write"])]

RECORDS, HELD_FROM = 12_000, 6_000
# The promise: a scan whose whole worker was killed completes within this long after a new worker is up.
RECOVERY_SECONDS = 30


def submit_held_scan(client, tenant) -> str:
    """A 12,000-record scan whose chunk at record 6,000 waits for the held summary row (chunks of 300)."""
    response = client.post(
        "/data-scans", {"tenant_id": str(tenant.pk), "activities": activities_held_from(RECORDS, HELD_FROM)}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()["scan_id"]


def liveness_sessions(scan_id) -> int:
    """Sessions holding the scan's liveness lock now (pg_locks)."""
    with connections["write"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s::bigint::oid",
            [LIVENESS_LOCK_CLASS, liveness_key(scan_id) & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


def tasks_received(log: str, name: str) -> int:
    return sum(1 for line in log.splitlines() if f"Task inventory.{name}[" in line and line.rstrip().endswith("received"))


def sweeps_that_dispatched(log: str, scan_id: str) -> int:
    """Sweeps whose result (Celery logs it on success) names the scan."""
    return sum(1 for line in log.splitlines() if "inventory.sweep_data_scans[" in line and "succeeded" in line and scan_id in line)


def test_whole_worker_killed_mid_scan_completes_within_30_s_of_a_new_worker_with_default_settings(broker, settings):
    """SIGKILL the worker's process group mid-chunk, beat running, nothing configured: a new worker finishes it."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    tenant, client = tenant_client("Bị ngắt", "bingat")
    beat = start_beat()  # default DATA_SCAN_SWEEP_SECONDS and grace
    try:
        first = start_worker(f"killed-{broker}")
        try:
            with summary_group_held(tenant) as release:
                scan_id = submit_held_scan(client, tenant)
                # Chunks 0-19 written, chunk 20 in flight and waiting for the held row: mid-scan, for sure.
                wait_for_scan(scan_id, held_mid_way, what="scan held mid-way")
                assert liveness_sessions(scan_id) == 1, "the running scan proves its worker alive"
                first.signal_group(signal.SIGKILL)  # main process and pool child: one process group
                first.process.wait(timeout=10)
                killed_at = time.monotonic()
                release()  # the dead worker's backend ends with its statement, and chunk 20 rolls back
        finally:
            first.stop()
        killed = scan_row(scan_id)
        assert (killed.status, killed.records_processed) == ("processing", HELD_FROM)
        # The lock goes with the dead worker's session: the scan is an orphan, not a slow scan. The
        # server ends that session when it reads the closed socket, a moment after the kill.
        deadline = time.monotonic() + 10
        while liveness_sessions(scan_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert liveness_sessions(scan_id) == 0, "the dead worker's liveness session outlived it by 10 s"
        second = start_worker(f"second-{broker}")
        try:
            up_at = time.monotonic()
            done = wait_for_scan(
                scan_id, lambda s: s.status == "completed", timeout=RECOVERY_SECONDS, what="scan completed by the new worker"
            )
            recovered = time.monotonic() - up_at
            time.sleep(1.0)  # a duplicate dispatch (sweep and requeue together) would run now
        finally:
            second.stop()
    finally:
        beat.stop()
    rows, distinct = activity_counts(scan_id)
    save_figures(
        f"worker_loss_recovery_{broker}",
        {
            "broker": broker,
            "records": RECORDS,
            "records_written_before_the_kill": killed.records_processed,
            "seconds_from_new_worker_ready_to_completion": round(recovered, 1),
            "seconds_from_kill_to_completion": round(time.monotonic() - killed_at - 1.0, 1),
            "rows_found": rows,
            "distinct_record_positions": distinct,
            "scan_tasks_the_new_worker_received": tasks_received(second.new_log(), "process_data_scan"),
            "sweeps_that_dispatched_it": sweeps_that_dispatched(second.new_log(), scan_id),
        },
    )
    assert recovered <= RECOVERY_SECONDS
    assert done.records_processed == RECORDS and (rows, distinct) == (RECORDS, RECORDS)
    assert scan_row(scan_id).status == "completed"


def test_a_scan_held_slow_for_several_sweeps_is_not_dispatched_again_while_its_worker_lives(broker, settings):
    """A sweep every second, a stall time of 1 s, a chunk held for 6 s: one task, never a second."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    tenant, client = tenant_client("Chậm mà sống", "chammasong")
    fast = {"DATA_SCAN_SWEEP_SECONDS": 1, "DATA_SCAN_ORPHAN_GRACE_SECONDS": 1, "DATA_SCAN_STALL_SECONDS": 1}
    worker = start_worker(f"slow-{broker}", **fast)
    sweeper = beat = None
    try:
        with summary_group_held(tenant) as release:
            scan_id = submit_held_scan(client, tenant)
            held = wait_for_scan(scan_id, held_mid_way, what="scan held mid-way")
            # The held scan keeps its worker's only process busy: the sweeps run on another worker,
            # which would also take the scan's task if a sweep dispatched it again.
            sweeper = start_worker(f"sweeper-{broker}", **fast)
            beat = start_beat(**fast)
            task_id = held.celery_task_id
            sweeps_before = tasks_received(sweeper.new_log(), "sweep_data_scans")
            time.sleep(6)  # six sweep intervals, and five times the stall time without progress
            sweeps = tasks_received(sweeper.new_log(), "sweep_data_scans") - sweeps_before
            still = scan_row(scan_id)
            release()
        done = wait_for_scan(scan_id, lambda s: s.status == "completed", what="slow scan completed")
        time.sleep(1.5)
    finally:
        for process in (beat, sweeper, worker):
            if process is not None:
                process.stop()
    assert sweeps >= 4, f"only {sweeps} sweeps ran while the scan was held: nothing was tested"
    assert (still.status, still.records_processed, still.celery_task_id) == ("processing", HELD_FROM, task_id)
    assert sweeper is not None
    logs = worker.new_log() + sweeper.new_log()
    assert sweeps_that_dispatched(logs, scan_id) == 0, "the sweep dispatched the live scan again"
    assert tasks_received(logs, "process_data_scan") == 1
    assert done.records_processed == RECORDS and activity_counts(scan_id) == (RECORDS, RECORDS)


def test_a_scan_cancelled_while_its_worker_writes_a_chunk_stops_at_that_chunk(broker, settings):
    """The cancel commits while chunk 20 is in flight: chunk 20 rolls back, nothing after it is written."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    tenant, client = tenant_client("Hủy giữa chừng", "huygiuachung")
    worker = start_worker(f"cancel-{broker}")
    answers: list = []
    try:
        with summary_group_held(tenant) as release:
            scan_id = submit_held_scan(client, tenant)
            wait_for_scan(scan_id, held_mid_way, what="scan held mid-way")
            # The cancel marks the scan at once, then waits for chunk 20's lock to delete the chunks.
            canceller = threading.Thread(
                target=lambda: (answers.append(client.delete(f"/data-scans/{scan_id}?tenant_id={tenant.pk}")), connections.close_all()),
                daemon=True,
            )
            canceller.start()
            wait_for_scan(scan_id, lambda s: s.status == "cancelled", what="scan marked cancelled")
            release()
            canceller.join(30)
        wait_until(lambda: "'status': 'cancelled'" in worker.new_log(), 30, "the task ended as cancelled")
    finally:
        worker.stop()
    assert answers and answers[0].status_code == 200, answers and answers[0].content
    assert answers[0].json()["status"] == "cancelled"
    final = scan_row(scan_id)
    assert (final.status, final.records_processed) == ("cancelled", HELD_FROM)
    assert activity_counts(scan_id) == (HELD_FROM, HELD_FROM), "the chunk in flight rolled back; nothing after it"
