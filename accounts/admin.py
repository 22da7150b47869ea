"""The API tokens in the admin: who holds which token, for which tenant, until when; revoke and rotate.

Nothing here can show a usable token: the table holds only digests, and the digest is neither a
column nor a field. Tokens are issued by the commands (`create_token`, `create_tenant`); the one
moment the admin shows a plaintext is the page that answers "Rotate", rendered straight into that
response (never kept in the session or a message cookie) and marked not to be cached.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control

from accounts.models import ApiToken
from accounts.services import IssuedToken, TokenNotRotatable, api_token_revoke, api_token_rotate
from inventory.admin import both, heading, utc_time
from verisyntra.messages import render


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "tenant_scope", "name", "created", "expires", "last_used", "revoked", "state"]
    list_select_related = ["user", "tenant"]
    search_fields = ["prefix", "name", "user__username"]
    list_filter = ["revoked_at"]
    # Every field the admin shows; `digest` is deliberately not one of them.
    fields = ["prefix", "user", "tenant_scope", "name", "created", "expires", "last_used", "revoked", "replaced_by_prefix", "state"]
    readonly_fields = fields
    actions = ["revoke_tokens", "rotate_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Issued by `manage.py create_token`, which prints the plaintext once.
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # Nothing to edit: the list and the read-only page, and the two actions below.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # Revoke instead: the row stays as the record of who held access, and until when.
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoke and Rotate: for staff who may change API tokens (superusers, or the `change_apitoken` permission)."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description=heading("auth.column.tenant"), ordering="tenant__name")
    def tenant_scope(self, token: ApiToken) -> str:
        return str(token.tenant) if token.tenant_id else "-"

    @admin.display(description=heading("admin.column.created"), ordering="created_at")
    def created(self, token: ApiToken) -> str:
        return utc_time(token.created_at)

    @admin.display(description=heading("auth.column.expires"), ordering="expires_at")
    def expires(self, token: ApiToken) -> str:
        return utc_time(token.expires_at)

    @admin.display(description=heading("auth.column.last_used"), ordering="last_used_at")
    def last_used(self, token: ApiToken) -> str:
        return utc_time(token.last_used_at)

    @admin.display(description=heading("auth.column.revoked"), ordering="revoked_at")
    def revoked(self, token: ApiToken) -> str:
        return utc_time(token.revoked_at)

    @admin.display(description=heading("auth.column.replaced_by"))
    def replaced_by_prefix(self, token: ApiToken) -> str:
        return token.replaced_by.prefix if token.replaced_by_id and token.replaced_by else "-"

    @admin.display(description=heading("auth.column.state"))
    def state(self, token: ApiToken) -> str:
        if token.revoked_at is not None:
            return both(render("auth.state.revoked"))
        return both(render("auth.state.active" if token.is_usable() else "auth.state.expired"))

    @admin.action(description=heading("auth.action.revoke"), permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(api_token_revoke(token=token) for token in queryset)
        self.message_user(request, both(render("auth.notice.revoked", count=revoked)), messages.SUCCESS)

    @admin.action(description=heading("auth.action.rotate"), permissions=["revoke"])
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> TemplateResponse | None:
        issued: list[tuple[ApiToken, IssuedToken]] = []
        refused = 0
        for token in queryset:
            try:
                issued.append((token, api_token_rotate(token=token)))
            except TokenNotRotatable:
                refused += 1
        if refused:
            self.message_user(request, both(render("auth.notice.not_rotatable", count=refused)), messages.WARNING)
        if not issued:
            return None
        grace_ends = max((old.expires_at for old, _ in issued if old.expires_at), default=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": render("auth.issued.title"),
            "once": render("auth.issued.once", until=utc_time(grace_ends)),
            "back": render("auth.issued.back"),
            "columns": [render("auth.column.prefix"), render("auth.column.new_token"), render("auth.column.user")],
            "rows": [(old.prefix, new.prefix, new.key, old.user) for old, new in issued],
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/issued.html", context)
        # The page holds secrets: no cache may keep it, and a Back button must not show it again.
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response
