"""The data-source API: register, list, read, change and delete a tenant's data sources, start a
discovery scan, and read what discovery found, each finding explained.

`POST/GET /data-sources`, `GET/PATCH/DELETE /data-sources/{source_id}`,
`POST /data-sources/{source_id}/scans` (202; the scan's status is `GET /data-scans/{scan_id}`) and
`GET /data-sources/{source_id}/activities`. Thin views: the tenant check first
(inventory.tenancy), then one service or selector. A DSN is never returned: responses carry it
with the password replaced by ***.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_actor_of_request
from inventory.models import PdplCategory, ProcessingActivity, ScanStatus, pdpl_category_label, scan_status_label
from inventory.scan_views import data_scan_status_url
from inventory.source_models import DataSource, DataSourceKind
from inventory.source_selectors import data_source_activities, data_source_of_tenant, data_sources_of_tenant
from inventory.source_services import (
    UNSET,
    DataSourceInvalid,
    data_source_create,
    data_source_delete,
    data_source_scan_submit,
    data_source_update,
    discovery_result_summary,
)
from inventory.tenancy import TENANT_PARAM, TenantScopedMixin
from verisyntra.api.errors import ApiError
from verisyntra.api.idempotency import idempotent
from verisyntra.api.openapi import COMMON_ERROR_STATUSES, error_responses
from verisyntra.api.pagination import KeysetPaginator, PageEnvelope, PageQuery
from verisyntra.api.query import TenantQuery
from verisyntra.api.responses import respond
from verisyntra.messages import render

DATA_SOURCE_PAGES = KeysetPaginator(list_name="inventory.data-sources", time_field="created_at", id_field="id")
SOURCE_ACTIVITY_PAGES = KeysetPaginator(list_name="inventory.data-source-activities", time_field="created_at", id_field="id")
CREATE_EXAMPLE = '{"name": "CRM", "kind": "postgresql", "dsn": "postgresql://user:password@host:5432/crm", "schedule": "0 2 * * *"}'
BODY_FIELDS = ("name", "kind", "dsn", "schedule")


# --- Declarations -------------------------------------------------------------------------------


class DataSourceCreate(BaseModel):
    """The body of `POST /data-sources`."""

    model_config = ConfigDict(extra="forbid", title="DataSourceCreate")

    name: str = Field(max_length=200, description="Unique per tenant, e.g. CRM.")
    kind: DataSourceKind
    dsn: str = Field(
        max_length=1000, description="postgresql://user:password@host:5432/db or mysql://user:password@host:3306/db. Stored encrypted."
    )
    schedule: str | None = Field(
        None, description='A five-field cron expression in the service\'s time zone ("0 2 * * *"); empty or absent: on demand only.'
    )


class DataSourceChange(BaseModel):
    """The body of `PATCH /data-sources/{source_id}`: any of the fields, changed alone."""

    model_config = ConfigDict(extra="forbid", title="DataSourceChange")

    name: str | None = Field(None, max_length=200)
    kind: DataSourceKind | None = Field(None, description="A new kind needs a DSN of that kind.")
    dsn: str | None = Field(None, max_length=1000)
    schedule: str | None = Field(None, description="Empty or null stops the schedule; takes effect at once.")


class LastScanOut(BaseModel):
    """The source's latest discovery scan: its status, and its result or error in both languages."""

    scan_id: uuid.UUID
    status: ScanStatus
    status_vi: str
    status_url: str
    completed_at: dt.datetime | None
    result: str | None = Field(None, description="What the scan found and changed (completed scans).")
    result_vi: str | None = None
    error: str | None = Field(None, description="Why it failed (failed scans), naming the cause.")
    error_vi: str | None = None
    changes: dict[str, Any] | None = Field(None, description="Tables added, updated, returned and marked missing.")


