"""End to end: READ_STATEMENT_TIMEOUT_MS set in the environment of a real gunicorn stops a runaway
dashboard query. The runaway is made real by a session that holds an exclusive lock on the table
the compliance summary reads (the activity counts); dashboards queue behind it until their statement timeout cancels them: a bilingual
504 `query_timeout` after the timeout, not a hang, and normal answers once the lock is gone.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg2
import pytest
from django.db import connections

from inventory.models import ActivityCount, PdplCategory, ProcessingActivity
from inventory.services import tenant_create
from tests.faults.conftest import PORTS, service_database_url
from tests.faults.load import DASHBOARD_PATH, record, save_figures, tally, unexpected_tracebacks
from tests.faults.servers import Gunicorn, service_environment
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])]

TIMEOUT_MS = 1_000
CONCURRENT = 6
MARGIN = 2.0


async def dashboards(base_url: str, token: str, tenant_id: str) -> list:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:

        async def one():
            started = time.monotonic()
            response = await client.get(DASHBOARD_PATH, params={"tenant_id": tenant_id})
            return record("dashboard", started, response, None)

        return await asyncio.gather(*(one() for _ in range(CONCURRENT)))


def test_runaway_dashboards_are_cancelled_by_the_configured_timeout_over_http():
    tenant, _, token = tenant_create(name="Công ty Truy Vấn Chậm", username="slowquery")
    ProcessingActivity.objects.bulk_create(
        ProcessingActivity(tenant=tenant, activity_name=f"Hoạt động {i}", pdpl_category=PdplCategory.BASIC, data_fields=["ho_ten"])
        for i in range(100)
    )
    env = service_environment(
        database_url=service_database_url(),
        broker_url="redis://127.0.0.1:6379/7",
        WEB_CONCURRENCY=1,
        WEB_THREADS=CONCURRENT + 2,
        READ_STATEMENT_TIMEOUT_MS=TIMEOUT_MS,
    )
    params = {"tenant_id": str(tenant.pk)}
    headers = {"Authorization": f"Token {token.key}"}
    lock_holder = psycopg2.connect(dbname=connections[WRITE_ALIAS].settings_dict["NAME"], host="127.0.0.1", user="postgres")
    try:
        with Gunicorn(port=PORTS["timeout"], env=env) as web:
            before_warm_up = web.log_size()
            assert httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30).status_code == 200
            offset = web.access_settled(since=before_warm_up, requests=1)
            with lock_holder.cursor() as cursor:
                # The table the summary reads (ActivityCount, kept by triggers), held until rollback.
                cursor.execute(f"LOCK TABLE {ActivityCount._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            outcomes = asyncio.run(dashboards(web.base_url, token.key, str(tenant.pk)))
            web.access_settled(since=offset, requests=len(outcomes))
            server_times = [t for _, path, _, t in web.server_times(since=offset) if path == DASHBOARD_PATH]
            lock_holder.rollback()
            after = httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30)
            log = web.run_log()
    finally:
        lock_holder.close()

    save_figures("statement_timeout_live", {
        "statement_timeout_ms": TIMEOUT_MS, "requests": len(outcomes), "answers": tally(outcomes),
        "server_seconds": sorted(round(t, 2) for t in server_times), "after_lock_released": after.status_code,
    })  # fmt: skip
    for outcome in outcomes:
        assert outcome.status == 504 and outcome.code == "query_timeout" and outcome.bilingual, outcome
    assert len(server_times) == CONCURRENT
    assert all(TIMEOUT_MS / 1000 <= t <= TIMEOUT_MS / 1000 + MARGIN for t in server_times), server_times
    assert after.status_code == 200 and after.json()["total_activities"] == 100
    assert unexpected_tracebacks(log) == [] and token.key not in log
