"""The audit trail in the admin: read-only for everyone, superusers included.

No add, change or delete permission is ever granted here, so the admin offers no button, form or
action that writes, and refuses a POST to any of its views (403); the table's trigger would refuse
the change anyway. Filters use the declared choices (no `SELECT DISTINCT` over the whole trail);
the search matches a username exactly, or an object id.
"""

from __future__ import annotations

import json
import uuid

from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "tenant", "source", "action", "actor_username", "object_type", "object_count", "client_address"]
    list_filter = ["tenant", "action", "source"]
    list_select_related = ["tenant"]
    search_fields = ["=actor_username"]
    search_help_text = "A username (exact), or an object's id."
    date_hierarchy = "occurred_at"
    # The full count would read the whole trail on every page; the filtered count is enough.
    show_full_result_count = False
    fields = [
        "id",
        "occurred_at",
        "tenant",
        "source",
        "action",
        "actor_user_id",
        "actor_username",
        "actor_token_prefix",
        "client_address",
        "object_type",
        "object_count",
        "object_ids",
        "details_json",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        # A UUID is an object's id (a scan, a source, an activity), never a username.
        try:
            object_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(object_ids__contains=[str(object_id)]), False

    @admin.display(description="details")
    def details_json(self, event: AuditEvent) -> str:
        return format_html("<code>{}</code>", json.dumps(event.details, ensure_ascii=False, sort_keys=True))
