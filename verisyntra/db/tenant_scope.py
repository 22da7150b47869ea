"""Which tenant's rows the database lets this request or task see: the second line of defence.

The first line is the application's own filter (`inventory.tenancy`: every tenant-owned queryset
is filtered by the checked tenant). Behind it, PostgreSQL's row-level security (policies made by
`verisyntra.db.security`) shows the runtime role only the rows whose `tenant_id` equals the
transaction's `app.tenant_id` setting, or every row while `app.all_tenants` is `on`. With neither
set, a query sees no tenant-owned row at all.

The scope lives in a context variable (one per thread and per asyncio task, so concurrent requests
in one process never share it) and is sent with every statement as `set_config(..., true)`:
transaction-local, so it ends with the statement's transaction and a pooled connection, or a
PgBouncer server connection, never carries one request's tenant into the next one's
(`verisyntra.db.timeouts` sends it, beside the statement timeout, for the same reason).

Who sets it:
- an API request, once the caller's membership is checked (`inventory.tenancy.tenant_for_user`);
- a scan task, for the scan's own tenant (`inventory.tenancy.acting_for_scan_tenant`);
- the staff-only admin, management commands and the beat sweeps act for all tenants
  (`all_tenants()`), as the table owner would, but under the same runtime role and grants.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import cast

from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

# "" no tenant, a tenant's UUID as text, or ALL.
ALL = "*"
_scope: ContextVar[str] = ContextVar("verisyntra_tenant_scope", default="")

# The settings the policies read (verisyntra.db.security); custom settings need a dotted name.
TENANT_SETTING = "app.tenant_id"
ALL_TENANTS_SETTING = "app.all_tenants"


def current_scope() -> str:
    """The current scope: "" (no tenant), a tenant UUID as text, or ALL."""
    return _scope.get()


def _checked(tenant_id: uuid.UUID | str) -> str:
    # Parsed, so the value sent inline in every statement is always a plain UUID (no quoting to get wrong).
    return str(tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id)))


def scope_sql(scope: str | None = None, *, is_local: bool = True) -> str:
    """The `SELECT set_config(...)` that puts `scope` (default: the current one) into the transaction."""
    scope = current_scope() if scope is None else scope
    tenant, everyone = ("", "on") if scope == ALL else (scope, "")
    local = "true" if is_local else "false"
    return f"SELECT set_config('{TENANT_SETTING}', '{tenant}', {local}), set_config('{ALL_TENANTS_SETTING}', '{everyone}', {local})"


def enter_tenant(tenant_id: uuid.UUID | str) -> Token[str]:
    """Act for this tenant until the scope is reset (the request's middleware or the task's end resets it)."""
    return _scope.set(_checked(tenant_id))


def enter_all_tenants() -> Token[str]:
    return _scope.set(ALL)


def enter_no_tenant() -> Token[str]:
    return _scope.set("")


def leave(token: Token[str]) -> None:
    """Back to the scope before the `enter_*` call that returned `token`."""
    _scope.reset(token)


@contextmanager
def acting_for(tenant_id: uuid.UUID | str) -> Iterator[None]:
    """Inside the block, queries see this tenant's rows only."""
    token = enter_tenant(tenant_id)
    try:
        yield
    finally:
        leave(token)


@contextmanager
def all_tenants() -> Iterator[None]:
    """Inside the block (or the decorated function), queries see every tenant's rows.

    For staff and operations code only: the admin, management commands and sweeps across tenants.
    """
    token = enter_all_tenants()
    try:
        yield
    finally:
        leave(token)


@contextmanager
def no_tenant() -> Iterator[None]:
    """Inside the block, queries see no tenant-owned row."""
    token = enter_no_tenant()
    try:
        yield
    finally:
        leave(token)


class TenantScopeMiddleware:
    """Each request starts with no tenant; staff in the admin act for all tenants.

    API views enter their tenant once the caller's membership is checked. The scope is reset when
    the response is built, so a thread's next request starts clean whatever this one did.
    """

    ADMIN_PREFIX = "/admin/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        staff_in_admin = request.path.startswith(self.ADMIN_PREFIX) and user is not None and user.is_active and user.is_staff
        token = enter_all_tenants() if staff_in_admin else enter_no_tenant()
        try:
            response = self.get_response(request)
            if isinstance(response, StreamingHttpResponse) and not response.is_async:
                # Its body is produced after this returns: each chunk in the scope the view chose.
                response.streaming_content = _in_scope(cast(Iterator[bytes], response.streaming_content), current_scope())
            return response
        finally:
            leave(token)


def _in_scope(chunks: Iterable[bytes], scope: str) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        token = _scope.set(scope)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _scope.reset(token)
        yield chunk
