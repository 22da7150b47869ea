"""The one tenant-scoping mechanism: every tenant-owned query in the API goes through here.

The design passes the tenant as `tenant_id` (query parameter, or body field for data scans).
It is never taken on trust: the authenticated user must be a member of that tenant.

Policy (documented in the README): a malformed `tenant_id` is 400; a missing one is 400; a
well-formed id of a tenant the caller is not a member of is 403, whether or not the tenant
exists, so the answer reveals nothing about other tenants.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request

from inventory.models import Tenant, TenantMembership
from verisyntra.errors import ApiError

TENANT_PARAM = "tenant_id"


def parse_tenant_id(raw: Any) -> uuid.UUID:
    """A tenant id from client input, or a bilingual 400."""
    if raw in (None, ""):
        raise ApiError(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="tenant_id_required",
            error="The tenant_id parameter is required.",
            error_vi="Thiếu tham số tenant_id.",
        )
    try:
        return uuid.UUID(str(raw))
    except (ValueError, AttributeError, TypeError):
        raise ApiError(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid_tenant_id",
            error="tenant_id must be a UUID.",
            error_vi="tenant_id phải là một UUID hợp lệ.",
        ) from None


def tenant_for_user(user, tenant_id: uuid.UUID) -> Tenant:
    """The tenant if `user` is a member of it, else a bilingual 403 (same answer if it does not exist)."""
    membership = (
        TenantMembership.objects.select_related("tenant").filter(user_id=user.pk, tenant_id=tenant_id).first()
        if user is not None and user.is_authenticated
        else None
    )
    if membership is None:
        raise ApiError(
            status_code=status.HTTP_403_FORBIDDEN,
            code="tenant_access_denied",
            error="You are not a member of this tenant.",
            error_vi="Không có quyền truy cập: bạn không phải thành viên của tổ chức này.",
        )
    return membership.tenant


def resolve_tenant(request: Request, raw_tenant_id: Any = None) -> Tenant:
    """The tenant a request acts on: from `raw_tenant_id` if given, else from `?tenant_id=`."""
    if raw_tenant_id is None:
        raw_tenant_id = request.query_params.get(TENANT_PARAM)
    return tenant_for_user(request.user, parse_tenant_id(raw_tenant_id))


class TenantScopedMixin:
    """For DRF views: `self.tenant` is the checked tenant; `scope()` filters any queryset to it.

    Views get tenant-owned rows only through `scope()`, so no query can reach another tenant.
    Subclasses whose tenant id is not in the query string override `get_tenant_id_input()`.
    """

    _tenant: Tenant | None = None

    def get_tenant_id_input(self) -> Any:
        return self.request.query_params.get(TENANT_PARAM)

    @property
    def tenant(self) -> Tenant:
        if self._tenant is None:
            self._tenant = resolve_tenant(self.request, self.get_tenant_id_input())
        return self._tenant

    def scope(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(tenant_id=self.tenant.pk)
