"""Tenants and the record of processing: processing activities and the data scans that ingest them."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from verisyntra.messages import Bilingual, message, render


class Tenant(models.Model):
    """A company keeping its record of processing in VeriSyntra."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TenantMembership", related_name="tenants")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantMembership(models.Model):
    """A user's access to a tenant; a user may belong to several tenants."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="unique_membership_per_user_tenant")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant}"


# Choice labels come from the message catalogue (`category.<code>`, `legal_basis.<code>`,
# `scan_status.<code>`): the English one is the choice's label, both are the `*_label()` functions'.
class PdplCategory(models.TextChoices):
    """The law knows basic and sensitive personal data; "public" is the product's own third category."""

    SENSITIVE = "sensitive", message("category.sensitive").en
    BASIC = "basic", message("category.basic").en
    PUBLIC = "public", message("category.public").en


class LegalBasis(models.TextChoices):
    CONSENT = "consent", message("legal_basis.consent").en
    CONTRACT = "contract", message("legal_basis.contract").en
    LEGAL_OBLIGATION = "legal_obligation", message("legal_basis.legal_obligation").en
    VITAL_INTEREST = "vital_interest", message("legal_basis.vital_interest").en
    PUBLIC_INTEREST = "public_interest", message("legal_basis.public_interest").en
    LEGITIMATE_INTEREST = "legitimate_interest", message("legal_basis.legitimate_interest").en


class ScanStatus(models.TextChoices):
    PENDING = "pending", message("scan_status.pending").en
    PROCESSING = "processing", message("scan_status.processing").en
    COMPLETED = "completed", message("scan_status.completed").en
    FAILED = "failed", message("scan_status.failed").en
    CANCELLED = "cancelled", message("scan_status.cancelled").en


def pdpl_category_label(category: str) -> Bilingual:
    """A PDPL category code's label in both languages; a ValueError for an unknown code."""
    return render(f"category.{PdplCategory(category).value}")


def legal_basis_label(basis: str) -> Bilingual:
    """A legal basis code's label in both languages; the empty code (not stated) has one too."""
    return render(f"legal_basis.{LegalBasis(basis).value}" if basis else "legal_basis.unstated")


def scan_status_label(status: str) -> Bilingual:
    """A data scan status's label in both languages."""
    return render(f"scan_status.{ScanStatus(status).value}")


# The Vietnamese labels by choice, for callers that show only that language.
PDPL_CATEGORY_VI = {category: pdpl_category_label(category).vi for category in PdplCategory}
LEGAL_BASIS_VI = {basis: legal_basis_label(basis).vi for basis in LegalBasis}
SCAN_STATUS_VI = {status: scan_status_label(status).vi for status in ScanStatus}


