"""Cancelling a data scan: the service, the `DELETE /data-scans/{scan_id}` endpoint and the admin action.

A cancelled scan keeps the rows its committed chunks wrote (or loses them with `discard`), loses
its stored chunks, and is never written to again: a worker's chunk in flight rolls back. What a
running worker does on a cancel is in test_data_scan_worker.py.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from inventory.models import DataScanChunk, ProcessingActivity, ScanStatus
from inventory.scan_services import DataScanCancelled, data_scan_cancel, data_scan_chunk_write, data_scan_start, data_scan_store
from inventory.tests.scan_support import (
    activities,
    activities_held_from,
    backends_waiting_for_a_lock,
    scan_row,
    summary_group_held,
    tenant_client,
)
from inventory.validation import activities_validate
from tests.faults.servers import wait_until
from verisyntra.api.errors import ApiError

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

RECORDS, CHUNK = 300, 100


def stored_scan(name: str = "Công ty Hủy Quét", username: str = "huyquet", records: list | None = None):
    tenant, client = tenant_client(name, username)
    rows = activities_validate(records if records is not None else activities(RECORDS)).rows
    return tenant, client, data_scan_store(tenant=tenant, rows=rows, chunk_size=CHUNK)


def rows_of(scan_id) -> int:
    return ProcessingActivity.objects.using("write").filter(data_scan_id=scan_id).count()


def chunks_of(scan_id) -> int:
    return DataScanChunk.objects.using("write").filter(data_scan_id=scan_id).count()


# --- the service -------------------------------------------------------------------------------


def test_a_pending_scan_is_cancelled_and_its_stored_chunks_are_deleted():
    tenant, _, scan = stored_scan()
    assert chunks_of(scan.pk) == 3
    cancelled = data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk)
    row = scan_row(scan.pk)
    assert cancelled.status == row.status == ScanStatus.CANCELLED and row.status_vi == "Đã hủy"
    assert row.completed_at is not None and chunks_of(scan.pk) == 0 and rows_of(scan.pk) == 0


def test_a_processing_scan_keeps_the_rows_written_before_the_cancel_and_a_worker_writes_no_more():
    tenant, _, scan = stored_scan()
    scan = data_scan_start(scan_id=scan.pk)
    assert data_scan_chunk_write(scan=scan) is not None
    data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk)
    assert (rows_of(scan.pk), chunks_of(scan.pk)) == (CHUNK, 0)
    assert data_scan_chunk_write(scan=scan) is None, "no chunk left to write"
    row = scan_row(scan.pk)
    assert (row.status, row.records_processed) == (ScanStatus.CANCELLED, CHUNK)


def test_discard_removes_the_rows_already_written():
    tenant, _, scan = stored_scan()
    scan = data_scan_start(scan_id=scan.pk)
    data_scan_chunk_write(scan=scan)
    data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk, discard=True)
    assert (rows_of(scan.pk), chunks_of(scan.pk), scan_row(scan.pk).status) == (0, 0, ScanStatus.CANCELLED)


def test_cancel_is_idempotent_and_a_later_discard_still_removes_the_rows():
    tenant, _, scan = stored_scan()
    scan = data_scan_start(scan_id=scan.pk)
    data_scan_chunk_write(scan=scan)
    first = data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk)
    again = data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk)
    assert first.status == again.status == ScanStatus.CANCELLED and again.completed_at == first.completed_at
    assert rows_of(scan.pk) == CHUNK
    data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk, discard=True)
    assert rows_of(scan.pk) == 0


@pytest.mark.parametrize("status", [ScanStatus.COMPLETED, ScanStatus.FAILED])
def test_a_finished_scan_is_a_409_and_is_left_as_it_was(status):
    tenant, _, scan = stored_scan()
    type(scan).objects.using("write").filter(pk=scan.pk).update(status=status)
    with pytest.raises(ApiError) as raised:
        data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk, discard=True)
    assert raised.value.status_code == 409 and raised.value.code == "data_scan_finished"
    assert (scan_row(scan.pk).status, chunks_of(scan.pk)) == (status, 3)


def test_another_tenants_scan_is_a_404_and_is_left_as_it_was():
    _, _, scan = stored_scan()
    other, _ = tenant_client("Công ty Khác", "congtykhac")
    with pytest.raises(ApiError) as raised:
        data_scan_cancel(tenant_id=other.pk, scan_id=scan.pk)
    assert raised.value.status_code == 404 and raised.value.code == "data_scan_not_found"
    assert (scan_row(scan.pk).status, chunks_of(scan.pk)) == (ScanStatus.PENDING, 3)


def test_a_chunk_in_flight_when_the_cancel_commits_is_rolled_back():
    """The worker's chunk transaction is held mid-insert; the cancel commits; the chunk writes nothing."""
    position = 2 * CHUNK
    tenant, _, scan = stored_scan(records=activities_held_from(RECORDS, position))
    scan = data_scan_start(scan_id=scan.pk)
    outcome: list[object] = []
    with summary_group_held(tenant) as release:
        assert data_scan_chunk_write(scan=scan) is not None and data_scan_chunk_write(scan=scan) is not None

        def third_chunk() -> None:
            try:
                outcome.append(data_scan_chunk_write(scan=scan))
            except DataScanCancelled as exc:
                outcome.append(exc)
            finally:
                connections.close_all()

        writer = threading.Thread(target=third_chunk, daemon=True)
        writer.start()
        wait_until(lambda: backends_waiting_for_a_lock() == 1, 30, "third chunk waiting for the held group")
        canceller = threading.Thread(
            target=lambda: (data_scan_cancel(tenant_id=tenant.pk, scan_id=scan.pk), connections.close_all()), daemon=True
        )
        canceller.start()
        wait_until(lambda: scan_row(scan.pk).status == ScanStatus.CANCELLED, 30, "cancel committed")
        release()
        writer.join(30)
        canceller.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], DataScanCancelled), outcome
    assert (rows_of(scan.pk), chunks_of(scan.pk), scan_row(scan.pk).records_processed) == (position, 0, position)


