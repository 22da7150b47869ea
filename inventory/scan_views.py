"""The data-scan API: `POST /data-scans`, `GET /data-scans` (a tenant's scans), `GET /data-scans/{scan_id}`,
`DELETE /data-scans/{scan_id}` (cancel).

Thin views: parse, check the tenant (inventory.tenancy), validate (inventory.validation), call one
service or selector, render. A scan request may carry up to DATA_SCAN_MAX_RECORDS records, far
more than the site-wide DATA_UPLOAD_MAX_MEMORY_SIZE allows, so these views read their body with
their own parser and limit (DATA_SCAN_MAX_BODY_BYTES).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import audit_actor_of_request
from inventory.models import DataScan, ScanStatus, scan_status_label
from inventory.scan_selectors import data_scan_of_tenant, data_scans_of_tenant
from inventory.scan_services import data_scan_cancel, data_scan_submit_chunks
from inventory.scan_stream import NDJSON_MEDIA_TYPE, ScanBody
from inventory.tenancy import TENANT_PARAM, TenantScopedMixin
from inventory.validation import MAX_FAILED_ITEMS, ActivityRow, ValidationResult, activities_validate, activity_item_json_schema
from verisyntra.api.errors import ApiError, ItemErrorsBody
from verisyntra.api.idempotency import idempotent
from verisyntra.api.openapi import COMMON_ERROR_STATUSES, error_responses
from verisyntra.api.pagination import KeysetPaginator, PageEnvelope, PageQuery
from verisyntra.api.query import TenantQuery
from verisyntra.api.responses import respond
from verisyntra.db.pools import release_read_connections

# A staged chunk ends after this much body even if it holds fewer than DATA_SCAN_CHUNK_SIZE records:
# 10,000 records of the largest allowed size would be gigabytes in memory. Realistic records
# (about 500 bytes) fill a 10,000-record chunk with about 5 MB.
CHUNK_MAX_BYTES = 8 << 20
DATA_SCAN_PAGES = KeysetPaginator(list_name="inventory.data-scans", time_field="created_at", id_field="scan_id", descending=True)


class DataScanJSONParser(BaseParser):
    """A data-scan body (JSON) as a `ScanBody`, read incrementally later, with its own size limit.

    Not a subclass of DRF's JSONParser on purpose: DRF reads `request.body` (and so applies the
    site-wide DATA_UPLOAD_MAX_MEMORY_SIZE and holds the whole body) before calling a JSONParser;
    this one reads nothing: the view reads the stream block by block (inventory.scan_stream).
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> ScanBody:
        return ScanBody(stream, media_type=self.media_type, limit=settings.DATA_SCAN_MAX_BODY_BYTES)


class DataScanNDJSONParser(DataScanJSONParser):
    """One activity per line (`application/x-ndjson`); the tenant is in the query string."""

    media_type = NDJSON_MEDIA_TYPE


def scan_body(request: Request, parsers: list[BaseParser]) -> ScanBody | None:
    """The request's ScanBody, also for a chunked body (`Transfer-Encoding: chunked`, no Content-Length).

    Django and DRF read a body without Content-Length as empty (a misleading 400); gunicorn
    decodes a chunked body in `wsgi.input`, and ScanBody's own limit bounds it.
    """
    data = request.data
    if isinstance(data, ScanBody):
        return data
    environ = request._request.environ
    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() or "wsgi.input" not in environ:
        return None
    parser = request.negotiator.select_parser(request, parsers)
    if parser is None:
        raise UnsupportedMediaType(request.content_type)
    body = parser.parse(environ["wsgi.input"])
    request._full_data = body  # the view's later reads of `request.data` see the same body
    return body


