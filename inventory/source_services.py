"""Writes of the data-source feature: register, change, delete, scan on demand, dispatch schedules, run discovery.

A discovery scan is a `DataScan` with `data_source` set: it shares the data scans' status API,
task, retries and sweep (`inventory.scan_services.data_scan_process` hands such a scan to
`data_source_scan_run` here). The run connects to the source through the guard
(`inventory.source_connections`), lets `inventory.discovery.discover` list and classify its
columns, and writes one processing activity per table holding personal data, keyed by (tenant,
source, schema, table), so a re-scan updates instead of duplicating.

Every query names the write alias (directly or through an atomic block on it): the dispatcher and
the scan are read-modify-write sequences on the primary, where a replica's view would be stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from croniter import croniter
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models.functions import Now
from django.utils import timezone

from audit.models import AuditAction, AuditSource
from audit.services import BEAT_ACTOR, COMMAND_ACTOR, AuditActor, audit_actor_of_start, audit_record
from inventory.models import DataScan, PdplCategory, ProcessingActivity, ScanStatus, Tenant
from inventory.scan_services import DataScanFailed, ScanProgress, data_scan_dispatch
from inventory.source_connections import SourceRejected, SourceUnreachable, dsn_check, dsn_parse, source_connect
from inventory.source_crypto import dsn_decrypt, dsn_encrypt, dsn_rotate
from inventory.source_models import DataSource, DataSourceKind
from verisyntra.db.config import WRITE_ALIAS
from verisyntra.db.tenant_scope import all_tenants
from verisyntra.messages import Bilingual, message, render

logger = logging.getLogger(__name__)

NAME_MAX = 200
DSN_MAX = 1000
SCHEDULE_MAX = 200
ACTIVE_STATUSES = (ScanStatus.PENDING, ScanStatus.PROCESSING)


class DataSourceInvalid(Exception):
    """Input for a data source that is refused: `field` names it, `reason` says why in both languages."""

    def __init__(self, field: str, reason: Bilingual):
        super().__init__(f"{field}: {reason.en}")
        self.field = field
        self.reason = reason


# --- Validation ---------------------------------------------------------------------------------


def _text(field: str, value: Any, *, limit: int, blank: bool = False) -> str:
    if not isinstance(value, str):
        raise DataSourceInvalid(field, render("item.invalid_type.string"))
    value = value.strip()
    if not value and not blank:
        raise DataSourceInvalid(field, render("item.blank"))
    if len(value) > limit:
        raise DataSourceInvalid(field, render("item.too_long", limit=limit))
    return value


def schedule_validate(schedule: Any) -> str:
    """A five-field cron expression (or "" for on demand only), or DataSourceInvalid."""
    schedule = " ".join(_text("schedule", "" if schedule is None else schedule, limit=SCHEDULE_MAX, blank=True).split())
    if schedule and (len(schedule.split(" ")) != 5 or not croniter.is_valid(schedule)):
        raise DataSourceInvalid("schedule", render("source.reason.schedule"))
    return schedule


def schedule_next(schedule: str, after: dt.datetime) -> dt.datetime | None:
    """The first time strictly after `after` that `schedule` names, read in the service's time zone.

    Computed from `after` (now), never from the missed slot: a source whose runs were missed
    while beat was down runs once, then resumes its schedule.
    """
    if not schedule:
        return None
    next_run: dt.datetime = croniter(schedule, timezone.localtime(after)).get_next(dt.datetime)
    return next_run


def kind_validate(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in DataSourceKind.values:
        raise DataSourceInvalid("kind", render("parameter.choices", choices=", ".join(DataSourceKind.values)))
    return kind


def dsn_validate(dsn: Any, *, kind: str) -> tuple[str, str]:
    """(the DSN, its masked form) once it parses, resolves, is allowed and is not the service's own."""
    text = _text("dsn", dsn, limit=DSN_MAX)
    try:
        parsed = dsn_parse(text, kind=kind)
        dsn_check(parsed)
    except SourceRejected as exc:
        raise DataSourceInvalid(exc.field, exc.reason) from None
    return text, parsed.masked


# --- Register, change, delete -------------------------------------------------------------------


def _source_audit(*, actor: AuditActor, source: DataSource, action: AuditAction, **details: object) -> None:
    # Field names only: a DSN holds a password, and a new name or schedule is in the source itself.
    audit_record(actor=actor, tenant_id=source.tenant_id, action=action, object_type="data_source", object_ids=[source.pk], details=details)


