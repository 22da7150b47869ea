"""Every write through the API records one audit row in its own transaction; a refused request records none.

Batches, data scans (submitted, completed, failed, cancelled, discarded) and data sources
(registered, changed, scanned, deleted, discovery applied), each checked for its tenant, actor,
action and count against the real PostgreSQL; a scan's worker is stood in for by calling its
service in this process, as the worker does.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import ApiToken
from audit.models import AuditEvent, AuditSource
from audit.services import AUDIT_OBJECT_IDS_MAX, AuditActor
from audit.tests.support import events, the_event, write_events
from inventory.models import DataScan, ProcessingActivity, ScanStatus
from inventory.scan_services import data_scan_chunk_write, data_scan_fail, data_scan_process
from inventory.services import processing_activities_batch_create
from inventory.source_services import data_sources_dispatch_due
from inventory.tests.api_support import Member, activities, activity, member_of_new_tenant, post_batch
from inventory.tests.source_support import pg_source_create, pg_source_drop

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

SOURCE_DB = "src_k_audit_trail"


@pytest.fixture
def member() -> Member:
    return member_of_new_tenant("Công ty Kiểm Toán Minh Bạch", f"kiemtoan{uuid.uuid4().hex[:8]}")


@pytest.fixture
def outsider() -> Member:
    return member_of_new_tenant("Công ty Người Ngoài", f"nguoingoai{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def source_dsn():
    dsn = pg_source_create(SOURCE_DB)
    yield dsn
    pg_source_drop(SOURCE_DB)


def user_of(member: Member):
    return get_user_model().objects.using("write").get(tenant_memberships__tenant=member.tenant)


def api_actor(member: Member) -> AuditActor:
    user = user_of(member)
    return AuditActor(source=AuditSource.API, user_id=user.pk, username=user.username)


def assert_actor(event: AuditEvent, member: Member, source: str) -> None:
    user = user_of(member)
    assert (event.actor_user_id, event.actor_username, event.source) == (user.pk, user.username, source)
    assert event.tenant_id == member.tenant.pk


# --- Batches ------------------------------------------------------------------------------------


def test_a_ten_thousand_record_batch_is_one_row_with_its_count_actor_and_first_ids(member):
    response = post_batch(member.client(), member.tenant.pk, {"activities": activities(10_000)})
    assert response.status_code == 201, response.content[:300]
    created_ids = response.json()["created_ids"]

    event = the_event(member.tenant, "activities.batch_create")
    assert_actor(event, member, "api")
    assert (event.object_type, event.object_count) == ("processing_activity", 10_000)
    assert event.object_ids == created_ids[:AUDIT_OBJECT_IDS_MAX]
    assert (event.client_address, event.details) == ("127.0.0.1", {})
    assert event.actor_token_prefix == ApiToken.objects.using("write").get(user=user_of(member)).prefix
    # The first id finds the whole batch: its rows share the one COPY statement's timestamp.
    batch_time = ProcessingActivity.objects.using("write").get(pk=event.object_ids[0]).created_at
    assert ProcessingActivity.objects.using("write").filter(tenant=member.tenant, created_at=batch_time).count() == 10_000
    assert batch_time <= event.occurred_at


def test_a_batch_with_rejected_items_records_the_written_count_and_the_rejections(member):
    items = [activity(0), activity(1, pdpl_category="unknown"), activity(2)]
    response = post_batch(member.client(), member.tenant.pk, {"activities": items}, query="on_error=skip")
    assert response.status_code == 201, response.content
    event = the_event(member.tenant, "activities.batch_create")
    assert (event.object_count, event.details) == (2, {"records_failed": 1})
    assert event.object_ids == response.json()["created_ids"]


def test_refused_requests_record_nothing(member, outsider):
    client = member.client()
    assert post_batch(client, member.tenant.pk, {"activities": [activity(0, data_fields=[])]}).status_code == 400
    assert post_batch(client, member.tenant.pk, {"activities": []}).status_code == 400
    assert post_batch(outsider.client(), member.tenant.pk, {"activities": [activity(0)]}).status_code == 403
    assert (
        client.post("/data-scans", {"tenant_id": str(member.tenant.pk), "activities": [{"activity_name": "x"}]}, format="json").status_code
        == 400
    )
    assert client.delete(f"/data-scans/{uuid.uuid4()}?tenant_id={member.tenant.pk}").status_code == 404
    bad_source = client.post(f"/data-sources?tenant_id={member.tenant.pk}", {"name": "X", "kind": "oracle", "dsn": "x"}, format="json")
    assert bad_source.status_code == 400
    assert write_events(member.tenant) == [] and write_events(outsider.tenant) == []


def test_a_batch_rolled_back_by_its_caller_leaves_no_audit_row(member):
    with pytest.raises(RuntimeError), transaction.atomic(using="write"):
        processing_activities_batch_create(tenant=member.tenant, items=activities(3), actor=api_actor(member))
        assert len(events(member.tenant, "activities.batch_create")) == 1, "inside the transaction the row exists"
        raise RuntimeError("the caller changes its mind")
    assert events(member.tenant, "activities.batch_create") == []
    assert not ProcessingActivity.objects.using("write").filter(tenant=member.tenant).exists()


def test_a_batch_whose_audit_row_cannot_be_written_writes_nothing(member, monkeypatch):
    def refuse(**kwargs):
        with connections["write"].cursor() as cursor:
            cursor.execute("SELECT 1/0")  # the audit INSERT failing in the database, after the COPY

    monkeypatch.setattr("inventory.services.audit_record", refuse)
    assert post_batch(member.client(), member.tenant.pk, {"activities": activities(5)}).status_code == 500
    assert not ProcessingActivity.objects.using("write").filter(tenant=member.tenant).exists()
    assert write_events(member.tenant) == []


# --- Data scans ---------------------------------------------------------------------------------


def submit_scan(member: Member, count: int, settings) -> str:
    settings.DATA_SCAN_CHUNK_SIZE = 40
    response = member.client().post("/data-scans", {"tenant_id": str(member.tenant.pk), "activities": activities(count)}, format="json")
    assert response.status_code == 202, response.content
    return response.json()["scan_id"]


def test_a_scan_is_audited_when_submitted_and_again_when_completed_in_the_submitters_name(member, settings):
    scan_id = submit_scan(member, 100, settings)
    created = the_event(member.tenant, "data_scan.create")
    assert_actor(created, member, "api")
    assert (created.object_type, created.object_ids, created.object_count, created.details) == (
        "data_scan",
        [scan_id],
        1,
        {"records_total": 100},
    )
    assert events(member.tenant, "data_scan.complete") == [], "chunk transactions are not audited one by one"

    assert data_scan_process(scan_id=scan_id) == ScanStatus.COMPLETED  # what the worker runs
    completed = the_event(member.tenant, "data_scan.complete")
    assert_actor(completed, member, "scan")
    assert (completed.object_ids, completed.details, completed.client_address) == ([scan_id], {"records_written": 100}, None)


def test_a_failed_scan_is_audited_with_the_rows_it_wrote(member, settings):
    scan_id = submit_scan(member, 100, settings)
    scan = DataScan.objects.using("write").get(pk=scan_id)
    DataScan.objects.using("write").filter(pk=scan_id).update(status=ScanStatus.PROCESSING)
    data_scan_chunk_write(scan=scan)
    assert data_scan_fail(scan_id=scan_id, error="boom", error_vi="hỏng") is True
    assert data_scan_fail(scan_id=scan_id, error="boom", error_vi="hỏng") is False, "already failed: nothing written"
    failed = the_event(member.tenant, "data_scan.fail")
    assert_actor(failed, member, "scan")
    assert failed.details == {"records_written": 40}


def test_cancel_and_discard_are_audited_each_once(member, settings):
    scan_id = submit_scan(member, 100, settings)
    scan = DataScan.objects.using("write").get(pk=scan_id)
    DataScan.objects.using("write").filter(pk=scan_id).update(status=ScanStatus.PROCESSING)
    data_scan_chunk_write(scan=scan)  # 40 rows written before the cancel
    client = member.client()
    url = f"/data-scans/{scan_id}?tenant_id={member.tenant.pk}"
    assert client.delete(url).status_code == 200
    assert client.delete(url).status_code == 200, "cancelling again changes nothing"
    cancelled = the_event(member.tenant, "data_scan.cancel")
    assert_actor(cancelled, member, "api")
    assert cancelled.details == {"records_written": 40}
    assert events(member.tenant, "data_scan.discard") == []

    assert client.delete(url + "&discard=true").status_code == 200
    discarded = the_event(member.tenant, "data_scan.discard")
    assert_actor(discarded, member, "api")
    assert discarded.details == {"records_deleted": 40}
    assert client.delete(url + "&discard=true").status_code == 200
    assert len(events(member.tenant, "data_scan.discard")) == 1, "nothing left to discard: no second row"


def test_cancelling_a_completed_scan_is_a_409_and_records_nothing(member, settings):
    scan_id = submit_scan(member, 10, settings)
    data_scan_process(scan_id=scan_id)
    before = len(events(member.tenant))
    assert member.client().delete(f"/data-scans/{scan_id}?tenant_id={member.tenant.pk}").status_code == 409
    assert len(events(member.tenant)) == before


# --- Data sources -------------------------------------------------------------------------------


def test_a_data_sources_life_is_audited_without_its_secrets(member, source_dsn):
    client = member.client()
    base = f"/data-sources?tenant_id={member.tenant.pk}"
    created = client.post(base, {"name": "CRM", "kind": "postgresql", "dsn": source_dsn}, format="json")
    assert created.status_code == 201, created.content
    source_id = created.json()["source_id"]
    detail = f"/data-sources/{source_id}?tenant_id={member.tenant.pk}"
    assert client.patch(detail, {"schedule": "0 2 * * *", "dsn": source_dsn}, format="json").status_code == 200
    started = client.post(f"/data-sources/{source_id}/scans?tenant_id={member.tenant.pk}")
    assert started.status_code == 202
    scan_id = started.json()["scan_id"]
    assert client.post(f"/data-sources/{source_id}/scans?tenant_id={member.tenant.pk}").json()["started"] is False
    assert data_scan_process(scan_id=scan_id) == ScanStatus.COMPLETED  # the worker's discovery run
    assert client.delete(detail).status_code == 204

    trail = write_events(member.tenant)
    assert [event.action for event in trail] == [
        "data_source.create",
        "data_source.update",
        "data_source.scan_now",
        "discovery.apply",
        "data_source.delete",
    ], "a scan request that found one running wrote nothing and is not audited"
    registered, changed, scan_now, applied, deleted = trail
    for event in (registered, changed, scan_now, deleted):
        assert_actor(event, member, "api")
    assert (registered.object_type, registered.object_ids, registered.details) == (
        "data_source",
        [source_id],
        {"kind": "postgresql", "scheduled": False},
    )
    assert changed.details == {"fields": ["dsn", "schedule"]}
    assert (scan_now.object_type, scan_now.object_ids, scan_now.details) == ("data_scan", [scan_id], {"data_source_id": source_id})
    assert_actor(applied, member, "scan")
    assert applied.object_type == "processing_activity"
    activity_ids = {str(pk) for pk in ProcessingActivity.objects.using("write").filter(data_scan_id=scan_id).values_list("pk", flat=True)}
    assert applied.object_count == len(activity_ids) == 4 and set(applied.object_ids) == activity_ids
    assert applied.details == {
        "data_scan_id": scan_id,
        "data_source_id": source_id,
        "tables": 5,
        "added": 4,
        "updated": 0,
        "returned": 0,
        "missing": 0,
        "unchanged": 0,
    }
    assert deleted.object_ids == [source_id]
    text = " ".join(str(event.details) for event in trail)
    assert "mat-khau-bi-mat" not in text and "postgresql://" not in text


def test_a_scheduled_discovery_scan_is_audited_as_beats(member, source_dsn):
    created = member.client().post(
        f"/data-sources?tenant_id={member.tenant.pk}",
        {"name": "Kho", "kind": "postgresql", "dsn": source_dsn, "schedule": "* * * * *"},
        format="json",
    )
    assert created.status_code == 201, created.content
    source_id = created.json()["source_id"]
    [scan_id] = data_sources_dispatch_due(now=timezone.now() + dt.timedelta(minutes=2))
    started = the_event(member.tenant, "data_source.scan_scheduled")
    assert (started.source, started.actor_user_id, started.actor_username) == ("beat", None, "")
    assert (started.object_ids, started.details) == ([scan_id], {"data_source_id": source_id})
    data_scan_process(scan_id=scan_id)
    applied = the_event(member.tenant, "discovery.apply")
    assert (applied.source, applied.actor_user_id) == ("scan", None)
