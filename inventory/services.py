"""Writes of the inventory app (HackSoft style: `<thing>_<verb>`, keyword-only, typed)."""

from __future__ import annotations

import itertools
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction

from accounts.services import IssuedToken, api_token_create
from audit.models import AuditAction
from audit.services import COMMAND_ACTOR, AuditActor, audit_record
from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import ProcessingActivity, Tenant, TenantMembership
from inventory.validation import ActivityRow, ItemError, ValidationResult, activities_normalise, activities_validate
from verisyntra.api.errors import ApiError
from verisyntra.db.config import WRITE_ALIAS
from verisyntra.db.pinning import note_write
from verisyntra.ids import id_range_reserve


def tenant_create(
    *, name: str, username: str, reuse_existing: bool = False, actor: AuditActor = COMMAND_ACTOR
) -> tuple[Tenant, object, IssuedToken]:
    """Create a tenant, make `username` (created if new) a member of it, and issue the user an API token.

    The token (accounts.ApiToken) acts for every tenant the user is a member of; its plaintext is in
    the returned `IssuedToken.key` only (the database keeps a digest), so each call issues a new one.

    With `reuse_existing`, a tenant of that name the user already belongs to is returned instead
    (and nothing is audited: no tenant was created).
    """
    User = get_user_model()
    # One transaction on the primary: a tenant never exists without its first member.
    with transaction.atomic(using=WRITE_ALIAS):
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        tenant = Tenant.objects.filter(name=name, memberships__user=user).first() if reuse_existing else None
        if tenant is None:
            tenant = Tenant.objects.create(name=name)
            TenantMembership.objects.create(tenant=tenant, user=user)
            audit_record(
                actor=actor,
                tenant_id=tenant.pk,
                action=AuditAction.TENANT_CREATE,
                object_type="tenant",
                object_ids=[tenant.pk],
                details={"member_user_id": user.pk},
            )
        issued = api_token_create(user=user, name=f"create_tenant {name}"[:100])
    return tenant, user, issued


# --- Processing activities: bulk insert ---------------------------------------------------------

# The columns a bulk insert writes, in COPY order. `created_at` is left to its database default
# (the statement's timestamp), so a batch shares one timestamp and its ids order it; the data-scan
# columns stay NULL (scans are written by inventory.scan_services).
ACTIVITY_COPY_COLUMNS = ("id", "tenant_id", *ACTIVITY_RECORD_FIELDS)
# The batch's temporary stage (processing_activities_bulk_insert): its name carries the column
# list, so a session that made it before a migration changed the columns makes a new one.
ACTIVITY_STAGE_TABLE = f"activity_batch_stage_{zlib.crc32(','.join(ACTIVITY_COPY_COLUMNS).encode()):08x}"
# Rows formatted per read() of the COPY stream: small enough that PostgreSQL parses one block
# while Python formats the next (the two run on different cores), large enough to amortise calls.
COPY_BLOCK_ROWS = 250

_COPY_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    return value.translate(_COPY_TEXT_ESCAPES)


def _copy_array_escaped(values: list[str]) -> str:
    # Every element quoted: commas, braces, spaces and the word NULL need no special case.
    # Inside an array literal `"` and `\` take a backslash; COPY's text format then doubles it.
    if not values:
        return "{}"
    return _copy_text("{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}")


def _copy_lines(rows: list[ActivityRow], ids: list[str], tenant_id: str, escape: bool) -> tuple[str, int, int]:
    """Rows in COPY's text format (ACTIVITY_COPY_COLUMNS order); also the quote and backslash counts the format itself adds."""
    if escape:
        return _copy_lines_escaped(rows, ids, tenant_id)
    # The hot loop of a batch: no function call per field, one concatenation per row. Its field
    # order is ACTIVITY_RECORD_FIELDS' (test_activity_bulk_insert checks every column round-trips).
    lines = []
    append = lines.append
    quotes = backslashes = 0
    head = "\t" + tenant_id + "\t"
    for position, row in enumerate(rows):
        retention = row["retention_months"]
        data_fields, subjects, recipients = row["data_fields"], row["data_subjects"], row["recipients"]
        quotes += 2 * (len(data_fields) + len(subjects) + len(recipients))
        if retention is None:
            backslashes += 1
        append(
            ids[position]
            + head
            + row["activity_name"]
            + "\t"
            + row["pdpl_category"]
            + ('\t{"' + '","'.join(data_fields) + '"}\t' if data_fields else "\t{}\t")
            + row["purpose"]
            + "\t"
            + row["legal_basis"]
            + ('\t{"' + '","'.join(subjects) + '"}' if subjects else "\t{}")
            + ('\t{"' + '","'.join(recipients) + '"}' if recipients else "\t{}")
            + ("\tt\t" if row["cross_border_transfer"] else "\tf\t")
            + ("\\N" if retention is None else str(retention))
        )
    append("")
    return "\n".join(lines), quotes, backslashes


