"""Django admin for the inventory: tenants, processing activities, data scans and data sources.

List pages query through the router like every other read, so they are served by the read pool
and never take a connection the scans need. Data scans and processing activities are read-only
here (they are written by the API and the scan worker, which validate them); what an operator can
do to a scan is retry it once it has failed and cancel it while it is pending or processing, from
the list's action or the buttons on the scan's page, through the same services as the API, which
record each write in the audit trail under the staff user's name (source "admin").

Times are shown in UTC and labelled so, as the API gives them, whatever TIME_ZONE says: an
operator comparing a scan's page with the API's answer (or a log line) reads the same clock.
A tenant cannot be deleted here: see `TenantAdmin.has_delete_permission`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from audit.models import AuditSource
from audit.services import AuditActor, audit_actor_of_request
from inventory.models import (
    ActivityCount,
    DataScan,
    ProcessingActivity,
    ScanStatus,
    Tenant,
    TenantMembership,
    pdpl_category_label,
    scan_status_label,
)
from inventory.scan_services import data_scan_cancel, data_scans_retry
from inventory.source_models import DataSource
from inventory.source_services import (
    UNSET,
    DataSourceInvalid,
    data_source_create,
    data_source_delete,
    data_source_scan_submit,
    data_source_update,
    discovery_result_summary,
    dsn_validate,
    kind_validate,
    schedule_validate,
)
from verisyntra.api.errors import ApiError
from verisyntra.messages import Bilingual, render


def both(text: Bilingual) -> str:
    """A catalogue text as the admin shows it: English and Vietnamese side by side."""
    return f"{text.en} / {text.vi}"


def heading(code: str) -> str:
    return both(render(code))


def utc_time(value: datetime | None) -> str:
    """A time as the admin shows it: in UTC, labelled, to the second (the API gives the same instant in ISO 8601 with Z)."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def admin_actor(request: HttpRequest) -> AuditActor:
    """The staff user acting in the admin, for the audit rows of the writes made through it."""
    return audit_actor_of_request(request, source=AuditSource.ADMIN)


