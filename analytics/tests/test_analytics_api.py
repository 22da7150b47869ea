"""`GET /analytics/compliance-summary` and `GET /analytics/processing-activities`: tenant-safe reads on the read pool."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from inventory.services import processing_activities_bulk_insert
from inventory.tests.api_support import activities, activity, assert_bilingual_error, member_of_new_tenant
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

SUMMARY = "/analytics/compliance-summary"
LIST = "/analytics/processing-activities"


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet")


@pytest.fixture
def outsider():
    return member_of_new_tenant("Công ty TNHH Sao Mai", "saomai")


def seed(tenant, items) -> list[str]:
    result = activities_validate(items)
    assert result.ok, result.errors
    return processing_activities_bulk_insert(tenant=tenant, rows=result.rows)


def get(client: APIClient, path: str, tenant_id, **params):
    return client.get(path, {"tenant_id": str(tenant_id), **params})


# --- Compliance summary -----------------------------------------------------------------------


def test_summary_counts_by_category_legal_basis_and_transfer_with_both_languages(member):
    seed(
        member.tenant,
        [
            activity(0, pdpl_category="basic", legal_basis="consent", cross_border_transfer=True),
            activity(1, pdpl_category="basic", legal_basis="contract", cross_border_transfer=False),
            activity(2, pdpl_category="sensitive", legal_basis="consent", cross_border_transfer=True),
            activity(3, pdpl_category="sensitive", legal_basis="", cross_border_transfer=False),
            activity(4, pdpl_category="Category 2: Basic Personal Data", legal_basis=None, cross_border_transfer=False),
        ],
    )
    response = get(member.client(), SUMMARY, member.tenant.pk)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["tenant_id"] == str(member.tenant.pk)
    assert data["total_activities"] == 5
    assert data["categories"] == [
        {
            "category": "sensitive",
            "category_label": "Category 1: Sensitive Personal Data",
            "category_vi": "Loại 1: Dữ liệu Cá nhân Nhạy cảm",
            "count": 2,
        },
        {
            "category": "basic",
            "category_label": "Category 2: Basic Personal Data",
            "category_vi": "Loại 2: Dữ liệu Cá nhân Cơ bản",
            "count": 3,
        },
        {"category": "public", "category_label": "Category 3: Public Data", "category_vi": "Loại 3: Dữ liệu Công khai", "count": 0},
    ]
    bases = {entry["legal_basis"]: entry for entry in data["legal_bases"]}
    assert {code: entry["count"] for code, entry in bases.items() if entry["count"]} == {"consent": 2, "contract": 1, "": 2}
    assert bases["consent"]["legal_basis_vi"] == "Sự đồng ý của chủ thể dữ liệu"
    assert bases[""]["legal_basis_vi"] == "Chưa xác định"
    transfers = {entry["cross_border_transfer"]: entry for entry in data["cross_border_transfers"]}
    assert (transfers[True]["count"], transfers[False]["count"]) == (2, 3)
    assert transfers[True]["label_vi"] == "Có chuyển dữ liệu cá nhân xuyên biên giới"


def test_summary_of_an_empty_tenant_lists_every_category_with_zero(member):
    data = get(member.client(), SUMMARY, member.tenant.pk).json()
    assert data["total_activities"] == 0
    assert [(c["category"], c["count"]) for c in data["categories"]] == [("sensitive", 0), ("basic", 0), ("public", 0)]


def test_summary_never_counts_another_tenants_activities(member, outsider):
    seed(member.tenant, activities(3))
    seed(outsider.tenant, activities(7))
    assert get(member.client(), SUMMARY, member.tenant.pk).json()["total_activities"] == 3
    assert get(outsider.client(), SUMMARY, outsider.tenant.pk).json()["total_activities"] == 7


def test_summary_reads_the_tenants_counts_on_the_read_pool_whatever_the_data_size(member, query_log):
    client = member.client()
    seed(member.tenant, activities(3))
    query_log.clear()
    assert get(client, SUMMARY, member.tenant.pk).status_code == 200
    small = list(query_log.entries)
    seed(member.tenant, activities(3_000))
    query_log.clear()
    response = get(client, SUMMARY, member.tenant.pk)
    assert response.json()["total_activities"] == 3_003
    large = list(query_log.entries)
    assert len(small) == len(large) == 3  # token, membership, the tenant's counts
    assert {alias for alias, _, _ in large} == {"read"}
    # The counts come from the rollup the database keeps, never from scanning the activities.
    assert sum("inventory_activitycount" in sql for _, _, sql in large) == 1
    assert not any("inventory_processingactivity" in sql for _, _, sql in large)


# --- Listing ------------------------------------------------------------------------------------


def test_list_is_in_the_order_sent_and_pages_by_skip_and_limit(member):
    ids = seed(member.tenant, activities(25))
    client = member.client()
    first = get(client, LIST, member.tenant.pk, limit=10).json()
    assert [a["id"] for a in first["activities"]] == ids[:10]
    assert (first["count"], first["skip"], first["limit"]) == (10, 0, 10)
    third = get(client, LIST, member.tenant.pk, skip=20, limit=10).json()
    assert [a["id"] for a in third["activities"]] == ids[20:]
    assert third["next_cursor"] is None
    one = first["activities"][1]
    assert one["activity_name"] == activity(1)["activity_name"]
    assert (one["pdpl_category"], one["pdpl_category_label"], one["pdpl_category_vi"]) == (
        "sensitive",
        "Category 1: Sensitive Personal Data",
        "Loại 1: Dữ liệu Cá nhân Nhạy cảm",
    )
    assert one["created_at"]


def test_default_page_is_100_rows(member):
    seed(member.tenant, activities(150))
    data = get(member.client(), LIST, member.tenant.pk).json()
    assert (data["count"], data["limit"]) == (100, 100)


def test_cursor_pages_visit_every_row_exactly_once_across_batches(member):
    ids = seed(member.tenant, activities(30)) + seed(member.tenant, activities(17))
    client = member.client()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 8, **({"cursor": cursor} if cursor else {})}
        page = get(client, LIST, member.tenant.pk, **params).json()
        seen += [a["id"] for a in page["activities"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_list_never_shows_another_tenants_activities(member, outsider):
    mine = seed(member.tenant, activities(5))
    seed(outsider.tenant, activities(5))
    data = get(member.client(), LIST, member.tenant.pk, limit=1000).json()
    assert [a["id"] for a in data["activities"]] == mine


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 1001}, "invalid_parameter"),
        ({"limit": 0}, "invalid_parameter"),
        ({"limit": "ten"}, "invalid_parameter"),
        ({"skip": -1}, "invalid_parameter"),
        ({"skip": 2**31}, "invalid_parameter"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "MjAyNi0xMS0yNlQwMDowMDowMHxub3QtYS11dWlk"}, "invalid_cursor"),  # "2026-11-26T00:00:00|not-a-uuid"
        ({"cursor": "x", "skip": 5}, "invalid_parameter"),
    ],
)
def test_bad_list_parameters_are_bilingual_400s(member, params, code):
    assert_bilingual_error(get(member.client(), LIST, member.tenant.pk, **params), 400, code)


# --- Who may read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SUMMARY, LIST])
def test_reads_without_a_token_are_401(member, path):
    assert_bilingual_error(get(APIClient(), path, member.tenant.pk), 401, "not_authenticated")


@pytest.mark.parametrize("path", [SUMMARY, LIST])
def test_reads_with_a_bad_token_are_401(member, path):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_bilingual_error(get(client, path, member.tenant.pk), 401, "authentication_failed")


@pytest.mark.parametrize("path", [SUMMARY, LIST])
def test_reading_another_tenant_is_403_and_reveals_nothing(member, outsider, path):
    seed(member.tenant, activities(4))
    body = assert_bilingual_error(get(outsider.client(), path, member.tenant.pk), 403, "tenant_access_denied")
    assert "activities" not in body and "total_activities" not in body
    # The same answer as for a tenant that does not exist: nothing to learn by probing ids.
    assert get(outsider.client(), path, uuid.uuid4()).json() == body


@pytest.mark.parametrize("path", [SUMMARY, LIST])
@pytest.mark.parametrize(("tenant_id", "code"), [("nope", "invalid_tenant_id"), ("", "tenant_id_required")])
def test_reads_with_a_malformed_or_missing_tenant_id_are_400(member, path, tenant_id, code):
    assert_bilingual_error(member.client().get(path, {"tenant_id": tenant_id}), 400, code)