class DataSourceOut(BaseModel):
    """A data source; `dsn` with its password masked."""

    model_config = ConfigDict(title="DataSource")

    source_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: DataSourceKind
    dsn: str = Field(description="The DSN with the password replaced by ***.")
    schedule: str | None = Field(description="Cron expression; null: on demand only.")
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_scan: LastScanOut | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, request: Request, source: DataSource) -> DataSourceOut:
        scan = source.last_scan
        last_scan = None
        if scan is not None:
            summary = discovery_result_summary(scan.discovery_changes) if scan.status == ScanStatus.COMPLETED else None
            failed = scan.status == ScanStatus.FAILED
            last_scan = LastScanOut(
                scan_id=scan.pk,
                status=scan.status,
                status_vi=scan_status_label(scan.status).vi,
                status_url=data_scan_status_url(request, scan),
                completed_at=scan.completed_at,
                result=summary.en if summary else None,
                result_vi=summary.vi if summary else None,
                error=scan.error if failed else None,
                error_vi=scan.error_vi if failed else None,
                changes=scan.discovery_changes,
            )
        return cls(
            source_id=source.pk,
            tenant_id=source.tenant_id,
            name=source.name,
            kind=source.kind,
            dsn=source.dsn_masked,
            schedule=source.schedule or None,
            next_run_at=source.next_run_at,
            last_run_at=source.last_run_at,
            last_scan=last_scan,
            created_at=source.created_at,
            updated_at=source.updated_at,
        )


class DataSourceListQuery(PageQuery):
    limit: int = Field(50, ge=1, le=500, description="Page size, 1 to 500. Default 50.")


class DataSourcePage(PageEnvelope):
    data_sources: list[DataSourceOut] = Field(description="Oldest first.")


class DataSourceScanAccepted(BaseModel):
    """The 202 body: the discovery scan (a new one, or the one already pending or running)."""

    scan_id: uuid.UUID
    source_id: uuid.UUID
    status: ScanStatus
    status_vi: str
    started: bool = Field(description="False when a scan of this source was already pending or running: that scan is returned.")
    status_url: str = Field(description="GET it for the scan's progress (also in `Location`).")


class FindingOut(BaseModel):
    """One personal-data column of an activity: what it holds, why it was classified so, how sure."""

    column: str
    data_type: str = Field(description="The column's type in the source database.")
    personal_data_type: str = Field(description='e.g. "full_name", "phone", "citizen_id", "health".')
    personal_data_type_label: str
    personal_data_type_label_vi: str
    category: PdplCategory
    category_label: str
    category_label_vi: str
    reason: str = Field(description='"name", "values" or "both": what the classification rests on.')
    reason_label: str
    reason_label_vi: str
    confidence: float = Field(ge=0, le=1)
    sampled: int = Field(description="Values sampled (only counts are kept, never values).")
    matched: int = Field(description="Sampled values that matched the type.")

    @classmethod
    def of(cls, entry: dict[str, Any]) -> FindingOut:
        from inventory.discovery import personal_data_type_label, reason_label

        kind, category, reason = entry["personal_data_type"], entry["category"], entry["reason"]
        kind_label, category_label, why = personal_data_type_label(kind), pdpl_category_label(category), reason_label(reason)
        return cls(
            column=entry["column"],
            data_type=entry["data_type"],
            personal_data_type=kind,
            personal_data_type_label=kind_label.en,
            personal_data_type_label_vi=kind_label.vi,
            category=category,
            category_label=category_label.en,
            category_label_vi=category_label.vi,
            reason=reason,
            reason_label=why.en,
            reason_label_vi=why.vi,
            confidence=entry["confidence"],
            sampled=entry["sampled"],
            matched=entry["matched"],
        )


class SourceActivityOut(BaseModel):
    """A processing activity discovery keeps for one table of the source, each finding explained."""

    model_config = ConfigDict(title="DataSourceActivity")

    activity_id: uuid.UUID
    activity_name: str
    schema_name: str = Field(description="The table's schema (the database, on MySQL).")
    table: str
    pdpl_category: PdplCategory
    pdpl_category_vi: str
    data_fields: list[str]
    missing_since: dt.datetime | None = Field(
        description="Set when the table vanished or no longer holds personal data; the record is kept."
    )
    change: str = Field(description="What the last scan changed: added, updated, unchanged, missing or returned.")
    change_label: str
    change_label_vi: str
    changes: dict[str, Any] = Field(description="The details: columns added or removed, types changed, category before and after.")
    findings: list[FindingOut]

    @classmethod
    def of(cls, activity: ProcessingActivity) -> SourceActivityOut:
        changes = dict(activity.source_changes or {"change": "unchanged"})
        change = str(changes.pop("change", "unchanged"))
        label = render(f"source.change.{change}")
        return cls(
            activity_id=activity.pk,
            activity_name=activity.activity_name,
            schema_name=activity.source_schema or "",
            table=activity.source_table or "",
            pdpl_category=activity.pdpl_category,
            pdpl_category_vi=activity.pdpl_category_vi,
            data_fields=list(activity.data_fields),
            missing_since=activity.source_missing_since,
            change=change,
            change_label=label.en,
            change_label_vi=label.vi,
            changes=changes,
            findings=[FindingOut.of(entry) for entry in activity.source_findings or []],
        )