def data_source_create(
    *, tenant: Tenant, name: Any, kind: Any, dsn: Any, schedule: Any = "", actor: AuditActor = COMMAND_ACTOR
) -> DataSource:
    """Register a data source (DSN encrypted); its first scheduled run is the schedule's next slot."""
    name = _text("name", name, limit=NAME_MAX)
    kind = kind_validate(kind)
    dsn, masked = dsn_validate(dsn, kind=kind)
    schedule = schedule_validate(schedule)
    source = DataSource(
        tenant=tenant,
        name=name,
        kind=kind,
        dsn_encrypted=dsn_encrypt(dsn),
        dsn_masked=masked,
        schedule=schedule,
        next_run_at=schedule_next(schedule, timezone.now()),
    )
    try:
        with transaction.atomic(using=WRITE_ALIAS):
            source.save(using=WRITE_ALIAS, force_insert=True)
            _source_audit(actor=actor, source=source, action=AuditAction.DATA_SOURCE_CREATE, kind=kind, scheduled=bool(schedule))
    except IntegrityError:
        raise DataSourceInvalid("name", render("source.reason.name_taken")) from None
    return source


UNSET: Any = object()


def data_source_update(
    *,
    source: DataSource,
    name: Any = UNSET,
    kind: Any = UNSET,
    dsn: Any = UNSET,
    schedule: Any = UNSET,
    actor: AuditActor = COMMAND_ACTOR,
) -> DataSource:
    """Change the given fields. A new kind needs a DSN of that kind; a new schedule takes effect at
    once (the next run is recomputed; beat reads it from the database, no restart)."""
    fields = ["updated_at"]
    if name is not UNSET:
        source.name = _text("name", name, limit=NAME_MAX)
        fields.append("name")
    if kind is not UNSET:
        source.kind = kind_validate(kind)
        fields.append("kind")
        if dsn is UNSET:
            # The stored DSN must still match the kind.
            dsn = dsn_decrypt(source.dsn_encrypted)
    if dsn is not UNSET:
        text, source.dsn_masked = dsn_validate(dsn, kind=source.kind)
        source.dsn_encrypted = dsn_encrypt(text)
        fields += ["dsn_encrypted", "dsn_masked"]
    if schedule is not UNSET:
        source.schedule = schedule_validate(schedule)
        source.next_run_at = schedule_next(source.schedule, timezone.now())
        fields += ["schedule", "next_run_at"]
    source.updated_at = timezone.now()
    try:
        with transaction.atomic(using=WRITE_ALIAS):
            source.save(using=WRITE_ALIAS, update_fields=fields)
            changed = sorted({"dsn" if field.startswith("dsn_") else field for field in fields} - {"updated_at", "next_run_at"})
            _source_audit(actor=actor, source=source, action=AuditAction.DATA_SOURCE_UPDATE, fields=changed)
    except IntegrityError:
        raise DataSourceInvalid("name", render("source.reason.name_taken")) from None
    return source


def data_source_delete(*, source: DataSource, actor: AuditActor = COMMAND_ACTOR) -> None:
    """Delete the source and its stored credentials. Its activities stay in the record of processing
    (a legal record is not deleted as a side effect); they only lose the link to the source."""
    with transaction.atomic(using=WRITE_ALIAS):
        deleted, _ = DataSource.objects.using(WRITE_ALIAS).filter(pk=source.pk).delete()
        if deleted:
            _source_audit(actor=actor, source=source, action=AuditAction.DATA_SOURCE_DELETE)


def data_source_keys_rotate() -> int:
    """Re-encrypt every stored DSN under the first DATA_SOURCE_ENCRYPTION_KEYS key; returns how many."""
    rotated = 0
    with transaction.atomic(using=WRITE_ALIAS):
        for source in DataSource.objects.using(WRITE_ALIAS).select_for_update().only("id", "dsn_encrypted"):
            DataSource.objects.using(WRITE_ALIAS).filter(pk=source.pk).update(dsn_encrypted=dsn_rotate(source.dsn_encrypted))
            rotated += 1
    return rotated


# --- Starting scans: on demand and by schedule --------------------------------------------------


