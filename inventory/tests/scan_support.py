"""Shared by the data-scan tests: records, tenants with tokens, and a real Celery worker process.

The worker is a separate process (`celery -A verisyntra worker`, prefork) pointed at this test
run's database and broker, never eager mode: acks, redelivery and connection handling are what
these tests are about. The broker is the one the test run is configured with (CELERY_BROKER_URL).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from inventory.models import ActivityCount, DataScan, DataScanChunk, ProcessingActivity, ScanStatus
from inventory.scan_services import data_scan_chunk_write
from inventory.services import tenant_create
from tests.faults.servers import FAULTS_DIR, VENV_BIN, CeleryWorker, ServiceProcess, service_environment, wait_until
from verisyntra.db.tenant_scope import scope_sql

SCAN_TIMEOUT = 90


def activity(i: int, **overrides) -> dict:
    record = {
        "activity_name": f"Quản lý khách hàng thân thiết {i}",
        "pdpl_category": ("Category 2: Basic Personal Data", "sensitive", "public")[i % 3],
        "data_fields": ["ho_ten", "so_dien_thoai", "email"],
        "purpose": "Chăm sóc khách hàng sau bán hàng",
        "legal_basis": "contract",
        "data_subjects": ["khach_hang"],
        "recipients": ["bo_phan_cskh"],
        "cross_border_transfer": i % 5 == 0,
        "retention_months": 24,
    }
    record.update(overrides)
    return record


def activities(count: int) -> list[dict]:
    return [activity(i) for i in range(count)]


# A summary group (ActivityCount row) the scan's early records never fall in.
HELD_GROUP = {"pdpl_category": "public", "legal_basis": "contract", "cross_border_transfer": False}


def activities_held_from(count: int, position: int) -> list[dict]:
    """Records that fall in HELD_GROUP from `position` on, and never before it.

    With `summary_group_held`, a worker writes every chunk before `position` and then waits at the
    chunk that starts there (its insert's trigger needs the held row): a scan stopped mid-way at a
    known point, however fast the machine, instead of a race against the worker.
    """
    early = ("Category 2: Basic Personal Data", "sensitive")
    return [activity(i, pdpl_category=early[i % 2]) if i < position else activity(i, **HELD_GROUP) for i in range(count)]


@contextmanager
def summary_group_held(tenant) -> Iterator[Callable[[], None]]:
    """Lock the tenant's HELD_GROUP row of the activity counts from another connection; yields the release."""
    ProcessingActivity.objects.using("write").create(tenant=tenant, activity_name="Nhóm bị giữ", data_fields=["ho_ten"], **HELD_GROUP)
    db = settings.DATABASES["write"]
    holder = psycopg2.connect(dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"], application_name="test-group-holder")
    try:
        with holder.cursor() as cursor:
            cursor.execute(scope_sql(str(tenant.pk)))  # the runtime role sees only the scope's rows (row-level security)
            cursor.execute(
                f"SELECT 1 FROM {ActivityCount._meta.db_table} WHERE tenant_id = %s AND pdpl_category = %s "
                "AND legal_basis = %s AND cross_border_transfer = %s FOR UPDATE",
                [str(tenant.pk), *HELD_GROUP.values()],
            )
            assert cursor.rowcount == 1, "the group's row exists (the triggers made it)"
        yield holder.rollback
    finally:
        holder.close()


def held_mid_way(scan: DataScan, position: int = 6_000) -> bool:
    """The scan wrote everything before `position`, and a worker's next chunk waits for the held row."""
    return scan.records_processed == position and backends_waiting_for_a_lock() == 1


def backends_waiting_for_a_lock() -> int:
    """Sessions of the test database waiting for a lock now (pg_stat_activity)."""
    with connections["write"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


def tenant_client(name: str, username: str):
    """(tenant, an APIClient authenticated as its only member)."""
    tenant, _, token = tenant_create(name=name, username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return tenant, client


def scan_row(scan_id) -> DataScan:
    """The scan as the primary has it now (the worker writes there)."""
    return DataScan.objects.using("write").get(pk=scan_id)


def wait_for_scan(scan_id, predicate: Callable[[DataScan], bool], timeout: float = SCAN_TIMEOUT, what: str = "") -> DataScan:
    found: list[DataScan] = []

    def check() -> bool:
        found[:] = [scan_row(scan_id)]
        return predicate(found[0])

    try:
        wait_until(check, timeout, what or f"scan {scan_id} condition", interval=0.05)
    except TimeoutError:
        last = found[0] if found else None
        raise AssertionError(
            f"{what}: scan is {last and last.status} {last and last.records_processed}/{last and last.records_total}"
            f" error={last and last.error!r}"
        ) from None
    return found[0]


def scan_chunk_written_twice(tenant, rows: list, first_time: int) -> DataScan:
    """A scan whose records 0..first_time-1 are written by one chunk and then again by a second chunk
    holding all of `rows` (as after a redelivered task), both through the service's chunk write."""
    scan = DataScan.objects.using("write").create(
        tenant=tenant, status=ScanStatus.PROCESSING, records_total=first_time + len(rows), celery_task_id="test"
    )
    for number, chunk_rows in enumerate((rows[:first_time], rows)):
        DataScanChunk.objects.using("write").create(
            data_scan=scan, chunk_index=number, first_record_index=0, record_count=len(chunk_rows), records=list(chunk_rows)
        )
    while data_scan_chunk_write(scan=scan) is not None:
        pass
    return scan


def activity_counts(scan_id) -> tuple[int, int]:
    """(rows of the scan, distinct record positions among them): equal means no duplicates."""
    with connections["write"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT scan_record_index) FROM inventory_processingactivity WHERE data_scan_id = %s",
            [str(scan_id)],
        )
        return cursor.fetchone()


def worker_environment(**overrides) -> dict[str, str]:
    """A worker process's environment: this run's test database and broker, small pools."""
    db = settings.DATABASES["write"]
    url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    assert db["NAME"].startswith("test_"), db["NAME"]
    return service_environment(
        database_url=url,
        broker_url=settings.CELERY_BROKER_URL,
        WRITE_POOL_SIZE=4,
        WRITE_POOL_MAX_OVERFLOW=2,
        READ_POOL_SIZE=2,
        READ_POOL_MAX_OVERFLOW=2,
        **overrides,
    )


class ScanWorker(CeleryWorker):
    """A CeleryWorker that knows when it is ready and which pool processes it runs."""

    def start(self) -> None:
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        super().start()
        wait_until(self._ready, 60, f"celery worker {self.argv} ready", interval=0.1)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited ({self.process.returncode}):\n{self.new_log()[-3000:]}")
        return " ready." in self.new_log()

    def new_log(self) -> str:
        return self.log_text()[self._log_offset :]

    def pool_children(self) -> list[int]:
        """PIDs of the prefork pool processes (children of the worker's main process)."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.pid:
                    children.append(int(entry.name))
        return children


class ScanBeat(ServiceProcess):
    """A `celery beat` process with this run's settings (the sweep it schedules runs on a worker)."""

    def __init__(self, env):
        schedule = FAULTS_DIR / f"celerybeat-scans-{os.getpid()}"
        argv = [str(VENV_BIN / "celery"), "-A", "verisyntra", "beat", "--loglevel", "INFO", "--schedule", str(schedule)]
        # Named after this test run, as the workers are: another run's beat is never taken for a leftover of ours.
        super().__init__(
            argv, env, FAULTS_DIR / f"celery-beat-scans-{os.getpid()}.log", FAULTS_DIR / f"celery-beat-scans-{os.getpid()}.pid"
        )

    def start(self) -> None:
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        super().start()
        wait_until(lambda: "beat: Starting" in self.log_text()[offset:], 60, "celery beat started", interval=0.1)


def start_worker(name: str, **env_overrides) -> ScanWorker:
    worker = ScanWorker(worker_environment(**env_overrides), name=f"scans-{name}-{os.getpid()}", concurrency=1)
    worker.start()
    return worker


def start_beat(**env_overrides) -> ScanBeat:
    beat = ScanBeat(worker_environment(**env_overrides))
    beat.start()
    return beat


@pytest.fixture(scope="module", name="scan_worker")
def scan_worker_fixture(django_db_setup, django_db_blocker):
    """One real worker for a test module, stopped before the test database is dropped.

    Its sweep dispatches a never-dispatched pending scan after 1 s (the broker-down test).
    """
    worker = start_worker("module", DATA_SCAN_DISPATCH_GRACE_SECONDS=1)
    yield worker
    worker.stop()


def poll(seconds: float = 0.05) -> None:
    time.sleep(seconds)
