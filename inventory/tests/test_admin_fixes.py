"""The admin's defects an operator met, each pinned by a test that failed before its fix.

A failed scan's page had no Retry button (only the list action) and a running one no Cancel; the
error named a chunk ("Records 0-2 could not be written") instead of the record the database
refused; a retried scan kept its old `started_at`, so its duration counted the time it sat
failed; times showed in TIME_ZONE (Asia/Ho_Chi_Minh) without a label while the API gives UTC;
a tenant's page did not lead to its activities, scans or members; deleting a tenant offered a
confirmation page that took seconds on a large tenant and then refused.
Nothing consumes the broker here: a retried scan stays `pending`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from inventory.models import DataScan, ScanStatus, TenantMembership
from inventory.scan_services import DataScanFailed, data_scan_process, data_scan_start, data_scan_store, data_scans_retry
from inventory.services import tenant_create
from inventory.tests.scan_support import activities, scan_row, tenant_client
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def admin_client() -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", None)  # no hashing: force_login
    client = Client()
    client.force_login(user)
    return client


def stored_scan(name: str, username: str, records: int = 3, **status) -> DataScan:
    tenant, _, _ = tenant_create(name=name, username=username)
    scan = data_scan_store(tenant=tenant, rows=activities_validate(activities(records)).rows)
    if status:
        DataScan.objects.using("write").filter(pk=scan.pk).update(**status)
    return scan_row(scan.pk)


def scan_page(client: Client, scan: DataScan) -> str:
    response = client.get(f"/admin/inventory/datascan/{scan.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


# --- Retry and Cancel on a scan's page -----------------------------------------------------------


def test_a_failed_scans_page_has_a_retry_button_that_queues_it_again(admin_client):
    scan = stored_scan("Nút chạy lại", "nutchaylai", status=ScanStatus.FAILED, error="Record 1 could not be written", error_vi="lỗi")
    html = scan_page(admin_client, scan)
    retry_url = f"/admin/inventory/datascan/{scan.pk}/retry/"
    assert f'action="{retry_url}"' in html and 'id="scan-retry"' in html
    assert "Retry this scan / Chạy lại lần quét này" in html
    assert 'id="scan-cancel"' not in html, "a failed scan has nothing to cancel"

    response = admin_client.post(retry_url, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/inventory/datascan/{scan.pk}/change/"
    assert "The scan is queued again" in response.content.decode()
    retried = scan_row(scan.pk)
    assert (retried.status, retried.error, retried.error_vi) == (ScanStatus.PENDING, "", "")
    assert retried.dispatched_at is not None, "the broker has its task"
    # The page of the pending scan now offers Cancel instead.
    assert 'id="scan-cancel"' in scan_page(admin_client, retried)


def test_a_pending_scans_page_has_a_cancel_button_that_cancels_it(admin_client):
    scan = stored_scan("Nút hủy", "nuthuy")
    html = scan_page(admin_client, scan)
    cancel_url = f"/admin/inventory/datascan/{scan.pk}/cancel/"
    assert f'action="{cancel_url}"' in html and "Cancel this scan / Hủy lần quét này" in html
    assert 'id="scan-retry"' not in html

    response = admin_client.post(cancel_url, follow=True)
    assert "The scan is cancelled" in response.content.decode()
    cancelled = scan_row(scan.pk)
    assert cancelled.status == ScanStatus.CANCELLED and cancelled.completed_at is not None
    html = scan_page(admin_client, cancelled)
    assert "Cancelled / Đã hủy" in html
    assert 'id="scan-cancel"' not in html and 'id="scan-retry"' not in html


def test_the_buttons_refuse_a_scan_in_the_wrong_state_a_get_and_a_user_without_the_permission(admin_client):
    completed = stored_scan("Đã xong", "daxong", status=ScanStatus.COMPLETED, records_processed=3, progress_percent=100)
    html = scan_page(admin_client, completed)
    assert 'id="scan-retry"' not in html and 'id="scan-cancel"' not in html
    base = f"/admin/inventory/datascan/{completed.pk}"
    response = admin_client.post(f"{base}/retry/", follow=True)
    assert "Only a failed scan can be retried; this one is completed." in response.content.decode()
    response = admin_client.post(f"{base}/cancel/", follow=True)
    assert "only a pending or processing scan can be cancelled" in response.content.decode()
    assert scan_row(completed.pk).status == ScanStatus.COMPLETED
    # A button's view changes state: never on a GET (a link, a prefetch).
    assert admin_client.get(f"{base}/retry/").status_code == 405
    assert admin_client.post("/admin/inventory/datascan/not-a-uuid/retry/").status_code == 404

    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_datascan"))
    client = Client()
    client.force_login(viewer)
    failed = stored_scan("Chỉ xem", "chixem", status=ScanStatus.FAILED, error="x", error_vi="x")
    assert 'id="scan-retry"' not in scan_page(client, failed)
    assert client.post(f"/admin/inventory/datascan/{failed.pk}/retry/").status_code == 403
    assert scan_row(failed.pk).status == ScanStatus.FAILED


# --- The failing record, and a retry's duration ---------------------------------------------------


def test_a_record_the_database_refuses_is_named_not_its_chunk(settings):
    tenant, _, _ = tenant_create(name="Bản ghi lỗi", username="banghiloi")
    rows = activities_validate(activities(300)).rows
    # Stored as if an older release had accepted it: 40 characters in pdpl_category, a varchar(16).
    rows[150] = {**rows[150], "pdpl_category": "x" * 40}
    scan = data_scan_store(tenant=tenant, rows=rows, chunk_size=100)
    with pytest.raises(DataScanFailed) as failure:
        data_scan_process(scan_id=scan.pk)
    assert failure.value.error == "Record 150 could not be written: value too long for type character varying(16)"
    assert failure.value.error_vi == "Không thể ghi bản ghi 150 vào cơ sở dữ liệu: value too long for type character varying(16)"
    assert scan_row(scan.pk).records_processed == 100, "the chunk before stays written; the refused chunk wrote nothing"


def test_a_record_refused_at_a_chunks_first_or_last_position_is_named_too():
    tenant, _, _ = tenant_create(name="Biên", username="bien")
    for position in (100, 199):
        rows = activities_validate(activities(200)).rows
        rows[position] = {**rows[position], "retention_months": -1}  # the column's CHECK (>= 0) refuses it
        scan = data_scan_store(tenant=tenant, rows=rows, chunk_size=100)
        with pytest.raises(DataScanFailed) as failure:
            data_scan_process(scan_id=scan.pk)
        assert failure.value.error.startswith(f"Record {position} could not be written: ")
        assert "check constraint" in failure.value.error


def test_a_retried_scan_starts_again_so_its_duration_counts_only_the_new_run():
    an_hour_ago = timezone.now() - timedelta(hours=1)
    scan = stored_scan("Thời lượng", "thoiluong", status=ScanStatus.FAILED, started_at=an_hour_ago, error="x", error_vi="x")
    assert data_scans_retry(scan_ids=[scan.pk]) == 1
    assert scan_row(scan.pk).started_at is None
    before_run = timezone.now()
    data_scan_start(scan_id=scan.pk)
    restarted = scan_row(scan.pk)
    assert restarted.started_at >= before_run, "the retry's run starts now, not when the failed run started"


# --- Times in UTC, labelled, as the API gives them -------------------------------------------------


def test_times_show_in_utc_with_their_label_and_match_the_api(admin_client, settings):
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh", "the case that misled: the project's zone is not UTC"
    tenant, api = tenant_client("Múi giờ", "muigio")
    started = datetime(2026, 12, 1, 23, 30, 5, tzinfo=UTC)  # 06:30:05 the next day in Ho Chi Minh City
    scan = data_scan_store(tenant=tenant, rows=activities_validate(activities(2)).rows)
    DataScan.objects.using("write").filter(pk=scan.pk).update(started_at=started, status=ScanStatus.PROCESSING)
    html = scan_page(admin_client, scan)
    assert "Started (UTC) / bắt đầu lúc (UTC)" in html
    assert "2026-12-01 23:30:05 UTC" in html
    assert "06:30" not in html and "6:30" not in html
    body = api.get(f"/data-scans/{scan.pk}", {"tenant_id": str(tenant.pk)}).json()
    assert body["started_at"].startswith("2026-12-01T23:30:05")
    created_api = datetime.fromisoformat(body["created_at"]).astimezone(UTC)
    assert created_api.strftime("%Y-%m-%d %H:%M:%S UTC") in html
    listing = admin_client.get("/admin/inventory/datascan/").content.decode()
    assert "Created (UTC) / tạo lúc (UTC)" in listing
    assert created_api.strftime("%Y-%m-%d %H:%M:%S UTC") in listing


# --- Tenants: links to their records, and no deletion offered ----------------------------------------


def test_a_tenants_page_links_to_its_activities_scans_and_members(admin_client):
    tenant, api = tenant_client("Liên kết", "lienket")
    other, other_api = tenant_client("Tổ chức khác", "tochuckhac")
    for owner, client in ((tenant, api), (other, other_api)):
        response = client.post(
            f"/batch/processing-activities?tenant_id={owner.pk}", {"activities": activities(3 if owner == tenant else 1)}, format="json"
        )
        assert response.status_code == 201, response.content
    scan = data_scan_store(tenant=tenant, rows=activities_validate(activities(2)).rows)

    page = admin_client.get(f"/admin/inventory/tenant/{tenant.pk}/change/").content.decode()
    links = dict((text, href.replace("&amp;", "&")) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page))
    activities_url = links["3 processing activities / 3 hoạt động xử lý dữ liệu cá nhân"]
    scans_url = links["1 data scan / 1 lần quét dữ liệu"]
    members_url = links["1 member / 1 thành viên"]
    assert activities_url == f"/admin/inventory/processingactivity/?tenant__id__exact={tenant.pk}"

    activity_list = admin_client.get(activities_url)
    assert activity_list.status_code == 200
    assert activity_list.context["cl"].result_count == 3
    scan_list = admin_client.get(scans_url)
    assert scan_list.status_code == 200 and str(scan.pk) in scan_list.content.decode()
    assert scan_list.context["cl"].result_count == 1
    member_list = admin_client.get(members_url)
    assert member_list.status_code == 200
    assert [m.user.username for m in member_list.context["cl"].result_list] == ["lienket"]
    # The tenant list links the same way.
    listing = admin_client.get("/admin/inventory/tenant/").content.decode()
    assert f"/admin/inventory/datascan/?tenant__id__exact={tenant.pk}" in listing


def test_deleting_a_tenant_is_not_offered(admin_client):
    tenant, _ = tenant_client("Không xóa", "khongxoa")
    page = admin_client.get(f"/admin/inventory/tenant/{tenant.pk}/change/").content.decode()
    assert 'class="deletelink"' not in page
    assert admin_client.get(f"/admin/inventory/tenant/{tenant.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/inventory/tenant/{tenant.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = admin_client.get("/admin/inventory/tenant/")
    assert "delete_selected" not in listing.content.decode()
    assert TenantMembership.objects.using("write").filter(tenant=tenant).exists()
