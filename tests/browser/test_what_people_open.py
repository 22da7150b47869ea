"""What a person opens in a browser, against the service as production runs it (gunicorn, DEBUG off).

The defects these pin down: every `/static/...` answered 404 (no one served the collected files),
so the admin had no stylesheet and no JavaScript ("select all" did nothing); `/api/docs/` loaded
Swagger UI from a public CDN, so offline it stayed blank; `/` and `/health/` were 404.
Each test that opens a browser saves screenshots under `test-output/browser/`.
"""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth import get_user_model

from inventory.models import DataScan, ScanStatus
from inventory.scan_services import data_scan_submit
from inventory.services import tenant_create
from inventory.tests.scan_support import activities
from inventory.validation import activities_validate
from tests.browser.conftest import Visit
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.messages import render
from verisyntra.tests.test_pages import FRONT_PAGE_LINKS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

STAFF_PASSWORD = "Mật-khẩu-thử-nghiệm-2026"
# The admin's header colour (django/contrib/admin/static/admin/css/base.css: --header-bg is
# --secondary, #417690). Unstyled, the header is transparent.
ADMIN_HEADER_BACKGROUND = "rgb(65, 118, 144)"


@pytest.fixture
def staff() -> str:
    get_user_model().objects.create_superuser("opsadmin", "ops@example.com", STAFF_PASSWORD)
    return "opsadmin"


@pytest.fixture
def scans() -> list[str]:
    """Three scans of one tenant: completed, failed and pending (nothing runs them: no worker here)."""
    tenant, _, _ = tenant_create(name="Công ty Trình Duyệt", username="trinhduyet")
    ids = [str(data_scan_submit(tenant=tenant, rows=activities_validate(activities(3)).rows).pk) for _ in range(3)]
    DataScan.objects.using(WRITE_ALIAS).filter(pk=ids[0]).update(status=ScanStatus.COMPLETED, records_processed=3, progress_percent=100)
    DataScan.objects.using(WRITE_ALIAS).filter(pk=ids[1]).update(
        status=ScanStatus.FAILED, error="Records 0-2 could not be written", error_vi="Không ghi được các bản ghi 0-2"
    )
    return ids


def sign_in(visit: Visit, username: str) -> None:
    page = visit.page
    page.goto("/admin/")
    page.wait_for_url("**/admin/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def computed(visit: Visit, selector: str, prop: str) -> str:
    return visit.page.eval_on_selector(selector, f"element => getComputedStyle(element).{prop}")


def assert_nothing_left_the_service(visit: Visit) -> None:
    assert visit.foreign_requests() == []
    assert visit.failed == []
    assert visit.csp_violations() == []


def test_static_files_are_served_with_debug_off(web):
    css = httpx.get(f"{web.base_url}/static/admin/css/base.css", timeout=10)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--header-bg" in css.text
    bundle = httpx.get(f"{web.base_url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    # Compressed copies (collectstatic made them) go to clients that take them.
    gzipped = httpx.get(f"{web.base_url}/static/admin/js/actions.js", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert gzipped.status_code == 200 and gzipped.headers.get("content-encoding") == "gzip"
    assert httpx.get(f"{web.base_url}/static/admin/css/no-such-file.css", timeout=10).status_code == 404


def test_staff_sign_in_to_a_styled_admin(staff, visit):
    page = visit.page
    page.goto("/admin/")
    page.wait_for_url("**/admin/login/**")
    # The stylesheet applied: the header has the admin's colour and layout, not the browser's defaults.
    assert computed(visit, "#header", "backgroundColor") == ADMIN_HEADER_BACKGROUND
    assert computed(visit, "#header", "display") == "flex"
    visit.screenshot("login")
    page.fill("#id_username", staff)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")
    assert computed(visit, "#header", "backgroundColor") == ADMIN_HEADER_BACKGROUND
    visit.screenshot("index")
    assert_nothing_left_the_service(visit)


def test_staff_select_all_scans_in_the_list_and_open_a_scans_page(staff, scans, visit):
    page = visit.page
    sign_in(visit, staff)
    page.goto("/admin/inventory/datascan/")
    rows = page.locator("#result_list tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3
    assert computed(visit, "#result_list", "borderCollapse") == "collapse"
    # "Select all" is the admin's JavaScript (admin/js/actions.js): without it nothing gets checked,
    # and an action then fails with "Items must be selected".
    page.click("#action-toggle")
    page.wait_for_function("document.querySelectorAll('input.action-select:checked').length === 3")
    assert page.locator(".action-counter").inner_text().startswith("3 of 3")
    visit.screenshot("scan-list")

    failed = scans[1]
    page.click(f"#result_list a[href*='{failed}']")
    page.wait_for_url(f"**/admin/inventory/datascan/{failed}/change/")
    content = page.locator("#content").inner_text()
    assert failed in content and "Không ghi được các bản ghi 0-2" in content
    assert computed(visit, "#header", "backgroundColor") == ADMIN_HEADER_BACKGROUND
    visit.screenshot("scan-page")
    assert_nothing_left_the_service(visit)


def test_api_docs_render_every_operation_from_this_service_alone(visit):
    page = visit.page
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = {text.replace("\u200b", "") for text in operations.all_inner_texts()}
    assert {"/batch/processing-activities", "/data-scans", "/analytics/compliance-summary", "/health/connection-pools"} <= paths
    visit.screenshot("operations")
    # One operation opened, as a reader would, with its parameters and responses.
    page.locator(".opblock-post .opblock-summary-path[data-path='/data-scans']").click()
    page.locator(".opblock.is-open .responses-wrapper").first.wait_for()
    visit.screenshot("operation-open")
    assert_nothing_left_the_service(visit)


def test_front_page_says_what_the_service_is_and_where_everything_is(visit):
    page = visit.page
    response = page.goto("/")
    assert response.status == 200
    title = render("front.title")
    assert page.locator("h1").inner_text() == title.en
    assert title.vi in page.locator("header").inner_text()
    assert render("front.intro").vi in page.locator("main").inner_text()
    hrefs = set(page.eval_on_selector_all("main a", "links => links.map(a => a.getAttribute('href'))"))
    assert hrefs == FRONT_PAGE_LINKS
    # The page's own stylesheet (verisyntra/static/verisyntra/front.css) applied.
    assert computed(visit, "h1", "color") == "rgb(11, 83, 148)"
    visit.screenshot("front")
    assert_nothing_left_the_service(visit)
    # Its links lead somewhere: the API docs, rendered.
    page.click("a[href='/api/docs/']")
    page.locator(".opblock-summary-path").first.wait_for()
