"""Reads for the dashboards. Every function takes a queryset already scoped to one tenant.

The views pass `TenantScopedMixin.scope(...)` of the model they read (`ActivityCount` for the
summary, `ProcessingActivity` for the list), so the tenant filter comes from the one
tenant-scoping mechanism and a selector cannot forget it. The querysets carry
no alias: the router sends them to the read pool.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import ActivityCount, LegalBasis, PdplCategory, ProcessingActivity, legal_basis_label, pdpl_category_label
from verisyntra.messages import render

CROSS_BORDER_LABELS = {True: render("cross_border.yes"), False: render("cross_border.no")}


def compliance_summary(*, counts: QuerySet[ActivityCount]) -> dict[str, Any]:
    """Counts by PDPL category, legal basis and cross-border transfer, from the tenant's rollup.

    `ActivityCount` holds at most 3 x 7 x 2 rows per tenant, kept by the database in the same
    transaction as the activities (inventory migration 0006), so the cost does not grow with the
    tenant. The three breakdowns and the total are folded from it in Python. Every category,
    legal basis and both transfer values are listed, with 0 where there is none, so a
    dashboard's shape does not depend on the data.
    """
    groups = counts.filter(activities__gt=0).values_list("pdpl_category", "legal_basis", "cross_border_transfer", "activities")
    by_category = dict.fromkeys(PdplCategory.values, 0)
    by_basis = dict.fromkeys(["", *LegalBasis.values], 0)
    by_transfer = {True: 0, False: 0}
    total = 0
    for category, basis, transfer, count in groups:
        by_category[category] = by_category.get(category, 0) + count
        by_basis[basis] = by_basis.get(basis, 0) + count
        by_transfer[transfer] += count
        total += count
    return {
        "total_activities": total,
        "categories": [
            {
                "category": category,
                "category_label": pdpl_category_label(category).en,
                "category_vi": pdpl_category_label(category).vi,
                "count": count,
            }
            for category, count in by_category.items()
        ],
        "legal_bases": [
            {
                "legal_basis": basis,
                "legal_basis_label": legal_basis_label(basis).en,
                "legal_basis_vi": legal_basis_label(basis).vi,
                "count": count,
            }
            for basis, count in by_basis.items()
        ],
        "cross_border_transfers": [
            {
                "cross_border_transfer": transfer,
                "label": CROSS_BORDER_LABELS[transfer].en,
                "label_vi": CROSS_BORDER_LABELS[transfer].vi,
                "count": by_transfer[transfer],
            }
            for transfer in (True, False)
        ],
    }


# --- Listing ---------------------------------------------------------------------------------


ACTIVITY_LIST_FIELDS = ("id", *ACTIVITY_RECORD_FIELDS, "created_at")


def processing_activities_listing(*, activities: QuerySet[ProcessingActivity]) -> QuerySet[ProcessingActivity, dict[str, Any]]:
    """The list's rows as dicts of `ACTIVITY_LIST_FIELDS`; the API's paginator orders them by
    (created_at, id), which `activity_tenant_created_id` (tenant_id, created_at, id) serves with
    an index range scan however deep the page."""
    return activities.values(*ACTIVITY_LIST_FIELDS)
