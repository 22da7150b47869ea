"""The admin's pool dashboard: staff only, the endpoint's verdict, figures from the metrics that move.

The dashboard must never say healthy while `/health/connection-pools` (and so `pool_report`)
warns: it shows that endpoint's verdict, so both are compared here in a healthy, a warning (a
transaction left idle) and a critical (a pool that just ran out) state.
"""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from health import status as st
from health.dashboard import histogram_quantile, pool_dashboard
from health.selectors import SERVER_VIEW_CACHE_SECONDS
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS
from verisyntra.db.direct import direct_connection
from verisyntra.db.pools import PoolExhausted

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

PAGE, DATA = "/admin/connection-pools/", "/admin/connection-pools/data"


@pytest.fixture
def staff_client() -> Client:
    """Signed in to the admin as staff: the dashboard's pages and the staff-only endpoints both open."""
    client = Client()
    client.force_login(get_user_model().objects.create_user("operator", is_staff=True))
    return client


@pytest.fixture
def forget_exhaustions():
    yield
    st.forget_exhaustions()


def endpoint(client: Client) -> dict:
    response = client.get("/health/connection-pools")
    assert response.status_code == 200
    return response.json()


def test_only_staff_see_the_dashboard(client):
    for path in (PAGE, DATA):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(f"/admin/login/?next={path}")
    client.force_login(get_user_model().objects.create_user("member"))  # a tenant member, not staff
    assert client.get(PAGE).status_code == 302


def test_the_admin_index_links_to_the_dashboard_which_shows_every_pool_in_both_languages(staff_client):
    index = staff_client.get("/admin/").content.decode()
    assert f'<a href="{PAGE}">Connection pools / Nhóm kết nối</a>' in index
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1>Connection pools / <span lang="vi">Nhóm kết nối</span></h1>' in html
    for alias in POOLED_ALIASES:
        assert f'id="pool-{alias}"' in html
        assert f'data-series="{alias}.in_use"' in html and f'data-series="{alias}.checkouts"' in html
    assert 'checkout wait p95 / <span lang="vi">thời gian chờ lấy kết nối p95</span>' in html
    # The refresh is a file of this service (the Content-Security-Policy runs no inline script).
    assert '<script src="/static/health/pool_dashboard.js" defer></script>' in html
    assert "<script>" not in html


def test_the_verdict_is_the_endpoints_when_healthy(staff_client):
    data = staff_client.get(DATA).json()
    body = endpoint(staff_client)
    assert data["statuses"]["status"] == body["status"] == st.HEALTHY
    for alias in POOLED_ALIASES:
        assert data["statuses"][f"{alias}.status"] == body[f"{alias}_pool"]["status"]
        pool = body[f"{alias}_pool"]
        assert data["values"][f"{alias}.recommendation"] == f"{pool['recommendation']} / {pool['recommendation_vi']}"


def test_the_verdict_is_the_endpoints_with_a_transaction_left_idle(staff_client, settings):
    settings.POOL_LEAK_SUSPECT_SECONDS = 1
    leaked = direct_connection(WRITE_ALIAS, application_name="verisyntra-write")
    try:
        with leaked.cursor() as cursor:
            cursor.execute("BEGIN; SELECT 1")
        # Older than the threshold, and than the server view's cache (a reading from before the leak).
        time.sleep(max(1.5, SERVER_VIEW_CACHE_SECONDS + 0.2))
        data = staff_client.get(DATA).json()
        body = endpoint(staff_client)
        assert data["statuses"]["status"] == body["status"] == st.WARNING
        assert data["values"]["recommendation"] == f"{body['recommendation']} / {body['recommendation_vi']}"
        leak = f"pid {leaked.info.backend_pid} (verisyntra-write): idle in transaction"
        assert any(line.startswith(leak) for line in data["lists"]["leaks"])
        assert any(line.startswith("Warning / Cảnh báo: ") for line in data["lists"]["findings"])
    finally:
        leaked.close()
        time.sleep(SERVER_VIEW_CACHE_SECONDS)  # no later test gets the cached reading with the leak in it


def test_the_verdict_is_the_endpoints_after_an_exhaustion(staff_client, forget_exhaustions):
    st.note_exhaustion(PoolExhausted(WRITE_ALIAS, pool_size=1, max_overflow=0, timeout=0.1, waited=0.1))
    data = staff_client.get(DATA).json()
    body = endpoint(staff_client)
    assert data["statuses"]["status"] == body["status"] == st.CRITICAL
    assert data["statuses"]["write.status"] == body["write_pool"]["status"] == st.CRITICAL
    assert data["values"]["write.status"] == "Critical / Nguy cấp"


def test_checkouts_and_their_waits_come_from_the_metrics_and_move_with_the_load():
    before = pool_dashboard()
    for _ in range(5):
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        connections[READ_ALIAS].close()  # back to the pool: the next query checks out again
    after = pool_dashboard()
    assert after["series"]["read.checkouts"] >= before["series"]["read.checkouts"] + 5
    assert re.fullmatch(r"[0-9.]+ ms / [0-9.,]+ mili giây", after["values"]["read.wait_p95"])


def test_checkout_wait_quantiles_are_estimated_as_prometheus_does():
    buckets = [(0.001, 50.0), (0.01, 90.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.001)
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.055)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.091)
    assert histogram_quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    # Beyond the largest bucket: its bound, as histogram_quantile() answers.
    assert histogram_quantile(0.5, [(0.1, 0.0), (float("inf"), 10.0)]) == 0.1
