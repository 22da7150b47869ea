"""The batch API: `POST /batch/processing-activities?tenant_id=...` (1 to 10,000 activities per request).

Thin view: check the tenant (inventory.tenancy), read the body, call one service, render. The body
is parsed and type-checked straight from `request.body` by pydantic in one native pass rather than
through DRF's parser and serializers: for 10,000 records that is tens of milliseconds instead of
about half a second (FIELD-NOTES), and it also refuses what PostgreSQL could not store (unpaired
surrogates). Only a body that fails that pass is parsed again, to say exactly what is wrong.
Django still enforces DATA_UPLOAD_MAX_MEMORY_SIZE when the body is read (a bilingual 413 through
verisyntra.errors).
"""

from __future__ import annotations

import time
from typing import Any

import pydantic_core
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.services import processing_activities_batch_create
from inventory.tenancy import TenantScopedMixin
from inventory.validation import MAX_BATCH_ITEMS, MIN_BATCH_ITEMS, activity_item_json_schema, batch_body_validate_json
from verisyntra.db.pools import release_read_connections
from verisyntra.errors import ApiError
from verisyntra.openapi import COMMON_ERROR_STATUSES, error_responses

ON_ERROR_PARAM = "on_error"
ON_ERROR_CHOICES = ("abort", "skip")


def _invalid_body(error: str, error_vi: str, code: str = "invalid_body", **extra: Any) -> ApiError:
    return ApiError(status_code=status.HTTP_400_BAD_REQUEST, code=code, error=error, error_vi=error_vi, **extra)


def batch_items_from_request(request: Request) -> tuple[list[Any], bool]:
    """The `activities` of a JSON body and whether pydantic has type-checked them already, or the
    bilingual 4xx that says what is wrong with the body."""
    media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(media_type or "(none)")
    body = request.body  # RequestDataTooBig -> 413 (verisyntra.errors)
    items = batch_body_validate_json(body)
    if items is not None:  # the common case: one native pass, nothing else to say about the body
        return items, True
    if not body.strip():
        raise ParseError("The request body is empty.")
    try:
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    activities = data.get("activities") if isinstance(data, dict) else None
    if not isinstance(activities, list):
        raise _invalid_body(
            'The body must be a JSON object with an "activities" list: {"activities": [...]}.',
            'Nội dung yêu cầu phải là một đối tượng JSON có danh sách "activities": {"activities": [...]}.',
        )
    if len(activities) < MIN_BATCH_ITEMS:
        raise _invalid_body(
            "The activities list is empty: send 1 to 10,000 processing activities.",
            "Danh sách activities rỗng: hãy gửi từ 1 đến 10.000 hoạt động xử lý dữ liệu cá nhân.",
            code="empty_batch",
            min_items=MIN_BATCH_ITEMS,
            max_items=MAX_BATCH_ITEMS,
        )
    if len(activities) > MAX_BATCH_ITEMS:
        raise _invalid_body(
            f"Too many activities: {len(activities)}; a batch takes at most 10,000 (use POST /data-scans for more).",
            f"Quá nhiều hoạt động: {len(activities)}; mỗi lô nhận tối đa 10.000 (dùng POST /data-scans cho số lượng lớn hơn).",
            code="batch_too_large",
            min_items=MIN_BATCH_ITEMS,
            max_items=MAX_BATCH_ITEMS,
        )
    return activities, False


def on_error_mode(request: Request) -> bool:
    """True for `?on_error=skip`; `abort` (the default) keeps the batch all or nothing."""
    raw = request.query_params.get(ON_ERROR_PARAM) or "abort"
    if raw not in ON_ERROR_CHOICES:
        raise _invalid_body(
            "on_error must be 'abort' (default: all or nothing) or 'skip' (write the valid items).",
            "on_error phải là 'abort' (mặc định: tất cả hoặc không) hoặc 'skip' (ghi các mục hợp lệ).",
            code="invalid_parameter",
        )
    return raw == "skip"


# --- OpenAPI ---------------------------------------------------------------------------------


class BatchItemErrorSerializer(serializers.Serializer):
    """Documentation only: one rejected item."""

    index = serializers.IntegerField(help_text="Position of the item in `activities` (from 0).")
    field = serializers.CharField(allow_null=True, help_text='e.g. "pdpl_category", "data_fields[2]"; null for the whole item.')
    code = serializers.CharField()
    message = serializers.CharField()
    message_vi = serializers.CharField()


BATCH_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["activities"],
    "properties": {
        "activities": {
            "type": "array",
            "minItems": MIN_BATCH_ITEMS,
            "maxItems": MAX_BATCH_ITEMS,
            "items": activity_item_json_schema(),
            "description": "1 to 10,000 processing activities.",
        }
    },
}


