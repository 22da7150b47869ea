"""Writes of the data-scan feature: submit, process in chunks, fail, retry, and the beat sweep.

A data scan ingests up to DATA_SCAN_MAX_RECORDS processing activities in the background:

1. `data_scan_submit` stores the validated records in `DataScanChunk` rows and the scan as
   `pending`, in one transaction, and hands the scan id to the broker only after that commits.
2. The worker (`inventory.tasks.process_data_scan`) calls `data_scan_process`, which writes one
   chunk per transaction: its rows, the deletion of the chunk, and the scan's progress commit
   together, so the chunks left are exactly the work left, whatever kills the worker.
3. `data_scans_sweep` (Celery beat) dispatches scans the broker never accepted, scans queued for
   too long, and processing scans whose worker is gone: a run proves it is alive by holding a
   transaction-level advisory lock for the scan on a database session of its own
   (`data_scan_liveness`), which PostgreSQL releases the moment that session ends, so a dead
   worker is told from a slow one without any clock.

Nothing can be written twice: chunks are taken with `FOR UPDATE SKIP LOCKED` (and, once only
chunks another run holds are left, waited for with `FOR UPDATE`), and every row carries
(data_scan, scan_record_index) under a unique constraint with `ON CONFLICT DO NOTHING`.

Every query here names the write alias (directly or through an atomic block on it): a scan is a
sequence of read-modify-write steps on the primary, and a replica's view would be stale.
Split from services.py because the feature has its own lifecycle and its own tests.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import psycopg2
from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, OperationalError, ProgrammingError, connections, transaction
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import AuditAction, AuditSource
from audit.services import COMMAND_ACTOR, AuditActor, audit_actor_of_start, audit_record
from health.metrics import record_scan_finished
from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import DataScan, DataScanChunk, ProcessingActivity, ScanStatus, Tenant
from inventory.validation import ActivityRow
from verisyntra.api.errors import ApiError
from verisyntra.db.config import SCAN_LIVENESS_APPLICATION_NAME, WRITE_ALIAS
from verisyntra.db.tenant_scope import all_tenants
from verisyntra.ids import id_range_reserve
from verisyntra.messages import render

logger = logging.getLogger(__name__)

# A publish to a dead broker is retried briefly, then left to the sweep: the client's 202 must
# not wait for the broker to come back.
DISPATCH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# How many scans one sweep dispatches at most; the next sweep takes the rest.
SWEEP_BATCH = 100

# A scan in one of these is never touched again by a worker, the sweep or a cancel.
FINISHED_STATUSES = (ScanStatus.COMPLETED, ScanStatus.FAILED, ScanStatus.CANCELLED)


class DataScanCancelled(Exception):
    """Raised inside a chunk's transaction when the scan was cancelled (or otherwise ended) meanwhile: the chunk is rolled back."""


# The liveness locks' namespace: the first key of `pg_advisory_xact_lock_shared(int4, int4)`, a constant no
# other code of this database uses; the second key is the low 32 bits of the scan id (random in a
# UUID4). Two scans sharing those bits only make one look alive while the other runs.
LIVENESS_LOCK_CLASS = 0x5CA7

