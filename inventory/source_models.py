"""Data sources: a tenant's own databases that VeriSyntra scans for personal data, on demand or on a schedule.

A source's connection string holds a password, so it is stored encrypted (`inventory.source_crypto`,
Fernet keys from the environment) and shown only masked. Its schedule is a cron expression
evaluated in the service's time zone; `next_run_at` is when the beat dispatcher
(`inventory.source_services.data_sources_dispatch_due`) next starts a discovery scan of it.
Imported by `inventory.models`, so Django registers the model with the app.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from inventory.models import DataScan, Tenant
from verisyntra.messages import message


class DataSourceKind(models.TextChoices):
    """The database engines discovery can read; MariaDB answers as `mysql`."""

    POSTGRESQL = "postgresql", message("source_kind.postgresql").en
    MYSQL = "mysql", message("source_kind.mysql").en


class DataSource(models.Model):
    """A tenant's database registered for discovery scans."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="data_sources", db_index=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=DataSourceKind.choices)
    # Fernet token of the whole DSN (password included); never leaves the service.
    dsn_encrypted = models.TextField(editable=False)
    # The DSN with its password replaced by ***: what responses and the admin show.
    dsn_masked = models.CharField(max_length=1000, editable=False)
    # A five-field cron expression; empty means on demand only.
    schedule = models.CharField(max_length=200, blank=True, default="")
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_scan = models.ForeignKey(DataScan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Lists and cursor paging: WHERE tenant_id = %s ORDER BY created_at, id.
            models.Index(fields=["tenant", "created_at", "id"], name="datasource_tenant_created_id"),
            # The beat dispatcher: WHERE next_run_at <= now(), scheduled sources only.
            models.Index(fields=["next_run_at"], name="datasource_due", condition=models.Q(next_run_at__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="datasource_unique_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name
