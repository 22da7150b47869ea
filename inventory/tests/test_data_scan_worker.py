"""Data scans processed by a real Celery worker process, against the real Redis and PostgreSQL.

Each test submits a scan, lets a worker (a separate `celery worker` process) write it, and checks
the outcome in the database: exact row counts, no duplicate record positions, bilingual errors.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django_celery_results.models import TaskResult

from inventory.models import DataScan, DataScanChunk, ScanStatus
from inventory.scan_services import data_scan_submit, data_scans_retry
from inventory.tests.scan_support import (
    activities,
    activities_held_from,
    activity_counts,
    held_mid_way,
    scan_row,
    scan_worker_fixture,  # noqa: F401 - the `scan_worker` fixture
    start_beat,
    summary_group_held,
    tenant_client,
    wait_for_scan,
)
from inventory.validation import activities_validate
from verisyntra.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def submit(client, tenant, records: list[dict]) -> dict:
    response = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": records}, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_scan_submitted_through_the_api_completes_with_exact_rows_and_visible_progress(scan_worker, settings):
    settings.DATA_SCAN_CHUNK_SIZE = 500
    tenant, client = tenant_client("Công ty Sao Mai", "saomai")
    accepted = submit(client, tenant, activities(6_000))
    assert accepted["status"] == "pending" and accepted["status_vi"] == "Đang chờ xử lý"
    assert accepted["records_total"] == 6_000

    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = client.get(accepted["status_url"]).json()
        seen.append((body["status"], body["records_processed"], body["progress_percent"]))
        if body["status"] in ("completed", "failed"):
            break
        time.sleep(0.02)
    assert body["status"] == "completed", body
    assert body["status_vi"] == "Hoàn thành"
    assert body["progress_percent"] == 100 and body["records_processed"] == body["records_total"] == 6_000
    assert body["started_at"] and body["completed_at"] and body["duration_seconds"] >= 0
    assert "error" not in body
    processed = [records for _, records, _ in seen]
    assert processed == sorted(processed), "progress never goes backwards"
    assert all(records % 500 == 0 for records in processed), "progress moves a whole committed chunk at a time"
    assert activity_counts(accepted["scan_id"]) == (6_000, 6_000)
    assert not DataScanChunk.objects.using("write").filter(data_scan_id=accepted["scan_id"]).exists()
    # django-celery-results stored the task's outcome in PostgreSQL.
    scan = scan_row(accepted["scan_id"])
    result = TaskResult.objects.using("write").get(task_id=scan.celery_task_id)
    assert result.status == "SUCCESS" and result.task_name == "inventory.process_data_scan"


def test_the_task_reports_progress_state_with_current_total_and_percent(scan_worker, settings):
    settings.DATA_SCAN_CHUNK_SIZE = 200
    tenant, client = tenant_client("Tiến độ", "tiendo")
    accepted = submit(client, tenant, activities(8_000))
    task_id = scan_row(accepted["scan_id"]).celery_task_id
    progress_meta = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and progress_meta is None:
        result = TaskResult.objects.using("write").filter(task_id=task_id, status="PROGRESS").first()
        if result is not None:
            progress_meta = celery_app.backend.decode(result.result)
        time.sleep(0.01)
    assert progress_meta is not None, "a PROGRESS state was stored while the scan ran"
    assert progress_meta["total"] == 8_000
    assert 0 < progress_meta["current"] <= 8_000 and progress_meta["current"] % 200 == 0
    assert progress_meta["percent"] == 100 * progress_meta["current"] // 8_000
    wait_for_scan(accepted["scan_id"], lambda s: s.status == "completed", what="scan completed")


def test_records_the_database_refuses_fail_the_scan_in_both_languages_and_a_retry_resumes(scan_worker, settings):
    settings.DATA_SCAN_CHUNK_SIZE = 1_000
    tenant, client = tenant_client("Lỗi dữ liệu", "loidulieu")
    rows = activities_validate(activities(3_000)).rows
    # A record that passed validation when it was stored but that the column refuses (as if an
    # older release had stored it): 40 characters in pdpl_category, a varchar(16).
    rows[1_500] = {**rows[1_500], "pdpl_category": "x" * 40}
    scan = data_scan_submit(tenant=tenant, rows=rows)

    failed = wait_for_scan(scan.pk, lambda s: s.status == "failed", what="scan failed")
    assert failed.records_processed == 1_000, "the chunk before the bad one stays committed"
    assert activity_counts(scan.pk) == (1_000, 1_000)
    body = client.get(f"/data-scans/{scan.pk}", {"tenant_id": str(tenant.pk)}).json()
    assert body["status"] == "failed" and body["status_vi"] == "Thất bại"
    # The record the database refused is named, not its chunk.
    assert body["error"].startswith("Record 1,500 could not be written: value too long")
    assert body["error_vi"].startswith("Không thể ghi bản ghi 1.500 vào cơ sở dữ liệu")
    assert TaskResult.objects.using("write").get(task_id=failed.celery_task_id).status == "FAILURE"

    # An operator repairs the stored record and retries (the admin action calls this service).
    chunk = DataScanChunk.objects.using("write").get(data_scan_id=scan.pk, chunk_index=1)
    chunk.records[500]["pdpl_category"] = "basic"
    chunk.save(using="write")
    assert data_scans_retry(scan_ids=[scan.pk]) == 1
    done = wait_for_scan(scan.pk, lambda s: s.status == "completed", what="retried scan completed")
    assert done.records_processed == 3_000 and done.error == "" and done.error_vi == ""
    assert activity_counts(scan.pk) == (3_000, 3_000)


def test_broker_down_at_submission_scan_is_accepted_and_the_beat_sweep_completes_it(scan_worker, settings):
    settings.DATA_SCAN_CHUNK_SIZE = 500
    tenant, client = tenant_client("Mất kết nối", "matketnoi")
    with broker_unreachable():
        accepted = submit(client, tenant, activities(2_000))
    scan = scan_row(accepted["scan_id"])
    assert scan.status == "pending" and scan.dispatched_at is None, "no message reached the broker"
    time.sleep(1.0)
    assert scan_row(scan.pk).status == "pending", "nothing processes a scan the broker never got"

    # The broker is back; beat (a real `celery beat` process) schedules the sweep every second.
    beat = start_beat(DATA_SCAN_SWEEP_SECONDS=1)
    try:
        done = wait_for_scan(scan.pk, lambda s: s.status == "completed", what="swept scan completed")
    finally:
        beat.stop()
    assert done.dispatched_at is not None
    assert activity_counts(scan.pk) == (2_000, 2_000)


def test_pool_process_killed_mid_scan_its_task_is_redelivered_and_writes_each_record_once(scan_worker, settings):
    """SIGKILL only the pool child: reject_on_worker_lost puts the message back, the worker runs it again."""
    settings.DATA_SCAN_CHUNK_SIZE = 300
    tenant, client = tenant_client("Tiến trình con", "tientrinhcon")
    with summary_group_held(tenant) as release:
        accepted = submit(client, tenant, activities_held_from(12_000, 6_000))
        # Chunks 0-19 written, chunk 20 in flight and waiting for the held row: mid-scan, for sure.
        wait_for_scan(accepted["scan_id"], held_mid_way, what="scan held mid-way")
        children = scan_worker.pool_children()
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)
        # The killed child's backend ends with its statement: chunk 20 rolls back, free for the redelivered task.
        release()
    done = wait_for_scan(accepted["scan_id"], lambda s: s.status == "completed", what="redelivered scan completed")
    assert done.records_processed == 12_000
    assert activity_counts(accepted["scan_id"]) == (12_000, 12_000)
    assert DataScan.objects.using("write").get(pk=accepted["scan_id"]).status == ScanStatus.COMPLETED


# --- helpers -----------------------------------------------------------------------------------


class broker_unreachable:  # noqa: N801 - reads as a statement: `with broker_unreachable():`
    """Point this process's Celery app at a port where nothing listens, then back."""

    DEAD = "redis://127.0.0.1:8499/4"

    def __enter__(self):
        self.saved = os.environ.get("CELERY_BROKER_URL"), celery_app.conf.broker_url
        self._switch(self.DEAD, self.DEAD)
        return self

    def __exit__(self, *exc_info):
        self._switch(*self.saved)

    @staticmethod
    def _switch(environ_url: str | None, conf_url: str) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its configuration.
        if environ_url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environ_url
        celery_app.conf.broker_url = conf_url
        # Kombu keeps one connection pool per broker URL, process-wide: forget ours, close none.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