def validated_chunks(
    items: Iterator[Any], *, chunk_size: int, max_records: int, bytes_read: Callable[[], int], chunk_max_bytes: int = CHUNK_MAX_BYTES
) -> Iterator[list[ActivityRow]]:
    """The body's items validated and normalised a chunk at a time, for staging as they come.

    A chunk ends at `chunk_size` items or after `chunk_max_bytes` of body, whichever comes first,
    so memory is bounded by bytes as well as by records. Raises the bilingual 400 once the body
    turns out invalid: after MAX_FAILED_ITEMS bad items (without reading further), or at its end;
    after the first bad item nothing more is yielded, so the caller's transaction rolls back what
    it staged. Too many records: the 400 counts them to the end of the body, without validating them.
    """
    errors = ValidationResult()
    block: list[Any] = []
    count = 0
    block_start = bytes_read()

    def check(block: list[Any], first_index: int) -> list[ActivityRow]:
        result = activities_validate(block, first_index=first_index, failed_before=errors.records_failed)
        errors.merge_errors(result)
        if errors.records_failed >= MAX_FAILED_ITEMS:
            errors.stopped_early = True  # later items are not looked at
            raise ApiError("invalid_activities", **errors.error_detail())
        return result.rows

    for item in items:
        count += 1
        if count > max_records:
            count += sum(1 for _ in items)
            raise ApiError("batch_too_large", params={"count": count}, min_items=1, max_items=max_records)
        block.append(item)
        if len(block) == chunk_size or bytes_read() - block_start >= chunk_max_bytes:
            rows = check(block, count - len(block))
            block, block_start = [], bytes_read()
            if errors.ok:
                yield rows
    if count == 0:
        raise ApiError("empty_batch", min_items=1, max_items=max_records)
    rows = check(block, count - len(block)) if block else []
    if not errors.ok:
        raise ApiError("invalid_activities", **errors.error_detail())
    if rows:
        yield rows


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


class DataScanCancelQuery(TenantQuery):
    discard: bool = Field(False, description="Also delete the processing activities the scan has already written.")


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
    source_id: uuid.UUID | None = Field(None, description="Only on a discovery scan of a data source; its records are the source's tables.")
    changes: dict[str, Any] | None = Field(
        None,
        description="Only on a discovery scan, once completed: tables read, and the tables added, updated, returned and marked missing.",
    )

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
            **({"source_id": scan.data_source_id, "changes": scan.discovery_changes} if scan.data_source_id else {}),
        )


class DataScanPage(PageEnvelope):
    scans: list[DataScanOut] = Field(description="Newest first.")


class DataScanCollectionView(TenantScopedMixin, APIView):
    """POST: submit a scan (202). GET: the tenant's scans, newest first (`?tenant_id=`, `?status=`)."""

    parser_classes = [DataScanJSONParser, DataScanNDJSONParser]

    def get_tenant_id_input(self) -> Any:
        if self.request.method == "POST" and TENANT_PARAM not in self.request.query_params:
            # Read from the body only up to its `tenant_id` (inventory.scan_stream.ScanBody).
            body = scan_body(self.request, self.get_parsers())
            return body.tenant_id() if body is not None else None
        return super().get_tenant_id_input()

    @idempotent
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
        # 400/403 first: a `?tenant_id=` before a byte of the body is read, a body's `tenant_id`
        # before any of its activities is parsed.
        tenant = self.tenant
        body = scan_body(request, self.get_parsers())  # nothing read yet beyond the tenant id
        if body is None:
            raise ParseError("The request body is empty.")
        release_read_connections()  # the reads are done: don't hold the read pool while queueing for a write connection
        chunks = validated_chunks(
            body.items(tenant_id=tenant.pk),
            chunk_size=settings.DATA_SCAN_CHUNK_SIZE,
            max_records=settings.DATA_SCAN_MAX_RECORDS,
            bytes_read=lambda: body.bytes_read,
        )
        scan = data_scan_submit_chunks(tenant=tenant, chunks=chunks, actor=audit_actor_of_request(request))
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
    """GET: one scan's status and progress; DELETE: cancel it (`?tenant_id=`). Another tenant's scan is a 404."""

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

    @extend_schema(
        operation_id="data_scans_cancel",
        summary="Cancel a data scan",
        description=(
            "Cancel a pending or processing scan: it becomes `cancelled` at once, its worker stops at the next "
            "chunk boundary (the chunk in flight is rolled back) and its stored records are deleted. The "
            "processing activities already written stay, unless `discard=true`. Idempotent: cancelling a "
            "cancelled scan answers it again. A completed or failed scan answers 409 `data_scan_finished`."
        ),
        parameters=[DataScanCancelQuery],
        responses={200: DataScanOut, **error_responses(*COMMON_ERROR_STATUSES, 404, 409)},
        tags=["Data scans"],
    )
    def delete(self, request: Request, scan_id: uuid.UUID) -> Response:
        query = self.query(DataScanCancelQuery)
        release_read_connections()  # the tenant check is done: don't hold the read pool while writing
        scan = data_scan_cancel(tenant_id=self.tenant.pk, scan_id=scan_id, discard=query.discard, actor=audit_actor_of_request(request))
        return respond(DataScanOut.of(request, scan))
