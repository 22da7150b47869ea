"""`Idempotency-Key` on the POSTs that write (verisyntra.api.idempotency): a retry is answered, not run again.

Transactional tests on the real PostgreSQL: the key's advisory lock and its record live in the
write transaction, which a test-case transaction around everything would hide.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta
from unittest import mock

import psycopg2
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from inventory.models import DataScan, DataScanChunk, IdempotencyKey, ProcessingActivity, TenantMembership
from inventory.services import tenant_create
from inventory.tests.api_support import activities, activity, assert_bilingual_error, member_of_new_tenant, post_batch
from verisyntra.api.idempotency import idempotency_keys_delete_expired

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

BATCH = "/batch/processing-activities"


@pytest.fixture
def member():
    yield member_of_new_tenant("Công ty Cổ phần Thử Lại", "thulai")
    # Scans submitted here went to this run's broker database; no worker should ever get them.
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()


def keyed(key: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": key}


def post_keyed_batch(client, tenant_id, body, key: str, *, query: str = ""):
    suffix = f"&{query}" if query else ""
    return client.generic("POST", f"{BATCH}?tenant_id={tenant_id}{suffix}", json.dumps(body), content_type="application/json", **keyed(key))


def post_keyed_scan(client, tenant_id, records, key: str):
    return client.post("/data-scans", {"tenant_id": str(tenant_id), "activities": records}, format="json", **keyed(key))


def rows_of(tenant) -> int:
    return ProcessingActivity.objects.using("write").filter(tenant=tenant).count()


class TenantRowLock:
    """Holds the tenant's row `FOR UPDATE` from another session: a write of that tenant (its foreign
    key check) waits inside its transaction until `release()`, as a slow database would make it."""

    def __init__(self, tenant_id):
        db = django_settings.DATABASES["write"]
        self.connection = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM inventory_tenant WHERE id = %s FOR UPDATE", [str(tenant_id)])

    def waiters(self) -> int:
        with self.connection.cursor() as cursor:
            # This session is inside its transaction, whose statistics snapshot would stay as first read.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    def release(self) -> None:
        if self.connection.closed:
            return
        self.connection.rollback()
        self.connection.close()


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def in_thread(function, results: list, *args) -> threading.Thread:
    def run():
        try:
            results.append(function(*args))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- The same request again: replayed, written once ----------------------------------------------


def test_a_retried_batch_writes_once_and_replays_the_same_created_ids(member):
    body = {"activities": activities(50)}
    first = post_keyed_batch(member.client(), member.tenant.pk, body, "batch-0001")  # the response the client lost
    assert first.status_code == 201, first.content
    retry = post_keyed_batch(member.client(), member.tenant.pk, body, "batch-0001")
    assert retry.status_code == 201, retry.content
    assert retry.json() == first.json(), "the same answer: same created_ids, same message and timing"
    assert retry["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert rows_of(member.tenant) == 50, "written once"
    ids = list(
        ProcessingActivity.objects.using("write").filter(tenant=member.tenant).order_by("created_at", "id").values_list("id", flat=True)
    )
    assert retry.json()["created_ids"] == [str(i) for i in ids]


def test_a_retried_scan_is_stored_once_and_replays_the_same_scan_id_and_location(member):
    records = activities(30)
    first = post_keyed_scan(member.client(), member.tenant.pk, records, "scan-0001")
    assert first.status_code == 202, first.content
    retry = post_keyed_scan(member.client(), member.tenant.pk, records, "scan-0001")
    assert retry.status_code == 202, retry.content
    assert retry.json() == first.json() and retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert DataScan.objects.using("write").filter(tenant=member.tenant).count() == 1
    assert sum(DataScanChunk.objects.using("write").filter(data_scan__tenant=member.tenant).values_list("record_count", flat=True)) == 30


def test_without_the_header_every_request_writes_as_before(member):
    body = {"activities": activities(5)}
    assert post_batch(member.client(), member.tenant.pk, body).status_code == 201
    assert post_batch(member.client(), member.tenant.pk, body).status_code == 201
    assert rows_of(member.tenant) == 10
    records = activities(3)
    for _ in range(2):
        assert (
            member.client().post("/data-scans", {"tenant_id": str(member.tenant.pk), "activities": records}, format="json").status_code
            == 202
        )
    assert DataScan.objects.using("write").filter(tenant=member.tenant).count() == 2
    assert not IdempotencyKey.objects.using("write").exists()


# --- The same key with another request: 422 ------------------------------------------------------


def test_the_same_key_with_another_body_or_query_is_422_and_writes_nothing(member):
    assert post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(3)}, "k-422").status_code == 201
    other_body = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(4)}, "k-422")
    assert_bilingual_error(other_body, 422, "idempotency_key_reused")
    other_query = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(3)}, "k-422", query="on_error=skip")
    assert_bilingual_error(other_query, 422, "idempotency_key_reused")
    # The same key on the other endpoint is another request too.
    assert_bilingual_error(post_keyed_scan(member.client(), member.tenant.pk, activities(3), "k-422"), 422, "idempotency_key_reused")
    assert rows_of(member.tenant) == 3
    assert not DataScan.objects.using("write").exists()


# --- The first request still running: 409 -------------------------------------------------------


def test_a_retry_while_the_first_request_runs_is_409_with_retry_after_then_the_replay(member):
    body = {"activities": activities(20)}
    lock = TenantRowLock(member.tenant.pk)
    first: list = []
    try:
        thread = in_thread(post_keyed_batch, first, member.client(), member.tenant.pk, body, "slow-1")
        wait_for(lambda: lock.waiters() >= 1)  # the first request is inside its write, waiting
        during: list = []
        retry = in_thread(post_keyed_batch, during, member.client(), member.tenant.pk, body, "slow-1")
        wait_for(lambda: bool(during), timeout=10)  # answered at once, not queued behind the first attempt
        assert_bilingual_error(during[0], 409, "idempotency_key_in_flight")
        assert during[0]["Retry-After"] == "1"
        assert rows_of(member.tenant) == 0
    finally:
        lock.release()
    thread.join(30)
    retry.join(30)
    assert first and first[0].status_code == 201, first
    after = post_keyed_batch(member.client(), member.tenant.pk, body, "slow-1")
    assert after.status_code == 201 and after.json()["created_ids"] == first[0].json()["created_ids"]
    assert rows_of(member.tenant) == 20


def test_concurrent_requests_with_the_same_key_write_once(member):
    body = {"activities": activities(500)}
    results: list = []
    barrier = threading.Barrier(8)

    def send():
        barrier.wait()
        return post_keyed_batch(member.client(), member.tenant.pk, body, "together")

    threads = [in_thread(send, results) for _ in range(8)]
    for thread in threads:
        thread.join(60)
    statuses = sorted(response.status_code for response in results)
    assert len(results) == 8 and set(statuses) <= {201, 409}, statuses
    assert rows_of(member.tenant) == 500, statuses
    answers = {tuple(response.json()["created_ids"]) for response in results if response.status_code == 201}
    assert len(answers) == 1, "every 201 is the one write's answer"
    assert sum(1 for response in results if response.status_code == 201 and not response.has_header("Idempotent-Replayed")) == 1


def test_concurrent_requests_held_in_flight_get_409_and_one_writes(member):
    body = {"activities": activities(10)}
    lock = TenantRowLock(member.tenant.pk)
    results: list = []
    try:
        threads = [in_thread(post_keyed_batch, results, member.client(), member.tenant.pk, body, "held") for _ in range(6)]
        wait_for(lambda: len(results) == 5)  # five answered at once, the sixth is writing
        # ... and reaches the tenant's row (its foreign key check) a moment later: waited for, not
        # sampled once (the batch stages its rows before the INSERT that checks the key).
        wait_for(lambda: lock.waiters() == 1)
    finally:
        lock.release()
    for thread in threads:
        thread.join(30)
    assert sorted(response.status_code for response in results) == [201] + [409] * 5
    assert rows_of(member.tenant) == 10


# --- Scope, refusals, expiry ---------------------------------------------------------------------


def test_keys_are_scoped_to_the_caller_and_the_tenant(member):
    body = {"activities": activities(2)}
    assert post_keyed_batch(member.client(), member.tenant.pk, body, "shared-key").status_code == 201
    # A colleague in the same tenant with the same key: another request of another caller.
    colleague = member_of_new_tenant("Công ty của đồng nghiệp", "dongnghiep")
    TenantMembership.objects.create(tenant=member.tenant, user_id=colleague.tenant.memberships.get().user_id)
    assert post_keyed_batch(colleague.client(), member.tenant.pk, body, "shared-key").status_code == 201
    # The same caller in a second tenant.
    second, _, _ = tenant_create(name="Chi nhánh Hà Nội", username="thulai")
    assert post_keyed_batch(member.client(), second.pk, body, "shared-key").status_code == 201
    assert rows_of(member.tenant) == 4 and rows_of(second) == 2
    assert IdempotencyKey.objects.using("write").filter(key="shared-key").count() == 3


def test_an_outsider_gets_the_tenants_403_before_anything_about_the_key(member):
    outsider = member_of_new_tenant("Công ty TNHH Người Ngoài", "nguoingoai")
    assert post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(1)}, "k-403").status_code == 201
    response = post_keyed_batch(outsider.client(), member.tenant.pk, {"activities": activities(1)}, "k-403")
    assert_bilingual_error(response, 403, "tenant_access_denied")


def test_a_refused_request_stores_nothing_and_its_key_stays_free(member):
    bad = post_keyed_batch(member.client(), member.tenant.pk, {"activities": [activity(0, pdpl_category="secret")]}, "fix-me")
    assert_bilingual_error(bad, 400, "invalid_activities")
    assert not IdempotencyKey.objects.using("write").exists()
    fixed = post_keyed_batch(member.client(), member.tenant.pk, {"activities": [activity(0)]}, "fix-me")
    assert fixed.status_code == 201 and rows_of(member.tenant) == 1


def test_the_key_is_stored_in_the_same_transaction_as_the_data(member):
    # If storing the answer fails after the view wrote, the write is rolled back with it.
    with mock.patch("verisyntra.api.idempotency._store", side_effect=RuntimeError("lost before commit")):
        response = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(7)}, "atomic")
    assert response.status_code == 500
    assert rows_of(member.tenant) == 0 and not IdempotencyKey.objects.using("write").exists()
    retry = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(7)}, "atomic")
    assert retry.status_code == 201 and rows_of(member.tenant) == 7


@pytest.mark.parametrize(
    "key",
    ["", "   ", "x" * 256, "khóa-một", "tab\there", "nul\x00", "del\x7f"],
    ids=["empty", "spaces", "256-chars", "non-ascii", "tab", "nul", "del"],
)
def test_a_malformed_key_is_a_400_of_its_own_and_writes_nothing(member, key):
    response = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(1)}, key)
    body = assert_bilingual_error(response, 400, "invalid_idempotency_key")
    assert "255" in body["error"] and "255" in body["error_vi"]
    assert rows_of(member.tenant) == 0


def test_a_key_of_255_printable_characters_is_accepted(member):
    key = ("~ !" + "a" * 252)[:255]
    assert post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(1)}, key).status_code == 201
    assert IdempotencyKey.objects.using("write").get().key == key


def test_an_expired_key_is_new_again_and_the_cleanup_deletes_only_expired_keys(member, settings):
    body = {"activities": activities(2)}
    assert post_keyed_batch(member.client(), member.tenant.pk, body, "old").status_code == 201
    assert post_keyed_batch(member.client(), member.tenant.pk, body, "fresh").status_code == 201
    stored = IdempotencyKey.objects.using("write").get(key="fresh")
    assert timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS - 60) < stored.expires_at - stored.created_at
    IdempotencyKey.objects.using("write").filter(key="old").update(expires_at=timezone.now() - timedelta(seconds=1))
    # Past its lifetime the key answers nothing: another body with it is a new request, not a 422.
    again = post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(3)}, "old")
    assert again.status_code == 201 and not again.has_header("Idempotent-Replayed")
    assert rows_of(member.tenant) == 7
    IdempotencyKey.objects.using("write").filter(key="old").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_keys_delete_expired(batch_size=1) == 1
    assert list(IdempotencyKey.objects.using("write").values_list("key", flat=True)) == ["fresh"]
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "inventory.delete_expired_idempotency_keys" in schedule


def test_a_shorter_ttl_setting_is_what_the_key_gets(member, settings):
    settings.IDEMPOTENCY_KEY_TTL_SECONDS = 90
    assert post_keyed_batch(member.client(), member.tenant.pk, {"activities": activities(1)}, "short").status_code == 201
    stored = IdempotencyKey.objects.using("write").get()
    assert timedelta(seconds=85) < stored.expires_at - stored.created_at < timedelta(seconds=95)


# --- The published contract --------------------------------------------------------------------


def test_the_schema_documents_the_header_the_409_and_the_422_on_every_post_that_writes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/batch/processing-activities", "/data-scans"):
        operation = schema["paths"][path]["post"]
        headers = {parameter["name"]: parameter for parameter in operation["parameters"] if parameter["in"] == "header"}
        assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255 and not headers["Idempotency-Key"].get("required")
        assert {"409", "422"} <= set(operation["responses"]), path
    assert "Idempotency-Key" not in json.dumps(schema["paths"]["/data-scans"]["get"])


def test_uuid_keys_as_clients_usually_send_them(member):
    key = str(uuid.uuid4())
    first = post_keyed_scan(member.client(), member.tenant.pk, activities(2), key)
    assert first.status_code == 202
    assert post_keyed_scan(member.client(), member.tenant.pk, activities(2), key).json()["scan_id"] == first.json()["scan_id"]
