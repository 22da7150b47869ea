"""Cost curves: how the service's costs grow with its data, from 100,000 to 10,000,000 activities.

    .venv/bin/python -m benchmarks.scale                       # 100k, 1M and 10M; rewrites docs/charts/scale-*
    .venv/bin/python -m benchmarks.scale --sizes 100000,1000000 --rounds 2 --keep --out /tmp/scale

Each size has its own database, `bench_scale_<rows>` (on the server of BENCH_SCALE_DATABASE_URL,
default the local PostgreSQL as `postgres`), migrated, with 1,000 tenants and one more for the
writes. Its activities table is loaded by `COPY` with `rows` realistic activities (the batch and
scan benchmarks' records: Vietnamese text, every field filled), one tenant holding half of them
and 999 sharing the rest. The history is written as a real one was: batches of 50 rows of one
tenant with one `created_at` each and time-ordered (version 7) ids, every tenant's batches spread
over a year, so the list's index grows by page splits as it does in service. Then `VACUUM ANALYZE`,
as autovacuum does after a load. A database whose rows are already there is reused (`--keep`
leaves them for the next run; by default they are dropped at the end).

One gunicorn per size (`gunicorn.conf.py`, as deployed) serves that size's database, all at once,
and the measurements are interleaved: every round measures every size in turn (the order rotated
each round), so a load spike on the shared machine hits the sizes alike and the ratios of one run
hold even when its absolute figures move. Per size and round:

- `POST /batch/processing-activities` with 10,000 records (benchmarks.batch's, as JSON), end to
  end; its rows are deleted afterwards, so each size keeps its row count;
- `GET /analytics/compliance-summary` for the big tenant and for a small one (p95);
- `GET /analytics/processing-activities`: the big tenant's first page and the page 100,000 rows
  deep (or as deep as a tenant of half the rows goes), by the cursor the project's paginator signs
  for the row before it: each measured as its own request, as a client following `next_cursor`
  would send it;
- a data scan of 100,000 records (benchmarks.scan's) submitted to `POST /data-scans` as NDJSON and
  written by a real Celery worker: rows/s = records / the scan's (completed_at - started_at);
  its rows are deleted afterwards.

Per size, once: the table's and each index's size (bytes per row), `pg_stat_user_tables` before
the first write and after the last (dead tuples, autovacuum and autoanalyze runs), a timed vacuum
after all the writes, the vacuum probes (after 110,000 new rows, after deleting them, and after
deleting 2 % of the rows with the index pass forced, per 1,000 rows; medians of three rounds), and
`EXPLAIN (ANALYZE, BUFFERS)` of the list's and the summary's queries. Every vacuum is timed as
autovacuum runs it: `VACUUM (PARALLEL 0)`.

The result is each figure per size, and the ratio largest / smallest (for rows/s, smallest /
largest: how much slower) against the target of at most 1.5x. `--out` receives scale.json,
scale.md and two charts; with the default `--out` the results block of docs/benchmarks.md is
rewritten too. Broker: BENCH_CELERY_BROKER_URL (default Redis database 8, emptied at the start);
ports `--port` to `--port` + number of sizes - 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.dataset import COPY_COLUMNS, ROOT

TARGET_RATIO = 1.5
TENANTS = 1_000
BIG_SHARE = 0.5
LOAD_BATCH_ROWS = 50
LOAD_STATEMENT_ROWS = 1_000_000
BATCH_RECORDS = 10_000
SCAN_RECORDS = 100_000
DEEP_PAGE_DEPTH = 100_000
PAGE_LIMIT = 100
DATABASE_PREFIX = "bench_scale_"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/8"
DEFAULT_OUT = ROOT / "docs" / "charts"
DOCUMENT = ROOT / "docs" / "benchmarks.md"
BLOCK_BEGIN = "<!-- scale:results:begin (written by python -m benchmarks.scale) -->"
BLOCK_END = "<!-- scale:results:end -->"
TABLE = "inventory_processingactivity"
# The loaded history spans one year, whatever its size: larger sizes are denser, not longer.
HISTORY_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
HISTORY_SPAN = dt.timedelta(days=365)
BIG_TENANT = "scale-big"
WRITER_TENANT = "scale-writer"


# --- What is measured and how it is judged ---------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured figure; `higher_is_better` for rates, whose growth in cost is their inverse."""

    key: str
    label: str
    unit: str
    higher_is_better: bool = False
    chart: str = "latency"  # "latency", "rate" or "storage"


FIGURES: tuple[Figure, ...] = (
    Figure("batch_10k_ms", "POST 10,000-record batch, median", "ms"),
    Figure("summary_big_p95_ms", "compliance summary p95, big tenant", "ms"),
    Figure("summary_small_p95_ms", "compliance summary p95, small tenant", "ms"),
    Figure("list_first_p95_ms", "list, first page (100 rows) p95, big tenant", "ms"),
    Figure("list_deep_p95_ms", "list, page 100,000 rows deep by cursor, p95", "ms"),
    Figure("scan_rows_per_s", "data scan of 100,000 records, worker rows/s", "rows/s", higher_is_better=True, chart="rate"),
    Figure("table_bytes_per_row", "table (heap + TOAST) bytes per row", "B", chart="storage"),
    Figure("index_bytes_per_row", "all indexes, bytes per row", "B", chart="storage"),
    Figure("vacuum_after_inserts_s", "VACUUM after 110,000 new rows", "s", chart="storage"),
    Figure("vacuum_after_deletes_s", "VACUUM after deleting them", "s", chart="storage"),
    Figure(
        "vacuum_churn_ms_per_1k", "VACUUM after deleting 2 % of the rows, index pass included, per 1,000 dead rows", "ms", chart="storage"
    ),
)


