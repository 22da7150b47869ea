"""The data-scan API: `POST /data-scans`, `GET /data-scans` (a tenant's scans), `GET /data-scans/{scan_id}`.

Thin views: parse, check the tenant (inventory.tenancy), validate (inventory.validation), call one
service or selector, render. A scan request may carry up to DATA_SCAN_MAX_RECORDS records, far
more than the site-wide DATA_UPLOAD_MAX_MEMORY_SIZE allows, so these views read their body with
their own parser and limit (DATA_SCAN_MAX_BODY_BYTES).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.batch_views import BatchItemErrorSerializer
from inventory.models import SCAN_STATUS_VI, DataScan, ScanStatus
from inventory.scan_selectors import data_scan_of_tenant, data_scans_of_tenant
from inventory.scan_services import data_scan_submit
from inventory.tenancy import TENANT_PARAM, TenantScopedMixin
from inventory.validation import activities_validate, activity_item_json_schema
from verisyntra.db.pools import release_read_connections
from verisyntra.errors import ApiError, request_too_large_body
from verisyntra.openapi import COMMON_ERROR_STATUSES, error_responses

# At most this many item errors are listed in a 400; `errors_total` says how many there were.
MAX_LISTED_ERRORS = 100


class DataScanJSONParser(BaseParser):
    """JSON with the data-scan size limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE.

    Not a subclass of DRF's JSONParser on purpose: DRF reads `request.body` (and so applies the
    site-wide limit) before calling a JSONParser; this one reads the stream itself.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_SCAN_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ApiError(status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, **request_too_large_body(limit))
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; RecursionError: nesting too deep
            raise ParseError(f"JSON parse error - {exc}") from None


def data_scan_status_url(request: Request, scan: DataScan) -> str:
    path = reverse("data-scan-detail", kwargs={"scan_id": scan.pk})
    return request.build_absolute_uri(f"{path}?{TENANT_PARAM}={scan.tenant_id}")


def data_scan_representation(request: Request, scan: DataScan) -> dict[str, Any]:
    duration = None
    if scan.started_at is not None:
        end = scan.completed_at or scan.updated_at
        duration = round(max((end - scan.started_at).total_seconds(), 0.0), 3)
    body: dict[str, Any] = {
        "scan_id": str(scan.pk),
        "tenant_id": str(scan.tenant_id),
        "status": scan.status,
        "status_vi": SCAN_STATUS_VI[ScanStatus(scan.status)],
        "progress_percent": scan.progress_percent,
        "records_total": scan.records_total,
        "records_processed": scan.records_processed,
        "created_at": scan.created_at.isoformat(),
        "started_at": scan.started_at.isoformat() if scan.started_at else None,
        "completed_at": scan.completed_at.isoformat() if scan.completed_at else None,
        "updated_at": scan.updated_at.isoformat(),
        "duration_seconds": duration,
        "status_url": data_scan_status_url(request, scan),
    }
    if scan.status == ScanStatus.FAILED:
        body["error"] = scan.error
        body["error_vi"] = scan.error_vi
    return body


# --- OpenAPI (documentation only) ------------------------------------------------------------------

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


class DataScanAcceptedSerializer(serializers.Serializer):
    scan_id = serializers.UUIDField()
    status = serializers.CharField(help_text='"pending"')
    status_vi = serializers.CharField(help_text='"Đang chờ xử lý"')
    records_total = serializers.IntegerField()
    status_url = serializers.URLField(help_text="GET it for the scan's progress (also in `Location`).")


class DataScanSerializer(serializers.Serializer):
    scan_id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ScanStatus.values)
    status_vi = serializers.CharField(help_text="Đang chờ xử lý, Đang xử lý, Hoàn thành, Thất bại")
    progress_percent = serializers.IntegerField(min_value=0, max_value=100)
    records_total = serializers.IntegerField()
    records_processed = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    duration_seconds = serializers.FloatField(allow_null=True)
    status_url = serializers.URLField()
    error = serializers.CharField(required=False, help_text="Only when failed.")
    error_vi = serializers.CharField(required=False, help_text="Only when failed.")


class DataScanInvalidSerializer(serializers.Serializer):
    error = serializers.CharField()
    error_vi = serializers.CharField()
    code = serializers.CharField(help_text="invalid_input, scan_too_large, malformed_json, tenant_id_required, ...")
    errors = BatchItemErrorSerializer(many=True, required=False, help_text="The first 100 bad records.")
    errors_total = serializers.IntegerField(required=False)
    max_records = serializers.IntegerField(required=False)


