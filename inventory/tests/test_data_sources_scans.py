"""Discovery scans end to end: a real Celery worker (and a real `celery beat`) scanning real sources.

Sources are databases the tests build with Vietnamese sample data on the machine's PostgreSQL and
MariaDB (inventory/tests/source_support.py): the right activities and categories, none for the
product table, re-scans that update without duplicating and mark vanished tables, an unreachable
source failing with a bilingual cause, and a schedule fired by beat once after a missed night.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid

import pytest
from django.utils import timezone

from inventory.models import DataScan, PdplCategory, ProcessingActivity, ScanStatus
from inventory.source_models import DataSource
from inventory.source_services import data_source_create
from inventory.tests.api_support import VIETNAMESE_LETTERS, member_of_new_tenant
from inventory.tests.scan_support import scan_worker_fixture, wait_for_scan, worker_environment  # noqa: F401  (fixture)
from inventory.tests.source_support import (
    mariadb_source_create,
    mariadb_source_drop,
    pg_source_create,
    pg_source_drop,
    pg_source_execute,
)
from tests.faults.servers import FAULTS_DIR, VENV_BIN, ServiceProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

PG_DB = "src_k_scan"
MARIADB_DB = "src_k_scan"
# Nothing listens here (a port of this test run's own range): the unreachable source.
CLOSED_PORT = 8979


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Khám Phá", f"khampha{uuid.uuid4().hex[:8]}")


@pytest.fixture
def pg_dsn():
    dsn = pg_source_create(PG_DB)
    yield dsn
    pg_source_drop(PG_DB)


@pytest.fixture
def mariadb_dsn():
    dsn = mariadb_source_create(MARIADB_DB)
    yield dsn
    mariadb_source_drop(MARIADB_DB)


def register(member, name: str, kind: str, dsn: str) -> str:
    answer = member.client().post(f"/data-sources?tenant_id={member.tenant.pk}", {"name": name, "kind": kind, "dsn": dsn}, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()["source_id"]


def scan_now(member, source_id: str) -> DataScan:
    answer = member.client().post(f"/data-sources/{source_id}/scans?tenant_id={member.tenant.pk}")
    assert answer.status_code == 202, answer.json()
    assert answer.json()["started"] is True
    return wait_for_scan(answer.json()["scan_id"], lambda s: s.status in (ScanStatus.COMPLETED, ScanStatus.FAILED), what="discovery scan")


def activities_by_table(source_id: str) -> dict[str, ProcessingActivity]:
    return {a.source_table: a for a in ProcessingActivity.objects.using("write").filter(data_source_id=source_id)}


def assert_sample_findings(found: dict[str, ProcessingActivity]) -> None:
    assert "products" not in found, "a table without personal data got an activity"
    assert {"customers", "medical_records", "payments", "t_misc"} <= set(found), sorted(found)
    assert found["medical_records"].pdpl_category == PdplCategory.SENSITIVE
    assert {"ho_ten", "so_dien_thoai", "email", "cccd"} <= set(found["customers"].data_fields)
    # Meaningless column names: classified by their values alone.
    assert {"c1", "c2", "c3"} <= set(found["t_misc"].data_fields) and "c4" not in found["t_misc"].data_fields
    by_column = {entry["column"]: entry for entry in found["t_misc"].source_findings}
    assert by_column["c2"]["personal_data_type"] == "phone" and by_column["c2"]["reason"] == "values"
    for activity in found.values():
        for entry in activity.source_findings:
            assert set(entry) == {"column", "data_type", "personal_data_type", "category", "reason", "confidence", "sampled", "matched"}


def test_a_postgresql_source_becomes_activities_updated_never_duplicated_by_rescans(member, pg_dsn, scan_worker):
    source_id = register(member, "CRM PostgreSQL", "postgresql", pg_dsn)
    scan = scan_now(member, source_id)
    assert scan.status == ScanStatus.COMPLETED, scan.error
    assert scan.records_total == scan.records_processed == 5 and scan.progress_percent == 100
    found = activities_by_table(source_id)
    assert_sample_findings(found)
    assert sorted(scan.discovery_changes["added"]) == sorted(f"public.{t}" for t in found)

    client = member.client()
    status = client.get(f"/data-scans/{scan.pk}?tenant_id={member.tenant.pk}").json()
    assert status["source_id"] == source_id and status["changes"]["tables"] == 5
    explained = client.get(f"/data-sources/{source_id}/activities?tenant_id={member.tenant.pk}").json()["activities"]
    finding = next(a for a in explained if a["table"] == "customers")["findings"][0]
    assert set(finding["personal_data_type_label_vi"]) & VIETNAMESE_LETTERS and finding["reason_label"] and 0 < finding["confidence"] <= 1
    detail = client.get(f"/data-sources/{source_id}?tenant_id={member.tenant.pk}").json()
    assert detail["last_scan"]["status"] == "completed" and set(detail["last_scan"]["result_vi"]) & VIETNAMESE_LETTERS

    again = scan_now(member, source_id)
    assert again.status == ScanStatus.COMPLETED and again.discovery_changes["unchanged"] == len(found)
    assert ProcessingActivity.objects.using("write").filter(data_source_id=source_id).count() == len(found)
    ids_before = {table: activity.pk for table, activity in found.items()}

    pg_source_execute(PG_DB, "DROP TABLE payments", "ALTER TABLE medical_records ADD COLUMN ton_giao VARCHAR(50)")
    third = scan_now(member, source_id)
    assert third.status == ScanStatus.COMPLETED
    assert third.discovery_changes["missing"] == ["public.payments"]
    assert third.discovery_changes["updated"][0]["table"] == "public.medical_records"
    assert third.discovery_changes["updated"][0]["columns_added"] == ["ton_giao"]
    after = activities_by_table(source_id)
    assert {table: activity.pk for table, activity in after.items()} == ids_before, "re-scans keep each activity's identity"
    assert after["payments"].source_missing_since is not None, "a vanished table is marked, never deleted"
    assert after["customers"].source_missing_since is None


def test_a_mariadb_source_is_classified_the_same_way(member, mariadb_dsn, scan_worker):
    source_id = register(member, "CRM MariaDB", "mysql", mariadb_dsn)
    scan = scan_now(member, source_id)
    assert scan.status == ScanStatus.COMPLETED, scan.error
    found = activities_by_table(source_id)
    assert_sample_findings(found)
    assert {activity.source_schema for activity in found.values()} == {MARIADB_DB}
    again = scan_now(member, source_id)
    assert again.status == ScanStatus.COMPLETED
    assert ProcessingActivity.objects.using("write").filter(data_source_id=source_id).count() == len(found)


def test_an_unreachable_source_fails_its_scan_once_with_a_bilingual_cause(member, scan_worker):
    source_id = register(member, "Máy chủ tắt", "postgresql", f"postgresql://postgres:x@127.0.0.1:{CLOSED_PORT}/crm")
    started = time.monotonic()
    scan = scan_now(member, source_id)
    assert scan.status == ScanStatus.FAILED
    assert time.monotonic() - started < 30
    assert "refused the connection" in scan.error and f"127.0.0.1:{CLOSED_PORT}" in scan.error
    assert "từ chối kết nối" in scan.error_vi
    # Not retried: one attempt, then the scan stays failed until the next scheduled run.
    time.sleep(2)
    assert DataScan.objects.using("write").filter(data_source_id=source_id).count() == 1
    log = scan_worker.new_log()
    assert log.count(f"inventory.process_data_scan[{scan.celery_task_id}] retry") == 0
    assert not ProcessingActivity.objects.using("write").filter(data_source_id=source_id).exists()


class SourceBeat(ServiceProcess):
    """A `celery beat` of this test run's own (its own schedule, log and pid files)."""

    def __init__(self, env):
        tag = f"sources-{os.getpid()}"
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "verisyntra",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(FAULTS_DIR / f"celerybeat-{tag}"),
        ]
        super().__init__(argv, env, FAULTS_DIR / f"celery-beat-{tag}.log", FAULTS_DIR / f"celery-beat-{tag}.pid")


