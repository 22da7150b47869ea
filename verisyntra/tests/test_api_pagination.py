"""One paginator for every list: the same page shape and the same refusal of any cursor it did not issue.

Both lists (`/analytics/processing-activities` and `/data-scans`) page through
`verisyntra.api.pagination.KeysetPaginator`; every tampered or impossible cursor is a bilingual
400 `invalid_cursor` on both, never a 404 or a 500.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest
from django.core import signing

from analytics.views import ACTIVITY_PAGES
from inventory.models import DataScan
from inventory.scan_views import DATA_SCAN_PAGES
from inventory.services import processing_activities_bulk_insert
from inventory.tests.api_support import activities, assert_bilingual_error, member_of_new_tenant
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

ACTIVITIES = "/analytics/processing-activities"
SCANS = "/data-scans"
PAGINATORS = {ACTIVITIES: ACTIVITY_PAGES, SCANS: DATA_SCAN_PAGES}
ROWS = {ACTIVITIES: "activities", SCANS: "scans"}
ENVELOPE = {"tenant_id", "count", "skip", "limit", "next_cursor"}


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Phân Trang", "phantrang")


def seed_activities(member, count: int) -> list[str]:
    return processing_activities_bulk_insert(tenant=member.tenant, rows=activities_validate(activities(count)).rows)


def seed_scans(member, count: int) -> list[str]:
    """Scans newest first, as the list shows them; two share a timestamp so the id breaks the tie."""
    start = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(minutes=i // 2) for i in range(count)]
    scans = [DataScan(tenant=member.tenant, created_at=moment, updated_at=moment) for moment in moments]
    DataScan.objects.using("write").bulk_create(scans)
    return [str(scan.scan_id) for scan in sorted(scans, key=lambda s: (s.created_at, s.scan_id), reverse=True)]


def walk(client, path: str, tenant_id, limit: int) -> tuple[list[str], list[dict]]:
    key = "scan_id" if path == SCANS else "id"
    seen: list[str] = []
    pages: list[dict] = []
    cursor = None
    while True:
        params = {"tenant_id": str(tenant_id), "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params)
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append(page)
        seen += [row[key] for row in page[ROWS[path]]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages


def test_both_lists_page_every_row_exactly_once_in_the_same_page_shape(member):
    client = member.client()
    activity_ids = seed_activities(member, 23)
    scan_ids = seed_scans(member, 11)
    for path, expected, limit in ((ACTIVITIES, activity_ids, 5), (SCANS, scan_ids, 4)):
        seen, pages = walk(client, path, member.tenant.pk, limit)
        assert seen == expected, path
        for page in pages:
            assert set(page) == ENVELOPE | {ROWS[path]}, page.keys()
            assert page["limit"] == limit and page["skip"] == 0 and page["count"] == len(page[ROWS[path]])
        # The last page is not followed by an empty one: next_cursor is null as soon as no row follows.
        assert pages[-1]["count"] > 0


def test_skip_means_the_same_on_both_lists(member):
    client = member.client()
    activity_ids = seed_activities(member, 6)
    scan_ids = seed_scans(member, 6)
    for path, expected in ((ACTIVITIES, activity_ids), (SCANS, scan_ids)):
        page = client.get(path, {"tenant_id": str(member.tenant.pk), "skip": 2, "limit": 3}).json()
        key = "scan_id" if path == SCANS else "id"
        assert [row[key] for row in page[ROWS[path]]] == expected[2:5]
        assert (page["skip"], page["next_cursor"] is not None) == (2, True)


def _signed(path: str, payload) -> str:
    return signing.dumps(payload, salt=PAGINATORS[path].salt)


def tampered_cursors(path: str) -> dict[str, str]:
    """Every kind of cursor a list must refuse, by name."""
    valid = PAGINATORS[path].encode(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC), uuid.uuid4())
    other_list = ACTIVITIES if path == SCANS else SCANS
    some_id = str(uuid.uuid4())
    return {
        "not base64": "%%%not-base64%%%",
        "no signature": base64.urlsafe_b64encode(b'["2026-11-26T08:00:00+00:00","' + some_id.encode() + b'"]').decode(),
        "edited payload": ("X" if valid[0] != "X" else "Y") + valid[1:],
        "edited signature": valid[:-2] + ("AA" if not valid.endswith("AA") else "BB"),
        "the old unsigned form": base64.urlsafe_b64encode(f"2026-11-26T00:00:00+00:00|{some_id}".encode()).decode(),
        "signed garbage": _signed(path, "garbage"),
        "signed object": _signed(path, {"p": "2026-11-26"}),
        "signed list of three": _signed(path, ["2026-11-26T08:00:00+00:00", some_id, "x"]),
        "impossible date 2026-13-45": _signed(path, ["2026-13-45T00:00:00+00:00", some_id]),
        "offset out of range": _signed(path, ["2026-11-26T08:00:00+25:00", some_id]),
        "time without zone": _signed(path, ["2026-11-26T08:00:00", some_id]),
        "year 1 with an eastern offset": _signed(path, ["0001-01-01T00:00:00+14:00", some_id]),
        "year 9999": _signed(path, ["9999-12-31T23:59:59+00:00", some_id]),
        "not a uuid": _signed(path, ["2026-11-26T08:00:00+00:00", "not-a-uuid"]),
        "a number for the id": _signed(path, ["2026-11-26T08:00:00+00:00", 42]),
        "the other list's cursor": PAGINATORS[other_list].encode(dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC), uuid.uuid4()),
    }


@pytest.mark.parametrize("path", [ACTIVITIES, SCANS])
def test_any_tampered_or_impossible_cursor_is_a_bilingual_400_invalid_cursor_on_both_lists(member, path):
    client = member.client()
    seed_activities(member, 3)
    seed_scans(member, 3)
    for name, cursor in tampered_cursors(path).items():
        response = client.get(path, {"tenant_id": str(member.tenant.pk), "cursor": cursor})
        body = assert_bilingual_error(response, 400, "invalid_cursor")
        assert body["error"] != body["error_vi"], name


@pytest.mark.parametrize("path", [ACTIVITIES, SCANS])
def test_a_cursor_with_skip_is_a_400_naming_skip(member, path):
    cursor = PAGINATORS[path].encode(dt.datetime(2026, 11, 26, tzinfo=dt.UTC), uuid.uuid4())
    response = member.client().get(path, {"tenant_id": str(member.tenant.pk), "cursor": cursor, "skip": 3})
    body = assert_bilingual_error(response, 400, "invalid_parameter")
    assert body["parameter"] == "skip"


@pytest.mark.parametrize("path", [ACTIVITIES, SCANS])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": "ten"}, {"limit": 100_000}, {"skip": -1}, {"skip": 2**31}])
def test_a_bad_paging_parameter_is_the_same_400_invalid_parameter_on_both_lists(member, path, params):
    response = member.client().get(path, {"tenant_id": str(member.tenant.pk), **params})
    body = assert_bilingual_error(response, 400, "invalid_parameter")
    assert body["parameter"] == next(iter(params))
    assert "from" in body["error"] and "từ" in body["error_vi"], "the reason names the allowed range"