class DataScan(models.Model):
    """A background ingestion of processing activities, processed in chunks by a Celery worker."""

    scan_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="data_scans")
    status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.PENDING)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    records_total = models.PositiveIntegerField(default=0)
    records_processed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Touched on every committed chunk: the beat sweep finds scans stuck without progress by it.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())
    error = models.TextField(blank=True, default="")
    error_vi = models.TextField(blank=True, default="")
    celery_task_id = models.CharField(max_length=255, blank=True, default="")
    # When the broker last accepted this scan's task; NULL while the enqueue has not succeeded
    # (broker down at submission), which is how the beat sweep finds scans to dispatch.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Set on a discovery scan of a data source (inventory.source_services), NULL on a scan of
    # submitted records; `discovery_changes` is what that scan changed in the record of processing.
    data_source = models.ForeignKey(
        "inventory.DataSource", on_delete=models.SET_NULL, null=True, blank=True, related_name="scans", db_index=False
    )
    discovery_changes = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="datascan_tenant_created"),
            models.Index(fields=["status", "updated_at"], name="datascan_status_updated"),
            # A source's running scan (one at a time per source); scans of submitted records are not indexed.
            models.Index(fields=["data_source", "status"], name="datascan_source_status", condition=models.Q(data_source__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress_percent__lte=100), name="datascan_progress_le_100"),
            models.CheckConstraint(
                condition=models.Q(records_processed__lte=models.F("records_total")),
                name="datascan_processed_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"scan {self.scan_id} ({self.status})"

    @property
    def status_vi(self) -> str:
        return scan_status_label(self.status).vi


class CompactJSONEncoder(json.JSONEncoder):
    """UTF-8 text as is and no spaces: Vietnamese records are about a third smaller than with \\u escapes."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


class DataScanChunk(models.Model):
    """A slice of a data scan's submitted records, stored durably until a worker writes them.

    The submission stores every record here (validated and normalised) before it answers 202,
    so nothing depends on the broker holding the data. A worker turns one chunk into
    processing activities and deletes it in the same transaction as the scan's progress, so the
    chunks that remain are exactly the work left: a retried or redelivered task resumes there.
    """

    data_scan = models.ForeignKey(DataScan, on_delete=models.CASCADE, related_name="chunks")
    chunk_index = models.PositiveIntegerField()
    # Position of records[0] in the scan's input; becomes ProcessingActivity.scan_record_index.
    first_record_index = models.PositiveIntegerField()
    record_count = models.PositiveIntegerField()
    records = models.JSONField(encoder=CompactJSONEncoder)

    class Meta:
        ordering = ["data_scan", "chunk_index"]
        constraints = [
            models.UniqueConstraint(fields=["data_scan", "chunk_index"], name="datascanchunk_unique_index"),
        ]

    def __str__(self) -> str:
        return f"chunk {self.chunk_index} of scan {self.data_scan_id}"


class ProcessingActivity(models.Model):
    """One processing activity of personal data in a tenant's record of processing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the composite indexes below start with tenant_id and serve every lookup
    # (one index fewer to maintain per inserted row; docs/benchmarks.md, "Batch insert").
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="processing_activities", db_index=False)
    activity_name = models.CharField(max_length=255)
    pdpl_category = models.CharField(max_length=16, choices=PdplCategory.choices)
    data_fields = ArrayField(models.CharField(max_length=255), default=list)
    purpose = models.TextField(blank=True, default="")
    legal_basis = models.CharField(max_length=32, choices=LegalBasis.choices, blank=True, default="")
    data_subjects = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    recipients = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    cross_border_transfer = models.BooleanField(default=False)
    retention_months = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    # No index of its own: the partial unique index on (data_scan, scan_record_index) serves
    # `data_scan_id = ...` lookups, and batch rows (NULL here) are not indexed at all.
    data_scan = models.ForeignKey(
        DataScan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="processing_activities",
        db_index=False,
    )
    # Position of the record in its scan's input: with the unique constraint below, a chunk that
    # is written twice (redelivered task, retry) cannot create a second row.
    scan_record_index = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # An activity found by a discovery scan is keyed by (tenant, data_source, source_schema,
    # source_table) under the partial unique index below, so a re-scan updates it instead of
    # adding a second one. `source_findings` explains it (one entry per personal-data column:
    # type, why, confidence, counts; never a sampled value), `source_changes` says what the last
    # scan changed, and `source_missing_since` marks a table that vanished or no longer holds
    # personal data: the legal record stays, flagged, rather than being deleted silently.
    data_source = models.ForeignKey(
        "inventory.DataSource", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities", db_index=False
    )
    source_schema = models.CharField(max_length=255, null=True, blank=True, editable=False)
    source_table = models.CharField(max_length=255, null=True, blank=True, editable=False)
    source_findings = models.JSONField(null=True, blank=True, editable=False)
    source_changes = models.JSONField(null=True, blank=True, editable=False)
    source_missing_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "processing activities"
        ordering = ["created_at", "id"]
        indexes = [
            # Lists and cursor paging: WHERE tenant_id = %s ORDER BY created_at, id.
            models.Index(fields=["tenant", "created_at", "id"], name="activity_tenant_created_id"),
            # No index for the compliance summary: it reads ActivityCount, kept by triggers.
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["data_scan", "scan_record_index"],
                condition=models.Q(data_scan__isnull=False),
                name="activity_unique_scan_record",
            ),
            models.UniqueConstraint(
                fields=["tenant", "data_source", "source_schema", "source_table"],
                condition=models.Q(data_source__isnull=False),
                name="activity_unique_source_table",
            ),
        ]

    def __str__(self) -> str:
        return self.activity_name

    @property
    def pdpl_category_vi(self) -> str:
        return pdpl_category_label(self.pdpl_category).vi


class ActivityCount(models.Model):
    """How many processing activities a tenant has per category, legal basis and transfer: the summary's rollup.

    PostgreSQL keeps it, not Python: statement triggers on the activities table (migration 0006)
    add and subtract the counts of each INSERT (COPY included), UPDATE and DELETE in the same
    transaction as the rows, whatever wrote them (batch COPY, data scans, the ORM, the admin,
    cascades). The compliance summary then reads at most 3 x 7 x 2 rows instead of every activity
    of the tenant. `manage.py activity_counts` compares it with the activities and can rebuild it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="activity_counts", db_index=False)
    pdpl_category = models.CharField(max_length=16, choices=PdplCategory.choices)
    legal_basis = models.CharField(max_length=32, choices=LegalBasis.choices, blank=True)
    cross_border_transfer = models.BooleanField()
    activities = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # The triggers' ON CONFLICT target; it also serves the summary's `tenant_id = %s`.
            models.UniqueConstraint(
                fields=["tenant", "pdpl_category", "legal_basis", "cross_border_transfer"],
                name="activitycount_unique_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pdpl_category}/{self.legal_basis or '-'}/{self.cross_border_transfer}: {self.activities}"


# Data sources live in their own module; imported here so Django registers the model with the app.
from inventory.source_models import DataSource, DataSourceKind  # noqa: E402,F401


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a POST that wrote, and the answer that POST got.

    Written in the same transaction as the data the POST wrote (verisyntra.api.idempotency), so
    a key is stored exactly when its write committed. Scoped to the caller and the tenant: the
    same key sent by another user, or for another tenant, is another key. Kept until `expires_at`
    (IDEMPOTENCY_KEY_TTL_SECONDS after the write); the beat task `inventory.delete_expired_idempotency_keys`
    removes it afterwards.
    """

    # The unique constraint's index leads with the tenant, so it also serves the tenant's cascade;
    # deleting a user (rare) may scan this small, short-lived table.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    # SHA-256 (hex) of the method, path, query string and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.TextField()
    response_status = models.PositiveSmallIntegerField()
    # The body as JSON text, not JSONB: a replay answers the keys in their original order.
    response_body = models.TextField()
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "key"], name="idempotencykey_unique_scope")]
        indexes = [models.Index(fields=["expires_at"], name="idempotencykey_expires_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