# The liveness session's server settings (PostgreSQL "Connections and Authentication"): keepalive
# probes after 5 s of silence, 3 lost probes 5 s apart and unacknowledged data for 20 s end it, so
# a worker cut off by a network partition (or a host that vanished without closing its sockets)
# loses its lock within about 20 s instead of the kernel's default two hours. SET LOCAL in the
# transaction that holds the lock, not the startup parameter `options`: PgBouncer in transaction
# mode refuses that parameter. No idle-in-transaction bound here: that transaction is idle on purpose.
LIVENESS_TRANSACTION_SETTINGS = (
    ("tcp_keepalives_idle", "5"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
    ("tcp_user_timeout", "20000"),
    ("idle_in_transaction_session_timeout", "0"),
)

# The same, and a bound on a session left idle inside a transaction, for every chunk's transaction
# (SET LOCAL: they end with it and never leak to the pool's next user). A partitioned worker's
# transaction then ends on the server, and its chunk's lock with it, in about 20 s;
# client_connection_check_interval notices a vanished client during a long statement too.
CHUNK_TRANSACTION_SETTINGS = (
    ("tcp_keepalives_idle", "5"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
    ("tcp_user_timeout", "20000"),
    ("client_connection_check_interval", "5000"),
    ("idle_in_transaction_session_timeout", "30000"),
)


def liveness_key(scan_id: uuid.UUID | str) -> int:
    """The second advisory-lock key of a scan: its id's low 32 bits as a signed int4."""
    low = uuid.UUID(str(scan_id)).int & 0xFFFFFFFF
    return low - (1 << 32) if low >= (1 << 31) else low


@contextmanager
def data_scan_liveness(*, scan_id: uuid.UUID | str) -> Iterator[None]:
    """Hold the scan's proof of life for the block: a shared transaction-level advisory lock.

    Held on a connection of its own, opened for the run and closed after it, never one of the write
    pool's: a pooled connection goes back to the pool (and to other work) between chunks, and the
    lock would go with it. The lock lives in a transaction left open for the whole run, so it is
    released when that transaction ends, whatever ends it: the worker's exit, a SIGKILL of the
    whole worker, the host's loss (keepalives above). A transaction, not the session, so it also
    holds behind PgBouncer in transaction mode: PgBouncer keeps the server connection for the
    client while its transaction is open, and closes it when the client goes away mid-transaction,
    where a session lock would stay on a server connection PgBouncer keeps (and lends to others).
    The transaction takes no snapshot between statements (READ COMMITTED), so it holds back no vacuum.
    Shared, so the runs of one scan that overlap (a redelivered task next to a re-dispatched one)
    hold it together. The sweep reads pg_locks and never takes the lock itself.
    """
    params = {**connections[WRITE_ALIAS].get_connection_params(), "application_name": SCAN_LIVENESS_APPLICATION_NAME}
    params.pop("cursor_factory", None)
    # The client side too: libpq's keepalives (PostgreSQL "Database Connection Control Functions").
    params.update(keepalives=1, keepalives_idle=5, keepalives_interval=5, keepalives_count=3)
    try:
        session = psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        raise OperationalError(str(exc)) from exc  # the task's transient error: retried
    try:
        session.autocommit = False  # psycopg2 opens the transaction at the first statement
        settings_sql = "".join(f"SET LOCAL {name} = {value}; " for name, value in LIVENESS_TRANSACTION_SETTINGS)
        with session.cursor() as cursor:
            cursor.execute(settings_sql + "SELECT pg_advisory_xact_lock_shared(%s, %s)", [LIVENESS_LOCK_CLASS, liveness_key(scan_id)])
        yield
    finally:
        session.close()  # ends the transaction, and the lock with it


# A processing scan whose run holds no liveness lock: the SQL the sweep adds to its filter.
_NO_LIVE_RUN = RawSQL(
    f"""NOT EXISTS (
        SELECT 1 FROM pg_locks AS l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = {LIVENESS_LOCK_CLASS}
          AND l.objid = ('x' || right(replace({DataScan._meta.db_table}.scan_id::text, '-', ''), 8))::bit(32)::bigint::oid
    )""",
    [],
    output_field=BooleanField(),
)


class DataScanFailed(Exception):
    """A scan cannot complete (not a transient error): ends the scan `failed` with both messages."""

    def __init__(self, error: str, error_vi: str):
        # Both in `args`: Celery pickles the exception into the result backend and rebuilds it.
        super().__init__(error, error_vi)
        self.error = error
        self.error_vi = error_vi

    def __str__(self) -> str:
        return self.error


@dataclass(frozen=True)
class ScanProgress:
    current: int
    total: int

    @property
    def percent(self) -> int:
        return 100 * self.current // self.total if self.total else 100

    def as_meta(self) -> dict[str, int]:
        """The Celery `PROGRESS` state's meta."""
        return {"current": self.current, "total": self.total, "percent": self.percent}


def data_scan_submit(
    *, tenant: Tenant, rows: Sequence[ActivityRow], chunk_size: int | None = None, actor: AuditActor = COMMAND_ACTOR
) -> DataScan:
    """Store a scan and all its (validated) records durably; enqueue it once that has committed.

    The caller has checked the tenant (inventory.tenancy) and validated `rows`
    (inventory.validation.activities_validate). If the broker is down, the scan stays `pending`
    and the beat sweep dispatches it later.
    """
    task_id = str(uuid.uuid4())
    with transaction.atomic(using=WRITE_ALIAS):
        scan = data_scan_store(tenant=tenant, rows=rows, chunk_size=chunk_size, celery_task_id=task_id, actor=actor)
        # Only after commit: a worker must find the scan and its records when the message arrives.
        transaction.on_commit(partial(data_scan_dispatch, scan_id=scan.pk, task_id=task_id), using=WRITE_ALIAS)
    return scan


def data_scan_store(
    *,
    tenant: Tenant,
    rows: Sequence[ActivityRow],
    chunk_size: int | None = None,
    celery_task_id: str = "",
    actor: AuditActor = COMMAND_ACTOR,
) -> DataScan:
    """Create a pending scan and its record chunks on the write alias, without enqueueing it (audited as submitted)."""
    chunk_size = chunk_size or settings.DATA_SCAN_CHUNK_SIZE
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.create(tenant=tenant, records_total=len(rows), celery_task_id=celery_task_id)
        DataScanChunk.objects.bulk_create(
            [
                DataScanChunk(
                    data_scan=scan,
                    chunk_index=number,
                    first_record_index=start,
                    record_count=len(rows[start : start + chunk_size]),
                    records=list(rows[start : start + chunk_size]),
                )
                for number, start in enumerate(range(0, len(rows), chunk_size))
            ]
        )
        _scan_created_audit(actor=actor, scan=scan)
    return scan


def _scan_created_audit(*, actor: AuditActor, scan: DataScan) -> None:
    # The scan's first audit row: its later rows (completion, failure) name this row's actor.
    audit_record(
        actor=actor,
        tenant_id=scan.tenant_id,
        action=AuditAction.DATA_SCAN_CREATE,
        object_type="data_scan",
        object_ids=[scan.pk],
        details={"records_total": scan.records_total},
    )


def _scan_audit(*, scan: DataScan, action: AuditAction, actor: AuditActor | None = None, **details: object) -> None:
    """An audit row about a running scan; without `actor`, the user who started it, through the worker."""
    if actor is None:
        actor = audit_actor_of_start(
            tenant_id=scan.tenant_id, object_type="data_scan", object_id=scan.pk, since=scan.created_at, source=AuditSource.SCAN
        )
    audit_record(actor=actor, tenant_id=scan.tenant_id, action=action, object_type="data_scan", object_ids=[scan.pk], details=details)


def data_scan_submit_chunks(*, tenant: Tenant, chunks: Iterable[Sequence[ActivityRow]], actor: AuditActor) -> DataScan:
    """Store a scan chunk by chunk as the caller validates them, then enqueue it once that has committed.

    For a streamed request body: the caller's `chunks` parses and validates the body one chunk at
    a time, so memory holds one chunk, not the scan. The scan row, every chunk and the final
    `records_total` share one transaction on the write alias: if `chunks` raises part-way (an
    invalid record, too many records, a malformed body), everything staged so far rolls back and
    nothing is stored. The write connection is taken only when the first chunk is ready, so a body
    that fails in its first chunk never waits for one.
    """
    chunk_iterator = iter(chunks)
    rows: Sequence[ActivityRow] | None = next(chunk_iterator)  # `chunks` raises for an empty scan
    task_id = str(uuid.uuid4())
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.create(tenant=tenant, records_total=0, celery_task_id=task_id)
        number = total = 0
        while rows is not None:
            DataScanChunk.objects.create(data_scan=scan, chunk_index=number, first_record_index=total, record_count=len(rows), records=rows)
            number, total = number + 1, total + len(rows)
            rows = None  # let the chunk go before the next one is parsed
            rows = next(chunk_iterator, None)
        DataScan.objects.filter(pk=scan.pk).update(records_total=total)
        scan.records_total = total
        _scan_created_audit(actor=actor, scan=scan)
        transaction.on_commit(partial(data_scan_dispatch, scan_id=scan.pk, task_id=task_id), using=WRITE_ALIAS)
    return scan


def data_scan_dispatch(*, scan_id: uuid.UUID | str, task_id: str | None = None) -> bool:
    """Send `process_data_scan(scan_id)` to the broker; True if it was accepted.

    Never raises for a broker or database outage: the scan stays as it is and the sweep dispatches
    it again. `dispatched_at` is set only once the broker has the message.
    """
    from inventory.tasks import process_data_scan  # tasks import this module

    task_id = task_id or str(uuid.uuid4())
    try:
        process_data_scan.apply_async(args=[str(scan_id)], task_id=task_id, retry=True, retry_policy=DISPATCH_RETRY_POLICY)
    except (KombuError, OSError) as exc:
        logger.warning("data scan %s not dispatched (broker unavailable: %s); the sweep will retry", scan_id, exc)
        return False
    try:
        DataScan.objects.filter(pk=scan_id).update(dispatched_at=Now(), updated_at=Now(), celery_task_id=task_id)
    except DatabaseError:
        # The message is out; at worst the sweep sends a second one, which finds nothing to do.
        logger.exception("data scan %s dispatched but dispatched_at not recorded", scan_id)
    return True


def data_scan_process(*, scan_id: uuid.UUID | str, on_progress: Callable[[ScanProgress], None] | None = None) -> str:
    """Write every remaining chunk of the scan, then complete it. Returns the scan's status afterwards.

    Safe to run more than once, and concurrently: a finished scan is left alone, and two runs
    share the remaining chunks between them (each chunk is locked by the run writing it).
    Raises DataScanFailed for records the database refuses; transient database errors propagate
    for the task to retry.
    """
    scan = data_scan_start(scan_id=scan_id)
    if scan is None:
        return "missing"
    if scan.status != ScanStatus.PROCESSING:
        return scan.status
    if scan.data_source_id is not None:
        # A discovery scan of a data source: same task, status, retries and sweep, other work.
        from inventory.source_services import data_source_scan_run  # it imports this module

        return data_source_scan_run(scan=scan, on_progress=on_progress)
    try:
        while True:
            progress = data_scan_chunk_write(scan=scan)
            if progress is None:
                # What is left is held by another run: wait for it. A live run commits its chunk (the
                # row is gone and this returns None); a run whose worker died leaves its lock only when
                # its backend goes, and then this run writes the chunk. Either way the scan completes
                # now, not when the sweep finds it stalled.
                progress = data_scan_chunk_write(scan=scan, wait=True)
                if progress is None:
                    break
            if on_progress is not None:
                on_progress(progress)
    except DataScanCancelled:
        logger.info("data scan %s was cancelled; its worker stopped at a chunk boundary", scan_id)
        return ScanStatus.CANCELLED
    return data_scan_complete(scan_id=scan_id)


def data_scan_start(*, scan_id: uuid.UUID | str) -> DataScan | None:
    """Move a pending scan to `processing` (None if the scan no longer exists)."""
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None or scan.status in FINISHED_STATUSES:
            return scan
        if scan.status == ScanStatus.PENDING:
            scan.status = ScanStatus.PROCESSING
            scan.started_at = scan.started_at or timezone.now()
        scan.updated_at = timezone.now()
        scan.save(update_fields=["status", "started_at", "updated_at"])
    return scan


def _insert_chunk_sql(*, ordinals: bool = False) -> str:
    """One chunk's rows, expanded from its stored JSONB and inserted by PostgreSQL in one statement.

    The records never leave PostgreSQL (measured faster than fetching them and COPYing them back,
    benchmarks/scan.py). Ids are the n-th of a reserved range (verisyntra.ids.IdRange.sql_parts).
    Every column list derives from ACTIVITY_RECORD_FIELDS; each record field is read as its
    column's own type.

    With `ordinals`, only the chunk's records `first_ord`..`last_ord` (1-based), each expanded on
    its own: jsonb_to_recordset converts every record of the array before any filter applies,
    so a refused record would fail every part of the chunk.
    """
    activity = ProcessingActivity._meta.db_table
    chunk = DataScanChunk._meta.db_table
    connection = connections[WRITE_ALIAS]
    fields = ACTIVITY_RECORD_FIELDS
    record_types = ", ".join(f"{name} {ProcessingActivity._meta.get_field(name).db_type(connection)}" for name in fields)
    if ordinals:
        records = f"""CROSS JOIN LATERAL jsonb_array_elements(c.records) WITH ORDINALITY AS e(record, ord)
        CROSS JOIN LATERAL jsonb_to_record(e.record) AS r({record_types})
        WHERE c.id = %(chunk_id)s AND e.ord BETWEEN %(first_ord)s AND %(last_ord)s"""
        ordinal = "e.ord"
    else:
        records = f"""CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(c.records) AS ({record_types}))
            WITH ORDINALITY AS r({", ".join(fields)}, ord)
        WHERE c.id = %(chunk_id)s"""
        ordinal = "r.ord"
    return f"""
        INSERT INTO {activity} (id, tenant_id, data_scan_id, scan_record_index, {", ".join(fields)})
        SELECT (%(id_high)s || to_hex(%(id_base)s::bigint + {ordinal}))::uuid,
               %(tenant_id)s::uuid, c.data_scan_id, c.first_record_index + {ordinal} - 1, {", ".join(f"r.{name}" for name in fields)}
        FROM {chunk} AS c
        {records}
        ON CONFLICT (data_scan_id, scan_record_index) WHERE data_scan_id IS NOT NULL DO NOTHING
    """


# What the database answers to a record it will not store (a value too long, a check violated):
# the scan fails; anything else (a lost connection, a full pool) is transient and retried.
REFUSED = (DataError, IntegrityError, ProgrammingError)


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _chunk_refused(*, chunk: DataScanChunk, params: dict, exc: BaseException) -> DataScanFailed:
    """The failure of a chunk the database refused, naming the first record it refuses on its own.

    An operator repairs one stored record, not a chunk of thousands, so the record is searched for
    by halving: each probe inserts part of the chunk in a savepoint that is always rolled back
    (about 14 probes for 10,000 records, on the failure path only). If no single record is
    refused alone, the chunk's range is named instead.
    """

    def refusal(first_ord: int, last_ord: int) -> BaseException | None:
        try:
            with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
                cursor.execute(_insert_chunk_sql(ordinals=True), {**params, "first_ord": first_ord, "last_ord": last_ord})
                transaction.set_rollback(True, using=WRITE_ALIAS)
        except REFUSED as probe_exc:
            return probe_exc
        return None

    low, high = 1, chunk.record_count
    while low < high:
        middle = (low + high) // 2
        if refusal(low, middle) is None:
            low = middle + 1
        else:
            high = middle
    alone = refusal(low, low)
    if alone is not None:
        text = render("scan.record_not_written", index=chunk.first_record_index + low - 1, detail=_error_line(alone))
    else:
        first, last = chunk.first_record_index, chunk.first_record_index + chunk.record_count - 1
        text = render("scan.records_not_written", first=first, last=last, detail=_error_line(exc))
    return DataScanFailed(text.en, text.vi)


def data_scan_chunk_write(*, scan: DataScan, wait: bool = False) -> ScanProgress | None:
    """Write the next unclaimed chunk: rows, chunk deletion and progress in one transaction.

    Returns the progress after the chunk, or None when no chunk is left that another run is not
    already writing. With `wait`, a chunk another run holds is waited for (at most
    DATA_SCAN_STALL_SECONDS, then the lock timeout is a transient error the task retries) and
    written if that run's transaction ends without writing it.
    """
    with transaction.atomic(using=WRITE_ALIAS):
        if wait:
            with connections[WRITE_ALIAS].cursor() as cursor:
                # At least 1 s: PostgreSQL reads a lock_timeout of 0 as "wait forever".
                cursor.execute("SET LOCAL lock_timeout = %s", [f"{max(settings.DATA_SCAN_STALL_SECONDS, 1)}s"])
        chunk = (
            DataScanChunk.objects.filter(data_scan_id=scan.pk)
            .order_by("chunk_index")
            .select_for_update(skip_locked=not wait)
            .only("id", "first_record_index", "record_count")
            .first()
        )
        if chunk is None:
            return None
        id_high, id_base = id_range_reserve(chunk.record_count).sql_parts()
        params = {"id_high": id_high, "id_base": id_base, "tenant_id": str(scan.tenant_id), "chunk_id": chunk.pk}
        # Raw statements the router cannot route: they belong to this write transaction.
        with connections[WRITE_ALIAS].cursor() as cursor:
            # This commit need not wait for the disk: if PostgreSQL crashes before the WAL is
            # flushed, the whole transaction (rows, chunk deletion, progress) is lost together
            # and the chunk is simply written again. The completion commit stays synchronous.
            cursor.execute("SET LOCAL synchronous_commit = off")
            # A partitioned worker's transaction must not hold this chunk for hours (see the settings).
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in CHUNK_TRANSACTION_SETTINGS),
                [part for setting in CHUNK_TRANSACTION_SETTINGS for part in setting],
            )
        try:
            # In a savepoint, so that after a refusal the transaction can still look for the record.
            with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
                cursor.execute(_insert_chunk_sql(), params)
        except REFUSED as exc:
            raise _chunk_refused(chunk=chunk, params=params, exc=exc) from exc
        DataScanChunk.objects.filter(pk=chunk.pk).delete()
        # Only while the scan has not ended: a cancel that committed meanwhile (its UPDATE
        # of the scan row made this one wait, then PostgreSQL re-reads the row) leaves 0 rows
        # updated, and the whole chunk is rolled back. So a cancelled scan gains no row after
        # the cancel's commit, and the worker stops at this chunk.
        progressed = DataScan.objects.filter(pk=scan.pk, status__in=[ScanStatus.PENDING, ScanStatus.PROCESSING]).update(
            records_processed=F("records_processed") + chunk.record_count,
            progress_percent=(F("records_processed") + chunk.record_count) * 100 / F("records_total"),
            updated_at=Now(),
        )
        if not progressed:
            raise DataScanCancelled(str(scan.pk))
        current, total = DataScan.objects.filter(pk=scan.pk).values_list("records_processed", "records_total").get()
    return ScanProgress(current=current, total=total)


