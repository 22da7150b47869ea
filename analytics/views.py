"""Dashboard reads: `GET /analytics/compliance-summary` and `GET /analytics/processing-activities`.

Thin views: check the tenant and the parameters, call one selector with the tenant-scoped
queryset (inventory.tenancy), render. Reads carry no alias: the router sends them to the read pool.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from pydantic import BaseModel, Field
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import compliance_summary, processing_activities_listing
from inventory.models import ActivityCount, PdplCategory, ProcessingActivity, pdpl_category_label
from inventory.tenancy import TenantScopedMixin
from verisyntra.api.openapi import COMMON_ERROR_STATUSES, error_responses
from verisyntra.api.pagination import KeysetPaginator, PageEnvelope, PageQuery
from verisyntra.api.query import TenantQuery
from verisyntra.api.responses import respond

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
ACTIVITY_PAGES = KeysetPaginator(list_name="analytics.processing-activities", time_field="created_at", id_field="id")

# --- Declarations: the query parameters and the bodies, validated and documented from here ---


class SummaryQuery(TenantQuery):
    """`GET /analytics/compliance-summary` takes only the tenant."""


class ActivityListQuery(PageQuery):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}. Default {DEFAULT_LIMIT}.")


class CategoryCount(BaseModel):
    category: PdplCategory
    category_label: str
    category_vi: str
    count: int


class LegalBasisCount(BaseModel):
    legal_basis: str = Field(description='The code; "" when not stated.')
    legal_basis_label: str
    legal_basis_vi: str
    count: int


class CrossBorderCount(BaseModel):
    cross_border_transfer: bool
    label: str
    label_vi: str
    count: int


class ComplianceSummary(BaseModel):
    tenant_id: uuid.UUID
    total_activities: int
    categories: list[CategoryCount]
    legal_bases: list[LegalBasisCount]
    cross_border_transfers: list[CrossBorderCount]


class Activity(BaseModel):
    id: uuid.UUID
    activity_name: str
    pdpl_category: PdplCategory
    pdpl_category_label: str
    pdpl_category_vi: str
    data_fields: list[str]
    purpose: str
    legal_basis: str
    data_subjects: list[str]
    recipients: list[str]
    cross_border_transfer: bool
    retention_months: int | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Activity:
        label = pdpl_category_label(row["pdpl_category"])
        return cls(**row, pdpl_category_label=label.en, pdpl_category_vi=label.vi)


class ActivityPage(PageEnvelope):
    activities: list[Activity]


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
        parameters=[SummaryQuery],
        responses={200: ComplianceSummary, **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Analytics"],
    )
    def get(self, request: Request) -> Response:
        self.query(SummaryQuery)
        summary = compliance_summary(counts=self.scope(ActivityCount.objects.all()))
        return respond(ComplianceSummary(tenant_id=self.tenant.pk, **summary))


class ProcessingActivityListView(TenantScopedMixin, APIView):
    """GET: the tenant's processing activities in a stable order, by offset or by cursor."""

    @extend_schema(
        operation_id="analytics_processing_activities_list",
        summary="List processing activities",
        description=(
            "The tenant's processing activities, oldest first (created_at, then id; a batch keeps the order "
            "it was sent in). Page with `skip`/`limit`, or pass the `next_cursor` of a page as `cursor` to "
            "get the next one: cursor pages cost the same however deep, where `skip` reads every row it "
            "skips. `cursor` and `skip` do not combine."
        ),
        parameters=[ActivityListQuery],
        responses={200: ActivityPage, **error_responses(*COMMON_ERROR_STATUSES)},
        tags=["Analytics"],
    )
    def get(self, request: Request) -> Response:
        query = self.query(ActivityListQuery)
        rows = processing_activities_listing(activities=self.scope(ProcessingActivity.objects.all()))
        page = ACTIVITY_PAGES.page(rows, limit=query.limit, skip=query.skip, cursor=query.cursor)
        return respond(ActivityPage(**page.envelope(self.tenant.pk), activities=[Activity.from_row(row) for row in page.rows]))