class BatchCreatedSerializer(serializers.Serializer):
    """Documentation only: the 201 body (the design's fields, plus the ids and rejected items)."""

    success = serializers.BooleanField()
    success_vi = serializers.CharField(help_text='"Thành công"')
    tenant_id = serializers.UUIDField()
    records_created = serializers.IntegerField()
    records_failed = serializers.IntegerField(help_text="Items rejected (only with on_error=skip).")
    execution_time_seconds = serializers.FloatField()
    message = serializers.CharField()
    message_vi = serializers.CharField()
    created_ids = serializers.ListField(child=serializers.UUIDField(), help_text="In the order the items were sent.")
    errors = BatchItemErrorSerializer(many=True, help_text="Rejected items (on_error=skip); empty otherwise.")


class BatchInvalidSerializer(serializers.Serializer):
    """Documentation only: the 400 body (the error shape, plus every bad item)."""

    error = serializers.CharField()
    error_vi = serializers.CharField()
    code = serializers.CharField(help_text="invalid_activities, empty_batch, batch_too_large, invalid_body, malformed_json, ...")
    records_failed = serializers.IntegerField(required=False)
    errors = BatchItemErrorSerializer(many=True, required=False, help_text="Every bad item: index, field, message in both languages.")
    min_items = serializers.IntegerField(required=False)
    max_items = serializers.IntegerField(required=False)
    details = serializers.CharField(required=False)


class ProcessingActivityBatchView(TenantScopedMixin, APIView):
    """POST: write 1 to 10,000 processing activities for `?tenant_id=` in one transaction."""

    @extend_schema(
        operation_id="batch_processing_activities_create",
        summary="Batch insert processing activities",
        description=(
            "Insert 1 to 10,000 processing activities (hoạt động xử lý dữ liệu cá nhân) for the tenant in one "
            "transaction on the write pool. By default all or nothing: any invalid item answers 400 listing "
            "every bad item (index, field, message and message_vi) and nothing is written. With "
            "`on_error=skip` the valid items are written and the rejected ones listed. `pdpl_category` "
            'takes the code (sensitive, basic, public) or the label ("Category 2: Basic Personal Data"). '
            "The caller must be a member of the tenant (403 otherwise, whether or not it exists)."
        ),
        parameters=[
            OpenApiParameter("tenant_id", str, OpenApiParameter.QUERY, required=True, description="The tenant (UUID)."),
            OpenApiParameter(
                ON_ERROR_PARAM,
                str,
                OpenApiParameter.QUERY,
                enum=list(ON_ERROR_CHOICES),
                description="abort (default): all or nothing. skip: write the valid items, report the others.",
            ),
        ],
        request={"application/json": BATCH_REQUEST_SCHEMA},
        responses={
            201: BatchCreatedSerializer,
            **error_responses(*COMMON_ERROR_STATUSES, 413, 415),
            400: OpenApiResponse(BatchInvalidSerializer, description="Invalid items or body; nothing was written."),
        },
        examples=[
            OpenApiExample(
                "The design's example",
                request_only=True,
                value={
                    "activities": [
                        {
                            "activity_name": "Customer Data Processing",
                            "pdpl_category": "Category 2: Basic Personal Data",
                            "data_fields": ["ho_ten", "dia_chi", "so_dien_thoai"],
                        }
                    ]
                },
            )
        ],
        tags=["Batch"],
    )
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        tenant = self.tenant  # 400/403 before the body is read
        skip_invalid = on_error_mode(request)
        items, type_checked = batch_items_from_request(request)
        release_read_connections()  # the reads are done: don't hold the read pool while queueing for a write connection
        outcome = processing_activities_batch_create(tenant=tenant, items=items, skip_invalid=skip_invalid, type_checked=type_checked)
        seconds = round(time.perf_counter() - started, 4)
        created = len(outcome.ids)
        message = f"Created {created} records in {seconds:.3f}s"
        message_vi = f"Đã tạo {created} bản ghi trong {seconds:.3f} giây"
        if outcome.records_failed:
            message += f"; {outcome.records_failed} rejected"
            message_vi += f"; {outcome.records_failed} bản ghi bị từ chối"
        body = {
            "success": True,
            "success_vi": "Thành công",
            "tenant_id": str(tenant.pk),
            "records_created": created,
            "records_failed": outcome.records_failed,
            "execution_time_seconds": seconds,
            "message": message,
            "message_vi": message_vi,
            "created_ids": outcome.ids,
            "errors": [error.as_dict() for error in outcome.errors],
        }
        return Response(body, status=status.HTTP_201_CREATED)
