"""Exhaustion storm: 200 requests at once against pools of 5. Every answer is a success or a
bilingual 503 with Retry-After, none waits longer than the pool timeout plus a small margin, and
the service serves normally afterwards with nothing left checked out.

Runs in CI: the service is a real gunicorn (one process, a thread for every request) on pytest's
test database, so only our own five connections per pool are at stake. Durations are the
server's own (gunicorn's access log), so the load generator's scheduling is not counted against
the service; the client-side figures are recorded beside them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from health.tests.operators import staff_headers
from inventory.models import PdplCategory, ProcessingActivity
from inventory.services import tenant_create
from tests.faults.conftest import PORTS, service_database_url
from tests.faults.load import BATCH_PATH, DASHBOARD_PATH, activity, record, save_figures, tally, unexpected_tracebacks
from tests.faults.servers import Gunicorn, service_environment
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

CONCURRENT = 200
WRITERS = 50  # of the 200: batch inserts of 10 activities; the rest read the dashboard
POOL_SIZE = 5
POOL_TIMEOUT = 2
# A request checks out at most one connection per alias: the token lookup and the dashboard use
# `read`; a batch then also `write`, so its worst case is both timeouts one after the other.
WORST_WAIT = {"dashboard": POOL_TIMEOUT, "batch": 2 * POOL_TIMEOUT}
MARGIN = 2.0  # seconds of real work and CPU queueing on a 2-core machine shared with other test runs
HANG_LIMIT = 30.0


async def storm(base_url: str, token: str, tenant_id: str) -> list:
    limits = httpx.Limits(max_connections=CONCURRENT + 10, max_keepalive_connections=CONCURRENT + 10)
    headers = {"Authorization": f"Token {token}"}
    params = {"tenant_id": tenant_id}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60, limits=limits) as client:

        async def one(number: int):
            is_writer = number < WRITERS
            names = [f"storm-{number}-{i}" for i in range(10)] if is_writer else []
            started, response, error = time.monotonic(), None, None
            try:
                if is_writer:
                    response = await client.post(BATCH_PATH, params=params, json={"activities": [activity(n) for n in names]})
                else:
                    response = await client.get(DASHBOARD_PATH, params=params)
            except httpx.HTTPError as exc:
                error = exc
            return record("batch" if is_writer else "dashboard", started, response, error, names)

        return await asyncio.gather(*(one(n) for n in range(CONCURRENT)))


def test_storm_of_200_requests_against_pools_of_5_gets_only_successes_and_polite_503s():
    tenant, _, token = tenant_create(name="Công ty Bão Yêu Cầu", username="storm")
    ProcessingActivity.objects.bulk_create(
        ProcessingActivity(tenant=tenant, activity_name=f"Hoạt động {i}", pdpl_category=PdplCategory.BASIC, data_fields=["ho_ten"])
        for i in range(5000)
    )
    env = service_environment(
        database_url=service_database_url(),
        broker_url="redis://127.0.0.1:6379/7",
        WEB_CONCURRENCY=1,
        WEB_THREADS=CONCURRENT + 10,
        READ_POOL_SIZE=POOL_SIZE,
        READ_POOL_MAX_OVERFLOW=0,
        READ_POOL_TIMEOUT=POOL_TIMEOUT,
        WRITE_POOL_SIZE=POOL_SIZE,
        WRITE_POOL_MAX_OVERFLOW=0,
        WRITE_POOL_TIMEOUT=POOL_TIMEOUT,
    )
    params = {"tenant_id": str(tenant.pk)}
    headers = {"Authorization": f"Token {token.key}"}
    with Gunicorn(port=PORTS["storm"], env=env) as web:
        # Warm the process (imports, first connections) so the storm measures the pools, not start-up.
        before_warm_up = web.log_size()
        assert httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30).status_code == 200
        offset = web.access_settled(since=before_warm_up, requests=1)
        outcomes = asyncio.run(storm(web.base_url, token.key, str(tenant.pk)))
        web.access_settled(since=offset, requests=sum(1 for o in outcomes if o.status is not None))
        server_times = web.server_times(since=offset)
        after = [httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30).status_code for _ in range(20)]
        pools = httpx.get(web.base_url + "/health/connection-pools", headers=staff_headers(), timeout=30).json()
        log = web.run_log()

    kinds = {BATCH_PATH: "batch", DASHBOARD_PATH: "dashboard"}
    server_slowest = {kind: max((t for _, path, _, t in server_times if kinds.get(path) == kind), default=0.0) for kind in WORST_WAIT}
    client_slowest = {kind: max((o.elapsed for o in outcomes if o.kind == kind), default=0.0) for kind in WORST_WAIT}
    written = ProcessingActivity.objects.filter(activity_name__startswith="storm-").count()
    accepted_batches = sum(1 for o in outcomes if o.kind == "batch" and o.status == 201)
    save_figures(
        "exhaustion_storm",
        {
            "requests": len(outcomes),
            "answers": tally(outcomes),
            "server_slowest_seconds": {k: round(v, 2) for k, v in server_slowest.items()},
            "client_slowest_seconds": {k: round(v, 2) for k, v in client_slowest.items()},
            "pool_size": POOL_SIZE,
            "pool_timeout_seconds": POOL_TIMEOUT,
            "after_storm": dict(Counter(after)),
            "rows_expected": accepted_batches * 10,
            "rows_found": written,
        },
    )

    assert len(outcomes) == CONCURRENT and len(server_times) == CONCURRENT
    assert {o.status for o in outcomes} <= {200, 201, 503}, tally(outcomes)
    for outcome in outcomes:
        if outcome.status == 503:
            assert outcome.code == "pool_exhausted" and outcome.bilingual and outcome.retry_after, outcome
    for kind, slowest in server_slowest.items():
        assert slowest <= WORST_WAIT[kind] + MARGIN, f"a {kind} request took {slowest:.2f}s in the server"
        # Client-side times add the queue before a gunicorn thread picks the request up (CPU-bound
        # under this storm); bounded loosely, to catch a hang rather than to time the machine.
        assert client_slowest[kind] <= HANG_LIMIT, f"a {kind} request took {client_slowest[kind]:.2f}s end to end"
    # Served normally afterwards, with every connection back in its pool.
    assert after == [200] * 20
    assert pools["read_pool"]["checked_out"] == pools["write_pool"]["checked_out"] == 0, pools
    # Acknowledged batches are all there; refused ones wrote nothing.
    assert written == accepted_batches * 10
    assert unexpected_tracebacks(log) == [] and token.key not in log
