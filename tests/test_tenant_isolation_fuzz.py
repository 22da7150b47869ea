"""Tenant isolation under fuzzing: random combinations of callers, tenant ids and object ids
across every tenant-owned endpoint never read or change another tenant's data.

Two tenants, each with a member and secrets (activity names, scan ids) the other must never see.
Each example picks a caller (either member, no token, a wrong token, a malformed header), a
tenant id (either tenant's, in any spelling `uuid.UUID` accepts, unknown, malformed, missing,
given twice), an endpoint and an object id, then checks the answer and both tenants' rows.
"""

from __future__ import annotations

import itertools
import secrets
import uuid

import pytest
import redis
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from inventory.models import DataScan, ProcessingActivity, Tenant
from inventory.services import tenant_create
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

CALLERS = ["alice", "bob", "anonymous", "wrong_token", "malformed_header"]
TENANT_SPELLINGS = ["A", "B", "A_upper", "B_upper", "B_braces", "B_urn", "unknown", "malformed", "missing", "A_then_B", "B_then_A"]
OBJECTS = ["scan_A", "scan_B", "scan_unknown"]
ENDPOINTS = ["summary", "list", "list_cursor", "batch", "batch_item_tenant", "scans", "scan_detail", "scan_submit"]


@pytest.fixture
def world():
    """Tenants A (member alice) and B (member bob), each with secret activities and a scan."""
    a, alice, alice_token = tenant_create(name="Công ty A", username="alice")
    b, bob, bob_token = tenant_create(name="Công ty B", username="bob")
    for tenant, marker in ((a, "A-SECRET"), (b, "B-SECRET")):
        ProcessingActivity.objects.bulk_create(
            ProcessingActivity(tenant=tenant, activity_name=f"{marker}-{i}", pdpl_category="sensitive", data_fields=["so_cmnd"])
            for i in range(3)
        )
    scans = {"A": DataScan.objects.create(tenant=a), "B": DataScan.objects.create(tenant=b)}
    yield {
        "tenants": {"A": a, "B": b},
        "tokens": {"alice": alice_token.key, "bob": bob_token.key},
        "home": {"alice": "A", "bob": "B"},
        "scans": scans,
    }
    # Submitted scans were enqueued on this run's broker database; no worker should ever get them.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def tenant_query(world, spelling: str) -> str:
    a, b = (str(world["tenants"][k].pk) for k in "AB")
    return {
        "A": f"tenant_id={a}",
        "B": f"tenant_id={b}",
        "A_upper": f"tenant_id={a.upper()}",
        "B_upper": f"tenant_id={b.upper()}",
        "B_braces": f"tenant_id=%7B{b}%7D",
        "B_urn": f"tenant_id=urn:uuid:{b}",
        "unknown": f"tenant_id={uuid.uuid4()}",
        "malformed": "tenant_id=not-a-uuid",
        "missing": "",
        "A_then_B": f"tenant_id={a}&tenant_id={b}",
        "B_then_A": f"tenant_id={b}&tenant_id={a}",
    }[spelling]


def body_tenant(world, spelling: str):
    a, b = (str(world["tenants"][k].pk) for k in "AB")
    spellings = {"A": a, "B": b, "A_upper": a.upper(), "B_upper": b.upper(), "B_braces": "{" + b + "}", "B_urn": f"urn:uuid:{b}"}
    spellings.update({"unknown": str(uuid.uuid4()), "malformed": "not-a-uuid", "missing": None, "A_then_B": [a, b], "B_then_A": [b, a]})
    return spellings[spelling]


# Each request from an address of its own: the wrong-token callers fail authentication dozens of
# times in one run, and the failed-authentication throttle (accounts.throttling, tested in
# accounts/tests) would answer them 429 instead of the 401 this property is about.
_addresses = itertools.count(1)


def client_for(world, caller: str) -> APIClient:
    n = next(_addresses)
    client = APIClient(REMOTE_ADDR=f"198.18.{n // 250 % 250}.{n % 250 + 1}")
    if caller in world["tokens"]:
        client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens'][caller]}")
    elif caller == "wrong_token":
        client.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(20)}")
    elif caller == "malformed_header":
        client.credentials(HTTP_AUTHORIZATION="Token a b c")
    return client