def test_celery_beat_runs_a_schedule_missed_for_hours_once(member, pg_dsn, scan_worker):
    source = data_source_create(tenant=member.tenant, name="Quét hằng đêm", kind="postgresql", dsn=pg_dsn, schedule="0 3 * * *")
    # Beat was down all night: the 03:00 run was missed six hours ago.
    DataSource.objects.using("write").filter(pk=source.pk).update(next_run_at=timezone.now() - dt.timedelta(hours=6))
    beat = SourceBeat(worker_environment(DATA_SOURCE_DISPATCH_SECONDS=1))
    beat.start()
    try:
        wait_until(lambda: DataScan.objects.using("write").filter(data_source=source).exists(), 60, "beat starts the due scan")
        scan = DataScan.objects.using("write").get(data_source=source)
        wait_for_scan(scan.pk, lambda s: s.status == ScanStatus.COMPLETED, what="scheduled scan completes")
        time.sleep(4)  # several more beat ticks
    finally:
        beat.stop()
    assert DataScan.objects.using("write").filter(data_source=source).count() == 1, "a missed run runs once"
    source.refresh_from_db(using="write")
    assert source.next_run_at > timezone.now() and timezone.localtime(source.next_run_at).hour == 3
    assert ProcessingActivity.objects.using("write").filter(data_source=source, source_table="customers").exists()