def _copy_lines_escaped(rows: list[ActivityRow], ids: list[str], tenant_id: str) -> tuple[str, int, int]:
    lines = []
    for position, row in enumerate(rows):
        retention = row["retention_months"]
        lines.append(
            "\t".join(
                (
                    ids[position],
                    tenant_id,
                    _copy_text(row["activity_name"]),
                    row["pdpl_category"],
                    _copy_array_escaped(row["data_fields"]),
                    _copy_text(row["purpose"]),
                    row["legal_basis"],
                    _copy_array_escaped(row["data_subjects"]),
                    _copy_array_escaped(row["recipients"]),
                    "t" if row["cross_border_transfer"] else "f",
                    "\\N" if retention is None else str(retention),
                )
            )
        )
    lines.append("")
    return "\n".join(lines), 0, 0


class _ActivityCopyStream:
    """A file-like object for psycopg2's `copy_expert`: formats rows block by block as COPY reads.

    Realistic records contain no tab, newline, carriage return, backslash or double quote, so
    each block is first formatted without escaping and then checked by counting those characters
    (the format adds a known number of each); only a block that fails the count is formatted again
    with escaping. Exceptions raised by the row source (a bad item in a streamed batch) abort the
    COPY, and with it the transaction.
    """

    def __init__(self, rows: Iterable[ActivityRow], *, tenant_id: str):
        self._rows = iter(rows)
        self._tenant_id = tenant_id
        self.ids: list[str] = []

    def read(self, size: int = -1) -> str:
        block = list(itertools.islice(self._rows, COPY_BLOCK_ROWS))
        if not block:
            return ""
        # Ascending ids (verisyntra.ids): ordering by (created_at, id) lists the batch as it was sent.
        ids = id_range_reserve(len(block)).strings()
        self.ids.extend(ids)
        text, quotes, backslashes = _copy_lines(block, ids, self._tenant_id, escape=False)
        rows = len(block)
        if (
            text.count("\t") != rows * (len(ACTIVITY_COPY_COLUMNS) - 1)
            or text.count("\n") != rows
            or text.count("\r")
            or text.count('"') != quotes
            or text.count("\\") != backslashes
        ):
            text, _, _ = _copy_lines(block, ids, self._tenant_id, escape=True)
        return text

    readline = read


def processing_activities_bulk_insert(
    *,
    tenant: Tenant | uuid.UUID | str,
    rows: Iterable[ActivityRow],
) -> list[str]:
    """Insert validated rows (`inventory.validation.activities_validate`) with one COPY; return their ids.

    Returns the new ids as canonical UUID strings, in input order. The caller has already checked
    that the user may write to `tenant` (`inventory.tenancy`). Everything happens in one
    transaction on the write alias (a savepoint if the caller already holds
    `transaction.atomic(using="write")`): all rows or none.

    `rows` may be a lazy iterable: it is consumed while COPY runs, so validation and formatting in
    Python overlap with PostgreSQL's parsing. An exception from it aborts the COPY and the
    transaction, and propagates.

    This is the batch API's write path. Data scans have their own (`inventory.scan_services`):
    PostgreSQL expands a stored chunk into rows itself, without the records travelling to Python.
    """
    tenant_id = str(tenant.pk if isinstance(tenant, Tenant) else tenant)
    stream = _ActivityCopyStream(rows, tenant_id=tenant_id)
    table = ProcessingActivity._meta.db_table
    columns = ", ".join(ACTIVITY_COPY_COLUMNS)
    # COPY is a raw-connection operation the router never sees: this function is the write path,
    # so it names the write alias itself, and tells the pinning layer what the router would have
    # (the client then reads its new rows from the primary, not from a lagging replica).
    note_write()
    with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
        _copy_rows(cursor, table, columns, stream)
    return stream.ids


