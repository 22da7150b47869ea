"""Dashboard reads: `GET /analytics/compliance-summary` and `GET /analytics/processing-activities`.

Thin views: check the tenant and the parameters, call one selector with the tenant-scoped
queryset (inventory.tenancy), render. Reads carry no alias: the router sends them to the read pool.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import ActivityCursor, compliance_summary, processing_activities_page
from inventory.models import PDPL_CATEGORY_VI, ActivityCount, PdplCategory, ProcessingActivity
from inventory.tenancy import TenantScopedMixin
from verisyntra.errors import ApiError
from verisyntra.openapi import COMMON_ERROR_STATUSES, error_responses

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# OFFSET is a bigint in PostgreSQL; anything past int32 is a client bug, and deep pages want the cursor.
MAX_SKIP = 2_147_483_647

TENANT_PARAMETER = OpenApiParameter(
    "tenant_id", str, OpenApiParameter.QUERY, required=True, description="The tenant (UUID); the caller must be a member."
)


def _bad_parameter(error: str, error_vi: str) -> ApiError:
    return ApiError(status_code=status.HTTP_400_BAD_REQUEST, code="invalid_parameter", error=error, error_vi=error_vi)


def int_parameter(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise _bad_parameter(
            f"{name} must be a whole number from {minimum} to {maximum}.",
            f"{name} phải là số nguyên từ {minimum} đến {maximum}.",
        )
    return value


# --- OpenAPI (documentation only) ------------------------------------------------------------


class CategoryCountSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=PdplCategory.choices)
    category_label = serializers.CharField()
    category_vi = serializers.CharField()
    count = serializers.IntegerField()


class LegalBasisCountSerializer(serializers.Serializer):
    legal_basis = serializers.CharField(help_text='The code; "" when not stated.')
    legal_basis_label = serializers.CharField()
    legal_basis_vi = serializers.CharField()
    count = serializers.IntegerField()


class CrossBorderCountSerializer(serializers.Serializer):
    cross_border_transfer = serializers.BooleanField()
    label = serializers.CharField()
    label_vi = serializers.CharField()
    count = serializers.IntegerField()


class ComplianceSummarySerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    total_activities = serializers.IntegerField()
    categories = CategoryCountSerializer(many=True)
    legal_bases = LegalBasisCountSerializer(many=True)
    cross_border_transfers = CrossBorderCountSerializer(many=True)


class ActivitySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    activity_name = serializers.CharField()
    pdpl_category = serializers.ChoiceField(choices=PdplCategory.choices)
    pdpl_category_label = serializers.CharField()
    pdpl_category_vi = serializers.CharField()
    data_fields = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField(allow_blank=True)
    legal_basis = serializers.CharField(allow_blank=True)
    data_subjects = serializers.ListField(child=serializers.CharField())
    recipients = serializers.ListField(child=serializers.CharField())
    cross_border_transfer = serializers.BooleanField()
    retention_months = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ActivityPageSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    count = serializers.IntegerField(help_text="Activities on this page.")
    skip = serializers.IntegerField()
    limit = serializers.IntegerField()
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page.")
    activities = ActivitySerializer(many=True)


# --- Views -----------------------------------------------------------------------------------


class ComplianceSummaryView(TenantScopedMixin, APIView):
    """GET: the tenant's PDPL compliance summary (read pool, one query for the counts)."""

    @extend_schema(
        operation_id="analytics_compliance_summary",
        summary="PDPL compliance summary",
        description=(
            "Counts of the tenant's processing activities by PDPL category (with English and Vietnamese "
            "labels), by legal basis and by cross-border transfer. Every category, legal basis and transfer "
            "value is listed, with 0 where there is none. A constant number of queries whatever the data size."
        ),
        parameters=[TENANT_PARAMETER],
        responses={200: ComplianceSummarySerializer, **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Analytics"],
    )
    def get(self, request: Request) -> Response:
        summary = compliance_summary(counts=self.scope(ActivityCount.objects.all()))
        return Response({"tenant_id": str(self.tenant.pk), **summary})


class ProcessingActivityListView(TenantScopedMixin, APIView):
    """GET: the tenant's processing activities in a stable order, by offset or by cursor."""

    @extend_schema(
        operation_id="analytics_processing_activities_list",
        summary="List processing activities",
        description=(
            "The tenant's processing activities, oldest first (created_at, then id; a batch keeps the order "
            "it was sent in). Page with `skip`/`limit` (the design's), or pass the `next_cursor` of a page as "
            "`cursor` to get the next one: cursor pages cost the same however deep, where `skip` reads every "
            "row it skips. `cursor` and `skip` do not combine."
        ),
        parameters=[
            TENANT_PARAMETER,
            OpenApiParameter("skip", int, OpenApiParameter.QUERY, description=f"Rows to skip (0 to {MAX_SKIP}). Default 0."),
            OpenApiParameter("limit", int, OpenApiParameter.QUERY, description=f"Page size, 1 to {MAX_LIMIT}. Default {DEFAULT_LIMIT}."),
            OpenApiParameter("cursor", str, OpenApiParameter.QUERY, description="`next_cursor` of the previous page."),
        ],
        responses={
            200: ActivityPageSerializer,
            **error_responses(*COMMON_ERROR_STATUSES),
        },
        tags=["Analytics"],
    )
    def get(self, request: Request) -> Response:
        tenant = self.tenant
        limit = int_parameter(request, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        skip = int_parameter(request, "skip", default=0, minimum=0, maximum=MAX_SKIP)
        raw_cursor = request.query_params.get("cursor") or None
        after = None
        if raw_cursor is not None:
            if skip:
                raise _bad_parameter(
                    "Use either cursor or skip, not both.",
                    "Chỉ dùng một trong hai tham số cursor hoặc skip.",
                )
            try:
                after = ActivityCursor.decode(raw_cursor)
            except ValueError:
                raise ApiError(
                    status_code=status.HTTP_400_BAD_REQUEST,
                    code="invalid_cursor",
                    error="Malformed cursor: pass the next_cursor of a previous page unchanged.",
                    error_vi="Cursor không hợp lệ: hãy truyền nguyên giá trị next_cursor của trang trước.",
                ) from None
        rows = processing_activities_page(activities=self.scope(ProcessingActivity.objects.all()), limit=limit, skip=skip, after=after)
        next_cursor = ActivityCursor(created_at=rows[-1]["created_at"], id=rows[-1]["id"]).encode() if len(rows) == limit else None
        return Response(
            {
                "tenant_id": str(tenant.pk),
                "count": len(rows),
                "skip": skip,
                "limit": limit,
                "next_cursor": next_cursor,
                "activities": [_activity(row) for row in rows],
            }
        )


def _activity(row: dict[str, Any]) -> dict[str, Any]:
    category = PdplCategory(row["pdpl_category"])
    return {
        "id": str(row["id"]),
        "activity_name": row["activity_name"],
        "pdpl_category": category.value,
        "pdpl_category_label": str(category.label),
        "pdpl_category_vi": PDPL_CATEGORY_VI[category],
        "data_fields": row["data_fields"],
        "purpose": row["purpose"],
        "legal_basis": row["legal_basis"],
        "data_subjects": row["data_subjects"],
        "recipients": row["recipients"],
        "cross_border_transfer": row["cross_border_transfer"],
        "retention_months": row["retention_months"],
        "created_at": row["created_at"].isoformat(),
    }
