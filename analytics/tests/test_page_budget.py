"""List pages have a byte budget as well as a row limit: 1,000 maximum-size activities were one
782 MB response; now a page stops early with a `next_cursor`, and following it returns the rest."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inventory.services import processing_activities_bulk_insert
from inventory.tests.api_support import activity, member_of_new_tenant
from inventory.validation import LIST_ITEM_MAX, LIST_MAX, PURPOSE_MAX, activities_validate
from verisyntra.api.pagination import PAGE_MAX_BYTES

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def largest_activity(index: int) -> dict:
    """An activity at every size limit: about 0.8 MB of JSON."""
    words = [f"{index:04d}" + "x" * (LIST_ITEM_MAX - 4)] * LIST_MAX
    return activity(index, purpose="p" * PURPOSE_MAX, data_fields=words, data_subjects=words, recipients=words)


def test_a_page_of_maximum_size_activities_stops_at_the_byte_budget_and_the_cursor_returns_the_rest():
    member = member_of_new_tenant("Trang lớn", "tranglon")
    result = activities_validate([largest_activity(i) for i in range(12)])
    assert result.ok
    processing_activities_bulk_insert(tenant=member.tenant, rows=result.rows)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {member.token}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"tenant_id": str(member.tenant.pk), "limit": 1000, **({"cursor": cursor} if cursor else {})}
        response = client.get("/analytics/processing-activities", params)
        assert response.status_code == 200, response.content[:300]
        assert len(response.content) <= PAGE_MAX_BYTES + 1024 * 1024, f"{len(response.content):,} bytes"
        body = response.json()
        seen += [row["id"] for row in body["activities"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 12 and pages >= 2
