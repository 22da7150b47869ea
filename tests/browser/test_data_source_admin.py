"""The data-source admin pages as an operator uses them, in Chromium against gunicorn with DEBUG off.

A source is added through the admin's form with a PostgreSQL DSN to a database this test builds
(Vietnamese sample customers, and products holding no personal data); its pages never carry the
password; its schedule and next run show; "Scan now" starts a scan with a notice in both languages
and links it as the last result. No worker runs here: the scan is run in this process by the
service the Celery task calls, and the reloaded page then explains each finding in both languages.
Screenshots go under `test-output/browser/`; the committed ones are in docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils.text import capfirst

from inventory.discovery import personal_data_type_label, reason_label
from inventory.models import DataScan, PdplCategory, ProcessingActivity, ScanStatus, pdpl_category_label, scan_status_label
from inventory.scan_services import data_scan_process
from inventory.services import tenant_create
from inventory.source_models import DataSource
from inventory.source_services import discovery_result_summary
from inventory.tests.source_support import pg_source_create, pg_source_drop, pg_source_execute
from tests.browser.conftest import Visit
from tests.browser.test_what_people_open import ADMIN_HEADER_BACKGROUND, STAFF_PASSWORD, assert_nothing_left_the_service, sign_in
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.messages import render

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

SOURCE_DB = "src_p_admin"
SOURCE_NAME = "CRM khách hàng"
SCHEDULE = "0 2 * * *"
# The password of the DSN source_support builds (PostgreSQL here trusts 127.0.0.1, so it is never checked).
PASSWORD = "mat-khau-bi-mat"
# What discovery must find in the customers table, by column: (personal-data type, category).
CUSTOMER_COLUMNS = {
    "ho_ten": "full_name",
    "so_dien_thoai": "phone",
    "email": "email",
    "cccd": "citizen_id",
    "dia_chi": "address",
    "ngay_sinh": "date_of_birth",
}

T = TypeVar("T")


def both(code: str, **params: object) -> str:
    text = render(code, **params)
    return f"{text.en} / {text.vi}"


def in_thread(read: Callable[[], T]) -> T:
    """Run ORM calls on another thread: Django refuses them on this one while Playwright's
    synchronous API runs its event loop here."""

    def run() -> T:
        try:
            return read()
        finally:
            for alias in (READ_ALIAS, WRITE_ALIAS):
                connections[alias].close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


@pytest.fixture
def operator() -> str:
    get_user_model().objects.create_superuser("sourceadmin", "sources@example.com", STAFF_PASSWORD)
    return "sourceadmin"


@pytest.fixture
def tenant_name() -> str:
    tenant, _, _ = tenant_create(name="Công ty Nguồn Dữ Liệu", username="nguondulieu")
    return tenant.name


@pytest.fixture
def source_dsn() -> Iterator[str]:
    """A PostgreSQL source on 127.0.0.1:5432: customers with Vietnamese sample data, and products
    (no personal data); the builder's other tables are dropped to keep the page to one activity."""
    dsn = pg_source_create(SOURCE_DB)
    pg_source_execute(SOURCE_DB, "DROP TABLE medical_records", "DROP TABLE payments", "DROP TABLE t_misc")
    assert PASSWORD in dsn
    yield dsn
    pg_source_drop(SOURCE_DB)


def assert_no_password(visit: Visit) -> None:
    """Neither the rendered text nor the HTML (input values, attributes) carries the password."""
    assert PASSWORD not in visit.page.content()
    assert PASSWORD not in visit.page.locator("body").inner_text()


def field(visit: Visit, name: str) -> str:
    """The text of one read-only field of the change page (`div.field-<name>`)."""
    return visit.page.locator(f"div.field-{name} div.readonly").inner_text().strip()


