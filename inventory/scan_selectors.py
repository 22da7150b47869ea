"""Reads of the data-scan feature, through the router (the read pool unless a write is in flight)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from inventory.models import DataScan, Tenant


def data_scans_of_tenant(*, tenant: Tenant, status: str | None = None) -> QuerySet[DataScan]:
    """A tenant's scans, newest first; the payload chunks are never loaded."""
    scans = DataScan.objects.filter(tenant_id=tenant.pk).order_by("-created_at", "-scan_id")
    return scans.filter(status=status) if status else scans


def data_scan_of_tenant(*, tenant: Tenant, scan_id: uuid.UUID) -> DataScan | None:
    """The scan if it belongs to `tenant`; None for another tenant's scan or an unknown id alike."""
    return DataScan.objects.filter(tenant_id=tenant.pk, scan_id=scan_id).first()
