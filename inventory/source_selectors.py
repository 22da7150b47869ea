"""Reads of the data-source feature, through the router (the read pool unless a write is in flight)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from inventory.models import ProcessingActivity, Tenant
from inventory.source_models import DataSource


def data_sources_of_tenant(*, tenant: Tenant) -> QuerySet[DataSource]:
    """A tenant's data sources with their last scan, oldest first."""
    return DataSource.objects.filter(tenant_id=tenant.pk).select_related("last_scan").order_by("created_at", "id")


def data_source_of_tenant(*, tenant: Tenant, source_id: uuid.UUID) -> DataSource | None:
    """The source if it belongs to `tenant`; None for another tenant's source or an unknown id alike."""
    return data_sources_of_tenant(tenant=tenant).filter(pk=source_id).first()


def data_source_activities(*, source: DataSource) -> QuerySet[ProcessingActivity]:
    """The processing activities discovery found in `source` (those marked missing included), oldest first."""
    return ProcessingActivity.objects.filter(tenant_id=source.tenant_id, data_source_id=source.pk).order_by("created_at", "id")