def data_scan_complete(*, scan_id: uuid.UUID | str) -> str:
    """Mark the scan completed if every chunk is written and the row count is exact."""
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            return "missing"
        if scan.status != ScanStatus.PROCESSING:
            return scan.status
        if DataScanChunk.objects.filter(data_scan_id=scan_id).exists():
            # Another run holds the last chunks; it completes the scan when it is done.
            return scan.status
        written = ProcessingActivity.objects.filter(data_scan_id=scan_id).count()
        if written != scan.records_total:
            text = render("scan.count_mismatch", written=written, total=scan.records_total)
            raise DataScanFailed(text.en, text.vi)
        scan.status = ScanStatus.COMPLETED
        scan.progress_percent = 100
        scan.records_processed = scan.records_total
        scan.completed_at = scan.updated_at = timezone.now()
        scan.save(update_fields=["status", "progress_percent", "records_processed", "completed_at", "updated_at"])
        _scan_audit(scan=scan, action=AuditAction.DATA_SCAN_COMPLETE, records_written=written)
        transaction.on_commit(partial(record_scan_finished, ScanStatus.COMPLETED.value), using=WRITE_ALIAS)
    return ScanStatus.COMPLETED


def data_scan_fail(*, scan_id: uuid.UUID | str, error: str, error_vi: str) -> bool:
    """End a pending or processing scan as `failed` with its bilingual error; False if it had already ended.

    Audited with the rows it wrote before it failed (they stay), in the user's name who started it.
    """
    now = timezone.now()
    with transaction.atomic(using=WRITE_ALIAS):
        scan = (
            DataScan.objects.select_for_update()
            .filter(pk=scan_id, status__in=[ScanStatus.PENDING, ScanStatus.PROCESSING])
            .only("scan_id", "tenant_id", "created_at", "records_processed")
            .first()
        )
        if scan is None:
            return False
        DataScan.objects.filter(pk=scan.pk).update(
            status=ScanStatus.FAILED, error=error, error_vi=error_vi, completed_at=now, updated_at=now
        )
        _scan_audit(scan=scan, action=AuditAction.DATA_SCAN_FAIL, records_written=scan.records_processed)
    record_scan_finished(ScanStatus.FAILED.value)
    return True


