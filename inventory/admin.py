"""Django admin for the inventory: tenants, processing activities and data scans.

List pages query through the router like every other read, so they are served by the read pool
and never take a connection the scans need. Data scans and processing activities are read-only
here (they are written by the API and the scan worker, which validate them); the one thing an
operator can do to a scan is retry it once it has failed.
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html

from inventory.models import (
    DataScan,
    ProcessingActivity,
    ScanStatus,
    Tenant,
    TenantMembership,
    pdpl_category_label,
    scan_status_label,
)
from inventory.scan_services import data_scans_retry
from verisyntra.messages import Bilingual, render


def both(text: Bilingual) -> str:
    """A catalogue text as the admin shows it: English and Vietnamese side by side."""
    return f"{text.en} / {text.vi}"


def heading(code: str) -> str:
    return both(render(code))


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TenantMembershipInline(admin.TabularInline):
    model = TenantMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "member_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["id", "created_at"]
    inlines = [TenantMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description=heading("admin.column.members"), ordering="member_count")
    def member_count(self, tenant: Tenant) -> int:
        return tenant.member_count


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(ReadOnlyAdmin):
    list_display = ["activity_name", "tenant", "category", "legal_basis", "cross_border_transfer", "created_at"]
    list_filter = ["pdpl_category", "cross_border_transfer", "legal_basis", "tenant"]
    search_fields = ["activity_name"]
    list_select_related = ["tenant"]
    # A tenant can hold millions of activities: no COUNT(*) of the whole table on every page.
    show_full_result_count = False

    @admin.display(description=heading("admin.column.pdpl_category"), ordering="pdpl_category")
    def category(self, activity: ProcessingActivity) -> str:
        return both(pdpl_category_label(activity.pdpl_category))


@admin.register(DataScan)
class DataScanAdmin(ReadOnlyAdmin):
    list_display = ["scan_id", "tenant", "status_both", "progress_bar", "processed_of_total", "duration", "error_short", "created_at"]
    list_filter = ["status", "tenant"]
    search_fields = ["scan_id"]
    list_select_related = ["tenant"]
    actions = ["retry_failed_scans"]
    fields = [
        "scan_id",
        "tenant",
        "status_both",
        "progress_bar",
        "processed_of_total",
        "duration",
        "created_at",
        "started_at",
        "updated_at",
        "completed_at",
        "dispatched_at",
        "celery_task_id",
        "error",
        "error_vi",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        # A whole scan id is an exact primary-key lookup; a fragment searches the ids' text.
        try:
            return queryset.filter(scan_id=uuid.UUID(search_term.strip())), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    @admin.display(description=heading("admin.column.status"), ordering="status")
    def status_both(self, scan: DataScan) -> str:
        return both(scan_status_label(scan.status))

    @admin.display(description=heading("admin.column.progress"), ordering="progress_percent")
    def progress_bar(self, scan: DataScan) -> str:
        return format_html(
            '<progress value="{}" max="100" style="width:10em" title="{}%"></progress> {}%',
            scan.progress_percent,
            scan.progress_percent,
            scan.progress_percent,
        )

    @admin.display(description=heading("admin.column.processed_of_total"))
    def processed_of_total(self, scan: DataScan) -> str:
        return f"{scan.records_processed:,} / {scan.records_total:,}"

    @admin.display(description=heading("admin.column.duration"))
    def duration(self, scan: DataScan) -> str:
        if scan.started_at is None:
            return "-"
        end = scan.completed_at or timezone.now()
        return f"{max((end - scan.started_at).total_seconds(), 0.0):.1f} s"

    @admin.display(description=heading("admin.column.error"))
    def error_short(self, scan: DataScan) -> str:
        if not scan.error:
            return ""
        return format_html("{}<br><i>{}</i>", scan.error[:200], scan.error_vi[:200])

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_datascan")

    @admin.action(description=heading("admin.action.retry_failed_scans"), permissions=["retry"])
    def retry_failed_scans(self, request, queryset):
        retried = data_scans_retry(scan_ids=list(queryset.filter(status=ScanStatus.FAILED).values_list("pk", flat=True)))
        skipped = queryset.count() - retried
        self.message_user(request, both(render("admin.notice.scans_queued", count=retried)), messages.SUCCESS)
        if skipped:
            self.message_user(request, both(render("admin.notice.scans_not_failed", count=skipped)), messages.WARNING)
