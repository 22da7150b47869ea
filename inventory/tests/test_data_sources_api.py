"""The data-source API, its guard and its schedule dispatcher, against the real PostgreSQL.

Registering, listing, reading, changing and deleting sources; the DSN encrypted in the database and
masked in every answer; refused DSNs (the service's own database and broker, a disallowed host, a
host that does not resolve, a wrong scheme, an option that could undo the guard); cron schedules;
and the beat dispatcher: fair across tenants, a missed run once, never the same source twice.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from inventory.models import DataScan
from inventory.source_connections import SourceRejected, dsn_check, dsn_parse, source_connect
from inventory.source_crypto import dsn_decrypt
from inventory.source_models import DataSource
from inventory.source_services import data_source_create, data_source_keys_rotate, data_sources_dispatch_due, schedule_next
from inventory.tests.api_support import VIETNAMESE_LETTERS, member_of_new_tenant
from inventory.tests.source_support import pg_source_create, pg_source_drop

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

PASSWORD = "mat-khau-bi-mat"
SOURCE_DB = "src_k_api"


@pytest.fixture(scope="module")
def source_dsn():
    dsn = pg_source_create(SOURCE_DB)
    yield dsn
    pg_source_drop(SOURCE_DB)


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Nguồn Dữ Liệu", f"nguon{uuid.uuid4().hex[:8]}")


def url(member, suffix: str = "") -> str:
    return f"/data-sources{suffix}?tenant_id={member.tenant.pk}"


def assert_bilingual_400(response, field: str) -> dict:
    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "invalid_data_source" and body["field"] == field, body
    assert set(body["error_vi"]) & VIETNAMESE_LETTERS, body
    return body


def raw_source_row(source_id) -> tuple[str, str]:
    with connections["write"].cursor() as cursor:
        cursor.execute("SELECT dsn_encrypted, dsn_masked FROM inventory_datasource WHERE id = %s", [str(source_id)])
        return cursor.fetchone()


def test_register_read_change_and_delete_with_the_password_encrypted_and_never_returned(member, source_dsn):
    client = member.client()
    created = client.post(url(member), {"name": "CRM", "kind": "postgresql", "dsn": source_dsn, "schedule": "0 2 * * *"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    source_id = body["source_id"]
    assert body["dsn"] == f"postgresql://postgres:***@127.0.0.1:5432/{SOURCE_DB}"
    assert body["schedule"] == "0 2 * * *" and body["next_run_at"] is not None and body["last_scan"] is None
    next_run = dt.datetime.fromisoformat(body["next_run_at"]).astimezone(timezone.get_default_timezone())
    assert (next_run.hour, next_run.minute) == (2, 0), "cron is read in the service's time zone"

    encrypted, masked = raw_source_row(source_id)
    assert PASSWORD not in encrypted and "postgresql" not in encrypted and PASSWORD not in masked
    assert dsn_decrypt(encrypted) == source_dsn

    answers = [
        client.get(url(member)),
        client.get(url(member, f"/{source_id}")),
        client.patch(url(member, f"/{source_id}"), {"schedule": "30 1 * * 0"}, format="json"),
        client.patch(url(member, f"/{source_id}"), {"dsn": source_dsn.replace(PASSWORD, "mat-khau-moi")}, format="json"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.json()
        assert PASSWORD not in answer.content.decode() and "mat-khau-moi" not in answer.content.decode()
    assert answers[0].json()["data_sources"][0]["dsn"] == body["dsn"]
    assert answers[2].json()["schedule"] == "30 1 * * 0"
    assert "mat-khau-moi" in dsn_decrypt(raw_source_row(source_id)[0])

    stopped = client.patch(url(member, f"/{source_id}"), {"schedule": ""}, format="json").json()
    assert stopped["schedule"] is None and stopped["next_run_at"] is None

    assert client.delete(url(member, f"/{source_id}")).status_code == 204
    assert client.get(url(member, f"/{source_id}")).json()["code"] == "data_source_not_found"


def test_a_registration_and_a_scan_request_retried_with_the_same_idempotency_key_happen_once(member, source_dsn):
    client = member.client()
    payload = {"name": "CRM gửi lại", "kind": "postgresql", "dsn": source_dsn}
    first, retry = (client.post(url(member), payload, format="json", HTTP_IDEMPOTENCY_KEY="register-crm-1") for _ in range(2))
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert DataSource.objects.filter(tenant=member.tenant).count() == 1

    scans = url(member, f"/{first.json()['source_id']}/scans")
    started, again = (client.post(scans, HTTP_IDEMPOTENCY_KEY="scan-crm-1") for _ in range(2))
    assert (started.status_code, again.status_code) == (202, 202)
    assert again.json()["scan_id"] == started.json()["scan_id"] and again["Idempotent-Replayed"] == "true"
    reused = client.post(url(member), {**payload, "name": "CRM khác"}, format="json", HTTP_IDEMPOTENCY_KEY="register-crm-1")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_another_tenants_source_is_a_404_and_a_stranger_gets_403(member, source_dsn):
    other = member_of_new_tenant("Công ty Khác", f"khac{uuid.uuid4().hex[:8]}")
    source = data_source_create(tenant=other.tenant, name="Kho khác", kind="postgresql", dsn=source_dsn)
    client = member.client()
    for answer in (client.get(url(member, f"/{source.pk}")), client.post(url(member, f"/{source.pk}/scans"))):
        assert answer.status_code == 404 and answer.json()["code"] == "data_source_not_found"
    assert client.get(f"/data-sources?tenant_id={other.tenant.pk}").status_code == 403


def test_the_services_own_database_is_refused_whatever_the_allowlist(member):
    own = settings.DATABASES["write"]
    configured = settings.DATA_SOURCE_SERVICE_DATABASES[0]
    client = member.client()
    dsns = [
        f"postgresql://postgres:x@127.0.0.1:{own['PORT']}/{own['NAME']}",  # the test database, by address
        f"postgresql://postgres:x@localhost:{own['PORT']}/{own['NAME']}",  # the same, by another name
        f"postgresql://postgres:x@127.0.0.1:{configured[1]}/{configured[2]}",  # the configured one a test run renames
    ]
    with override_settings(DATA_SOURCE_ALLOWED_HOSTS=["0.0.0.0/0", "::/0", "localhost"]):
        for dsn in dsns:
            body = assert_bilingual_400(
                client.post(url(member), {"name": "Chính nó", "kind": "postgresql", "dsn": dsn}, format="json"), "dsn"
            )
            assert "own databases" in body["error"], body
        # The broker: same host and port, whatever the "database".
        broker_port = int(settings.CELERY_BROKER_URL.rsplit(":", 1)[1].split("/")[0])
        broker = client.post(
            url(member), {"name": "Redis", "kind": "postgresql", "dsn": f"postgresql://x@127.0.0.1:{broker_port}/0"}, format="json"
        )
        assert "own databases" in assert_bilingual_400(broker, "dsn")["error"]
    assert not DataSource.objects.using("write").filter(tenant=member.tenant).exists()


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@10.1.2.3:5432/crm"}, "dsn", "DATA_SOURCE_ALLOWED_HOSTS"),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@khong-ton-tai.invalid:5432/crm"}, "dsn", "cannot be resolved"),
        ({"name": "Xa", "kind": "mysql", "dsn": "postgresql://u:p@127.0.0.1:5432/crm"}, "dsn", "does not match"),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1:5432/crm?host=10.0.0.9"}, "dsn", '"host"'),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1:5432/crm?options=-c%20x"}, "dsn", '"options"'),
        ({"name": "Xa", "kind": "postgresql", "dsn": "khong phai url"}, "dsn", "URL"),
        ({"name": "Xa", "kind": "oracle", "dsn": "postgresql://u:p@127.0.0.1/crm"}, "kind", "one of"),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1/crm", "schedule": "mỗi đêm"}, "schedule", "cron"),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1/crm", "schedule": "0 0 2 * * *"}, "schedule", "cron"),
        ({"name": "Xa", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1/crm", "password": "x"}, "password", "Unknown"),
        ({"name": "  ", "kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1/crm"}, "name", "blank"),
        ({"kind": "postgresql", "dsn": "postgresql://u:p@127.0.0.1/crm"}, "name", "required"),
    ],
)
def test_bad_input_is_a_bilingual_400_and_stores_nothing(member, payload, field, words):
    body = assert_bilingual_400(member.client().post(url(member), payload, format="json"), field)
    assert words in body["error"], body
    assert not DataSource.objects.using("write").filter(tenant=member.tenant).exists()


def test_a_second_source_of_the_same_name_is_refused(member, source_dsn):
    client = member.client()
    payload = {"name": "CRM", "kind": "postgresql", "dsn": source_dsn}
    assert client.post(url(member), payload, format="json").status_code == 201
    assert "already" in assert_bilingual_400(client.post(url(member), payload, format="json"), "name")["error"]


def test_the_guard_checks_again_at_connection_time_and_connects_read_only(source_dsn):
    dsn = dsn_parse(source_dsn, kind="postgresql")
    connection = source_connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW default_transaction_read_only")
            assert cursor.fetchone()[0] == "on"
            cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
            assert cursor.fetchone()[0] == str(settings.DATA_SOURCE_STATEMENT_TIMEOUT_MS)
            with pytest.raises(Exception, match="read-only"):
                cursor.execute("CREATE TABLE ghi_thu (id integer)")
    finally:
        connection.close()
    with override_settings(DATA_SOURCE_ALLOWED_HOSTS=["192.168.0.0/16"]), pytest.raises(SourceRejected):
        dsn_check(dsn)


def test_keys_rotate_without_losing_a_dsn(member, source_dsn):
    from cryptography.fernet import Fernet

    from inventory.source_crypto import keys_reset

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    try:
        with override_settings(DATA_SOURCE_ENCRYPTION_KEYS=[old]):
            keys_reset()
            source = data_source_create(tenant=member.tenant, name="Xoay khóa", kind="postgresql", dsn=source_dsn)
        with override_settings(DATA_SOURCE_ENCRYPTION_KEYS=[new, old]):
            keys_reset()
            assert data_source_keys_rotate() >= 1
        with override_settings(DATA_SOURCE_ENCRYPTION_KEYS=[new]):
            keys_reset()
            assert dsn_decrypt(raw_source_row(source.pk)[0]) == source_dsn
    finally:
        keys_reset()


# --- The schedule dispatcher ----------------------------------------------------------------------


def due_sources(tenant, count: int, dsn: str, *, due_at: dt.datetime, schedule: str = "*/5 * * * *") -> list[DataSource]:
    sources = [data_source_create(tenant=tenant, name=f"Nguồn {i}", kind="postgresql", dsn=dsn, schedule=schedule) for i in range(count)]
    DataSource.objects.using("write").filter(pk__in=[s.pk for s in sources]).update(next_run_at=due_at)
    return sources


def started_sources(scan_ids) -> list[DataSource]:
    scans = DataScan.objects.using("write").filter(pk__in=scan_ids).select_related("data_source")
    order = {str(scan_id): position for position, scan_id in enumerate(scan_ids)}
    return [scan.data_source for scan in sorted(scans, key=lambda scan: order[str(scan.pk)])]


def test_dispatch_is_fair_across_tenants(source_dsn):
    busy = member_of_new_tenant("Công ty Nhiều Nguồn", f"nhieu{uuid.uuid4().hex[:8]}").tenant
    small = member_of_new_tenant("Công ty Ít Nguồn", f"it{uuid.uuid4().hex[:8]}").tenant
    now = timezone.now()
    # The busy tenant's sources have all been due for longer: oldest-first alone would start only them.
    due_sources(busy, 8, source_dsn, due_at=now - dt.timedelta(hours=2))
    due_sources(small, 2, source_dsn, due_at=now - dt.timedelta(minutes=1))
    first = started_sources(data_sources_dispatch_due(now=now, limit=4))
    assert [source.tenant_id for source in first] == [busy.pk, small.pk, busy.pk, small.pk]
    rest = data_sources_dispatch_due(now=now, limit=100)
    assert len(rest) == 6 and data_sources_dispatch_due(now=now, limit=100) == []


def test_a_run_missed_for_hours_runs_once_and_the_schedule_resumes(member, source_dsn):
    now = timezone.now()
    (source,) = due_sources(member.tenant, 1, source_dsn, due_at=now - dt.timedelta(hours=6), schedule="*/5 * * * *")
    assert len(data_sources_dispatch_due(now=now)) == 1
    source.refresh_from_db(using="write")
    assert source.next_run_at == schedule_next("*/5 * * * *", now) and source.next_run_at > now
    assert data_sources_dispatch_due(now=now) == []
    assert DataScan.objects.using("write").filter(data_source=source).count() == 1


def test_two_dispatchers_at_once_never_start_a_source_twice(source_dsn):
    tenants = [member_of_new_tenant(f"Công ty Song Song {i}", f"song{i}{uuid.uuid4().hex[:6]}").tenant for i in range(3)]
    now = timezone.now()
    sources = [s for tenant in tenants for s in due_sources(tenant, 10, source_dsn, due_at=now - dt.timedelta(minutes=3))]
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def dispatch() -> None:
        barrier.wait()
        try:
            results.append(data_sources_dispatch_due(now=now, limit=8))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [scan_id for result in results for scan_id in result]
    per_source = [source.pk for source in started_sources(started)]
    assert len(per_source) == len(set(per_source)), "a source was started twice"
    assert 8 <= len(started) <= 30
    remaining = len(sources) - len(started)
    while remaining:
        more = data_sources_dispatch_due(now=now, limit=8)
        assert more, "due sources left undispatched"
        remaining -= len(more)
    assert DataScan.objects.using("write").filter(data_source__in=sources).count() == len(sources)
