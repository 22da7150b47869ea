"""Exhaustion storm: 200 requests at once against pools of 5. Every answer is a success or a
bilingual 503 with Retry-After, none waits longer than the pool timeout plus a small margin, and
the service serves normally afterwards with nothing left checked out.

Runs in CI: the service is a real gunicorn (one process, enough threads for every request at
once) on pytest's test database, so only our own five connections per pool are at stake.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from inventory.models import PdplCategory, ProcessingActivity
from inventory.services import tenant_create
from tests.faults.conftest import PORTS, service_database_url
from tests.faults.load import BATCH_PATH, DASHBOARD_PATH, activity, record, save_figures, tally
from tests.faults.servers import Gunicorn, service_environment
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

CONCURRENT = 200
WRITERS = 50  # of the 200: batch inserts; the rest read the dashboard
POOL_SIZE = 5
POOL_TIMEOUT = 2
# A request checks out at most one connection per alias: token lookup and dashboard on `read`;
# a batch also on `write` (and only after its read), so its worst case is both timeouts in a row.
WORST_WAIT = {"dashboard": POOL_TIMEOUT, "batch": 2 * POOL_TIMEOUT}
MARGIN = 3.0  # seconds: GIL-bound Python serving 200 threads on a 2-core machine shared with others


def test_storm_of_200_requests_against_pools_of_5_gets_only_successes_and_polite_503s():
    tenant, _, token = tenant_create(name="Công ty Bão Yêu Cầu", username="storm")
    ProcessingActivity.objects.bulk_create(
        ProcessingActivity(tenant=tenant, activity_name=f"Hoạt động {i}", pdpl_category=PdplCategory.BASIC, data_fields=["ho_ten"])
        for i in range(5000)
    )
    env = service_environment(
        database_url=service_database_url(), broker_url="redis://127.0.0.1:6379/7",
        WEB_CONCURRENCY=1, WEB_THREADS=CONCURRENT + 10,
        READ_POOL_SIZE=POOL_SIZE, READ_POOL_MAX_OVERFLOW=0, READ_POOL_TIMEOUT=POOL_TIMEOUT,
        WRITE_POOL_SIZE=POOL_SIZE, WRITE_POOL_MAX_OVERFLOW=0, WRITE_POOL_TIMEOUT=POOL_TIMEOUT,
    )
    outcomes = []
    lock = threading.Lock()
    with Gunicorn(port=PORTS["storm"], env=env) as web:
        headers = {"Authorization": f"Token {token.key}"}
        params = {"tenant_id": str(tenant.pk)}
        # Warm the process (imports, first connections) so the storm measures the pools, not start-up.
        assert httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30).status_code == 200
        barrier = threading.Barrier(CONCURRENT)

        def one_request(number: int) -> None:
            with httpx.Client(base_url=web.base_url, headers=headers, timeout=60) as client:
                is_writer = number < WRITERS
                names = [f"storm-{number}-{i}" for i in range(10)] if is_writer else []
                barrier.wait()
                started, response, error = time.monotonic(), None, None
                try:
                    if is_writer:
                        response = client.post(BATCH_PATH, params=params, json={"activities": [activity(n) for n in names]})
                    else:
                        response = client.get(DASHBOARD_PATH, params=params)
                except httpx.HTTPError as exc:
                    error = exc
                outcome = record("batch" if is_writer else "dashboard", started, response, error, names)
                with lock:
                    outcomes.append(outcome)

        threads = [threading.Thread(target=one_request, args=(n,)) for n in range(CONCURRENT)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        after = [httpx.get(web.base_url + DASHBOARD_PATH, params=params, headers=headers, timeout=30).status_code for _ in range(20)]
        pools = httpx.get(web.base_url + "/health/connection-pools", timeout=30).json()
        log = web.log_text()

    statuses = Counter(o.status for o in outcomes)
    slowest = {kind: max((o.elapsed for o in outcomes if o.kind == kind), default=0.0) for kind in WORST_WAIT}
    written = ProcessingActivity.objects.filter(activity_name__startswith="storm-").count()
    accepted_batches = sum(1 for o in outcomes if o.kind == "batch" and o.status == 201)
    save_figures("exhaustion_storm", {
        "requests": len(outcomes), "answers": tally(outcomes), "slowest_seconds": {k: round(v, 2) for k, v in slowest.items()},
        "pool_size": POOL_SIZE, "pool_timeout_seconds": POOL_TIMEOUT, "after_storm": dict(Counter(after)),
        "rows_expected": accepted_batches * 10, "rows_found": written,
    })

    assert len(outcomes) == CONCURRENT
    assert set(statuses) <= {200, 201, 503}, tally(outcomes)
    for outcome in outcomes:
        if outcome.status == 503:
            assert outcome.code == "pool_exhausted" and outcome.bilingual and outcome.retry_after, outcome
        assert outcome.elapsed <= WORST_WAIT[outcome.kind] + MARGIN, outcome
    # Served normally afterwards, with every connection back in its pool.
    assert after == [200] * 20
    assert pools["read_pool"]["checked_out"] == pools["write_pool"]["checked_out"] == 0, pools
    # Acknowledged batches are all there; refused ones wrote nothing.
    assert written == accepted_batches * 10
    assert "Traceback" not in log and token.key not in log