def item(name: str, **extra) -> dict:
    return {"activity_name": name, "pdpl_category": "basic", "data_fields": ["ho_ten"], **extra}


def call(world, client, endpoint: str, spelling: str, obj: str):
    query = tenant_query(world, spelling)
    scan_id = {"scan_A": world["scans"]["A"].pk, "scan_B": world["scans"]["B"].pk, "scan_unknown": uuid.uuid4()}[obj]
    other = str(world["tenants"]["B"].pk)
    if endpoint == "summary":
        return client.get(f"/analytics/compliance-summary?{query}")
    if endpoint == "list":
        return client.get(f"/analytics/processing-activities?{query}&limit=1000")
    if endpoint == "list_cursor":
        # A cursor is a position, not a permission: one made up for the other tenant's rows changes nothing.
        first = client.get(f"/analytics/processing-activities?{query}&limit=1")
        cursor = first.json().get("next_cursor") if first.status_code == 200 else "bm90LWEtY3Vyc29y"
        return client.get(f"/analytics/processing-activities?{query}&limit=1000&cursor={cursor}")
    if endpoint == "batch":
        return client.post(f"/batch/processing-activities?{query}", {"activities": [item("FUZZ-batch")]}, format="json")
    if endpoint == "batch_item_tenant":
        body = {"activities": [item("FUZZ-item-tenant", tenant_id=other, tenant=other)], "tenant_id": other}
        return client.post(f"/batch/processing-activities?{query}", body, format="json")
    if endpoint == "scans":
        return client.get(f"/data-scans?{query}")
    if endpoint == "scan_detail":
        return client.get(f"/data-scans/{scan_id}?{query}")
    if endpoint == "scan_submit":
        body = {"activities": [item("FUZZ-scan")]}
        if spelling != "missing":
            body["tenant_id"] = body_tenant(world, spelling)
        return client.post("/data-scans", body, format="json")
    raise AssertionError(endpoint)


def snapshot(world) -> dict[str, tuple[int, int]]:
    return {
        key: (
            ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant=tenant).count(),
            DataScan.objects.using(WRITE_ALIAS).filter(tenant=tenant).count(),
        )
        for key, tenant in world["tenants"].items()
    }


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    caller=st.sampled_from(CALLERS),
    spelling=st.sampled_from(TENANT_SPELLINGS),
    endpoint=st.sampled_from(ENDPOINTS),
    obj=st.sampled_from(OBJECTS),
)
def test_no_combination_reads_or_changes_another_tenants_data(world, caller, spelling, endpoint, obj):
    before = snapshot(world)
    response = call(world, client_for(world, caller), endpoint, spelling, obj)
    after = snapshot(world)
    text = response.content.decode()

    assert response.status_code < 500, (response.status_code, text[:300])
    if response.status_code >= 400:
        assert {"error", "error_vi", "code"} <= set(response.json()), text[:300]

    home = world["home"].get(caller)
    if home is None:  # no valid credentials: refused before anything is looked at
        assert response.status_code == 401, (caller, response.status_code)
        assert after == before
        return

    foreign = "B" if home == "A" else "A"
    foreign_tenant = world["tenants"][foreign]
    assert f"{foreign}-SECRET" not in text
    assert str(world["scans"][foreign].pk) not in text
    assert str(foreign_tenant.pk) not in text.lower()
    assert after[foreign] == before[foreign], f"{caller} changed tenant {foreign}'s data through {endpoint}"
    if 200 <= response.status_code < 300:
        body = response.json()
        assert body.get("tenant_id", str(world["tenants"][home].pk)) == str(world["tenants"][home].pk)
    if after[home] != before[home]:
        assert response.status_code in (201, 202), "a refused request wrote something"


def test_the_fuzzed_world_really_holds_secrets_the_members_can_see(world):
    """The property above could pass vacuously if nothing were visible at all: it is not."""
    for caller, home in world["home"].items():
        client = client_for(world, caller)
        listed = client.get(f"/analytics/processing-activities?tenant_id={world['tenants'][home].pk}")
        assert listed.status_code == 200 and f"{home}-SECRET" in listed.content.decode()
        detail = client.get(f"/data-scans/{world['scans'][home].pk}?tenant_id={world['tenants'][home].pk}")
        assert detail.status_code == 200 and str(world["scans"][home].pk) in detail.content.decode()
    assert Tenant.objects.count() == 2
