"""The data-scan API, the beat sweep's choices and locks, and the admin, without a worker.

What a worker does with a scan is in test_data_scan_worker.py; here nothing consumes the broker,
so a scan stays as the API or the sweep left it.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg2
import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from inventory.models import DataScan, DataScanChunk, ScanStatus
from inventory.scan_services import data_scan_liveness, data_scan_submit, data_scans_sweep
from inventory.tests.scan_support import activities, activity, tenant_client
from inventory.validation import activities_validate
from verisyntra.db.tenant_scope import ALL, scope_sql

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def post_scan(client, tenant_id, records, **extra):
    return client.post("/data-scans", {"tenant_id": str(tenant_id), "activities": records, **extra}, format="json")


def assert_bilingual(response, status_code: int, code: str) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code and body["error"] and body["error_vi"], body
    return body


def broker_queue_length() -> int:
    return redis.Redis.from_url(django_settings.CELERY_BROKER_URL).llen("celery")


# --- submission ----------------------------------------------------------------------------------


def test_submission_stores_every_record_and_answers_202_with_a_status_url(settings):
    settings.DATA_SCAN_CHUNK_SIZE = 40
    tenant, client = tenant_client("Công ty Hòa Bình", "hoabinh")
    response = post_scan(client, tenant.pk, activities(100))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["status_vi"] == "Đang chờ xử lý" and body["records_total"] == 100
    assert body["status_url"].endswith(f"/data-scans/{body['scan_id']}?tenant_id={tenant.pk}")
    assert response["Location"] == body["status_url"]

    scan = DataScan.objects.using("write").get(pk=body["scan_id"])
    assert (scan.tenant_id, scan.status, scan.records_total, scan.records_processed) == (tenant.pk, "pending", 100, 0)
    assert scan.dispatched_at is not None, "the broker accepted the task after the commit"
    chunks = list(DataScanChunk.objects.using("write").filter(data_scan=scan).order_by("chunk_index"))
    assert [(c.first_record_index, c.record_count) for c in chunks] == [(0, 40), (40, 40), (80, 20)]
    stored = [record for chunk in chunks for record in chunk.records]
    assert stored == activities_validate(activities(100)).rows, "the validated, normalised records, in order"
    assert stored[0]["pdpl_category"] == "basic"

    status = client.get(body["status_url"])
    assert status.status_code == 200
    assert status.json()["records_processed"] == 0 and status.json()["progress_percent"] == 0


def test_the_task_is_enqueued_only_after_the_scan_commits():
    tenant, _ = tenant_client("Giao dịch", "giaodich")
    rows = activities_validate(activities(3)).rows
    before = broker_queue_length()
    with pytest.raises(RuntimeError), transaction.atomic(using="write"):
        data_scan_submit(tenant=tenant, rows=rows)
        assert broker_queue_length() == before, "nothing is sent while the transaction is open"
        raise RuntimeError("rolled back")
    assert broker_queue_length() == before, "a rolled-back scan is never enqueued"
    assert not DataScan.objects.using("write").exists()
    data_scan_submit(tenant=tenant, rows=rows)
    assert broker_queue_length() == before + 1


def test_an_invalid_record_rejects_the_whole_scan_with_the_batch_apis_code_and_indexed_bilingual_errors():
    tenant, client = tenant_client("Sai dữ liệu", "saidulieu")
    records = activities(5)
    records[3] = activity(3, pdpl_category="Category 9: Unknown")
    del records[4]["data_fields"]
    body = assert_bilingual(post_scan(client, tenant.pk, records), 400, "invalid_activities")
    assert body["error_vi"] == "2 hoạt động không hợp lệ; không có bản ghi nào được ghi."
    assert body["records_failed"] == 2 and body["errors_total"] == 2
    assert {(e["index"], e["field"]) for e in body["errors"]} == {(3, "pdpl_category"), (4, "data_fields")}
    assert all(e["message"] and e["message_vi"] for e in body["errors"])
    assert not DataScan.objects.using("write").exists() and not DataScanChunk.objects.using("write").exists()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"activities": []}, "empty_batch"),
        ({"activities": "not a list"}, "invalid_body"),
        ({}, "invalid_body"),
    ],
)
def test_a_scan_needs_a_non_empty_activities_list_with_the_batch_apis_codes(payload, code):
    tenant, client = tenant_client("Rỗng", "rong")
    assert_bilingual(client.post("/data-scans", {"tenant_id": str(tenant.pk), **payload}, format="json"), 400, code)


def test_more_records_than_the_configured_maximum_is_a_400_naming_the_limit(settings):
    settings.DATA_SCAN_MAX_RECORDS = 10
    tenant, client = tenant_client("Quá nhiều", "quanhieu")
    body = assert_bilingual(post_scan(client, tenant.pk, activities(11)), 400, "batch_too_large")
    assert body["max_items"] == 10 and "10" in body["error"]
    assert post_scan(client, tenant.pk, activities(10)).status_code == 202


def test_scan_bodies_have_their_own_size_limit_not_the_site_wide_one(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000  # smaller than the body below
    settings.DATA_SCAN_MAX_BODY_BYTES = 20_000
    tenant, client = tenant_client("Giới hạn", "gioihan")
    assert post_scan(client, tenant.pk, activities(20)).status_code == 202
    body = assert_bilingual(post_scan(client, tenant.pk, activities(200)), 413, "request_too_large")
    assert body["max_bytes"] == 20_000


@pytest.mark.parametrize("body", [b'{"tenant_id": "TENANT", "activities": [', b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
def test_malformed_json_is_a_bilingual_400(body):
    tenant, client = tenant_client("JSON hỏng", "jsonhong")
    # The tenant is checked as soon as it is read, before the activities: name the member's own.
    body = body.replace(b"TENANT", str(tenant.pk).encode())
    response = client.post("/data-scans", data=body, content_type="application/json")
    assert_bilingual(response, 400, "malformed_json")


# --- tenant isolation ----------------------------------------------------------------------------


def test_another_tenants_scans_are_never_visible_or_writable():
    tenant_a, client_a = tenant_client("Công ty A", "user-a")
    tenant_b, client_b = tenant_client("Công ty B", "user-b")
    scan_id = post_scan(client_a, tenant_a.pk, activities(3)).json()["scan_id"]

    # B names its own tenant: A's scan does not exist there.
    assert_bilingual(client_b.get(f"/data-scans/{scan_id}", {"tenant_id": str(tenant_b.pk)}), 404, "data_scan_not_found")
    # B names A's tenant: not a member, the same 403 as for a tenant that does not exist.
    assert_bilingual(client_b.get(f"/data-scans/{scan_id}", {"tenant_id": str(tenant_a.pk)}), 403, "tenant_access_denied")
    assert_bilingual(client_b.get("/data-scans", {"tenant_id": str(tenant_a.pk)}), 403, "tenant_access_denied")
    assert client_b.get("/data-scans", {"tenant_id": str(tenant_b.pk)}).json()["scans"] == []
    # B cannot submit into A's tenant either.
    assert_bilingual(post_scan(client_b, tenant_a.pk, activities(2)), 403, "tenant_access_denied")
    assert DataScan.objects.using("write").count() == 1
    # A sees its own scan in both places.
    assert client_a.get(f"/data-scans/{scan_id}", {"tenant_id": str(tenant_a.pk)}).status_code == 200
    assert [s["scan_id"] for s in client_a.get("/data-scans", {"tenant_id": str(tenant_a.pk)}).json()["scans"]] == [scan_id]


def test_scan_endpoints_require_authentication_and_a_tenant_id():
    tenant, client = tenant_client("Xác thực", "xacthuc")
    assert_bilingual(Client().get("/data-scans", {"tenant_id": str(tenant.pk)}), 401, "not_authenticated")
    assert_bilingual(client.get("/data-scans"), 400, "tenant_id_required")
    assert_bilingual(post_scan(client, "not-a-uuid", activities(1)), 400, "invalid_tenant_id")


def test_list_is_newest_first_filters_by_status_and_shows_errors_only_for_failed_scans():
    tenant, client = tenant_client("Danh sách", "danhsach")
    ids = [post_scan(client, tenant.pk, activities(2)).json()["scan_id"] for _ in range(3)]
    DataScan.objects.using("write").filter(pk=ids[0]).update(
        status=ScanStatus.FAILED, error="Records 0-1 could not be written", error_vi="Không thể ghi các bản ghi từ 0 đến 1"
    )
    listed = client.get("/data-scans", {"tenant_id": str(tenant.pk)}).json()["scans"]
    assert [s["scan_id"] for s in listed] == ids[::-1]
    failed = client.get("/data-scans", {"tenant_id": str(tenant.pk), "status": "failed"}).json()["scans"]
    assert [s["scan_id"] for s in failed] == [ids[0]]
    assert failed[0]["status_vi"] == "Thất bại" and failed[0]["error_vi"] == "Không thể ghi các bản ghi từ 0 đến 1"
    assert all("error" not in s for s in listed if s["status"] != "failed")
    assert_bilingual(client.get("/data-scans", {"tenant_id": str(tenant.pk), "status": "done"}), 400, "invalid_parameter")


# --- the beat sweep ------------------------------------------------------------------------------


def make_scan(tenant, *, status, age_seconds, dispatched=True) -> str:
    scan = data_scan_submit(tenant=tenant, rows=activities_validate(activities(2)).rows)
    then = timezone.now() - timedelta(seconds=age_seconds)
    DataScan.objects.using("write").filter(pk=scan.pk).update(status=status, updated_at=then, dispatched_at=then if dispatched else None)
    return str(scan.pk)


def test_sweep_dispatches_lost_queued_too_long_and_orphaned_scans_only(settings):
    settings.DATA_SCAN_DISPATCH_GRACE_SECONDS = 30
    settings.DATA_SCAN_STALL_SECONDS = 600
    settings.DATA_SCAN_ORPHAN_GRACE_SECONDS = 5
    tenant, _ = tenant_client("Quét định kỳ", "quetdinhky")
    never_dispatched = make_scan(tenant, status="pending", age_seconds=60, dispatched=False)
    just_submitted = make_scan(tenant, status="pending", age_seconds=5, dispatched=False)
    queued_long_ago = make_scan(tenant, status="pending", age_seconds=900)
    queued_recently = make_scan(tenant, status="pending", age_seconds=60)
    orphaned = make_scan(tenant, status="processing", age_seconds=60)
    # No progress for 15 minutes, but its run holds the liveness lock: slow, not dead.
    slow_but_alive = make_scan(tenant, status="processing", age_seconds=900)
    between_retries = make_scan(tenant, status="processing", age_seconds=1)
    make_scan(tenant, status="completed", age_seconds=9_000)
    make_scan(tenant, status="failed", age_seconds=9_000)
    make_scan(tenant, status="cancelled", age_seconds=9_000)

    queued_before = broker_queue_length()
    with data_scan_liveness(scan_id=slow_but_alive):
        swept = data_scans_sweep()
    assert set(swept) == {never_dispatched, queued_long_ago, orphaned}
    assert broker_queue_length() == queued_before + 3
    assert just_submitted not in swept and queued_recently not in swept and between_retries not in swept
    # Once its run ends, the slow scan is an orphan too.
    assert data_scans_sweep() == [slow_but_alive]
    # Claimed: the next sweep, right after, finds nothing to do.
    assert data_scans_sweep() == []
    assert DataScan.objects.using("write").get(pk=never_dispatched).dispatched_at is not None


def test_two_sweeps_at_once_never_dispatch_the_same_scan(settings):
    """What two beat instances would do: one holds the due scans locked, the other skips them."""
    settings.DATA_SCAN_STALL_SECONDS = 600
    tenant, _ = tenant_client("Hai beat", "haibeat")
    held = make_scan(tenant, status="processing", age_seconds=900)
    free = make_scan(tenant, status="processing", age_seconds=900)
    db = django_settings.DATABASES["write"]
    other = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    try:
        with other.cursor() as cursor:  # another sweep, mid-transaction, holding `held`
            cursor.execute(scope_sql(ALL))  # a sweep acts for all tenants (row-level security)
            cursor.execute("SELECT 1 FROM inventory_datascan WHERE scan_id = %s FOR UPDATE", [held])
        swept_while_held = data_scans_sweep()
    finally:
        other.rollback()
        other.close()
    assert swept_while_held == [free]
    assert data_scans_sweep() == [held], "once released, the scan is due again"


def test_concurrent_sweeps_split_the_due_scans_between_them(settings):
    settings.DATA_SCAN_STALL_SECONDS = 600
    tenant, _ = tenant_client("Song song", "songsong")
    due = {make_scan(tenant, status="processing", age_seconds=900) for _ in range(12)}
    results: list[list[str]] = []
    barrier = threading.Barrier(4)

    def sweep():
        from django.db import connections

        barrier.wait()
        try:
            results.append(data_scans_sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    dispatched = [scan_id for result in results for scan_id in result]
    assert sorted(dispatched) == sorted(due), "each due scan exactly once over all sweeps"


# --- admin ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client():
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", None)  # no hashing: force_login
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_scans_with_both_languages_and_a_progress_bar_through_the_read_pool(admin_client, query_log):
    tenant, client = tenant_client("Quản trị", "quantri")
    scan_id = post_scan(client, tenant.pk, activities(4)).json()["scan_id"]
    DataScan.objects.using("write").filter(pk=scan_id).update(status="processing", records_processed=1, progress_percent=25)
    query_log.clear()
    page = admin_client.get("/admin/inventory/datascan/")
    assert page.status_code == 200
    html = page.content.decode()
    assert scan_id in html
    assert "Processing / Đang xử lý" in html
    assert '<progress value="25" max="100"' in html and "1 / 4" in html
    scan_queries = [alias for alias, _, sql in query_log.entries if "inventory_datascan" in sql]
    assert scan_queries and set(scan_queries) == {"read"}, query_log.entries

    # Search by the whole id and by a fragment; filter by status.
    assert scan_id in admin_client.get("/admin/inventory/datascan/", {"q": scan_id}).content.decode()
    assert scan_id in admin_client.get("/admin/inventory/datascan/", {"q": scan_id[:8]}).content.decode()
    assert scan_id not in admin_client.get("/admin/inventory/datascan/", {"status__exact": "failed"}).content.decode()
    # Read-only: the detail page has no save button, and there is no add page.
    detail = admin_client.get(f"/admin/inventory/datascan/{scan_id}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert admin_client.get("/admin/inventory/datascan/add/").status_code == 403


def test_admin_action_retries_failed_scans_only(admin_client):
    tenant, client = tenant_client("Chạy lại", "chaylai")
    failed_id, completed_id = (post_scan(client, tenant.pk, activities(2)).json()["scan_id"] for _ in range(2))
    DataScan.objects.using("write").filter(pk=failed_id).update(status="failed", error="boom", error_vi="lỗi")
    DataScan.objects.using("write").filter(pk=completed_id).update(status="completed")
    queued_before = broker_queue_length()
    response = admin_client.post(
        "/admin/inventory/datascan/",
        {"action": "retry_failed_scans", "_selected_action": [failed_id, completed_id]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 scan queued again." in response.content.decode()
    failed = DataScan.objects.using("write").get(pk=failed_id)
    assert (failed.status, failed.error, failed.error_vi) == ("pending", "", "")
    assert DataScan.objects.using("write").get(pk=completed_id).status == "completed"
    assert broker_queue_length() == queued_before + 1


def test_admin_pages_for_tenants_and_processing_activities_render(admin_client):
    tenant_client("Hiển thị", "hienthi")
    assert admin_client.get("/admin/inventory/tenant/").status_code == 200
    assert admin_client.get("/admin/inventory/processingactivity/").status_code == 200


# --- beat's schedule and the result cleanup ------------------------------------------------------


def test_beat_schedules_the_sweep_and_the_result_cleanup():
    import inventory.tasks  # noqa: F401 - a worker imports it at start-up (autodiscovery)
    from verisyntra.celery import app as celery_app

    schedule = celery_app.conf.beat_schedule
    assert schedule["sweep-data-scans"]["task"] == "inventory.sweep_data_scans"
    assert schedule["sweep-data-scans"]["schedule"] == float(django_settings.DATA_SCAN_SWEEP_SECONDS)
    assert schedule["celery.backend_cleanup"]["task"] == "celery.backend_cleanup"
    assert {"inventory.sweep_data_scans", "inventory.process_data_scan"} <= set(celery_app.tasks)


def test_result_cleanup_deletes_only_expired_results_in_postgresql():
    from django_celery_results.models import TaskResult

    from verisyntra.celery import app as celery_app

    TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.create(task_id="new", status="SUCCESS")
    # date_done is auto_now: age the old one with an update; CELERY_RESULT_EXPIRES is one day.
    TaskResult.objects.filter(task_id="old").update(date_done=timezone.now() - timedelta(days=2))
    celery_app.tasks["celery.backend_cleanup"]()
    assert list(TaskResult.objects.using("write").values_list("task_id", flat=True)) == ["new"]
