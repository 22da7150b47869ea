"""The data-scan API: `POST /data-scans`, `GET /data-scans` (a tenant's scans), `GET /data-scans/{scan_id}`.

Thin views: parse, check the tenant (inventory.tenancy), validate (inventory.validation), call one
service or selector, render. A scan request may carry up to DATA_SCAN_MAX_RECORDS records, far
more than the site-wide DATA_UPLOAD_MAX_MEMORY_SIZE allows, so these views read their body with
their own parser and limit (DATA_SCAN_MAX_BODY_BYTES).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import DataScan, ScanStatus, scan_status_label
from inventory.scan_selectors import data_scan_of_tenant, data_scans_of_tenant
from inventory.scan_services import data_scan_submit
from inventory.tenancy import TENANT_PARAM, TenantScopedMixin
from inventory.validation import activities_validate, activity_item_json_schema
from verisyntra.api.errors import ApiError, ItemErrorsBody, request_too_large
from verisyntra.api.openapi import COMMON_ERROR_STATUSES, error_responses
from verisyntra.api.pagination import KeysetPaginator, PageEnvelope, PageQuery
from verisyntra.api.query import TenantQuery
from verisyntra.api.responses import respond
from verisyntra.db.pools import release_read_connections

# At most this many item errors are listed in a 400; `errors_total` says how many there were.
MAX_LISTED_ERRORS = 100
SCAN_EXAMPLE = '{"tenant_id": "...", "activities": [...]}'
DATA_SCAN_PAGES = KeysetPaginator(list_name="inventory.data-scans", time_field="created_at", id_field="scan_id", descending=True)


class DataScanJSONParser(BaseParser):
    """JSON with the data-scan size limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE.

    Not a subclass of DRF's JSONParser on purpose: DRF reads `request.body` (and so applies the
    site-wide limit) before calling a JSONParser; this one reads the stream itself.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_SCAN_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise request_too_large(limit)
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; RecursionError: nesting too deep
            raise ParseError(f"JSON parse error - {exc}") from None


def data_scan_status_url(request: Request, scan: DataScan) -> str:
    path = reverse("data-scan-detail", kwargs={"scan_id": scan.pk})
    return request.build_absolute_uri(f"{path}?{TENANT_PARAM}={scan.tenant_id}")


# --- Declarations: the queries and the bodies, validated and documented from here ------------

SCAN_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["tenant_id", "activities"],
    "properties": {
        "tenant_id": {"type": "string", "format": "uuid", "description": "The tenant (the caller must be a member)."},
        "activities": {
            "type": "array",
            "minItems": 1,
            "items": activity_item_json_schema(),
            "description": "1 to DATA_SCAN_MAX_RECORDS (100,000) processing activities.",
        },
    },
}


class DataScanListQuery(PageQuery):
    status: ScanStatus | None = Field(None, description="Only the scans in this status.")
    limit: int = Field(50, ge=1, le=500, description="Page size, 1 to 500. Default 50.")


class DataScanAccepted(BaseModel):
    """The 202 body: the stored scan and where to follow it."""

    scan_id: uuid.UUID
    status: ScanStatus
    status_vi: str
    records_total: int
    status_url: str = Field(description="GET it for the scan's progress (also in `Location`).")


class DataScanOut(BaseModel):
    """A scan's status and progress; `error` and `error_vi` only when it failed."""

    model_config = ConfigDict(title="DataScan")

    scan_id: uuid.UUID
    tenant_id: uuid.UUID
    status: ScanStatus
    status_vi: str
    progress_percent: int = Field(ge=0, le=100)
    records_total: int
    records_processed: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    updated_at: dt.datetime
    duration_seconds: float | None
    status_url: str
    error: str | None = Field(None, description="Only when failed.")
    error_vi: str | None = Field(None, description="Only when failed.")

    @classmethod
    def of(cls, request: Request, scan: DataScan) -> DataScanOut:
        duration = None
        if scan.started_at is not None:
            end = scan.completed_at or scan.updated_at
            duration = round(max((end - scan.started_at).total_seconds(), 0.0), 3)
        failure = {"error": scan.error, "error_vi": scan.error_vi} if scan.status == ScanStatus.FAILED else {}
        return cls(
            scan_id=scan.pk,
            tenant_id=scan.tenant_id,
            status=scan.status,
            status_vi=scan_status_label(scan.status).vi,
            progress_percent=scan.progress_percent,
            records_total=scan.records_total,
            records_processed=scan.records_processed,
            created_at=scan.created_at,
            started_at=scan.started_at,
            completed_at=scan.completed_at,
            updated_at=scan.updated_at,
            duration_seconds=duration,
            status_url=data_scan_status_url(request, scan),
            **failure,
        )