def _scan_start_locked(source: DataSource, *, actor: AuditActor, action: AuditAction) -> tuple[DataScan, bool]:
    """Inside a transaction holding the source's row lock: its running scan, or a new one dispatched after commit.

    A new scan's audit row is the scan's first (object: the scan), so its completion names this actor.
    """
    running = DataScan.objects.using(WRITE_ALIAS).filter(data_source_id=source.pk, status__in=ACTIVE_STATUSES).first()
    if running is not None:
        return running, False
    task_id = str(uuid.uuid4())
    scan = DataScan.objects.using(WRITE_ALIAS).create(tenant_id=source.tenant_id, data_source=source, celery_task_id=task_id)
    DataSource.objects.using(WRITE_ALIAS).filter(pk=source.pk).update(last_scan=scan, last_run_at=Now())
    audit_record(
        actor=actor,
        tenant_id=source.tenant_id,
        action=action,
        object_type="data_scan",
        object_ids=[scan.pk],
        details={"data_source_id": str(source.pk)},
    )
    transaction.on_commit(partial(data_scan_dispatch, scan_id=scan.pk, task_id=task_id), using=WRITE_ALIAS)
    return scan, True


def data_source_scan_submit(*, source: DataSource, actor: AuditActor = COMMAND_ACTOR) -> tuple[DataScan, bool]:
    """Start a discovery scan of `source` now: (the scan, True), or (its scan already pending or running, False)."""
    with transaction.atomic(using=WRITE_ALIAS):
        locked = DataSource.objects.using(WRITE_ALIAS).select_for_update().get(pk=source.pk)
        return _scan_start_locked(locked, actor=actor, action=AuditAction.DATA_SOURCE_SCAN_NOW)


# Due sources, one per tenant per turn: every tenant's oldest due source comes before any tenant's
# second, so one tenant's many sources cannot starve another's. Rows another dispatcher holds are
# skipped (two beats never take the same source), and `next_run_at <= now` is checked again on
# the locked row, so a source another dispatcher has just moved on is not taken either.
_DUE_SQL = """
    WITH due AS (
        SELECT id, next_run_at, row_number() OVER (PARTITION BY tenant_id ORDER BY next_run_at, id) AS turn
        FROM {table} WHERE next_run_at <= %(now)s
    )
    SELECT s.id FROM {table} AS s JOIN due ON due.id = s.id
    WHERE s.next_run_at <= %(now)s
    ORDER BY due.turn, due.next_run_at, s.id
    LIMIT %(limit)s
    FOR UPDATE OF s SKIP LOCKED
"""


@all_tenants()  # due sources of every tenant, fairly
def data_sources_dispatch_due(*, now: dt.datetime | None = None, limit: int | None = None) -> list[str]:
    """Start a scan of every source whose schedule is due (at most `limit`, fairly across tenants).

    Each taken source's `next_run_at` moves to its schedule's next slot after now in the same
    transaction, so a run missed for hours runs once. A source whose previous scan is still
    running gets no second one (its slot is skipped). Returns the ids of the scans started.
    """
    now = now or timezone.now()
    limit = limit or settings.DATA_SOURCE_DISPATCH_BATCH
    started: list[str] = []
    with transaction.atomic(using=WRITE_ALIAS):
        with connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute(_DUE_SQL.format(table=DataSource._meta.db_table), {"now": now, "limit": limit})
            ids = [row[0] for row in cursor.fetchall()]
        sources = {source.pk: source for source in DataSource.objects.using(WRITE_ALIAS).filter(pk__in=ids)}
        for source_id in ids:
            source = sources[source_id]
            DataSource.objects.using(WRITE_ALIAS).filter(pk=source.pk).update(next_run_at=schedule_next(source.schedule, now))
            scan, created = _scan_start_locked(source, actor=BEAT_ACTOR, action=AuditAction.DATA_SOURCE_SCAN_SCHEDULED)
            if created:
                started.append(str(scan.pk))
    if started:
        logger.info("dispatched %d scheduled discovery scan(s)", len(started))
    return started


# --- Running a discovery scan -------------------------------------------------------------------


def _failure(code: str, **params: Any) -> DataScanFailed:
    """A DataScanFailed from a catalogue sentence whose parameters may themselves be sentences."""
    entry = message(code)
    en = entry.render("en", **{k: v.en if isinstance(v, Bilingual) else v for k, v in params.items()})
    vi = entry.render("vi", **{k: v.vi if isinstance(v, Bilingual) else v for k, v in params.items()})
    return DataScanFailed(en, vi)