def data_scan_cancel(
    *, tenant_id: uuid.UUID | str, scan_id: uuid.UUID | str, discard: bool = False, actor: AuditActor = COMMAND_ACTOR
) -> DataScan:
    """Cancel a pending or processing scan of `tenant_id`: its worker stops at the next chunk boundary.

    The scan becomes `cancelled` first, in its own transaction, so a worker's chunk transaction
    that is in flight finds it so and rolls back (`data_scan_chunk_write`); then its stored chunks
    are deleted. The rows of the chunks committed before the cancel stay, unless `discard`, which
    deletes them too. Idempotent: cancelling a cancelled scan answers it again (and, with
    `discard`, removes whatever rows are left). Raises ApiError 404 `data_scan_not_found` for
    another tenant's scan or an unknown id, and 409 `data_scan_finished` for a completed or failed one.

    The two steps are separate transactions on purpose: a worker holds its chunk's row lock and
    then updates the scan row, so one transaction taking the scan row and then the chunks would
    deadlock with it. So the cancel and the discarded rows are audited each in its own
    transaction: `data_scan.cancel` when the scan becomes cancelled, `data_scan.discard` when rows go.
    """
    now = timezone.now()
    with transaction.atomic(using=WRITE_ALIAS):
        scan = DataScan.objects.select_for_update().filter(pk=scan_id, tenant_id=tenant_id).first()
        if scan is None:
            raise ApiError("data_scan_not_found", status_code=404)
        if scan.status in (ScanStatus.COMPLETED, ScanStatus.FAILED):
            raise ApiError("data_scan_finished", status_code=409, status=scan.status, status_vi=scan.status_vi)
        newly_cancelled = scan.status != ScanStatus.CANCELLED
        if newly_cancelled:
            scan.status = ScanStatus.CANCELLED
            scan.completed_at = scan.updated_at = now
            scan.save(update_fields=["status", "completed_at", "updated_at"])
            _scan_audit(scan=scan, action=AuditAction.DATA_SCAN_CANCEL, actor=actor, records_written=scan.records_processed)
            transaction.on_commit(partial(record_scan_finished, ScanStatus.CANCELLED.value), using=WRITE_ALIAS)
    with transaction.atomic(using=WRITE_ALIAS):
        # Waits for a chunk transaction in flight; that one rolls back, seeing the scan cancelled.
        DataScanChunk.objects.filter(data_scan_id=scan.pk).delete()
        if discard:
            discarded, _ = ProcessingActivity.objects.filter(data_scan_id=scan.pk).delete()
            if discarded:
                _scan_audit(scan=scan, action=AuditAction.DATA_SCAN_DISCARD, actor=actor, records_deleted=discarded)
    if newly_cancelled or discard:
        logger.info("data scan %s cancelled%s", scan.pk, " and its rows discarded" if discard else "")
    return scan


