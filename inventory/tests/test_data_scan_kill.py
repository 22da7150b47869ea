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
from inventory.tests.scan_support import activities, activity_counts, scan_row, start_worker, tenant_client, wait_for_scan

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["read", "write"])]


def test_worker_killed_mid_scan_then_a_new_worker_finishes_with_exact_rows(settings):
    """SIGKILL the whole worker (main process and pool child) mid-scan; a second worker and the sweep finish it."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    first = start_worker("killed")
    try:
        tenant, client = tenant_client("Bị ngắt", "bingat")
        response = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": activities(12_000)}, format="json")
        assert response.status_code == 202, response.content
        accepted = response.json()
        scan_id = accepted["scan_id"]
        wait_for_scan(scan_id, lambda s: 1_200 <= s.records_processed < 9_000, timeout=60, what="scan under way")
        assert " received" in first.new_log(), "the first worker took the scan"
        first.signal_group(signal.SIGKILL)  # main process and pool child: one process group
        first.process.wait(timeout=10)
    finally:
        first.stop()
    killed_at = scan_row(scan_id)
    assert killed_at.status == "processing" and killed_at.records_processed < 12_000
    # The SIGKILLed worker never acknowledged its message, and Redis hands it out again only after
    # the visibility timeout (hours): the sweep finds the scan stalled and dispatches it again.
    second = start_worker("second")
    try:
        assert scan_row(scan_id).records_processed == killed_at.records_processed, "nothing runs the scan meanwhile"
        settings.DATA_SCAN_STALL_SECONDS = 1
        time.sleep(1.1)
        assert data_scans_sweep() == [scan_id]
        done = wait_for_scan(scan_id, lambda s: s.status == "completed", what="scan completed by the second worker")
    finally:
        second.stop()
    assert done.records_processed == 12_000
    assert activity_counts(scan_id) == (12_000, 12_000)
    assert scan_row(scan_id).status == "completed"
