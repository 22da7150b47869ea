"""PostgreSQL crashes while a worker writes a data scan, and comes back.

The scan task retries transient database errors with backoff (inventory/tasks.py), each chunk is
committed with the scan's progress, and a chunk written twice cannot create a second row. So after
the crash the scan must end `completed` with exactly its records, each record position once, with no
service restarted: the worker's pools recover by pre-ping, like the web's.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from inventory.tests.scan_support import ScanBeat, ScanWorker, activities
from tests.faults.conftest import PORTS
from tests.faults.load import save_figures
from tests.faults.servers import Gunicorn, service_environment, wait_until

pytestmark = pytest.mark.slow

# As many as a scan takes, in small chunks: on a quiet machine the worker writes ~40,000 rows/s, and
# the crash must land while the scan is still running.
RECORDS = 100_000


def scan_state(server, database: str, scan_id: str) -> tuple[str, int, int, int]:
    """(status, records_processed, rows, distinct record positions) as the private server has them."""
    connection = server.connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, records_processed FROM inventory_datascan WHERE scan_id = %s", [scan_id])
            status, processed = cursor.fetchone()
            cursor.execute(
                "SELECT count(*), count(DISTINCT scan_record_index) FROM inventory_processingactivity WHERE data_scan_id = %s",
                [scan_id],
            )
            rows, distinct = cursor.fetchone()
    finally:
        connection.close()
    return status, processed, rows, distinct


def test_postgres_crash_mid_scan_ends_with_every_record_exactly_once(private_postgres, fault_database, fault_tenants):
    tenant = fault_tenants[1]
    database = fault_database.rsplit("/", 1)[1]
    env = service_environment(
        database_url=fault_database,
        broker_url="redis://127.0.0.1:6379/7",
        WEB_CONCURRENCY=1,
        WEB_THREADS=4,
        DATABASE_CONNECT_TIMEOUT=2,
        WRITE_POOL_SIZE=3,
        READ_POOL_SIZE=2,
        DATA_SCAN_CHUNK_SIZE=500,
        DATA_SCAN_SWEEP_SECONDS=1,
        DATA_SCAN_DISPATCH_GRACE_SECONDS=1,
        DATA_SCAN_STALL_SECONDS=5,
        CELERY_VISIBILITY_TIMEOUT=60,
    )
    worker = ScanWorker(env, name="pg-crash-scan", concurrency=1)
    beat = ScanBeat(env)
    with Gunicorn(port=PORTS["scan"], env=env) as web:
        response = httpx.post(
            web.base_url + "/data-scans",
            json={"tenant_id": tenant["tenant_id"], "activities": activities(RECORDS)},
            headers={"Authorization": f"Token {tenant['token']}"},
            timeout=120,
        )
        assert response.status_code == 202, response.text
        scan_id = response.json()["scan_id"]
        worker.start()
        beat.start()
        try:
            wait_until(lambda: scan_state(private_postgres, database, scan_id)[1] >= 1_000, 90, "scan under way", interval=0.05)
            at_crash = scan_state(private_postgres, database, scan_id)
            fault_began, back_up = private_postgres.restart(down_seconds=3.0, mode="immediate")
            wait_until(lambda: scan_state(private_postgres, database, scan_id)[0] in ("completed", "failed"), 180, "scan finished")
            finished_after = time.monotonic() - back_up
            time.sleep(3)  # a second delivery would run now
            final = scan_state(private_postgres, database, scan_id)
            worker_log = worker.run_log()
        finally:
            beat.stop()
            worker.stop()

    save_figures(
        "postgres_restart_mid_scan",
        {
            "records": RECORDS,
            "processed_when_crashed": at_crash[1],
            "fault_seconds_stop_to_ready": round(back_up - fault_began, 1),
            "seconds_from_return_to_completed": round(finished_after, 1),
            "status": final[0],
            "rows_found": final[2],
            "distinct_record_positions": final[3],
            "task_retries_logged": worker_log.count(" retry: "),
        },
    )
    assert at_crash[1] < RECORDS, "the scan finished before the crash: nothing was tested"
    assert final == ("completed", RECORDS, RECORDS, RECORDS), json.dumps(final)
