"""Helpers for the API tests: tenants with members and tokens, realistic activities, bilingual checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from inventory.models import Tenant
from inventory.services import tenant_create

# Letters only Vietnamese uses: an `error_vi` without any of them is English or stripped of diacritics.
VIETNAMESE_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


@dataclass
class Member:
    tenant: Tenant
    token: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        return client


def member_of_new_tenant(name: str, username: str) -> Member:
    tenant, _user, token = tenant_create(name=name, username=username)
    return Member(tenant=tenant, token=token.key)


def activity(index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A realistic processing activity, varied by `index`."""
    item = {
        "activity_name": f"Xử lý dữ liệu khách hàng {index}",
        "pdpl_category": ("basic", "sensitive", "Category 3: Public Data")[index % 3],
        "data_fields": ["ho_ten", "dia_chi", "so_dien_thoai"],
        "purpose": "Quản lý quan hệ khách hàng",
        "legal_basis": ("consent", "contract", "legal_obligation", "")[index % 4],
        "data_subjects": ["khách hàng"],
        "recipients": ["Công ty dịch vụ CRM"],
        "cross_border_transfer": index % 5 == 0,
        "retention_months": 24 + index % 12,
    }
    item.update(overrides)
    return item


def activities(count: int) -> list[dict[str, Any]]:
    return [activity(i) for i in range(count)]


def post_batch(client: APIClient, tenant_id: Any, body: Any, *, query: str = "", content_type: str = "application/json"):
    payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
    suffix = f"&{query}" if query else ""
    return client.generic("POST", f"/batch/processing-activities?tenant_id={tenant_id}{suffix}", payload, content_type=content_type)


def assert_bilingual_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    """The project's error shape: status, `error`, `error_vi` in real Vietnamese, a stable `code`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["error"] and body["error_vi"] and body["code"], body
    assert body["error_vi"] != body["error"]
    assert VIETNAMESE_LETTERS & set(body["error_vi"]), f"error_vi has no Vietnamese diacritics: {body['error_vi']!r}"
    if code is not None:
        assert body["code"] == code, body
    return body
