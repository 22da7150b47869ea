"""The audit trail's one table, `audit_event`: who wrote what, for which tenant, when, and from where.

One row per write, inserted in the same transaction as the write (`audit.services.audit_record`):
if the write rolls back, so does its row, and a committed write always has its row. A batch of
10,000 activities is one row with `object_count` 10,000, not 10,000 rows.

The table is append-only. Migration 0001 puts a statement trigger on it that refuses every UPDATE,
DELETE and TRUNCATE, whoever sends it, so no code path (a mistaken `.update()`, a cascade, `manage.py
flush` on the wrong database) can rewrite history; the runtime database role is meant to hold only
SELECT and INSERT on it as well.

Nothing here holds personal data values: the actor is a user id and a username (a snapshot, since
the user may be deleted later), objects are ids, and `details` holds counts and field names only.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from verisyntra.ids import id_range_reserve


def audit_event_id() -> uuid.UUID:
    """A time-ordered id (UUIDv7, verisyntra.ids): the primary-key index receives ascending keys."""
    return uuid.UUID(id_range_reserve(1).strings()[0])


class AuditSource(models.TextChoices):
    """What carried the write: the API, a data scan's worker, the admin, a management command, Celery beat."""

    API = "api", "API"
    SCAN = "scan", "Data scan worker"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Management command"
    BEAT = "beat", "Celery beat"


class AuditAction(models.TextChoices):
    """Every kind of write the trail records, `<thing>.<verb>`."""

    TENANT_CREATE = "tenant.create", "Tenant created"
    ACTIVITIES_BATCH_CREATE = "activities.batch_create", "Processing activities written (batch)"
    DATA_SCAN_CREATE = "data_scan.create", "Data scan submitted"
    DATA_SCAN_COMPLETE = "data_scan.complete", "Data scan completed"
    DATA_SCAN_FAIL = "data_scan.fail", "Data scan failed"
    DATA_SCAN_CANCEL = "data_scan.cancel", "Data scan cancelled"
    DATA_SCAN_DISCARD = "data_scan.discard", "Data scan's activities discarded"
    DATA_SCAN_RETRY = "data_scan.retry", "Data scan retried"
    DATA_SOURCE_CREATE = "data_source.create", "Data source registered"
    DATA_SOURCE_UPDATE = "data_source.update", "Data source changed"
    DATA_SOURCE_DELETE = "data_source.delete", "Data source deleted"
    DATA_SOURCE_SCAN_NOW = "data_source.scan_now", "Discovery scan started"
    DATA_SOURCE_SCAN_SCHEDULED = "data_source.scan_scheduled", "Scheduled discovery scan started"
    DISCOVERY_APPLY = "discovery.apply", "Discovery results applied to the record of processing"


class AuditEvent(models.Model):
    """One write: its actor, tenant, source, action and objects. Never updated, never deleted."""

    id = models.UUIDField(primary_key=True, default=audit_event_id, editable=False)
    # The database's clock when the row was inserted (STATEMENT_TIMESTAMP(), like every `created_at`
    # here), at the end of the write it records and in the same transaction, so before its commit.
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    # A snapshot, not a foreign key: the user may be deleted later, and the row must still say who.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, default="")
    # The public prefix of the API token used, when tokens have one; never a usable token.
    actor_token_prefix = models.CharField(max_length=32, null=True, blank=True)
    # Set for every write of tenant data (row-level security keys on it). No database constraint,
    # and nothing happens here when the tenant goes: the trail outlives the tenant, as it outlives
    # the user, and keeps its id.
    tenant = models.ForeignKey(
        "inventory.Tenant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    source = models.CharField(max_length=16, choices=AuditSource.choices)
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64)
    # The first AUDIT_OBJECT_IDS_MAX ids (audit.services); `object_count` is how many there were.
    object_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    object_count = models.PositiveIntegerField(default=0)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    # Small: counts, flags and field names, never a personal data value or a secret.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "audit_event"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # A tenant's trail by time; also how a scan's completion finds who started it.
            models.Index(fields=["tenant", "occurred_at"], name="audit_event_tenant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_username or self.source} ({self.object_count} {self.object_type})"