TENANT_QUERY = OpenApiParameter("tenant_id", str, OpenApiParameter.QUERY, required=True, description="The tenant (UUID).")


class DataScanPagination(CursorPagination):
    ordering = ("-created_at", "-scan_id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


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
            202: DataScanAcceptedSerializer,
            **error_responses(*COMMON_ERROR_STATUSES, 413, 415),
            400: OpenApiResponse(DataScanInvalidSerializer, description="Invalid records or body; nothing was stored."),
        },
        tags=["Data scans"],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise _invalid("The body must be a JSON object.", "Nội dung yêu cầu phải là một đối tượng JSON.")
        tenant = self.tenant  # 400/403 before anything is looked at in the records
        activities = request.data.get("activities")
        if not isinstance(activities, list) or not activities:
            raise _invalid(
                "'activities' must be a non-empty list of processing activities.",
                "'activities' phải là một danh sách hoạt động xử lý dữ liệu cá nhân không rỗng.",
            )
        limit = settings.DATA_SCAN_MAX_RECORDS
        if len(activities) > limit:
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="scan_too_large",
                error=f"Too many records: {len(activities)}; a data scan takes at most {limit}.",
                error_vi=f"Quá nhiều bản ghi: {len(activities)}; mỗi lần quét dữ liệu nhận tối đa {limit}.",
                max_records=limit,
            )
        result = activities_validate(activities)
        if not result.ok:
            errors = result.errors_as_dicts()
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid_input",
                error="Invalid input: some records are not valid processing activities; nothing was stored.",
                error_vi=(
                    "Dữ liệu đầu vào không hợp lệ: một số bản ghi không phải hoạt động xử lý dữ liệu cá nhân hợp lệ; không có gì được lưu."
                ),
                errors=errors[:MAX_LISTED_ERRORS],
                errors_total=len(errors),
            )
        release_read_connections()  # the reads are done: don't hold the read pool while queueing for a write connection
        scan = data_scan_submit(tenant=tenant, rows=result.rows)
        body = {
            "scan_id": str(scan.pk),
            "status": scan.status,
            "status_vi": SCAN_STATUS_VI[ScanStatus(scan.status)],
            "records_total": scan.records_total,
            "status_url": data_scan_status_url(request, scan),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})

    @extend_schema(
        operation_id="data_scans_list",
        summary="A tenant's data scans, newest first",
        parameters=[
            TENANT_QUERY,
            OpenApiParameter("status", str, OpenApiParameter.QUERY, enum=ScanStatus.values),
            OpenApiParameter("limit", int, OpenApiParameter.QUERY, description="1 to 500 (default 50)."),
        ],
        responses={200: DataScanSerializer(many=True), **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Data scans"],
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in ScanStatus.values:
            raise _invalid(
                f"Unknown status; use one of {', '.join(ScanStatus.values)}.",
                f"Trạng thái không hợp lệ; hãy dùng một trong các giá trị {', '.join(ScanStatus.values)}.",
            )
        paginator = DataScanPagination()
        page = paginator.paginate_queryset(data_scans_of_tenant(tenant=self.tenant, status=wanted), request, view=self)
        return paginator.get_paginated_response([data_scan_representation(request, scan) for scan in page])


class DataScanDetailView(TenantScopedMixin, APIView):
    """GET: one scan's status and progress (`?tenant_id=`). Another tenant's scan is a 404."""

    @extend_schema(
        operation_id="data_scans_retrieve",
        summary="A data scan's status and progress",
        parameters=[TENANT_QUERY],
        responses={200: DataScanSerializer, **error_responses(*COMMON_ERROR_STATUSES, 404)},
        tags=["Data scans"],
    )
    def get(self, request: Request, scan_id) -> Response:
        scan = data_scan_of_tenant(tenant=self.tenant, scan_id=scan_id)
        if scan is None:
            raise ApiError(
                status_code=status.HTTP_404_NOT_FOUND,
                code="data_scan_not_found",
                error="No such data scan for this tenant.",
                error_vi="Không tìm thấy lần quét dữ liệu này của tổ chức.",
            )
        return Response(data_scan_representation(request, scan))


def _invalid(error: str, error_vi: str) -> ApiError:
    return ApiError(status_code=status.HTTP_400_BAD_REQUEST, code="invalid_input", error=error, error_vi=error_vi)