class DataScanPage(PageEnvelope):
    scans: list[DataScanOut] = Field(description="Newest first.")


class DataScanCollectionView(TenantScopedMixin, APIView):
    """POST: submit a scan (202). GET: the tenant's scans, newest first (`?tenant_id=`, `?status=`)."""

    parser_classes = [DataScanJSONParser]

    def get_tenant_id_input(self) -> Any:
        if self.request.method == "POST":
            data = self.request.data
            return data.get(TENANT_PARAM) if isinstance(data, dict) else None
        return super().get_tenant_id_input()

    @extend_schema(
        operation_id="data_scans_create",
        summary="Submit a data scan",
        description=(
            "Store up to 100,000 processing activities durably and write them in the background (a Celery "
            "worker, through the write pool). Every record is validated first: one bad record answers 400 "
            "and nothing is stored. Answers 202 with the scan's `status_url`."
        ),
        request={"application/json": SCAN_REQUEST_SCHEMA},
        responses={
            202: DataScanAccepted,
            **error_responses(*COMMON_ERROR_STATUSES, 413, 415),
            400: OpenApiResponse(ItemErrorsBody, description="Invalid records or body; nothing was stored."),
        },
        tags=["Data scans"],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ApiError("invalid_body", params={"example": SCAN_EXAMPLE})
        tenant = self.tenant  # 400/403 before anything is looked at in the records
        activities = request.data.get("activities")
        if not isinstance(activities, list):
            raise ApiError("invalid_body", params={"example": SCAN_EXAMPLE})
        limit = settings.DATA_SCAN_MAX_RECORDS
        if not activities:
            raise ApiError("empty_batch", min_items=1, max_items=limit)
        if len(activities) > limit:
            raise ApiError("batch_too_large", params={"count": len(activities)}, min_items=1, max_items=limit)
        result = activities_validate(activities)
        if not result.ok:
            errors = result.errors_as_dicts()
            failed = len(result.failed_indexes)
            raise ApiError(
                "invalid_activities",
                records_failed=failed,
                errors=errors[:MAX_LISTED_ERRORS],
                errors_total=len(errors),
            )
        release_read_connections()  # the reads are done: don't hold the read pool while queueing for a write connection
        scan = data_scan_submit(tenant=tenant, rows=result.rows)
        body = DataScanAccepted(
            scan_id=scan.pk,
            status=scan.status,
            status_vi=scan_status_label(scan.status).vi,
            records_total=scan.records_total,
            status_url=data_scan_status_url(request, scan),
        )
        return respond(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body.status_url})

    @extend_schema(
        operation_id="data_scans_list",
        summary="A tenant's data scans, newest first",
        description="Paged like every list: `skip`/`limit`, or the `next_cursor` of a page passed as `cursor`.",
        parameters=[DataScanListQuery],
        responses={200: DataScanPage, **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Data scans"],
    )
    def get(self, request: Request) -> Response:
        query = self.query(DataScanListQuery)
        scans = data_scans_of_tenant(tenant=self.tenant, status=query.status)
        page = DATA_SCAN_PAGES.page(scans, limit=query.limit, skip=query.skip, cursor=query.cursor)
        return respond(DataScanPage(**page.envelope(self.tenant.pk), scans=[DataScanOut.of(request, scan) for scan in page.rows]))


class DataScanDetailView(TenantScopedMixin, APIView):
    """GET: one scan's status and progress (`?tenant_id=`). Another tenant's scan is a 404."""

    @extend_schema(
        operation_id="data_scans_retrieve",
        summary="A data scan's status and progress",
        parameters=[TenantQuery],
        responses={200: DataScanOut, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data scans"],
    )
    def get(self, request: Request, scan_id: uuid.UUID) -> Response:
        self.query(TenantQuery)
        scan = data_scan_of_tenant(tenant=self.tenant, scan_id=scan_id)
        if scan is None:
            raise ApiError("data_scan_not_found", status_code=status.HTTP_404_NOT_FOUND)
        return respond(DataScanOut.of(request, scan))
