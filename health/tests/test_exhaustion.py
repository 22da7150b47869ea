"""A full pool fails fast and politely: 503, Retry-After, the bilingual `pool_exhausted` message, one audit line, a metric."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from health.tests.conftest import held_connections, rebuilt_pool
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS]),
    pytest.mark.urls("health.tests.urls"),
]

TINY = {"POOL_SIZE": 2, "MAX_OVERFLOW": 1, "TIMEOUT": 1}
MARGIN_SECONDS = 0.75


def exhausted_count(client, alias: str) -> float:
    text = client.get("/metrics").content.decode()
    for family in text_string_to_metric_families(text):
        if family.name == "verisyntra_pool_exhausted":
            for sample in family.samples:
                if sample.name == "verisyntra_pool_exhausted_total" and sample.labels == {"pool": alias}:
                    return sample.value
    raise AssertionError("no verisyntra_pool_exhausted_total sample for " + alias)


@pytest.mark.parametrize("path", ["/probe/read-drf", "/probe/read-plain"], ids=["api-view", "plain-django-view"])
def test_full_pool_answers_503_with_retry_after_within_its_timeout(client, staff_client, audit_lines, path):
    tenant_id = str(uuid.uuid4())
    with rebuilt_pool(READ_ALIAS, **TINY):
        before = exhausted_count(staff_client, READ_ALIAS)
        with held_connections(READ_ALIAS, TINY["POOL_SIZE"] + TINY["MAX_OVERFLOW"]):
            started = time.monotonic()
            response = client.get(path, {"tenant_id": tenant_id})
            elapsed = time.monotonic() - started

        assert response.status_code == 503
        assert response["Retry-After"] == "1"
        body = response.json()
        assert body["code"] == "pool_exhausted"
        assert body["error"] == "Connection pool exhausted - all connections in use"
        assert body["error_vi"] == "Hết kết nối – tất cả kết nối đang được sử dụng"
        assert body["recommendation"] == "Retry in 1 seconds or contact administrator"
        assert body["recommendation_vi"] == "Thử lại sau 1 giây hoặc liên hệ quản trị viên"
        # It waited for the pool's timeout, and not meaningfully longer.
        assert TINY["TIMEOUT"] * 0.9 <= elapsed < TINY["TIMEOUT"] + MARGIN_SECONDS

        assert len(audit_lines) == 1
        record = json.loads(audit_lines[0])
        assert record["event"] == "pool_exhausted"
        assert record["pool"] == READ_ALIAS
        assert (record["pool_size"], record["max_overflow"], record["timeout_seconds"]) == (2, 1, 1.0)
        assert 0.9 <= record["waited_seconds"] < TINY["TIMEOUT"] + MARGIN_SECONDS
        assert record["path"] == path
        assert record["method"] == "GET"
        assert record["tenant_id"] == tenant_id
        assert record["task"] is None
        assert record["time"].endswith("+00:00")

        assert exhausted_count(staff_client, READ_ALIAS) == before + 1

        # The held connections are back: the same request now succeeds.
        assert client.get(path).status_code == 200


def test_audit_line_has_no_tenant_when_the_request_names_none_or_a_malformed_one(client, audit_lines):
    with rebuilt_pool(READ_ALIAS, **TINY), held_connections(READ_ALIAS, 3):
        client.get("/probe/read-drf", {"tenant_id": "not-a-uuid"})
    assert json.loads(audit_lines[0])["tenant_id"] is None


def test_exhausted_pool_makes_connection_pools_health_critical(client, staff_client):
    with rebuilt_pool(READ_ALIAS, **TINY):
        with held_connections(READ_ALIAS, 3):
            full = staff_client.get("/health/connection-pools").json()["read_pool"]
            assert full["checked_out"] == 3
            assert full["utilization_percent"] == 100.0
            assert (full["status"], full["status_vi"]) == ("critical", "Nguy cấp")
            client.get("/probe/read-drf")  # runs out
        after = staff_client.get("/health/connection-pools").json()
    # Nothing is checked out any more, but the pool ran out moments ago in this process.
    assert after["read_pool"]["checked_out"] == 0
    assert after["read_pool"]["status"] == "critical"
    assert "ran out" in after["read_pool"]["recommendation"]
    assert "đã hết kết nối" in after["read_pool"]["recommendation_vi"]
    assert (after["status"], after["status_vi"]) == ("critical", "Nguy cấp")
    assert after["write_pool"]["status"] == "healthy"
