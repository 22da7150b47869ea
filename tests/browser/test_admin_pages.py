"""The admin as an operator uses it, in Chromium against gunicorn with DEBUG off.

A failed scan is retried and then cancelled with the buttons on its page (before, its page had no
button: only the list's action), and the pool dashboard's figures are watched changing, without
reloading the page, while a small load runs. Each test saves screenshots under
`test-output/browser/`; the committed ones are in docs/screenshots/.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from inventory.models import DataScan, ScanStatus
from inventory.scan_services import data_scan_submit
from inventory.services import tenant_create
from inventory.tests.scan_support import activities
from inventory.validation import activities_validate
from tests.browser.conftest import Visit
from tests.browser.test_what_people_open import ADMIN_HEADER_BACKGROUND, STAFF_PASSWORD, assert_nothing_left_the_service, computed, sign_in
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@pytest.fixture
def operator() -> str:
    get_user_model().objects.create_superuser("operator", "operator@example.com", STAFF_PASSWORD)
    return "operator"


@pytest.fixture
def failed_scan() -> str:
    """A failed scan of three records, with its error, as a worker leaves it (no worker runs here)."""
    tenant, _, _ = tenant_create(name="Công ty Nút Bấm", username="nutbam")
    scan = data_scan_submit(tenant=tenant, rows=activities_validate(activities(3)).rows)
    DataScan.objects.using(WRITE_ALIAS).filter(pk=scan.pk).update(
        status=ScanStatus.FAILED,
        error="Record 1 could not be written: value too long for type character varying(16)",
        error_vi="Không thể ghi bản ghi 1 vào cơ sở dữ liệu: value too long for type character varying(16)",
    )
    return str(scan.pk)


def scan_status(scan_id: str) -> str:
    """The scan's status in the database, read from another thread: Django refuses ORM calls from
    this one while Playwright's synchronous API runs its event loop here."""

    def read() -> str:
        try:
            return DataScan.objects.using(WRITE_ALIAS).get(pk=scan_id).status
        finally:
            connections[WRITE_ALIAS].close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(read).result()


def test_staff_retry_then_cancel_a_scan_with_the_buttons_on_its_page(operator, failed_scan, visit: Visit):
    page = visit.page
    sign_in(visit, operator)
    page.goto("/admin/inventory/datascan/")
    page.click(f"#result_list a[href*='{failed_scan}']")
    page.wait_for_url(f"**/admin/inventory/datascan/{failed_scan}/change/")
    content = page.locator("#content").inner_text()
    assert "Failed / Thất bại" in content and "Record 1 could not be written" in content
    assert page.locator("#scan-cancel").count() == 0
    retry = page.locator("#scan-retry")
    assert retry.inner_text().upper() == "RETRY THIS SCAN / CHẠY LẠI LẦN QUÉT NÀY"
    # Styled like the admin's own object tools (inventory/static/inventory/admin.css), not a bare button.
    assert computed(visit, "#scan-retry", "borderRadius") == "15px"
    visit.screenshot("failed-scan")

    retry.click()
    page.wait_for_url(f"**/admin/inventory/datascan/{failed_scan}/change/")
    assert "The scan is queued again" in page.locator("ul.messagelist").inner_text()
    assert "Pending / Đang chờ xử lý" in page.locator("#content").inner_text()
    assert scan_status(failed_scan) == ScanStatus.PENDING
    visit.screenshot("retried")

    page.click("#scan-cancel")
    page.wait_for_url(f"**/admin/inventory/datascan/{failed_scan}/change/")
    assert "The scan is cancelled" in page.locator("ul.messagelist").inner_text()
    assert "Cancelled / Đã hủy" in page.locator("#content").inner_text()
    assert page.locator("#scan-cancel").count() == 0 and page.locator("#scan-retry").count() == 0
    assert scan_status(failed_scan) == ScanStatus.CANCELLED
    assert computed(visit, "#header", "backgroundColor") == ADMIN_HEADER_BACKGROUND
    visit.screenshot("cancelled")

    # The scan's tenant: its page leads to its activities, scans and members.
    page.click("#content a[href*='/admin/inventory/tenant/']")
    page.wait_for_url("**/admin/inventory/tenant/*/change/")
    links = page.locator("#content a[href*='tenant__id__exact']").all_inner_texts()
    assert links == [
        "0 processing activities / 0 hoạt động xử lý dữ liệu cá nhân",
        "1 data scan / 1 lần quét dữ liệu",
        "1 member / 1 thành viên",
    ]
    assert page.locator("a.deletelink").count() == 0, "deleting a tenant is not offered"
    visit.screenshot("tenant")
    assert_nothing_left_the_service(visit)


def figure(visit: Visit, key: str) -> str:
    return visit.page.locator(f'[data-value="{key}"]').first.inner_text()


def test_the_pool_dashboard_figures_change_under_a_small_load(operator, visit: Visit, web):
    page = visit.page
    sign_in(visit, operator)
    visit.screenshot("index")
    page.click("#module-operations a")
    page.wait_for_url("**/admin/connection-pools/")
    assert page.locator("h1").inner_text() == "Connection pools / Nhóm kết nối"
    # The script has refreshed the page once (a file: no inline script may run under the CSP).
    page.wait_for_function("() => document.getElementById('last-refresh').textContent !== '-'")
    assert figure(visit, "status") == "Healthy / Khỏe mạnh"
    checkouts_before = int(figure(visit, "read.checkouts"))
    visit.screenshot("idle")

    # A small load: 4 clients probing the database through both pools (each probe checks out).
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=web.base_url, timeout=10) as http:
            while not stop.is_set():
                http.get("/health/ready")

    clients = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for thread in clients:
        thread.start()
    try:
        # Figures change on the open page, without a reload: the checkout count and its chart.
        page.wait_for_function(
            "([before]) => Number(document.querySelector('[data-value=\"read.checkouts\"]').textContent) >= before + 20",
            arg=[checkouts_before],
        )
        page.wait_for_function(
            "() => Number(document.querySelector('[data-series=\"read.checkouts\"] .latest').textContent) > 0",
        )
        # A few refreshes under load, so the charts draw a line (and the screenshot shows one).
        page.wait_for_function(
            "() => document.querySelector('[data-series=\"read.checkouts\"] polyline').getAttribute('points').split(' ').length >= 5"
        )
        assert figure(visit, "read.wait_p95").endswith("mili giây")
        visit.screenshot("under-load")
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
    # The verdict on the page is the endpoint's.
    # Asked with the signed-in operator's session (the endpoint answers staff only), as the page itself does.
    endpoint = page.request.get(f"{web.base_url}/health/connection-pools").json()
    page.wait_for_timeout(3500)  # one more refresh
    assert figure(visit, "status").startswith(endpoint["status"].capitalize())
    assert_nothing_left_the_service(visit)