# --- DELETE /data-scans/{scan_id} ----------------------------------------------------------------


def cancel(client, tenant_id, scan_id, query: str = ""):
    return client.delete(f"/data-scans/{scan_id}?tenant_id={tenant_id}{query}")


def assert_bilingual(response, status_code: int, code: str) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code and body["error"] and body["error_vi"], body
    return body


def test_delete_cancels_a_pending_scan_and_answers_it_twice_alike():
    tenant, client, scan = stored_scan()
    first = cancel(client, tenant.pk, scan.pk)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["scan_id"], body["status"], body["status_vi"]) == (str(scan.pk), "cancelled", "Đã hủy")
    again = cancel(client, tenant.pk, scan.pk)
    assert again.status_code == 200 and again.json() == body
    assert client.get(f"/data-scans/{scan.pk}?tenant_id={tenant.pk}").json()["status"] == "cancelled"
    assert chunks_of(scan.pk) == 0


def test_delete_with_discard_removes_the_written_rows():
    tenant, client, scan = stored_scan()
    data_scan_chunk_write(scan=data_scan_start(scan_id=scan.pk))
    response = cancel(client, tenant.pk, scan.pk, "&discard=true")
    assert response.status_code == 200, response.content
    assert (rows_of(scan.pk), response.json()["records_processed"]) == (0, CHUNK)


def test_delete_of_a_completed_scan_is_a_bilingual_409():
    tenant, client, scan = stored_scan()
    type(scan).objects.using("write").filter(pk=scan.pk).update(status=ScanStatus.COMPLETED)
    body = assert_bilingual(cancel(client, tenant.pk, scan.pk), 409, "data_scan_finished")
    assert body["status"] == "completed" and body["status_vi"] == "Hoàn thành" and "completed" in body["error_vi"]
    assert scan_row(scan.pk).status == ScanStatus.COMPLETED


def test_delete_of_another_tenants_scan_is_a_404_even_for_its_member_elsewhere():
    _, _, scan = stored_scan()
    other, other_client = tenant_client("Công ty Láng Giềng", "langgieng")
    assert_bilingual(cancel(other_client, other.pk, scan.pk), 404, "data_scan_not_found")
    assert scan_row(scan.pk).status == ScanStatus.PENDING and chunks_of(scan.pk) == 3


def test_delete_for_a_tenant_the_caller_is_not_a_member_of_is_a_403_and_changes_nothing():
    tenant, _, scan = stored_scan()
    _, stranger = tenant_client("Công ty Người Lạ", "nguoila")
    assert_bilingual(cancel(stranger, tenant.pk, scan.pk), 403, "tenant_access_denied")
    assert scan_row(scan.pk).status == ScanStatus.PENDING


def test_delete_with_a_bad_discard_value_is_a_400_and_changes_nothing():
    tenant, client, scan = stored_scan()
    body = assert_bilingual(cancel(client, tenant.pk, scan.pk, "&discard=perhaps"), 400, "invalid_parameter")
    assert "discard" in body["error"]
    assert scan_row(scan.pk).status == ScanStatus.PENDING


# --- the admin's list action ---------------------------------------------------------------------


def test_admin_action_cancels_pending_and_processing_scans_and_leaves_finished_ones(admin_client):
    tenant, _, pending = stored_scan()
    processing = data_scan_store(tenant=tenant, rows=activities_validate(activities(10)).rows, chunk_size=CHUNK)
    data_scan_start(scan_id=processing.pk)
    completed = data_scan_store(tenant=tenant, rows=activities_validate(activities(10)).rows, chunk_size=CHUNK)
    type(completed).objects.using("write").filter(pk=completed.pk).update(status=ScanStatus.COMPLETED)
    response = admin_client.post(
        "/admin/inventory/datascan/",
        {"action": "cancel_scans", "_selected_action": [str(pending.pk), str(processing.pk), str(completed.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 scans cancelled; the rows already written stay." in page and "Đã hủy 2 lần quét" in page
    assert "1 scan was already finished and left as it was." in page
    statuses = {scan.pk: scan_row(scan.pk).status for scan in (pending, processing, completed)}
    assert statuses == {pending.pk: "cancelled", processing.pk: "cancelled", completed.pk: "completed"}
