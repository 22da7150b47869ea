"""GET /health/connection-pools and GET /health/database (staff only), before and after the first connection, and with a dead server.

Who may open them is specified in test_operations_access.py; here a staff token opens them."""

from __future__ import annotations

import pytest
from django.db import connections

from health.tests.conftest import dead_port, rebuilt_pool
from inventory.models import Tenant
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pools import reset_pools
from verisyntra.messages import render

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS]),
    pytest.mark.urls("health.tests.urls"),
]

POOL_FIELDS = {
    "pool_size",
    "max_overflow",
    "checked_in",
    "checked_out",
    "overflow",
    "timeout",
    "recycle",
    "utilization_percent",
    "status",
    "status_vi",
    "recommendation",
    "recommendation_vi",
}


@pytest.fixture
def no_pools_yet():
    """This process as it is before its first connection: no pool exists."""
    for alias in POOLED_ALIASES:
        connections[alias].close()
    reset_pools()


def test_connection_pools_before_any_connection_reports_the_configured_pools(staff_client, no_pools_yet):
    response = staff_client.get("/health/connection-pools")
    assert response.status_code == 200
    body = response.json()
    for alias, size, overflow, timeout in [(READ_ALIAS, 20, 10, 30.0), (WRITE_ALIAS, 50, 20, 10.0)]:
        pool = body[f"{alias}_pool"]
        assert set(pool) >= POOL_FIELDS
        assert (pool["pool_size"], pool["max_overflow"], pool["timeout"]) == (size, overflow, timeout)
        assert (pool["checked_out"], pool["utilization_percent"]) == (0, 0.0)
        assert (pool["status"], pool["status_vi"]) == ("healthy", "Khỏe mạnh")
        assert pool["server"]["reachable"] is True
        assert pool["server"]["max_connections"] > 0
    # The token lookup (a read, through the router) made the read pool's one connection, back in the
    # pool before the figures were read; the write pool was not created by looking.
    assert (body["read_pool"]["created"], body["read_pool"]["checked_in"]) == (True, 1)
    assert (body["write_pool"]["created"], body["write_pool"]["checked_in"]) == (False, 0)
    assert (body["status"], body["status_vi"]) == ("healthy", "Khỏe mạnh")
    assert body["recommendation_vi"] == render("pools.normal").vi
    # Looking did not create a pool: the server view has its own connection.
    assert staff_client.get("/health/connection-pools").json()["write_pool"]["created"] is False


@pytest.mark.needs_backend_pid
def test_connection_pools_after_first_connection_counts_it_here_and_on_the_server(staff_client, no_pools_yet):
    Tenant.objects.count()  # a read: this thread now holds a read connection
    body = staff_client.get("/health/connection-pools").json()
    read = body["read_pool"]
    assert (read["created"], read["checked_out"], read["checked_in"]) == (True, 1, 0)
    assert read["utilization_percent"] == round(100 / 30, 1)
    assert read["server_connections"]["total"] >= 1
    assert sum(v for k, v in read["server_connections"].items() if k != "total") == read["server_connections"]["total"]

    connections[READ_ALIAS].close()  # back to the pool, still open on the server
    read = staff_client.get("/health/connection-pools").json()["read_pool"]
    assert (read["checked_out"], read["checked_in"]) == (0, 1)
    assert read["server_connections"].get("idle", 0) >= 1


def test_database_health_before_and_after_first_connection(staff_client, no_pools_yet):
    for _ in range(2):
        response = staff_client.get("/health/database")
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["status_vi"]) == ("healthy", "Khỏe mạnh")
        for alias in POOLED_ALIASES:
            assert body["databases"][alias]["status"] == "healthy"
            assert body["databases"][alias]["latency_ms"] > 0
        # `read` is the primary itself here: not a replica.
        assert body["databases"][READ_ALIAS]["in_recovery"] is False


def test_database_health_is_503_when_an_alias_points_at_a_dead_server(staff_client):
    # The primary (`write`) down: the service cannot work, whatever the read side says.
    with rebuilt_pool(WRITE_ALIAS, PORT=str(dead_port())):
        response = staff_client.get("/health/database")
        pools = staff_client.get("/health/connection-pools").json()
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["code"] == "database_unhealthy"
    assert body["error"] == "Database check failed for: write."
    assert body["error_vi"] == "Kiểm tra cơ sở dữ liệu thất bại: write."
    assert (body["status"], body["status_vi"]) == ("unhealthy", "Không khỏe mạnh")
    assert body["databases"][WRITE_ALIAS]["code"] == "database_unavailable"
    assert body["databases"][WRITE_ALIAS]["error_vi"] == render("database_unavailable").vi
    assert body["databases"][READ_ALIAS]["status"] == "healthy"
    # The pool view says the same, for the write pool only.
    assert pools["write_pool"]["status"] == "critical" and pools["write_pool"]["server"]["reachable"] is False
    assert pools["read_pool"]["status"] == "healthy"
    # And back once the alias points at a live server again.
    assert staff_client.get("/health/database").status_code == 200