def data_source_scan_run(*, scan: DataScan, on_progress: Callable[[ScanProgress], None] | None = None) -> str:
    """Discover the scan's source and write what it found; returns the scan's status afterwards.

    A source that is refused or cannot be reached, or whose reading fails, ends the scan
    `failed` (DataScanFailed, not retried: the next scheduled run is the retry) with a bilingual
    error naming the cause. Sampled values never leave `discover`: only names, types,
    confidences and counts are stored or logged.
    """
    from inventory.discovery import discover

    source = DataSource.objects.using(WRITE_ALIAS).filter(pk=scan.data_source_id).first()
    if source is None:
        raise _failure("data_source_not_found")
    dsn = dsn_parse(dsn_decrypt(source.dsn_encrypted), kind=source.kind)
    try:
        connection = source_connect(dsn)
    except SourceRejected as exc:
        raise _failure("source.refused", name=source.name, reason=exc.reason) from None
    except SourceUnreachable as exc:
        logger.warning("data source %s unreachable: %s", source.pk, exc.cause.en)
        raise _failure("source.unreachable", name=source.name, host=dsn.host, port=dsn.port, cause=exc.cause) from None

    def table_done(done: int, total: int) -> None:
        DataScan.objects.using(WRITE_ALIAS).filter(pk=scan.pk).update(
            records_total=total,
            records_processed=min(done, total),
            progress_percent=100 * done // total if total else 100,
            updated_at=Now(),
        )
        if on_progress is not None:
            on_progress(ScanProgress(current=done, total=total))

    try:
        findings = discover(
            connection,
            source.kind,
            sample_rows=settings.DATA_SOURCE_SAMPLE_ROWS,
            statement_timeout_ms=settings.DATA_SOURCE_STATEMENT_TIMEOUT_MS,
            on_table=table_done,
        )
    except DataScanFailed:
        raise
    except Exception as exc:
        # The driver's message may quote a value of the source: only the error's class is kept.
        logger.warning("discovery of data source %s failed: %s", source.pk, exc.__class__.__name__)
        raise _failure("source.discovery_failed", name=source.name, error_class=exc.__class__.__name__) from None
    finally:
        connection.close()
    return data_source_findings_write(scan_id=scan.pk, source_id=source.pk, findings=findings)


def _column_entry(column: Any) -> dict[str, Any]:
    """One personal-data column as stored in `source_findings`: names, type, why, confidence, counts."""
    return {
        "column": column.column,
        "data_type": column.data_type,
        "personal_data_type": column.personal_data_type,
        "category": column.category,
        "reason": column.reason,
        "confidence": round(float(column.confidence), 3),
        "sampled": column.sampled,
        "matched": column.matched,
    }


@dataclass
class _TableResult:
    key: tuple[str, str]
    category: str
    columns: list[dict[str, Any]]


def _difference(old: ProcessingActivity, new: _TableResult) -> dict[str, Any]:
    """What changed for one activity between its stored findings and the new ones (empty if nothing)."""
    before = {entry["column"]: entry for entry in old.source_findings or []}
    after = {entry["column"]: entry for entry in new.columns}
    difference: dict[str, Any] = {}
    if added := sorted(after.keys() - before.keys()):
        difference["columns_added"] = added
    if removed := sorted(before.keys() - after.keys()):
        difference["columns_removed"] = removed
    retyped = [
        {"column": name, "before": before[name]["personal_data_type"], "after": after[name]["personal_data_type"]}
        for name in sorted(before.keys() & after.keys())
        if before[name]["personal_data_type"] != after[name]["personal_data_type"]
    ]
    if retyped:
        difference["types_changed"] = retyped
    if old.pdpl_category != new.category:
        difference["category_before"], difference["category_after"] = old.pdpl_category, new.category
    return difference


def _table_name(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}"


