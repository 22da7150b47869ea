"""The one tenant-scoping mechanism: every tenant-owned query in the API goes through here.

The API names the tenant with `tenant_id` (query parameter, or body field for data scans;
declared and parsed in `verisyntra.api.query`).
It is never taken on trust: the authenticated user must be a member of that tenant.

Policy (documented in the README): a malformed `tenant_id` is 400; a missing one is 400; a
well-formed id of a tenant the caller is not a member of is 403, whether or not the tenant
exists, so the answer reveals nothing about other tenants.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request

from inventory.models import DataScan, Tenant, TenantMembership
from verisyntra.api.errors import ApiError
from verisyntra.api.query import TENANT_PARAM, Query, parse_query, parse_tenant_id
from verisyntra.db.config import WRITE_ALIAS
from verisyntra.db.tenant_scope import acting_for, all_tenants, enter_tenant, no_tenant


def tenant_for_user(user, tenant_id: uuid.UUID) -> Tenant:
    """The tenant if `user` is a member of it, else a bilingual 403 (same answer if it does not exist)."""
    membership = (
        TenantMembership.objects.select_related("tenant").filter(user_id=user.pk, tenant_id=tenant_id).first()
        if user is not None and user.is_authenticated
        else None
    )
    if membership is None:
        raise ApiError("tenant_access_denied", status_code=status.HTTP_403_FORBIDDEN)
    # From here on the request acts for this tenant: the database shows it no other tenant's rows
    # (verisyntra.db.tenant_scope; TenantScopeMiddleware resets the scope when the request ends).
    enter_tenant(membership.tenant_id)
    return membership.tenant


def resolve_tenant(request: Request, raw_tenant_id: Any = None) -> Tenant:
    """The tenant a request acts on: from `raw_tenant_id` if given, else from `?tenant_id=`."""
    if raw_tenant_id is None:
        raw_tenant_id = request.query_params.get(TENANT_PARAM)
    tenant_id = parse_tenant_id(raw_tenant_id)
    # A token scoped to one tenant (accounts.ApiToken.tenant) acts for that tenant only: any other is the same 403.
    scoped_to = getattr(request.auth, "tenant_id", None)
    return tenant_for_user(request.user if scoped_to in (None, tenant_id) else None, tenant_id)


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

    def query(self, model: type[Query]) -> Query:
        """The query string validated by `model` (verisyntra.api.query), after the tenant check,
        so that a caller outside the tenant learns nothing from a parameter's 400."""
        self.tenant  # noqa: B018  (400/403 first)
        return parse_query(self.request.query_params, model)

    def scope(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(tenant_id=self.tenant.pk)


@contextmanager
def acting_for_scan_tenant(scan_id: uuid.UUID | str) -> Iterator[None]:
    """Inside the block, act for the tenant that owns the data scan `scan_id` (a task knows only the id).

    The owner is looked up on the primary, where the task works: a replica may not have the scan
    yet. A scan that does not exist leaves the block acting for no tenant, so it finds nothing.
    """
    with all_tenants():
        tenant_id = DataScan.objects.using(WRITE_ALIAS).filter(pk=scan_id).values_list("tenant_id", flat=True).first()
    with acting_for(tenant_id) if tenant_id is not None else no_tenant():
        yield