def test_staff_add_a_source_scan_it_now_and_read_its_findings(operator, tenant_name, source_dsn, visit: Visit):
    page = visit.page
    sign_in(visit, operator)
    page.goto("/admin/inventory/datasource/")
    page.click(".object-tools a.addlink")
    page.wait_for_url("**/admin/inventory/datasource/add/")
    page.select_option("#id_tenant", label=tenant_name)
    page.fill("#id_name", SOURCE_NAME)
    page.select_option("#id_kind", value="postgresql")
    page.fill("#id_dsn", source_dsn)
    page.fill("#id_schedule", SCHEDULE)
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/inventory/datasource/")
    assert page.locator("ul.messagelist li.success").count() == 1

    # The list: one source, its DSN masked, its schedule, never scanned, a next run.
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    source = in_thread(lambda: DataSource.objects.using(WRITE_ALIAS).get(name=SOURCE_NAME))
    assert source.next_run_at is not None and source.last_scan_id is None
    next_run = source.next_run_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    row = rows.first.inner_text()
    assert source.dsn_masked in row and SCHEDULE in row and next_run in row
    assert both("admin.notice.source_never_scanned") in row
    headers = [text.strip().upper() for text in page.locator("#result_list thead th").all_inner_texts()]
    assert both("admin.column.dsn").upper() in headers and both("admin.column.schedule").upper() in headers
    # Every column fits on a 1280-pixel screen: nothing hides behind a horizontal scroll.
    assert page.eval_on_selector("#changelist .results", "element => element.scrollWidth <= element.clientWidth")
    assert_no_password(visit)

    # The change page: the masked DSN, the schedule and the next run; the DSN field stays empty.
    page.click(f"#result_list a[href*='{source.pk}']")
    page.wait_for_url(f"**/admin/inventory/datasource/{source.pk}/change/")
    assert page.locator("#id_dsn").input_value() == ""
    assert field(visit, "connection") == source.dsn_masked and source.dsn_masked == source_dsn.replace(PASSWORD, "***")
    assert page.locator("#id_schedule").input_value() == SCHEDULE
    assert page.locator("label[for=id_schedule]").inner_text() == both("admin.column.schedule") + ":"
    assert page.locator("div.field-connection label").inner_text() == capfirst(both("admin.column.dsn")) + ":"
    assert field(visit, "next_run") == next_run
    assert field(visit, "last_run") == both("admin.notice.source_never_scanned")
    assert_no_password(visit)

    # Scan now: the bilingual notice, and the new pending scan linked as the last result.
    scan_now = page.locator("#source-scan-now")
    assert scan_now.inner_text().upper() == both("admin.action.scan_now").upper()
    scan_now.click()
    page.wait_for_url(f"**/admin/inventory/datasource/{source.pk}/change/")
    page.locator("ul.messagelist li.success").wait_for()
    scan = in_thread(lambda: DataScan.objects.using(WRITE_ALIAS).get(data_source_id=source.pk))
    assert scan.status == ScanStatus.PENDING
    assert page.locator("ul.messagelist").inner_text() == both("admin.notice.source_scan_started", name=SOURCE_NAME, scan_id=scan.pk)
    last_result = page.locator("div.field-last_result div.readonly a")
    assert last_result.get_attribute("href") == f"/admin/inventory/datascan/{scan.pk}/change/"
    pending = scan_status_label(ScanStatus.PENDING)
    assert last_result.inner_text() == f"{pending.en} / {pending.vi}"
    assert field(visit, "last_run").endswith(" UTC")
    assert_no_password(visit)
    visit.screenshot("scan-now")

    # The worker's part, run here: the service the Celery task calls, on the real source.
    status = in_thread(lambda: data_scan_process(scan_id=scan.pk))
    assert status == ScanStatus.COMPLETED
    scan = in_thread(lambda: DataScan.objects.using(WRITE_ALIAS).get(pk=scan.pk))
    activities = in_thread(lambda: list(ProcessingActivity.objects.using(WRITE_ALIAS).filter(data_source_id=source.pk)))
    assert [activity.source_table for activity in activities] == ["customers"], "one activity, none for products"

    page.reload()
    completed = scan_status_label(ScanStatus.COMPLETED)
    summary = discovery_result_summary(scan.discovery_changes)
    assert summary is not None
    assert field(visit, "last_result") == f"{completed.en} / {completed.vi}\n{summary.en} / {summary.vi}"
    # The inline: one activity, basic personal data, each column explained in both languages.
    inline = page.locator("#content .inline-group tbody tr.has_original")  # not the hidden empty form
    assert inline.count() == 1
    basic = pdpl_category_label(PdplCategory.BASIC)
    assert f"{basic.en} / {basic.vi}" in inline.locator("td.field-category").inner_text()
    assert inline.locator("td.field-last_change").inner_text().startswith(both("source.change.added"))
    findings = {}
    for cells in inline.locator("td.field-findings_table tr").all():
        texts = cells.locator("td").all_inner_texts()
        findings[texts[0].split(" ")[0]] = texts
    assert set(findings) == set(CUSTOMER_COLUMNS), sorted(findings)
    by_column = {entry["column"]: entry for entry in activities[0].source_findings}
    for column, pd_type in CUSTOMER_COLUMNS.items():
        entry = by_column[column]
        label, why = personal_data_type_label(pd_type), reason_label(entry["reason"])
        assert entry["personal_data_type"] == pd_type
        assert findings[column][1:5] == [
            f"{label.en} / {label.vi}",
            f"{basic.en} / {basic.vi}",
            f"{why.en} / {why.vi}",
            f"{entry['confidence']:.2f}",
        ]
        assert 0 < entry["confidence"] <= 1
    assert findings["ho_ten"][3] == f"{reason_label('both').en} / {reason_label('both').vi}"
    assert computed_header(visit) == ADMIN_HEADER_BACKGROUND
    assert_no_password(visit)
    visit.screenshot("findings")

    page.goto("/admin/inventory/datasource/")
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert f"{completed.en} / {completed.vi}" in row and summary.en in row
    assert_no_password(visit)
    visit.screenshot("list")
    assert_nothing_left_the_service(visit)


def computed_header(visit: Visit) -> str:
    return visit.page.eval_on_selector("#header", "element => getComputedStyle(element).backgroundColor")