def data_scans_retry(*, scan_ids: Sequence[uuid.UUID | str], actor: AuditActor = COMMAND_ACTOR) -> int:
    """Put failed scans back to `pending` and dispatch them; they resume at their first unwritten chunk.

    `started_at` is cleared (the next run sets it), so a retried scan's duration counts its new run,
    not the time it sat failed. Each retried scan gets its audit row.
    """
    with transaction.atomic(using=WRITE_ALIAS):
        scans = list(
            DataScan.objects.select_for_update()
            .filter(pk__in=scan_ids, status=ScanStatus.FAILED)
            .only("scan_id", "tenant_id", "created_at")
        )
        for scan in scans:
            task_id = str(uuid.uuid4())
            DataScan.objects.filter(pk=scan.pk).update(
                status=ScanStatus.PENDING,
                error="",
                error_vi="",
                started_at=None,
                completed_at=None,
                dispatched_at=None,
                celery_task_id=task_id,
                updated_at=Now(),
            )
            _scan_audit(scan=scan, action=AuditAction.DATA_SCAN_RETRY, actor=actor)
            transaction.on_commit(partial(data_scan_dispatch, scan_id=scan.pk, task_id=task_id), using=WRITE_ALIAS)
    return len(scans)


def data_scans_due_filter(now=None) -> Q:
    """Scans the sweep must dispatch: never accepted by the broker, queued too long, or orphaned.

    Orphaned: processing, and no run holds its liveness lock (`data_scan_liveness`), for longer
    than DATA_SCAN_ORPHAN_GRACE_SECONDS (the gap between a task's retries, or between its end and
    the status it sets). However long a chunk takes, a scan whose worker lives is never due. A
    pending scan has no run yet, so only time tells a lost message from a long queue:
    DATA_SCAN_STALL_SECONDS.
    """
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.DATA_SCAN_DISPATCH_GRACE_SECONDS)
    queued_too_long = now - timedelta(seconds=settings.DATA_SCAN_STALL_SECONDS)
    orphan_grace = now - timedelta(seconds=settings.DATA_SCAN_ORPHAN_GRACE_SECONDS)
    return (
        Q(status=ScanStatus.PENDING, dispatched_at__isnull=True, updated_at__lt=grace)
        | Q(status=ScanStatus.PENDING, updated_at__lt=queued_too_long)
        | Q(_NO_LIVE_RUN, status=ScanStatus.PROCESSING, updated_at__lt=orphan_grace)
    )


@all_tenants()  # the sweep looks at every tenant's scans
def data_scans_sweep() -> list[str]:
    """Dispatch every due scan once; returns their ids. Safe with several beats or sweeps at once.

    The due scans are locked with `FOR UPDATE SKIP LOCKED`, so a concurrent sweep skips them,
    and claimed by moving `updated_at` to now before the lock is released, so a sweep that runs
    right after no longer finds them due. The messages leave after the claim commits.
    """
    with transaction.atomic(using=WRITE_ALIAS):
        scans = list(
            DataScan.objects.select_for_update(skip_locked=True)
            .filter(data_scans_due_filter())
            .order_by("created_at")
            .only("scan_id")[:SWEEP_BATCH]
        )
        for scan in scans:
            task_id = str(uuid.uuid4())
            DataScan.objects.filter(pk=scan.pk).update(updated_at=Now(), celery_task_id=task_id)
            transaction.on_commit(partial(data_scan_dispatch, scan_id=scan.pk, task_id=task_id), using=WRITE_ALIAS)
    if scans:
        logger.info("sweep dispatched %d data scan(s): %s", len(scans), ", ".join(str(s.pk) for s in scans))
    return [str(scan.pk) for scan in scans]