class SourceActivityQuery(PageQuery):
    limit: int = Field(100, ge=1, le=1000, description="Page size, 1 to 1,000. Default 100.")


class SourceActivityPage(PageEnvelope):
    activities: list[SourceActivityOut] = Field(description="Oldest first.")


# --- Views --------------------------------------------------------------------------------------


def _invalid(exc: DataSourceInvalid) -> ApiError:
    return ApiError("invalid_data_source", field=exc.field, params={"reason": exc.reason})


def _body(request: Request, *, required: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object sent, with no unknown field and every required one, or a bilingual 400."""
    data = request.data
    if not isinstance(data, dict):
        raise ApiError("invalid_body", params={"example": CREATE_EXAMPLE})
    for name in data:
        if name not in BODY_FIELDS:
            raise ApiError("invalid_data_source", field=str(name), params={"reason": render("item.unknown_field")})
    for name in required:
        if data.get(name) is None:
            raise ApiError("invalid_data_source", field=name, params={"reason": render("item.required")})
    return data


def source_url(request: Request, source: DataSource) -> str:
    path = reverse("data-source-detail", kwargs={"source_id": source.pk})
    return request.build_absolute_uri(f"{path}?{TENANT_PARAM}={source.tenant_id}")


class SourceScopedMixin(TenantScopedMixin):
    def source(self, source_id: uuid.UUID) -> DataSource:
        """The tenant's source, or 404 (another tenant's source and an unknown id alike)."""
        source = data_source_of_tenant(tenant=self.tenant, source_id=source_id)
        if source is None:
            raise ApiError("data_source_not_found", status_code=status.HTTP_404_NOT_FOUND)
        return source


class DataSourceCollectionView(SourceScopedMixin, APIView):
    """POST: register a data source (201). GET: the tenant's data sources, oldest first."""

    @idempotent
    @extend_schema(
        operation_id="data_sources_create",
        summary="Register a data source",
        description=(
            "A database of the tenant to scan for personal data, on demand or on a cron schedule. The DSN is "
            "stored encrypted and never returned (responses mask its password). Refused: a host outside "
            "DATA_SOURCE_ALLOWED_HOSTS, a host that does not resolve, and the service's own databases or broker."
        ),
        parameters=[TenantQuery],
        request=DataSourceCreate,
        responses={201: DataSourceOut, **error_responses(*COMMON_ERROR_STATUSES, 413, 415)},
        tags=["Data sources"],
    )
    def post(self, request: Request) -> Response:
        self.query(TenantQuery)
        data = _body(request, required=("name", "kind", "dsn"))
        try:
            source = data_source_create(
                tenant=self.tenant,
                name=data["name"],
                kind=data["kind"],
                dsn=data["dsn"],
                schedule=data.get("schedule") or "",
                actor=audit_actor_of_request(request),
            )
        except DataSourceInvalid as exc:
            raise _invalid(exc) from None
        return respond(DataSourceOut.of(request, source), status=status.HTTP_201_CREATED, headers={"Location": source_url(request, source)})

    @extend_schema(
        operation_id="data_sources_list",
        summary="A tenant's data sources",
        description="Paged like every list: `skip`/`limit`, or the `next_cursor` of a page passed as `cursor`.",
        parameters=[DataSourceListQuery],
        responses={200: DataSourcePage, **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Data sources"],
    )
    def get(self, request: Request) -> Response:
        query = self.query(DataSourceListQuery)
        page = DATA_SOURCE_PAGES.page(data_sources_of_tenant(tenant=self.tenant), limit=query.limit, skip=query.skip, cursor=query.cursor)
        return respond(DataSourcePage(**page.envelope(self.tenant.pk), data_sources=[DataSourceOut.of(request, s) for s in page.rows]))


class DataSourceDetailView(SourceScopedMixin, APIView):
    """GET, PATCH, DELETE one data source. Another tenant's source is a 404."""

    @extend_schema(
        operation_id="data_sources_retrieve",
        summary="A data source, its schedule and its last result",
        parameters=[TenantQuery],
        responses={200: DataSourceOut, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data sources"],
    )
    def get(self, request: Request, source_id: uuid.UUID) -> Response:
        self.query(TenantQuery)
        return respond(DataSourceOut.of(request, self.source(source_id)))

    @extend_schema(
        operation_id="data_sources_partial_update",
        summary="Change a data source",
        description="Only the fields sent change. A new schedule takes effect at once (beat reads it from the database).",
        parameters=[TenantQuery],
        request=DataSourceChange,
        responses={200: DataSourceOut, **error_responses(*COMMON_ERROR_STATUSES, 404, 413, 415)},
        tags=["Data sources"],
    )
    def patch(self, request: Request, source_id: uuid.UUID) -> Response:
        self.query(TenantQuery)
        source = self.source(source_id)
        data = _body(request, required=())
        changes = {name: data[name] for name in ("name", "kind", "dsn") if data.get(name) is not None}
        if "schedule" in data:
            changes["schedule"] = data["schedule"] or ""
        try:
            source = data_source_update(
                source=source, actor=audit_actor_of_request(request), **{name: changes.get(name, UNSET) for name in BODY_FIELDS}
            )
        except DataSourceInvalid as exc:
            raise _invalid(exc) from None
        return respond(DataSourceOut.of(request, source))

    @extend_schema(
        operation_id="data_sources_destroy",
        summary="Delete a data source",
        description="Deletes the source and its stored credentials. The activities found in it stay in the record of processing.",
        parameters=[TenantQuery],
        responses={204: None, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data sources"],
    )
    def delete(self, request: Request, source_id: uuid.UUID) -> Response:
        self.query(TenantQuery)
        data_source_delete(source=self.source(source_id), actor=audit_actor_of_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataSourceScanView(SourceScopedMixin, APIView):
    """POST: start a discovery scan of the source now (202)."""

    @idempotent
    @extend_schema(
        operation_id="data_sources_scans_create",
        summary="Scan a data source now",
        description=(
            "Starts a discovery scan (a Celery worker reads the source's tables and columns, samples a bounded "
            "number of values per column and updates the record of processing). Follow it at `status_url` "
            "(`GET /data-scans/{scan_id}`). If a scan of the source is pending or running, that one is returned."
        ),
        parameters=[TenantQuery],
        request=None,
        responses={202: DataSourceScanAccepted, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data sources"],
    )
    def post(self, request: Request, source_id: uuid.UUID) -> Response:
        self.query(TenantQuery)
        scan, started = data_source_scan_submit(source=self.source(source_id), actor=audit_actor_of_request(request))
        body = DataSourceScanAccepted(
            scan_id=scan.pk,
            source_id=source_id,
            status=scan.status,
            status_vi=scan_status_label(scan.status).vi,
            started=started,
            status_url=data_scan_status_url(request, scan),
        )
        return respond(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body.status_url})


class DataSourceActivityView(SourceScopedMixin, APIView):
    """GET: the activities discovery keeps for the source, each finding explained in both languages."""

    @extend_schema(
        operation_id="data_sources_activities_list",
        summary="What discovery found in a data source, explained",
        description=(
            "One processing activity per table holding personal data: its personal-data columns, the type each "
            "was classified as, why (name, values or both), the confidence, and what the last scan changed."
        ),
        parameters=[SourceActivityQuery],
        responses={200: SourceActivityPage, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data sources"],
    )
    def get(self, request: Request, source_id: uuid.UUID) -> Response:
        query = self.query(SourceActivityQuery)
        source = self.source(source_id)
        page = SOURCE_ACTIVITY_PAGES.page(data_source_activities(source=source), limit=query.limit, skip=query.skip, cursor=query.cursor)
        return respond(SourceActivityPage(**page.envelope(self.tenant.pk), activities=[SourceActivityOut.of(a) for a in page.rows]))