def cost_ratio(figure: Figure, smallest: float, largest: float) -> float:
    """How many times costlier the figure is at the largest size than at the smallest.

    A latency or a size grows as its value grows; a rate as it shrinks (half the rows/s is twice
    the cost). Infinite when the smallest size's cost is zero and the largest's is not.
    """
    before, after = (largest, smallest) if figure.higher_is_better else (smallest, largest)
    if before <= 0:
        return 1.0 if after <= 0 else math.inf
    return after / before


def verdict(ratio: float, target: float = TARGET_RATIO) -> str:
    return "met" if ratio <= target else "missed"


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (the value at rank ceil(q/100 * n)), as benchmarks.batch reports it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- The loaded history ----------------------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    """`rows` activities over `tenants` tenants (index 0 holds `big_share` of them), in batches."""

    rows: int
    tenants: int = TENANTS
    big_share: float = BIG_SHARE
    batch_rows: int = LOAD_BATCH_ROWS

    def quotas(self) -> list[int]:
        """Rows per tenant: the big tenant's share, the rest spread as evenly as whole rows allow."""
        if self.tenants == 1:
            return [self.rows]
        big = round(self.rows * self.big_share)
        rest, others = self.rows - big, self.tenants - 1
        return [big, *(rest // others + (1 if index < rest % others else 0) for index in range(others))]

    def batches(self) -> list[tuple[int, int]]:
        """(tenant index, rows) per batch, in time order: each tenant's batches spread evenly over the history."""
        keyed = []
        for tenant, quota in enumerate(self.quotas()):
            count = math.ceil(quota / self.batch_rows)
            for number in range(count):
                size = min(self.batch_rows, quota - number * self.batch_rows)
                keyed.append(((number + 0.5) / count, tenant, size))
        keyed.sort()
        return [(tenant, size) for _, tenant, size in keyed]


def record_tails(records: list[dict]) -> list[tuple[int, str]]:
    """Each record validated as the service validates it, as (name kind, COPY text after the name).

    The COPY text comes from the batch path's own formatter, so the loaded values are exactly what
    the service would have stored for these records.
    """
    from inventory.services import _copy_lines
    from inventory.validation import activities_validate

    result = activities_validate(records)
    if not result.ok:
        raise ValueError(f"invalid sample records: {result.errors[:3]}")
    ids = [str(uuid.UUID(int=index)) for index in range(len(result.rows))]
    text, _, _ = _copy_lines(result.rows, ids, str(uuid.UUID(int=0)), escape=True)
    tails = []
    for position, line in enumerate(text.splitlines()):
        _id, _tenant, _name, tail = line.split("\t", 3)
        tails.append((position % 2, tail))
    return tails


def sample_records(count: int = 840) -> list[dict]:
    """The batch and scan benchmarks' realistic records, alternating (the name kinds 0 and 1)."""
    from benchmarks.batch import activity
    from benchmarks.scan import record

    return [activity(index) if index % 2 == 0 else record(index) for index in range(count)]


def name_templates() -> tuple[str, str]:
    from benchmarks import samples

    templates = (samples.BATCH["activity_name"], samples.SCAN["activity_name"])
    for template in templates:
        if any(character in template for character in "\t\n\r\\"):
            raise ValueError("activity name templates must need no COPY escaping")
    return templates


def history_lines(
    plan: LoadPlan,
    tenant_ids: list[str],
    tails: list[tuple[int, str]],
    *,
    start: dt.datetime = HISTORY_START,
    span: dt.timedelta = HISTORY_SPAN,
    block_rows: int = 5_000,
) -> Iterator[str]:
    """The plan's rows as COPY text (`COPY_COLUMNS` order), in blocks of about `block_rows` lines.

    Row ids are version 7 UUIDs of the batch's millisecond with the row number as counter, so
    (created_at, id) orders the history as written and the primary key receives ascending keys.
    Two histories with different `start` never share an id (their milliseconds differ).
    """
    templates = name_templates()
    batches = plan.batches()
    step = span / max(len(batches), 1)
    lines: list[str] = []
    row = 0
    for number, (tenant, size) in enumerate(batches):
        moment = start + step * number
        millis = int(moment.timestamp() * 1000)
        high = f"{(millis << 16) | 0x7000:016x}"
        prefix = f"{high[:8]}-{high[8:12]}-{high[12:]}-"
        stamp = moment.isoformat()
        head = "\t" + tenant_ids[tenant] + "\t"
        for _ in range(size):
            low = f"{(0b10 << 62) | row:016x}"
            kind, tail = tails[row % len(tails)]
            name = templates[kind].format(branch=row % 97, i=row)
            lines.append(f"{prefix}{low[:4]}-{low[4:]}{head}{name}\t{tail}\t{stamp}\n")
            row += 1
        if len(lines) >= block_rows:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


class CopySource:
    """A file-like object for psycopg2's `copy_expert` over text blocks; counts the lines it hands out."""

    def __init__(self, blocks: Iterator[str]):
        self._blocks = blocks
        self.lines = 0

    def read(self, size: int = -1) -> str:
        block = next(self._blocks, "")
        self.lines += block.count("\n")
        return block

    readline = read


def copy_statements(blocks: Iterator[str], rows_per_statement: int) -> Iterator[Iterator[str]]:
    """Split a stream of blocks into successive streams of about `rows_per_statement` lines each."""
    iterator = iter(blocks)
    pending: list[str] = []

    def one() -> Iterator[str]:
        taken = 0
        while taken < rows_per_statement:
            block = pending.pop() if pending else next(iterator, None)
            if block is None:
                return
            taken += block.count("\n")
            yield block

    while True:
        first = next(iterator, None)
        if first is None:
            return
        pending.append(first)
        yield one()


# --- Databases ---------------------------------------------------------------------------------


def database_url(server_url: str, size: int) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{DATABASE_PREFIX}{size}"))


@dataclass
class SizeDatabase:
    """One size's database: its URL, the tenants, the token, how its rows got there."""

    size: int
    url: str
    token: str
    tenant_ids: list[str]
    writer: str
    load_seconds: float | None = None

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    @property
    def big(self) -> str:
        return self.tenant_ids[0]

    @property
    def small(self) -> str:
        return self.tenant_ids[1]


def tenant_names() -> list[str]:
    return [BIG_TENANT, *(f"scale-small-{index:03d}" for index in range(1, TENANTS)), WRITER_TENANT]


def prepare_database(size: int, url: str, env: dict[str, str], tails: list[tuple[int, str]]) -> SizeDatabase:
    """Create and migrate the size's database and load its history, unless it already holds it."""
    from benchmarks import dataset

    dataset.ensure_database(url)
    created = dataset.migrate_and_create_tenants({**env, "DATABASE_URL": url}, tenant_names())
    ids = [item["tenant_id"] for item in created]
    database = SizeDatabase(size=size, url=url, token=created[0]["token"], tenant_ids=ids[:-1], writer=ids[-1])
    writes_reset(database)
    connection = dataset.connect(url)
    try:
        with connection.cursor() as cursor:
            # The rollup the triggers keep counts every row per tenant without reading the table.
            cursor.execute(
                "SELECT coalesce(sum(activities), 0) FROM inventory_activitycount WHERE tenant_id = ANY(%s::uuid[])",
                [database.tenant_ids],
            )
            (loaded,) = cursor.fetchone()
            if loaded == size:
                print(f"{database.name}: {size:,} activities already loaded; reused")
                return database
            print(f"{database.name}: loading {size:,} activities by COPY ...", flush=True)
            started = time.perf_counter()
            cursor.execute(f"TRUNCATE {TABLE}")
            blocks = history_lines(LoadPlan(rows=size), database.tenant_ids, tails)
            columns = ", ".join(COPY_COLUMNS)
            written = 0
            for statement in copy_statements(blocks, LOAD_STATEMENT_ROWS):
                source = CopySource(statement)
                cursor.copy_expert(f"COPY {TABLE} ({columns}) FROM STDIN", source, size=1 << 20)
                written += source.lines
                print(f"  {written:,} rows, {time.perf_counter() - started:.0f} s", flush=True)
            cursor.execute(f"VACUUM ANALYZE {TABLE}")
            cursor.execute("VACUUM ANALYZE inventory_activitycount")
            cursor.execute("CHECKPOINT")
            database.load_seconds = round(time.perf_counter() - started, 1)
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            (count,) = cursor.fetchone()
            if count != size:
                raise RuntimeError(f"{database.name}: loaded {count} rows, expected {size}")
            print(f"{database.name}: {count:,} rows loaded, vacuumed and analysed in {database.load_seconds:.0f} s")
    finally:
        connection.close()
    return database


def writes_reset(database: SizeDatabase) -> None:
    """Remove what earlier runs wrote: the writer tenant's activities, every scan and task result."""
    from benchmarks import dataset

    connection = dataset.connect(database.url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM inventory_datascanchunk")
            cursor.execute(f"DELETE FROM {TABLE} WHERE tenant_id = %s", [database.writer])
            cursor.execute("DELETE FROM inventory_datascan")
            cursor.execute("TRUNCATE django_celery_results_taskresult")
    finally:
        connection.close()


def drop_database(url: str) -> None:
    from psycopg2 import sql

    from benchmarks import dataset

    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}")
    admin = dataset.connect(url, "postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


def query_one(url: str, statement: str, params: list | None = None):
    from benchmarks import dataset

    connection = dataset.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])
            return cursor.fetchone()
    finally:
        connection.close()


def relation_sizes(url: str) -> dict:
    """The activities table's heap, heap with TOAST and maps, and each index, in bytes."""
    from benchmarks import dataset

    connection = dataset.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_relation_size('{TABLE}'), pg_table_size('{TABLE}'), pg_indexes_size('{TABLE}')")
            heap, table, indexes = cursor.fetchone()
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
                f" WHERE indrelid = '{TABLE}'::regclass ORDER BY 1"
            )
            per_index = dict(cursor.fetchall())
    finally:
        connection.close()
    return {"heap": heap, "table": table, "indexes": indexes, "per_index": per_index}


