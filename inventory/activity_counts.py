"""The compliance summary's rollup (`ActivityCount`): compare it with the activities, and rebuild it.

PostgreSQL's triggers keep the rollup (inventory migration 0006). These are for operators and
tests: a check that it still matches the activities it counts, and a rebuild for the day someone
changes rows with the triggers disabled (`session_replication_role = replica`, a restore with
`--disable-triggers`). Both run on the write alias: the primary is the truth.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connections, transaction

from inventory.models import ActivityCount, ProcessingActivity
from verisyntra.db.config import WRITE_ALIAS

_GROUP = ("tenant_id", "pdpl_category", "legal_basis", "cross_border_transfer")


@dataclass(frozen=True)
class CountDrift:
    """One group whose stored count differs from the number of activities in it."""

    tenant_id: uuid.UUID
    pdpl_category: str
    legal_basis: str
    cross_border_transfer: bool
    stored: int
    actual: int


def _tenant_filter(alias: str, tenant_id: uuid.UUID | str | None) -> tuple[str, list]:
    return (f"WHERE {alias}.tenant_id = %s", [str(tenant_id)]) if tenant_id else ("", [])


def activity_counts_drift(*, tenant_id: uuid.UUID | str | None = None) -> list[CountDrift]:
    """Every group where the rollup and the activities disagree (empty when they match).

    One statement, so one snapshot: writers may keep writing while it runs.
    """
    group = ", ".join(_GROUP)
    activities_where, activities_params = _tenant_filter("a", tenant_id)
    counts_where, counts_params = _tenant_filter("c", tenant_id)
    query = f"""
        WITH actual AS (
            SELECT {group}, count(*) AS n FROM {ProcessingActivity._meta.db_table} AS a
            {activities_where} GROUP BY {group}
        ), stored AS (
            SELECT {group}, activities AS n FROM {ActivityCount._meta.db_table} AS c {counts_where}
        )
        SELECT {group}, coalesce(stored.n, 0), coalesce(actual.n, 0)
        FROM stored FULL OUTER JOIN actual USING ({group})
        WHERE coalesce(stored.n, 0) <> coalesce(actual.n, 0)
        ORDER BY {group}
    """
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(query, [*activities_params, *counts_params])
        return [CountDrift(*row) for row in cursor.fetchall()]


def activity_counts_rebuild(*, tenant_id: uuid.UUID | str | None = None) -> int:
    """Recount the rollup from the activities; returns the number of groups stored.

    Writers wait meanwhile (SHARE ROW EXCLUSIVE on the activities until commit), so no row is
    counted twice or missed; readers do not.
    """
    group = ", ".join(_GROUP)
    activities_where, params = _tenant_filter("a", tenant_id)
    with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(f"LOCK TABLE {ProcessingActivity._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        counts = ActivityCount.objects.using(WRITE_ALIAS)
        (counts.filter(tenant_id=tenant_id) if tenant_id else counts).delete()
        cursor.execute(
            f"INSERT INTO {ActivityCount._meta.db_table} ({group}, activities)"
            f" SELECT {group}, count(*) FROM {ProcessingActivity._meta.db_table} AS a {activities_where}"
            f" GROUP BY {group}",
            params,
        )
        return cursor.rowcount