def data_source_findings_write(*, scan_id: uuid.UUID, source_id: uuid.UUID, findings: Iterable[Any]) -> str:
    """Create, update and mark missing the source's activities from `findings`, then complete the scan.

    One transaction holding the source's row lock (two scans of one source write one after the
    other); new activities go in with one bulk insert and changed ones with one bulk update,
    through the write pool. Returns the scan's status.
    """
    now = timezone.now()
    tables = list(findings)
    results = {
        (table.schema, table.table): _TableResult(
            key=(table.schema, table.table),
            category=PdplCategory.SENSITIVE if table.sensitive else PdplCategory.BASIC,
            columns=[_column_entry(column) for column in table.personal_columns],
        )
        for table in tables
        if table.personal_columns
    }
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.using(WRITE_ALIAS).select_for_update().get(pk=scan_id)
        if scan.status != ScanStatus.PROCESSING:
            return scan.status
        source = DataSource.objects.using(WRITE_ALIAS).select_for_update().get(pk=source_id)
        existing = {
            (activity.source_schema or "", activity.source_table or ""): activity
            for activity in ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant_id=source.tenant_id, data_source_id=source.pk)
        }
        created: list[ProcessingActivity] = []
        changed: list[ProcessingActivity] = []
        changes: dict[str, Any] = {"tables": len(tables), "added": [], "updated": [], "returned": [], "missing": [], "unchanged": 0}
        for key, result in results.items():
            activity = existing.get(key)
            if activity is None:
                created.append(
                    ProcessingActivity(
                        tenant_id=source.tenant_id,
                        activity_name=f"{source.name}: {_table_name(key)}",
                        pdpl_category=result.category,
                        data_fields=[entry["column"] for entry in result.columns],
                        data_scan_id=scan.pk,
                        data_source_id=source.pk,
                        source_schema=key[0],
                        source_table=key[1],
                        source_findings=result.columns,
                        source_changes={"change": "added"},
                    )
                )
                changes["added"].append(_table_name(key))
                continue
            difference = _difference(activity, result)
            if activity.source_missing_since is not None:
                kind = "returned"
            elif difference:
                kind = "updated"
            else:
                kind = "unchanged"
            activity.pdpl_category = result.category
            activity.data_fields = [entry["column"] for entry in result.columns]
            activity.source_findings = result.columns  # confidences and counts of this scan
            activity.source_missing_since = None
            activity.source_changes = {"change": kind, **difference}
            activity.data_scan_id = scan.pk
            changed.append(activity)
            if kind == "unchanged":
                changes["unchanged"] += 1
            elif kind == "returned":
                changes["returned"].append(_table_name(key))
            else:
                changes["updated"].append({"table": _table_name(key), **difference})
        for key, activity in existing.items():
            if key in results:
                continue
            if activity.source_missing_since is None:
                activity.source_missing_since = now
                activity.source_changes = {"change": "missing"}
                changes["missing"].append(_table_name(key))
            else:
                activity.source_changes = {"change": "unchanged"}
            activity.data_scan_id = scan.pk
            changed.append(activity)
        ProcessingActivity.objects.using(WRITE_ALIAS).bulk_create(created, batch_size=1000)
        ProcessingActivity.objects.using(WRITE_ALIAS).bulk_update(
            changed,
            ["pdpl_category", "data_fields", "source_findings", "source_missing_since", "source_changes", "data_scan"],
            batch_size=1000,
        )
        audit_record(
            actor=audit_actor_of_start(
                tenant_id=scan.tenant_id, object_type="data_scan", object_id=scan.pk, since=scan.created_at, source=AuditSource.SCAN
            ),
            tenant_id=scan.tenant_id,
            action=AuditAction.DISCOVERY_APPLY,
            object_type="processing_activity",
            object_ids=[activity.pk for activity in (*created, *changed)],
            details={
                "data_scan_id": str(scan.pk),
                "data_source_id": str(source.pk),
                "tables": len(tables),
                **{kind: len(changes[kind]) for kind in ("added", "updated", "returned", "missing")},
                "unchanged": changes["unchanged"],
            },
        )
        scan.status = ScanStatus.COMPLETED
        scan.progress_percent = 100
        scan.records_total = scan.records_processed = len(tables)
        scan.discovery_changes = changes
        scan.completed_at = scan.updated_at = timezone.now()
        scan.save(
            using=WRITE_ALIAS,
            update_fields=[
                "status",
                "progress_percent",
                "records_total",
                "records_processed",
                "discovery_changes",
                "completed_at",
                "updated_at",
            ],
        )
    logger.info(
        "discovery scan %s: %d tables, %d added, %d updated, %d missing",
        scan_id,
        len(tables),
        len(changes["added"]),
        len(changes["updated"]),
        len(changes["missing"]),
    )
    return ScanStatus.COMPLETED


def discovery_result_summary(changes: Mapping[str, Any] | None) -> Bilingual | None:
    """A discovery scan's changes as one sentence in both languages (the source's last result)."""
    if not changes:
        return None
    return render(
        "source.result",
        tables=changes.get("tables", 0),
        added=len(changes.get("added", [])),
        updated=len(changes.get("updated", [])) + len(changes.get("returned", [])),
        unchanged=changes.get("unchanged", 0),
        missing=len(changes.get("missing", [])),
    )
