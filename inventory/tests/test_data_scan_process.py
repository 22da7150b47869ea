"""`data_scan_process` against a chunk another run holds, in process on the real database.

Two runs of one scan share its chunks (`FOR UPDATE SKIP LOCKED`). When only chunks the other run
holds are left, a run waits for them: the other run either commits its chunk, or dies and its
lock goes with its backend, and then this run writes the chunk and completes the scan at once,
without waiting for the sweep to find the scan stalled. What a real worker does when killed is in
test_data_scan_worker.py and test_data_scan_kill.py.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connections, transaction

from inventory.models import DataScanChunk, ScanStatus
from inventory.scan_services import data_scan_process, data_scan_store
from inventory.tests.scan_support import activities, activity_counts, backends_waiting_for_a_lock, scan_row, tenant_client
from inventory.validation import activities_validate
from tests.faults.servers import wait_until

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

RECORDS, CHUNK = 500, 100


class HeldChunk(threading.Thread):
    """Another run's transaction holding the scan's first chunk until `release`, then rolling back
    without writing it: what a run whose worker died leaves behind until its backend goes."""

    def __init__(self, scan_id):
        super().__init__(daemon=True)
        self.scan_id = scan_id
        self.holding, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic(using="write"):
                chunks = DataScanChunk.objects.using("write").filter(data_scan_id=self.scan_id).order_by("chunk_index")
                assert chunks.select_for_update().first() is not None
                self.holding.set()
                self.release.wait(60)
                transaction.set_rollback(True, using="write")
        finally:
            connections.close_all()


class Run(threading.Thread):
    """`data_scan_process` in a thread of its own (its own connections), keeping what it returned or raised."""

    def __init__(self, scan_id):
        super().__init__(daemon=True)
        self.scan_id, self.status, self.error = scan_id, None, None

    def run(self) -> None:
        try:
            self.status = data_scan_process(scan_id=self.scan_id)
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            self.error = exc
        finally:
            connections.close_all()


def stored_scan():
    tenant, _ = tenant_client("Công ty Giữ Khóa", "giukhoa")
    return data_scan_store(tenant=tenant, rows=activities_validate(activities(RECORDS)).rows, chunk_size=CHUNK)


def test_a_chunk_left_by_a_run_that_died_is_written_by_the_next_run_which_completes_the_scan():
    scan = stored_scan()
    holder = HeldChunk(scan.pk)
    holder.start()
    assert holder.holding.wait(10)
    run = Run(scan.pk)
    run.start()
    # It writes every chunk it can take, then waits for the held one instead of returning.
    wait_until(lambda: scan_row(scan.pk).records_processed == RECORDS - CHUNK and backends_waiting_for_a_lock() == 1, 30, "run waiting")
    assert run.is_alive() and scan_row(scan.pk).status == ScanStatus.PROCESSING
    holder.release.set()
    holder.join(10)
    run.join(30)
    assert run.error is None and run.status == ScanStatus.COMPLETED
    assert activity_counts(scan.pk) == (RECORDS, RECORDS)
    assert scan_row(scan.pk).records_processed == RECORDS


def test_a_chunk_held_past_the_stall_time_is_a_transient_error_for_the_task_to_retry(settings):
    settings.DATA_SCAN_STALL_SECONDS = 1
    scan = stored_scan()
    holder = HeldChunk(scan.pk)
    holder.start()
    assert holder.holding.wait(10)
    try:
        run = Run(scan.pk)
        run.start()
        run.join(30)
        assert isinstance(run.error, OperationalError) and "lock timeout" in str(run.error)
        # Nothing of the held chunk was written; the rest was, and stays.
        assert activity_counts(scan.pk) == (RECORDS - CHUNK, RECORDS - CHUNK)
        assert scan_row(scan.pk).status == ScanStatus.PROCESSING
    finally:
        holder.release.set()
        holder.join(10)
    # The retry (here: the next run) finds the chunk free and completes the scan.
    assert data_scan_process(scan_id=scan.pk) == ScanStatus.COMPLETED
    assert activity_counts(scan.pk) == (RECORDS, RECORDS)