STAT_COLUMNS = (
    "n_live_tup",
    "n_dead_tup",
    "n_ins_since_vacuum",
    "n_tup_ins",
    "n_tup_del",
    "vacuum_count",
    "autovacuum_count",
    "autoanalyze_count",
    "last_autovacuum",
    "last_autoanalyze",
)


def table_stats(url: str) -> dict:
    """The activities table's row in pg_stat_user_tables (times as ISO text)."""
    row = query_one(url, f"SELECT {', '.join(STAT_COLUMNS)} FROM pg_stat_user_tables WHERE relname = %s", [TABLE])
    return {column: value.isoformat() if isinstance(value, dt.datetime) else value for column, value in zip(STAT_COLUMNS, row, strict=True)}


# Autovacuum never vacuums a table's indexes in parallel (PostgreSQL 15 to 18). A manual VACUUM of a
# table with two or more indexes over min_parallel_index_scan_size sets parallel index vacuuming up
# on every run, whether there is anything to remove or not, and allocates its dead-row-id space in
# dynamic shared memory sized by the table, up to maintenance_work_mem: 64 MB from 1,000,000 rows
# up, about 50 ms here, against some 20 MB at 100,000. Timed with PARALLEL 0, a VACUUM does the work
# autovacuum would.
AS_AUTOVACUUM = "PARALLEL 0"