def _copy_rows_staged(cursor: Any, table: str, columns: str, stream: Any) -> None:
    """COPY `stream` into `table` through this session's temporary stage, inside the caller's transaction.

    PostgreSQL refuses COPY FROM into a table under row-level security, so the rows go into the
    stage first (no indexes, no WAL) and on with one INSERT ... SELECT, which the tenant policy
    checks row by row. The stage is emptied first, not only at commit: a caller's outer
    transaction may hold an earlier batch.
    """
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {ACTIVITY_STAGE_TABLE} ON COMMIT DELETE ROWS AS SELECT {columns} FROM {table} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {ACTIVITY_STAGE_TABLE}")
    raw = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
    with connections[WRITE_ALIAS].wrap_database_errors:
        raw.copy_expert(f"COPY {ACTIVITY_STAGE_TABLE} ({columns}) FROM STDIN", stream, size=65536)
    cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {ACTIVITY_STAGE_TABLE}")


# The batch's way into the table (benchmarks.rls_cost swaps in a straight COPY for its baseline).
_copy_rows = _copy_rows_staged


# --- Processing activities: the batch API's write ---------------------------------------------

VALIDATION_BLOCK_ITEMS = 500


@dataclass
class BatchOutcome:
    """What a batch wrote (`ids`, in input order) and, with skip_invalid, what it refused."""

    ids: list[str]
    errors: list[ItemError] = field(default_factory=list)
    records_failed: int = 0


class _StopOnFirstInvalid:
    """Validated rows, block by block, for a streamed COPY; stops at the first block with a bad item.

    psycopg2 turns an exception raised while COPY reads into a generic database error, so the
    reason is kept here (`failed`) for the caller to tell "bad input" from "database trouble".
    """

    def __init__(self, items: Sequence[Any], check: Callable[..., ValidationResult]):
        self.items = items
        self.check = check
        self.failed = False

    def __iter__(self) -> Iterator[ActivityRow]:
        for start in range(0, len(self.items), VALIDATION_BLOCK_ITEMS):
            result = self.check(self.items[start : start + VALIDATION_BLOCK_ITEMS], first_index=start)
            if not result.ok:
                self.failed = True
                raise ValueError("invalid activity in batch")
            yield from result.rows


def invalid_activities_error(result: ValidationResult) -> ApiError:
    """The bilingual 400 that lists the bad items (index, field, message in both languages), within the error budget."""
    return ApiError("invalid_activities", **result.error_detail())


def processing_activities_batch_create(
    *, tenant: Tenant, items: Sequence[Any], actor: AuditActor, skip_invalid: bool = False, type_checked: bool = False
) -> BatchOutcome:
    """The batch API's write: all items or none (default), or every valid item (`skip_invalid`).

    All or nothing: items are validated in blocks while COPY already streams the valid ones; the
    first bad block aborts the COPY and rolls the transaction back, and the whole list is then
    validated to report every bad item (ApiError 400). With `skip_invalid`, the valid items are
    written and the bad ones reported; if none is valid, that is the same 400. `type_checked`
    says pydantic has already validated the items (`batch_body_validate_json`), so only the
    remaining checks run.

    The rows and their one audit row (`actor`, the count, the first ids) commit together.
    """
    check = activities_normalise if type_checked else activities_validate
    if skip_invalid:
        result = check(items, stop_after_failed=None)  # every valid item is written, so every item is looked at
        if not result.rows:
            raise invalid_activities_error(result)
        with transaction.atomic(using=WRITE_ALIAS):
            ids = processing_activities_bulk_insert(tenant=tenant, rows=result.rows)
            outcome = BatchOutcome(ids=ids, errors=result.errors, records_failed=len(result.failed_indexes))
            _batch_audit(actor=actor, tenant=tenant, outcome=outcome)
        return outcome
    rows = _StopOnFirstInvalid(items, check)
    try:
        with transaction.atomic(using=WRITE_ALIAS):
            outcome = BatchOutcome(ids=processing_activities_bulk_insert(tenant=tenant, rows=rows))
            _batch_audit(actor=actor, tenant=tenant, outcome=outcome)
    except DatabaseError:
        if not rows.failed:
            raise
        raise invalid_activities_error(activities_validate(items)) from None
    return outcome


def _batch_audit(*, actor: AuditActor, tenant: Tenant, outcome: BatchOutcome) -> None:
    details = {"records_failed": outcome.records_failed} if outcome.records_failed else {}
    audit_record(
        actor=actor,
        tenant_id=tenant.pk,
        action=AuditAction.ACTIVITIES_BATCH_CREATE,
        object_type="processing_activity",
        object_ids=outcome.ids,
        details=details,
    )
