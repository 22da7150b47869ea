"""The broker (Redis) dies while the web service, a worker and beat run, and comes back empty.

Issue 4's test points one process's Celery app at a dead port during a submission. Here the real
broker process all three share goes down: a scan running at that moment, and scans submitted during
the outage (accepted 202 and stored, dashboards still answering), must all complete once Redis is
back - with its queues lost (no persistence), so the beat sweep has to re-dispatch them - each with
exactly its records, none twice.
"""

from __future__ import annotations

import time

import httpx
import pytest

from inventory.models import DataScan
from inventory.services import tenant_create
from inventory.tests.scan_support import ScanBeat, ScanWorker, activities, activity_counts, scan_row, wait_for_scan
from tests.faults.conftest import PORTS, service_database_url
from tests.faults.load import DASHBOARD_PATH, save_figures
from tests.faults.servers import Gunicorn, service_environment
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])]

RUNNING_RECORDS = 30_000
DURING_OUTAGE = [2_000, 3_000, 1_000]
SUBMIT_LIMIT = 10.0  # seconds a submission may take while the broker is down (dispatch retries are bounded)


def test_scans_running_or_submitted_during_a_broker_outage_all_complete_exactly_once(private_redis):
    tenant, _, token = tenant_create(name="Công ty Mất Redis", username="redis-down")
    env = service_environment(
        database_url=service_database_url(),
        broker_url=private_redis.url(0),
        WEB_CONCURRENCY=1,
        WEB_THREADS=4,
        READ_POOL_SIZE=3,
        WRITE_POOL_SIZE=3,
        DATA_SCAN_CHUNK_SIZE=1_000,
        DATA_SCAN_SWEEP_SECONDS=1,
        DATA_SCAN_DISPATCH_GRACE_SECONDS=1,
        DATA_SCAN_STALL_SECONDS=5,
        CELERY_VISIBILITY_TIMEOUT=30,
    )
    headers = {"Authorization": f"Token {token.key}"}
    worker = ScanWorker(env, name="redis-outage", concurrency=1)
    beat = ScanBeat(env)
    submitted: dict[str, int] = {}
    with Gunicorn(port=PORTS["redis"], env=env) as web, httpx.Client(base_url=web.base_url, headers=headers, timeout=60) as client:

        def submit(count: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = client.post("/data-scans", json={"tenant_id": str(tenant.pk), "activities": activities(count)})
            if response.status_code == 202:
                submitted[response.json()["scan_id"]] = count
            return response, time.monotonic() - started

        worker.start()
        beat.start()
        try:
            running, _ = submit(RUNNING_RECORDS)
            assert running.status_code == 202, running.text
            running_id = running.json()["scan_id"]
            wait_for_scan(running_id, lambda s: s.records_processed >= 1_000, timeout=60, what="scan under way")

            private_redis.stop()
            outage_began = time.monotonic()
            during = [submit(count) for count in DURING_OUTAGE]
            dashboard = client.get(DASHBOARD_PATH, params={"tenant_id": str(tenant.pk)})
            time.sleep(max(0.0, 5.0 - (time.monotonic() - outage_began)))
            pending_during_outage = {scan_id: scan_row(scan_id).status for scan_id in list(submitted)[1:]}

            private_redis.start()
            back_at = time.monotonic()
            finished = {scan_id: wait_for_scan(scan_id, lambda s: s.status == "completed", timeout=180) for scan_id in submitted}
            all_done_after = time.monotonic() - back_at
            time.sleep(3)  # a second delivery of any scan would run now
        finally:
            beat.stop()
            worker.stop()

    counts = {scan_id: activity_counts(scan_id) for scan_id in submitted}
    save_figures(
        "redis_outage",
        {
            "scans_submitted": len(submitted),
            "submitted_during_outage": [r.status_code for r, _ in during],
            "slowest_submission_during_outage_seconds": round(max(t for _, t in during), 2),
            "dashboard_during_outage": dashboard.status_code,
            "status_during_outage": sorted(pending_during_outage.values()),
            "outage_seconds": round(back_at - outage_began, 1),
            "seconds_from_return_to_all_completed": round(all_done_after, 1),
            "rows_expected": sum(submitted.values()),
            "rows_found": sum(rows for rows, _ in counts.values()),
            "distinct_record_positions": sum(distinct for _, distinct in counts.values()),
        },
    )

    for response, seconds in during:
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending" and response.json()["status_vi"] == "Đang chờ xử lý"
        assert seconds < SUBMIT_LIMIT
    assert dashboard.status_code == 200, "reads need no broker"
    assert set(pending_during_outage.values()) == {"pending"}, "stored, waiting for the broker"
    for scan_id, records in submitted.items():
        assert counts[scan_id] == (records, records), (scan_id, counts[scan_id])
        assert finished[scan_id].records_processed == records
    assert DataScan.objects.filter(tenant=tenant).exclude(status="completed").count() == 0