def timed_vacuum(url: str, options: str = "") -> dict:
    """A VACUUM of the table as autovacuum runs it, timed: the work autovacuum would do at this point, unthrottled."""
    from benchmarks import dataset

    connection = dataset.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", [TABLE])
            (dead,) = cursor.fetchone()
            started = time.perf_counter()
            cursor.execute(f"VACUUM (VERBOSE, {AS_AUTOVACUUM}{', ' + options if options else ''}) {TABLE}")
            seconds = time.perf_counter() - started
        # PostgreSQL 15 reports the table's vacuum in one INFO message of several lines.
        verbose = [line.strip() for notice in connection.notices if f'.{TABLE}"' in notice for line in notice.splitlines()]
    finally:
        connection.close()
    index_scans = next((line.split("index scans:")[1].strip() for line in verbose if "index scans:" in line), None)
    return {"seconds": round(seconds, 3), "dead_tuples_before": dead, "index_scans": index_scans, "verbose": verbose}


VACUUM_PROBE_ROWS = BATCH_RECORDS + SCAN_RECORDS
VACUUM_PROBE_ROUNDS = 3
# PostgreSQL skips a vacuum's index pass while the pages with dead rows are under 2 % of the table
# (BYPASS_THRESHOLD_PAGES in vacuumlazy.c) and does it once they pass that: the churn probe deletes
# 2 % of the table's rows and forces the pass, to time the index work that a skip only defers.
CHURN_SHARE = 50  # 1/50 of the rows


def _insert(database: SizeDatabase, tails: list[tuple[int, str]], rows: int) -> None:
    """COPY `rows` new rows to the writer tenant, as the loader writes them."""
    from benchmarks import dataset

    connection = dataset.connect(database.url)
    try:
        with connection.cursor() as cursor:
            blocks = history_lines(
                LoadPlan(rows=rows, tenants=1),
                [database.writer],
                tails,
                start=dt.datetime.now(dt.UTC),
                span=dt.timedelta(seconds=1),
            )
            cursor.copy_expert(f"COPY {TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN", CopySource(blocks), size=1 << 20)
    finally:
        connection.close()


