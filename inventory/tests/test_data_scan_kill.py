"""A worker SIGKILLed mid-scan: a second worker, dispatched by the sweep, finishes with exact rows.

Its own module, so no other worker (the other modules' `scan_worker`) can take the scan first.
Marked slow (two worker start-ups and a scan, about 15 s on a quiet machine): `scripts/test-slow
inventory/tests/test_data_scan_kill.py`. The redelivery of a task whose pool process was killed runs
in the default suite (test_data_scan_worker.py).
"""

from __future__ import annotations

import signal
import time

import pytest

from inventory.scan_services import data_scans_sweep
from inventory.tests.scan_support import (
    activities_held_from,
    activity_counts,
    held_mid_way,
    scan_row,
    start_worker,
    summary_group_held,
    tenant_client,
    wait_for_scan,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["read", "write"])]


def test_worker_killed_mid_scan_then_a_new_worker_finishes_with_exact_rows(settings):
    """SIGKILL the whole worker (main process and pool child) mid-scan; a second worker and the sweep finish it."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    tenant, client = tenant_client("Bị ngắt", "bingat")
    first = start_worker("killed")
    try:
        with summary_group_held(tenant) as release:
            body = {"tenant_id": str(tenant.pk), "activities": activities_held_from(12_000, 6_000)}
            response = client.post("/data-scans", body, format="json")
            assert response.status_code == 202, response.content
            scan_id = response.json()["scan_id"]
            # Chunks 0-19 written, chunk 20 in flight and waiting for the held row: mid-scan, for sure.
            wait_for_scan(scan_id, held_mid_way, what="scan held mid-way")
            assert " received" in first.new_log(), "the first worker took the scan"
            first.signal_group(signal.SIGKILL)  # main process and pool child: one process group
            first.process.wait(timeout=10)
            release()  # the dead worker's backend ends with its statement, and chunk 20 rolls back
    finally:
        first.stop()
    killed_at = scan_row(scan_id)
    assert killed_at.status == "processing" and killed_at.records_processed == 6_000
    # The SIGKILLed worker never acknowledged its message, and Redis hands it out again only after
    # the visibility timeout (hours): the sweep finds the scan stalled and dispatches it again.
    second = start_worker("second")
    try:
        assert scan_row(scan_id).records_processed == 6_000, "nothing runs the scan meanwhile"
        settings.DATA_SCAN_STALL_SECONDS = 1
        time.sleep(1.1)
        assert data_scans_sweep() == [scan_id]
        done = wait_for_scan(scan_id, lambda s: s.status == "completed", what="scan completed by the second worker")
    finally:
        second.stop()
    assert done.records_processed == 12_000
    assert activity_counts(scan_id) == (12_000, 12_000)
    assert scan_row(scan_id).status == "completed"