def changelist_url(model: type, **filters: object) -> str:
    """The admin list of `model`, filtered as its list filters would filter it."""
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + (f"?{query}" if query else "")


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
    list_display = ["name", "id", "member_count", "records", "created"]
    search_fields = ["name"]
    fields = ["name", "id", "records", "created"]
    readonly_fields = ["id", "records", "created"]
    inlines = [TenantMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def has_delete_permission(self, request, obj=None):
        # Not offered. Deleting a tenant deletes its whole record of processing (a legal record,
        # possibly millions of activities); the admin's confirmation page gathers every related
        # row in Python before it answers (15 s for a large tenant) and then refuses anyway, since
        # activities and scans are read-only here. Removing a tenant is a deliberate operation
        # outside the admin.
        return False

    @admin.display(description=heading("admin.column.members"), ordering="member_count")
    def member_count(self, tenant: Tenant) -> int:
        return tenant.member_count

    @admin.display(description=heading("admin.column.created"), ordering="created_at")
    def created(self, tenant: Tenant) -> str:
        return utc_time(tenant.created_at)

    @admin.display(description=heading("admin.column.records"))
    def records(self, tenant: Tenant) -> str:
        """Links to the tenant's activities, scans and members, with their counts.

        The activity count comes from the summary's rollup (ActivityCount), not a COUNT(*) over
        the tenant's activities; scans and memberships are counted through their tenant indexes.
        """
        activities = ActivityCount.objects.filter(tenant=tenant).aggregate(total=Sum("activities"))["total"] or 0
        links = [
            (changelist_url(ProcessingActivity, tenant__id__exact=tenant.pk), "admin.link.activities", activities),
            (changelist_url(DataScan, tenant__id__exact=tenant.pk), "admin.link.scans", tenant.data_scans.count()),
            (changelist_url(TenantMembership, tenant__id__exact=tenant.pk), "admin.link.members", tenant.memberships.count()),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', ((url, both(render(code, count=count))) for url, code, count in links))


@admin.register(TenantMembership)
class TenantMembershipAdmin(admin.ModelAdmin):
    """Who may use which tenant: the list a tenant's page links to as its members."""

    list_display = ["user", "tenant", "created"]
    list_filter = ["tenant"]
    search_fields = ["user__username", "tenant__name"]
    list_select_related = ["user", "tenant"]
    autocomplete_fields = ["user", "tenant"]

    @admin.display(description=heading("admin.column.created"), ordering="created_at")
    def created(self, membership: TenantMembership) -> str:
        return utc_time(membership.created_at)


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(ReadOnlyAdmin):
    list_display = ["activity_name", "tenant", "category", "legal_basis", "cross_border_transfer", "created"]
    list_filter = ["pdpl_category", "cross_border_transfer", "legal_basis", "tenant"]
    search_fields = ["activity_name"]
    list_select_related = ["tenant"]
    # A tenant can hold millions of activities: no COUNT(*) of the whole table on every page.
    show_full_result_count = False

    @admin.display(description=heading("admin.column.pdpl_category"), ordering="pdpl_category")
    def category(self, activity: ProcessingActivity) -> str:
        return both(pdpl_category_label(activity.pdpl_category))

    @admin.display(description=heading("admin.column.created"), ordering="created_at")
    def created(self, activity: ProcessingActivity) -> str:
        return utc_time(activity.created_at)


@admin.register(DataScan)
class DataScanAdmin(ReadOnlyAdmin):
    list_display = ["scan_id", "tenant", "status_both", "progress_bar", "processed_of_total", "duration", "error_short", "created"]
    list_filter = ["status", "tenant"]
    search_fields = ["scan_id"]
    list_select_related = ["tenant"]
    actions = ["retry_failed_scans", "cancel_scans"]
    fields = [
        "scan_id",
        "tenant",
        "status_both",
        "progress_bar",
        "processed_of_total",
        "duration",
        "created",
        "started",
        "updated",
        "completed",
        "dispatched",
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

    @admin.display(description=heading("admin.column.created"), ordering="created_at")
    def created(self, scan: DataScan) -> str:
        return utc_time(scan.created_at)

    @admin.display(description=heading("admin.column.started"))
    def started(self, scan: DataScan) -> str:
        return utc_time(scan.started_at)

    @admin.display(description=heading("admin.column.updated"))
    def updated(self, scan: DataScan) -> str:
        return utc_time(scan.updated_at)

    @admin.display(description=heading("admin.column.completed"))
    def completed(self, scan: DataScan) -> str:
        return utc_time(scan.completed_at)

    @admin.display(description=heading("admin.column.dispatched"))
    def dispatched(self, scan: DataScan) -> str:
        return utc_time(scan.dispatched_at)

    # --- The buttons on a scan's page: POST forms to these two views -------------------------

    def get_urls(self):
        return [
            path("<path:object_id>/retry/", self.admin_site.admin_view(self.retry_view), name="inventory_datascan_retry"),
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view), name="inventory_datascan_cancel"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        scan = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if scan is not None and scan.status == ScanStatus.FAILED and self.has_retry_permission(request):
            context["retry_url"] = reverse("admin:inventory_datascan_retry", args=[scan.pk])
        if scan is not None and scan.status in (ScanStatus.PENDING, ScanStatus.PROCESSING) and self.has_cancel_permission(request):
            context["cancel_url"] = reverse("admin:inventory_datascan_cancel", args=[scan.pk])
        context["button_retry"] = both(render("admin.button.retry"))
        context["button_cancel"] = both(render("admin.button.cancel"))
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _scan_page(self, scan_id) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:inventory_datascan_change", args=[scan_id]))

    def _scan_or_404(self, request: HttpRequest, object_id: str, *, allowed: bool) -> DataScan:
        if not allowed:
            raise PermissionDenied
        try:
            scan_id = uuid.UUID(object_id)
        except ValueError:
            raise Http404 from None
        return get_object_or_404(self.get_queryset(request), pk=scan_id)

    @method_decorator(require_POST)
    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """The Retry button: a failed scan back to pending, resuming at its first unwritten record."""
        scan = self._scan_or_404(request, object_id, allowed=self.has_retry_permission(request))
        if data_scans_retry(scan_ids=[scan.pk], actor=admin_actor(request)):
            self.message_user(request, both(render("admin.notice.scan_retried")), messages.SUCCESS)
        else:
            self.message_user(request, both(render("admin.notice.scan_not_failed", status=scan.status)), messages.WARNING)
        return self._scan_page(scan.pk)

    @method_decorator(require_POST)
    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """The Cancel button: the scan's worker stops at its next chunk; the rows already written stay."""
        scan = self._scan_or_404(request, object_id, allowed=self.has_cancel_permission(request))
        try:
            data_scan_cancel(tenant_id=scan.tenant_id, scan_id=scan.pk, actor=admin_actor(request))
        except ApiError as exc:
            body = exc.body()
            self.message_user(request, f"{body['error']} / {body['error_vi']}", messages.WARNING)
        else:
            self.message_user(request, both(render("admin.notice.scan_cancelled")), messages.SUCCESS)
        return self._scan_page(scan.pk)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_datascan")

    @admin.action(description=heading("admin.action.retry_failed_scans"), permissions=["retry"])
    def retry_failed_scans(self, request, queryset):
        retried = data_scans_retry(
            scan_ids=list(queryset.filter(status=ScanStatus.FAILED).values_list("pk", flat=True)), actor=admin_actor(request)
        )
        skipped = queryset.count() - retried
        self.message_user(request, both(render("admin.notice.scans_queued", count=retried)), messages.SUCCESS)
        if skipped:
            self.message_user(request, both(render("admin.notice.scans_not_failed", count=skipped)), messages.WARNING)

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_datascan")

    @admin.action(description=heading("scan.cancel.action"), permissions=["cancel"])
    def cancel_scans(self, request, queryset):
        """Cancel the selected pending or processing scans (their rows stay); finished ones are counted and left."""
        cancelled = 0
        for scan_id, tenant_id in queryset.filter(status__in=[ScanStatus.PENDING, ScanStatus.PROCESSING]).values_list("pk", "tenant_id"):
            try:
                data_scan_cancel(tenant_id=tenant_id, scan_id=scan_id, actor=admin_actor(request))
            except ApiError:
                continue  # it finished meanwhile: counted with the skipped ones
            cancelled += 1
        self.message_user(request, both(render("scan.cancel.done", count=cancelled)), messages.SUCCESS)
        skipped = queryset.count() - cancelled
        if skipped:
            self.message_user(request, both(render("scan.cancel.skipped", count=skipped)), messages.WARNING)


# --- Data sources -------------------------------------------------------------------------------


class DataSourceForm(forms.ModelForm):
    """A data source's fields, validated by the same rules as the API; the DSN is write-only."""

    dsn = forms.CharField(
        required=False,
        max_length=1000,
        label=heading("admin.column.dsn"),
        help_text=heading("admin.field.dsn_help"),
        # Never rendered back: the page would otherwise carry the password.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
    )

    class Meta:
        model = DataSource
        fields = ["tenant", "name", "kind", "schedule"]
        labels = {"schedule": heading("admin.column.schedule")}

    def clean(self):
        data = super().clean()
        try:
            if data.get("schedule") is not None:
                data["schedule"] = schedule_validate(data["schedule"])
            kind = kind_validate(data.get("kind"))
            if data.get("dsn"):
                data["dsn"], _ = dsn_validate(data["dsn"], kind=kind)
            elif self.instance._state.adding:
                self.add_error("dsn", heading("item.required"))
            elif kind != self.instance.kind:
                self.add_error("dsn", heading("source.reason.dsn_format"))
        except DataSourceInvalid as exc:
            self.add_error(exc.field if exc.field in self.fields else None, both(exc.reason))
        return data


class SourceActivityInline(admin.TabularInline):
    """The activities discovery keeps for the source, each finding explained in both languages."""

    model = ProcessingActivity
    fk_name = "data_source"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ["activity_name", "category", "missing", "findings_table", "last_change"]
    readonly_fields = fields

    @admin.display(description=heading("admin.column.pdpl_category"))
    def category(self, activity: ProcessingActivity) -> str:
        return both(pdpl_category_label(activity.pdpl_category))

    @admin.display(description=heading("source.change.missing"))
    def missing(self, activity: ProcessingActivity) -> str:
        return utc_time(activity.source_missing_since) if activity.source_missing_since else ""

    @admin.display(description=heading("admin.column.findings"))
    def findings_table(self, activity: ProcessingActivity) -> str:
        from inventory.discovery import personal_data_type_label, reason_label

        rows = (
            (
                entry["column"],
                entry["data_type"],
                both(personal_data_type_label(entry["personal_data_type"])),
                both(pdpl_category_label(entry["category"])),
                both(reason_label(entry["reason"])),
                f"{entry['confidence']:.2f}",
                f"{entry['matched']}/{entry['sampled']}",
            )
            for entry in activity.source_findings or []
        )
        body = format_html_join("", "<tr><td><code>{}</code> ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table>{}</table>", body)

    @admin.display(description=heading("admin.column.changes"))
    def last_change(self, activity: ProcessingActivity) -> str:
        changes = dict(activity.source_changes or {})
        change = changes.pop("change", "unchanged")
        details = json.dumps(changes, ensure_ascii=False) if changes else ""
        return format_html("{}<br><code>{}</code>", both(render(f"source.change.{change}")), details)


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    """Data sources: schedule, last and next run, last result, a Scan now button; the DSN only masked."""

    form = DataSourceForm
    # `connection` and `cron`, not the model's `dsn_masked` and `schedule`: for a name that is also a
    # model field the admin labels the column with the field's English name, not the display's. No
    # `kind` column: the connection's scheme says it (and the filter selects by it), and the list
    # then fits a laptop's screen beside the admin's sidebars.
    list_display = ["name", "tenant", "connection", "cron", "last_run", "next_run", "last_result"]
    list_filter = ["kind", "tenant"]
    search_fields = ["name"]
    list_select_related = ["tenant", "last_scan"]
    actions = ["scan_now"]
    readonly_fields = ["connection", "last_run", "next_run", "last_result", "last_changes"]
    inlines = [SourceActivityInline]

    def get_fields(self, request, obj=None):
        fields = ["tenant", "name", "kind", "dsn", "schedule"]
        return fields if obj is None else [*fields, "connection", "next_run", "last_run", "last_result", "last_changes"]

    def get_readonly_fields(self, request, obj=None):
        # A source stays with its tenant: moving it would move its activities' key across tenants.
        return self.readonly_fields if obj is None else ["tenant", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = data_source_update(
                source=DataSource.objects.get(pk=obj.pk),
                name=data["name"],
                kind=data["kind"],
                dsn=data.get("dsn") or UNSET,
                schedule=data.get("schedule") or "",
                actor=admin_actor(request),
            )
        else:
            saved = data_source_create(
                tenant=data["tenant"],
                name=data["name"],
                kind=data["kind"],
                dsn=data["dsn"],
                schedule=data.get("schedule") or "",
                actor=admin_actor(request),
            )
        for field in DataSource._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def delete_model(self, request, obj):
        data_source_delete(source=obj, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for source in queryset:
            data_source_delete(source=source, actor=admin_actor(request))

    @admin.display(description=heading("admin.column.dsn"))
    def connection(self, source: DataSource) -> str:
        return source.dsn_masked

    @admin.display(description=heading("admin.column.schedule"), ordering="schedule")
    def cron(self, source: DataSource) -> str:
        return source.schedule

    @admin.display(description=heading("admin.column.last_run"), ordering="last_run_at")
    def last_run(self, source: DataSource) -> str:
        return utc_time(source.last_run_at) if source.last_run_at else both(render("admin.notice.source_never_scanned"))

    @admin.display(description=heading("admin.column.next_run"), ordering="next_run_at")
    def next_run(self, source: DataSource) -> str:
        return utc_time(source.next_run_at) if source.next_run_at else ""

    @admin.display(description=heading("admin.column.last_result"))
    def last_result(self, source: DataSource) -> str:
        scan = source.last_scan
        if scan is None:
            return ""
        link = reverse("admin:inventory_datascan_change", args=[scan.pk])
        detail = ""
        if scan.status == ScanStatus.FAILED:
            detail = f"{scan.error} / {scan.error_vi}"
        elif (summary := discovery_result_summary(scan.discovery_changes)) is not None:
            detail = both(summary)
        return format_html('<a href="{}">{}</a><br>{}', link, both(scan_status_label(scan.status)), detail)

    @admin.display(description=heading("admin.column.changes"))
    def last_changes(self, source: DataSource) -> str:
        changes = source.last_scan.discovery_changes if source.last_scan else None
        return format_html("<code>{}</code>", json.dumps(changes, ensure_ascii=False)) if changes else ""

    # --- Scan now: the list's action and the button on a source's page ---------------------------

    def get_urls(self):
        return [
            path("<path:object_id>/scan/", self.admin_site.admin_view(self.scan_view), name="inventory_datasource_scan"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if self.has_scan_permission(request):
            context["scan_url"] = reverse("admin:inventory_datasource_scan", args=[object_id])
        context["button_scan"] = heading("admin.action.scan_now")
        return super().change_view(request, object_id, form_url, extra_context=context)

    def has_scan_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_datasource")

    def _scan(self, request: HttpRequest, source: DataSource) -> None:
        scan, _ = data_source_scan_submit(source=source, actor=admin_actor(request))
        self.message_user(request, both(render("admin.notice.source_scan_started", name=source.name, scan_id=scan.pk)), messages.SUCCESS)

    @method_decorator(require_POST)
    def scan_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """The Scan now button: a discovery scan of this source, or its scan already running."""
        if not self.has_scan_permission(request):
            raise PermissionDenied
        try:
            source_id = uuid.UUID(object_id)
        except ValueError:
            raise Http404 from None
        source = get_object_or_404(self.get_queryset(request), pk=source_id)
        self._scan(request, source)
        return HttpResponseRedirect(reverse("admin:inventory_datasource_change", args=[source.pk]))

    @admin.action(description=heading("admin.action.scan_now"), permissions=["scan"])
    def scan_now(self, request, queryset):
        for source in queryset:
            self._scan(request, source)