def _delete(database: SizeDatabase, rows: int) -> None:
    """Delete the writer tenant's rows, which must be the `rows` just inserted."""
    from benchmarks import dataset

    connection = dataset.connect(database.url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE tenant_id = %s", [database.writer])
            deleted = cursor.rowcount
    finally:
        connection.close()
    if deleted != rows:
        raise RuntimeError(f"{database.name}: the vacuum probe deleted {deleted} rows, expected {rows}")


def median_run(runs: list[dict]) -> dict:
    """The run with the median time (the middle one of an odd number), so its details go with the figure."""
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def vacuum_probe(database: SizeDatabase, tails: list[tuple[int, str]], rounds: int = VACUUM_PROBE_ROUNDS) -> dict:
    """What vacuuming costs at this size, in isolation, each a median of `rounds`:

    - after 110,000 new rows (a batch and a scan's worth, the service's usual write), and after
      deleting them again, with PostgreSQL deciding whether the index pass is due;
    - after deleting 2 % of the table's rows with the index pass forced, per 1,000 dead rows.

    Each round starts from a table vacuumed with its index pass, so the dead row slots a skipped
    pass leaves (at 10,000,000 rows the 110,000 deleted rows are under its 2 %) are not scanned
    again by the next timed vacuum at one size only. The rows go to the writer tenant by COPY, as
    the loader writes them.
    """
    rows = round(database.size / CHURN_SHARE)
    inserts, deletes, churn = [], [], []
    for _ in range(rounds):
        timed_vacuum(database.url, "INDEX_CLEANUP ON")  # the clean start; not a figure
        _insert(database, tails, VACUUM_PROBE_ROWS)
        inserts.append(timed_vacuum(database.url))
        _delete(database, VACUUM_PROBE_ROWS)
        deletes.append(timed_vacuum(database.url))
        _insert(database, tails, rows)
        timed_vacuum(database.url)  # the inserts' own vacuum, so that the next one is the deletes'
        _delete(database, rows)
        run = timed_vacuum(database.url, "INDEX_CLEANUP ON")
        churn.append({**run, "rows": rows, "ms_per_1k_rows": round(run["seconds"] * 1000 / (rows / 1000), 3)})
    return {
        "rounds": rounds,
        "after_inserts": median_run(inserts),
        "after_deletes": median_run(deletes),
        "churn": median_run(churn),  # the same rows each round, so the median time is the median rate
        "runs": {"after_inserts": inserts, "after_deletes": deletes, "churn": churn},
    }


LIST_SQL = (
    "SELECT id, activity_name, pdpl_category, data_fields, purpose, legal_basis, data_subjects, recipients,"
    f" cross_border_transfer, retention_months, created_at FROM {TABLE} WHERE tenant_id = %s{{after}}"
    f" ORDER BY created_at, id LIMIT {PAGE_LIMIT + 1}"
)
SUMMARY_SQL = (
    "SELECT pdpl_category, legal_basis, cross_border_transfer, activities FROM inventory_activitycount"
    " WHERE tenant_id = %s AND activities > 0"
)


def explain(url: str, statement: str, params: list) -> str:
    from benchmarks import dataset

    connection = dataset.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
            return "\n".join(line for (line,) in cursor.fetchall())
    finally:
        connection.close()


def plans(database: SizeDatabase, deep_key: tuple[dt.datetime, str]) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of what the measured requests ask PostgreSQL, warm."""
    first = LIST_SQL.format(after="")
    deep = LIST_SQL.format(after=f' AND ("{TABLE}"."created_at", "{TABLE}"."id") > (%s, %s)')
    return {
        "list_first_big": explain(database.url, first, [database.big]),
        "list_deep_big": explain(database.url, deep, [database.big, *deep_key]),
        "list_first_small": explain(database.url, first, [database.small]),
        "summary_big": explain(database.url, SUMMARY_SQL, [database.big]),
    }


# --- The service, per size ---------------------------------------------------------------------


def service_env(base: dict[str, str], url: str, broker: str) -> dict[str, str]:
    env = {key: value for key, value in base.items() if key not in {"READ_DATABASE_URL", "READ_DATABASE_URLS", "TEST_DATABASE_NAME"}}
    env.update(
        {
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": broker,
            "DJANGO_SETTINGS_MODULE": "verisyntra.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    from benchmarks import dataset

    return dataset.service_env(env)  # the service as deployed: the runtime role, under row-level security


@dataclass
class Samples:
    """Every timing of one size (seconds), and the scans' rates."""

    batch: list[float]
    summary_big: list[float]
    summary_small: list[float]
    list_first: list[float]
    list_deep: list[float]
    scan_rates: list[float]
    scan_submit: list[float]

    @classmethod
    def empty(cls) -> Samples:
        return cls([], [], [], [], [], [], [])


def deep_cursor(database: SizeDatabase) -> tuple[int, str, tuple[dt.datetime, str], str]:
    """(depth, cursor, its key, the id of the page's first row) for the big tenant's deep page.

    The cursor is the one the list's paginator would hand a client after the row at position
    depth - 1, signed by the project's own code (same SECRET_KEY as the servers).
    """
    from analytics.views import ACTIVITY_PAGES

    (big_rows,) = query_one(database.url, f"SELECT count(*) FROM {TABLE} WHERE tenant_id = %s", [database.big])
    depth = min(DEEP_PAGE_DEPTH, big_rows - PAGE_LIMIT)
    moment, row_id = query_one(
        database.url,
        f"SELECT created_at, id FROM {TABLE} WHERE tenant_id = %s ORDER BY created_at, id OFFSET %s LIMIT 1",
        [database.big, depth - 1],
    )
    (first_id,) = query_one(
        database.url, f"SELECT id FROM {TABLE} WHERE tenant_id = %s ORDER BY created_at, id OFFSET %s LIMIT 1", [database.big, depth]
    )
    return depth, ACTIVITY_PAGES.encode(moment, uuid.UUID(str(row_id))), (moment, str(row_id)), str(first_id)


def timed_get(client, url: str, params: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url, params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


@dataclass
class Target:
    """One size as the rounds see it: its database, its server and client, its deep page, its samples."""

    database: SizeDatabase
    base_url: str
    client: Any
    deep: tuple[int, str, tuple[dt.datetime, str], str]
    worker_env: dict[str, str]
    samples: Samples


def batch_pass(target: Target, body: bytes) -> float:
    """POST one 10,000-record batch; its rows are deleted afterwards (off the clock) so the size stays."""
    from benchmarks import dataset

    database = target.database
    started = time.perf_counter()
    response = target.client.post(
        f"{target.base_url}/batch/processing-activities",
        params={"tenant_id": database.writer},
        content=body,
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        sys.exit(f"batch failed on {database.name}: {response.status_code} {response.text[:300]}")
    connection = dataset.connect(database.url)
    try:
        with connection.cursor() as db:
            db.execute(f"DELETE FROM {TABLE} WHERE tenant_id = %s", [database.writer])
            if db.rowcount != BATCH_RECORDS:
                sys.exit(f"{database.name}: the batch wrote {db.rowcount} rows, expected {BATCH_RECORDS}")
    finally:
        connection.close()
    return elapsed


def measure_round(targets: list[Target], bodies: dict[str, bytes], *, summary_requests: int, page_requests: int, scan: bool) -> None:
    """One round over every size, interleaved request by request, so load on the machine hits every size alike."""
    for target in targets:
        target.samples.batch.append(batch_pass(target, bodies["batch"]))
    for _ in range(summary_requests):
        for target in targets:
            url, database = f"{target.base_url}/analytics/compliance-summary", target.database
            target.samples.summary_big.append(timed_get(target.client, url, {"tenant_id": database.big})[0])
            target.samples.summary_small.append(timed_get(target.client, url, {"tenant_id": database.small})[0])
    for _ in range(page_requests):
        for target in targets:
            url, database = f"{target.base_url}/analytics/processing-activities", target.database
            depth, cursor, _key, first_id = target.deep
            elapsed, page = timed_get(target.client, url, {"tenant_id": database.big, "limit": PAGE_LIMIT})
            target.samples.list_first.append(elapsed)
            elapsed, page = timed_get(target.client, url, {"tenant_id": database.big, "limit": PAGE_LIMIT, "cursor": cursor})
            target.samples.list_deep.append(elapsed)
            if page["activities"][0]["id"] != first_id or page["count"] != PAGE_LIMIT:
                sys.exit(f"{database.name}: the deep page does not start at row {depth:,}")
    if scan:
        for target in targets:
            rate, submit = scan_pass(target.client, target.base_url, target.database, bodies["scan"], target.worker_env)
            target.samples.scan_rates.append(rate)
            target.samples.scan_submit.append(submit)


def scan_pass(client, base_url: str, database: SizeDatabase, body: bytes, worker_env: dict[str, str]) -> tuple[float, float]:
    """A 100,000-record scan through the API and a real worker; (worker rows/s, submission seconds)."""
    from benchmarks import dataset
    from benchmarks.scan import Worker

    worker = Worker(worker_env, ROOT / "var" / "bench" / "scale" / f"celery-{database.size}.log")
    try:
        started = time.perf_counter()
        response = client.post(
            f"{base_url}/data-scans",
            params={"tenant_id": database.writer},
            content=body,
            headers={"Content-Type": "application/x-ndjson"},
        )
        submit = time.perf_counter() - started
        if response.status_code != 202:
            sys.exit(f"scan refused on {database.name}: {response.status_code} {response.text[:300]}")
        scan_id = response.json()["scan_id"]
        deadline = time.monotonic() + 900
        while True:
            state = client.get(f"{base_url}/data-scans/{scan_id}", params={"tenant_id": database.writer}).json()
            if state["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    finally:
        worker.stop()
    if state["status"] != "completed" or state["records_processed"] != SCAN_RECORDS:
        sys.exit(f"scan on {database.name} ended {state['status']} with {state['records_processed']} records: {state.get('error')}")
    seconds = (dt.datetime.fromisoformat(state["completed_at"]) - dt.datetime.fromisoformat(state["started_at"])).total_seconds()
    connection = dataset.connect(database.url)
    try:
        with connection.cursor() as db:
            db.execute(f"DELETE FROM {TABLE} WHERE data_scan_id = %s", [scan_id])
            if db.rowcount != SCAN_RECORDS:
                sys.exit(f"{database.name}: the scan wrote {db.rowcount} rows, expected {SCAN_RECORDS}")
            db.execute("DELETE FROM inventory_datascan WHERE scan_id = %s", [scan_id])
    finally:
        connection.close()
    return SCAN_RECORDS / seconds, submit


# --- Results -------------------------------------------------------------------------------------


def figures_of(samples: Samples, sizes: dict, probe: dict, rows: int) -> dict[str, float | None]:
    def ms(values: list[float], q: float | None = None) -> float | None:
        if not values:
            return None
        return round((statistics.median(values) if q is None else percentile(values, q)) * 1000, 2)

    return {
        "batch_10k_ms": ms(samples.batch),
        "summary_big_p95_ms": ms(samples.summary_big, 95),
        "summary_small_p95_ms": ms(samples.summary_small, 95),
        "list_first_p95_ms": ms(samples.list_first, 95),
        "list_deep_p95_ms": ms(samples.list_deep, 95),
        "scan_rows_per_s": round(statistics.median(samples.scan_rates)) if samples.scan_rates else None,
        "table_bytes_per_row": round(sizes["table"] / rows, 1),
        "index_bytes_per_row": round(sizes["indexes"] / rows, 1),
        "vacuum_after_inserts_s": probe["after_inserts"]["seconds"],
        "vacuum_after_deletes_s": probe["after_deletes"]["seconds"],
        "vacuum_churn_ms_per_1k": probe["churn"]["ms_per_1k_rows"] if "churn" in probe else None,
    }


def ratios(results: dict, figures: tuple[Figure, ...] = FIGURES) -> dict[str, dict]:
    """Per figure: the largest size's cost over the smallest's, and the verdict."""
    sizes = sorted(results["sizes"], key=int)
    smallest, largest = results["sizes"][sizes[0]]["figures"], results["sizes"][sizes[-1]]["figures"]
    out = {}
    for figure in figures:
        a, b = smallest.get(figure.key), largest.get(figure.key)
        if a is None or b is None:
            continue
        ratio = cost_ratio(figure, a, b)
        out[figure.key] = {"ratio": round(ratio, 2), "verdict": verdict(ratio)}
    return out


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value:,.0f}"


def markdown(results: dict, chart_folder: str) -> str:
    sizes = sorted(results["sizes"], key=int)
    run = results["run"]
    head = (
        "| figure | "
        + " | ".join(f"{int(size):,} rows" for size in sizes)
        + f" | {int(sizes[-1]):,} / {int(sizes[0]):,} | target <= {TARGET_RATIO}x |"
    )
    lines = [
        f"Run of {run['started']} on {run['machine']}, PostgreSQL {run['postgres']}, {run['rounds']} rounds interleaved "
        f"across the sizes; load average {run['load_before']:.1f} at the start and {run['load_after']:.1f} at the end "
        f"(shared machine). Every figure, sample and query plan: [{chart_folder}/scale.json]({chart_folder}/scale.json).",
        "",
        head,
        "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: | --- |",
    ]
    for figure in FIGURES:
        values = [results["sizes"][size]["figures"].get(figure.key) for size in sizes]
        ratio = results["ratios"].get(figure.key)
        cells = " | ".join(_number(value) for value in values)
        judged = f"{ratio['ratio']:.2f}x | {ratio['verdict']}" if ratio else "- | -"
        lines.append(f"| {figure.label} ({figure.unit}) | {cells} | {judged} |")

    depths = ", ".join(f"{results['sizes'][size]['deep_page_depth']:,} at {int(size):,}" for size in sizes)
    lines += ["", f"The deep page starts {depths} rows into the big tenant (which holds half the rows)."]
    lines += ["", "Sizes of the activities table and each index (MB), as loaded and vacuumed / after the run's writes and vacuums:", ""]
    names = sorted({name for size in sizes for name in results["sizes"][size]["relation_sizes"]["per_index"]})
    lines.append("| relation | " + " | ".join(f"{int(size):,} rows" for size in sizes) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in sizes) + " |")

    def megabytes(value) -> str:
        return "-" if value is None else f"{value / 1e6:,.1f}"

    for label, pick in [("heap", lambda s: s["heap"]), ("table (heap, TOAST, maps)", lambda s: s["table"])] + [
        (name, (lambda s, name=name: s["per_index"].get(name))) for name in names
    ]:
        cells = [
            " / ".join(megabytes(pick(results["sizes"][size][when])) for when in ("relation_sizes", "relation_sizes_after"))
            for size in sizes
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    probe_rounds = {results["sizes"][size]["vacuum_probe"].get("rounds", 1) for size in sizes}
    lines += [
        "",
        "Vacuum (`pg_stat_user_tables` before the first write / after the last; then timed"
        f" `VACUUM ({AS_AUTOVACUUM})`s, as autovacuum runs them; the probes' medians of {max(probe_rounds)} rounds):",
        "",
    ]
    lines.append(
        "| size | dead tuples | autovacuum runs | `VACUUM` after the run's writes | after 110,000 new rows | after deleting them"
        " | after deleting 2 % of the rows, index pass forced |"
    )
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        entry = results["sizes"][size]
        before, after, vacuum, probe = entry["autovacuum"]["before"], entry["autovacuum"]["after"], entry["vacuum"], entry["vacuum_probe"]

        def timed(run: dict) -> str:
            return f"{run['seconds']:.2f} s, {run['dead_tuples_before']:,} dead, index scans {run['index_scans'] or '-'}"

        def churned(run: dict | None) -> str:
            return "-" if run is None else f"{run['seconds']:.2f} s for {run['rows']:,} rows, index scans {run['index_scans'] or '-'}"

        lines.append(
            f"| {int(size):,} | {before['n_dead_tup']:,} -> {after['n_dead_tup']:,} "
            f"| {after['autovacuum_count'] - before['autovacuum_count']} | {timed(vacuum)} "
            f"| {timed(probe['after_inserts'])} | {timed(probe['after_deletes'])} | {churned(probe.get('churn'))} |"
        )
    lines += ["", *(f"![{title}]({chart_folder}/{name})" for name, title in CHARTS)]
    return "\n".join(lines)


CHARTS = (
    ("scale-latency.png", "Request latency against the table's rows"),
    ("scale-ratios.png", "Cost at each size relative to the smallest, against the 1.5x target"),
)


def charts(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results["sizes"], key=int)
    rows = [int(size) for size in sizes]

    fig, ax = plt.subplots(figsize=(9, 5))
    for figure in FIGURES:
        if figure.chart != "latency":
            continue
        values = [results["sizes"][size]["figures"].get(figure.key) for size in sizes]
        ax.plot(rows, values, marker="o", label=figure.label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("activities in the table")
    ax.set_ylabel("ms")
    ax.set_title("Request latency by table size (same run, interleaved)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / CHARTS[0][0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 5))
    first = results["sizes"][sizes[0]]["figures"]
    colours = plt.get_cmap("tab10").colors
    for index, figure in enumerate(FIGURES):
        base = first.get(figure.key)
        if base is None:
            continue
        values = [results["sizes"][size]["figures"].get(figure.key) for size in sizes]
        ax.plot(
            rows,
            [cost_ratio(figure, base, value) if value is not None else None for value in values],
            marker="os^"[index // len(colours)],
            linestyle="--" if figure.chart == "storage" else "-",
            color=colours[index % len(colours)],
            label=figure.label,
        )
    ax.axhline(TARGET_RATIO, color="red", linestyle="--", label=f"target {TARGET_RATIO}x")
    ax.set_xscale("log")
    ax.set_xlabel("activities in the table")
    ax.set_ylabel(f"cost relative to {rows[0]:,} rows")
    ax.set_title("Cost growth by table size (rates inverted: half the rows/s is 2x)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out / CHARTS[1][0], dpi=110, bbox_inches="tight")
    plt.close(fig)


def update_document(document: Path, block: str) -> bool:
    text = document.read_text(encoding="utf-8")
    if BLOCK_BEGIN not in text or BLOCK_END not in text:
        return False
    head, rest = text.split(BLOCK_BEGIN, 1)
    _, tail = rest.split(BLOCK_END, 1)
    document.write_text(f"{head}{BLOCK_BEGIN}\n{block}\n{BLOCK_END}{tail}", encoding="utf-8")
    return True


def write_results(results: dict, out: Path, document: Path | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    charts(results, out)
    folder = os.path.relpath(out, document.parent if document else out)
    block = markdown(results, folder)
    (out / "scale.md").write_text(block + "\n", encoding="utf-8")
    print("\n" + block)
    if document is not None and not update_document(document, block):
        print(f"(no results block in {document}; not updated)")


# --- The run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000,10000000", help="Rows of the activities table, comma-separated.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds over every size (interleaved).")
    parser.add_argument("--scan-rounds", type=int, default=None, help="Rounds that include a data scan (default: every round).")
    parser.add_argument("--summary-requests", type=int, default=100, help="Per tenant, size and round.")
    parser.add_argument("--page-requests", type=int, default=20, help="First and deep pages per size and round.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_SCALE_PORT", "8740")))
    parser.add_argument(
        "--keep",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Keep the databases (--keep) or drop them (--no-keep, default).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--from-json", type=Path, help="Measure nothing: write the tables and charts of an earlier run's scale.json.")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        write_results(results, args.out, DOCUMENT if args.out.resolve() == DEFAULT_OUT.resolve() else None)
        return

    sizes = sorted({int(size) for size in args.sizes.split(",") if size})
    scan_rounds = args.rounds if args.scan_rounds is None else args.scan_rounds
    server_url = os.environ.get("BENCH_SCALE_DATABASE_URL") or DEFAULT_SERVER_URL
    broker = os.environ.get("BENCH_CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    urls = {size: database_url(server_url, size) for size in sizes}

    # Django in this process only for the service's own validation, COPY formatting and cursor
    # signing; it never connects (every query below goes through psycopg2 to the size's database).
    os.environ.update(service_env(dict(os.environ), urls[sizes[0]], broker))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import httpx
    import redis

    from benchmarks.batch import activity
    from benchmarks.scan import records
    from benchmarks.service import Service, ServiceConfig

    logging.getLogger("httpx").setLevel(logging.WARNING)
    base_env = dict(os.environ)
    tails = record_tails(sample_records())
    databases = {size: prepare_database(size, urls[size], base_env, tails) for size in sizes}
    bodies = {
        "batch": json.dumps({"activities": [activity(index) for index in range(BATCH_RECORDS)]}).encode(),
        "scan": "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in records(SCAN_RECORDS)).encode(),
    }
    redis.Redis.from_url(broker).flushdb()

    results: dict = {
        "run": {
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)",
            "postgres": query_one(urls[sizes[0]], "SHOW server_version")[0],
            "rounds": args.rounds,
            "scan_rounds": scan_rounds,
            "load_before": os.getloadavg()[0],
        },
        "sizes": {},
    }
    run_dir = ROOT / "var" / "bench" / "scale"
    samples = {size: Samples.empty() for size in sizes}
    deep = {size: deep_cursor(databases[size]) for size in sizes}
    stats_before = {}
    sizes_loaded = {size: relation_sizes(urls[size]) for size in sizes}
    services = [
        Service(
            ServiceConfig(name=f"scale-{size}", label=f"{size:,} rows", web_threads=8),
            service_env(base_env, urls[size], broker),
            args.port + position,
            run_dir / str(size),
            worker=False,
        )
        for position, size in enumerate(sizes)
    ]
    for service in services:
        service.__enter__()
    try:
        targets = [
            Target(
                database=databases[size],
                base_url=service.base_url,
                client=httpx.Client(headers={"Authorization": f"Token {databases[size].token}"}, timeout=900),
                deep=deep[size],
                worker_env={**service_env(base_env, urls[size], broker), "WRITE_POOL_SIZE": "4", "READ_POOL_SIZE": "4"},
                samples=samples[size],
            )
            for size, service in zip(sizes, services, strict=True)
        ]
        for size in sizes:
            stats_before[size] = table_stats(urls[size])
        # Warm-up (imports, pools, plans, caches), not counted: a short round without the scan.
        warm = [Target(**{**vars(target), "samples": Samples.empty()}) for target in targets]
        measure_round(warm, bodies, summary_requests=5, page_requests=3, scan=False)
        for round_number in range(args.rounds):
            # Rotated, so no size is always first after a scan or a batch.
            shift = round_number % len(targets)
            measure_round(
                targets[shift:] + targets[:shift],
                bodies,
                summary_requests=args.summary_requests,
                page_requests=args.page_requests,
                scan=round_number < scan_rounds,
            )
            for size in sizes:
                latest = samples[size]
                print(
                    f"round {round_number + 1}, {size:>10,} rows: batch {latest.batch[-1] * 1000:.0f} ms, "
                    f"summary p95 {percentile(latest.summary_big[-args.summary_requests :], 95) * 1000:.1f} ms, "
                    f"deep page p95 {percentile(latest.list_deep[-args.page_requests :], 95) * 1000:.1f} ms"
                    + (f", scan {latest.scan_rates[-1]:,.0f} rows/s" if round_number < scan_rounds else ""),
                    flush=True,
                )
        for target in targets:
            target.client.close()
    finally:
        for service in services:
            service.__exit__(None, None, None)

    for size in sizes:
        database = databases[size]
        after = table_stats(urls[size])
        vacuum = timed_vacuum(urls[size])
        probe = vacuum_probe(database, tails)
        results["sizes"][str(size)] = {
            "database": database.name,
            "rows": size,
            "load_seconds": database.load_seconds,
            "big_tenant_rows": LoadPlan(rows=size).quotas()[0],
            "small_tenant_rows": LoadPlan(rows=size).quotas()[1],
            "deep_page_depth": deep[size][0],
            "reused": database.load_seconds is None,
            "figures": figures_of(samples[size], sizes_loaded[size], probe, size),
            "samples_ms": {
                name: [round(value * 1000, 2) for value in getattr(samples[size], name)]
                for name in ("batch", "summary_big", "summary_small", "list_first", "list_deep", "scan_submit")
            },
            "scan_rates": [round(rate) for rate in samples[size].scan_rates],
            "relation_sizes": sizes_loaded[size],
            "relation_sizes_after": relation_sizes(urls[size]),
            "autovacuum": {"before": stats_before[size], "after": after},
            "vacuum": vacuum,
            "vacuum_probe": probe,
            "plans": plans(database, deep[size][2]),
        }
    results["run"]["load_after"] = os.getloadavg()[0]
    results["ratios"] = ratios(results)
    write_results(results, args.out, DOCUMENT if args.out.resolve() == DEFAULT_OUT.resolve() else None)
    if not args.keep:
        for size in sizes:
            drop_database(urls[size])
        print(f"dropped {', '.join(databases[size].name for size in sizes)}")


if __name__ == "__main__":
    main()
