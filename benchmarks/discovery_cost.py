"""Discovery cost benchmark: a source of 100 tables with 10 million rows, against the same with 10x the rows.

    .venv/bin/python -m benchmarks.discovery_cost                     # 10M and 100M rows, 5 rounds each
    .venv/bin/python -m benchmarks.discovery_cost --small-rows 1000000 --factor 10 --rounds 1

Discovery's cost must follow tables x columns, not rows: row counts come from the catalog and each
table is sampled with `TABLESAMPLE SYSTEM` and `LIMIT`. This builds two PostgreSQL sources, named
`bench_disc_cost_<rows>` (kept between runs; `--rebuild` makes them again), with the same 100 tables
and columns (Vietnamese names, phone numbers, birth dates, amounts), one with `--small-rows` rows in
all and one with `--factor` times as many; the tables are UNLOGGED (a source's durability is not
what is measured, and it halves the build). Then it runs `discover` on each, alternating, through
a read-only connection, and prints each round, the medians and their ratio. Targets: the small
source in under 60 s, the large one at most 1.5x the small one's time.

The build takes minutes for 100 million rows (about 8 GB); the script checks the free disk space of
the server's data directory first and says so when it does not fit. The machine is shared: compare
the two sources' times of one run, not the figures of different runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time

from inventory.discovery import discover
from inventory.tests import discovery_support as support

TABLES = 100
BYTES_PER_ROW = 100  # an upper bound for these rows with PostgreSQL's tuple header, alignment and the primary key's index
TARGET_SECONDS = 60.0
TARGET_RATIO = 1.5


def database_name(rows: int) -> str:
    return f"bench_disc_cost_{rows}"


def _rows_present(name: str) -> int | None:
    conn = support.admin_connection("postgresql")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                return None
    finally:
        conn.close()
    conn = support.admin_connection("postgresql", name)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(sum(reltuples), 0)::bigint FROM pg_class WHERE relname LIKE 'bang\\_%%' AND relkind = 'r'"
            )
            tables, rows = cursor.fetchone()
            return int(rows) if tables == TABLES else None
    finally:
        conn.close()


def free_bytes() -> int:
    conn = support.admin_connection("postgresql")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            directory = cursor.fetchone()[0]
    finally:
        conn.close()
    return shutil.disk_usage(directory).free


def build(name: str, rows: int) -> float:
    """Create `name` with TABLES unlogged tables holding `rows` rows in all; returns the seconds it took."""
    started = time.perf_counter()
    support.create_database("postgresql", name)
    per_table = rows // TABLES
    pending = list(range(TABLES))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        conn = support.admin_connection("postgresql", name)
        try:
            with conn.cursor() as cursor:
                # Bulk loading: no synchronous commit wait, a large work_mem for the generated rows.
                cursor.execute("SET synchronous_commit = off")
                while True:
                    with lock:
                        if not pending:
                            return
                        index = pending.pop()
                    table = f"bang_{index:03d}"
                    cursor.execute(
                        f"CREATE UNLOGGED TABLE {table} "
                        "(id bigint PRIMARY KEY, ho_ten text, so_dien_thoai text, ngay_sinh date, so_tien integer)"
                    )
                    # Values built in SQL from the sample vocabularies: a name, a mobile number, a birth date, an amount.
                    cursor.execute(
                        f"""
                        INSERT INTO {table}
                        SELECT i,
                               (%(family)s::text[])[1 + i %% array_length(%(family)s::text[], 1)] || ' '
                                 || (%(middle)s::text[])[1 + (i / 7) %% array_length(%(middle)s::text[], 1)] || ' '
                                 || (%(given)s::text[])[1 + (i / 3) %% array_length(%(given)s::text[], 1)],
                               '098' || lpad(((i * 7919) %% 10000000)::text, 7, '0'),
                               date '1950-01-01' + (i %% 20000)::integer,
                               ((i * 31) %% 1000000)::integer
                        FROM generate_series(1::bigint, %(rows)s::bigint) AS i
                        """,
                        {"family": support.FAMILY, "middle": support.MIDDLE_MALE, "given": support.GIVEN_MALE, "rows": per_table},
                    )
                    cursor.execute(f"ANALYZE {table}")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def ensure(rows: int, rebuild: bool) -> None:
    name = database_name(rows)
    present = None if rebuild else _rows_present(name)
    if present is not None and abs(present - rows) <= rows * 0.05:
        print(f"{name}: present ({present:,} rows by the catalog)", flush=True)
        return
    needed = rows * BYTES_PER_ROW * 1.3
    free = free_bytes()
    if free < needed:
        sys.exit(
            f"{name}: needs about {needed / 1e9:.1f} GB, the data directory's disk has {free / 1e9:.1f} GB free; "
            "run with a smaller --small-rows"
        )
    print(f"{name}: building {TABLES} tables, {rows:,} rows ...", flush=True)
    seconds = build(name, rows)
    print(f"{name}: built in {seconds:.0f} s", flush=True)


def time_discovery(rows: int) -> tuple[float, int, int]:
    conn = support.read_only_connection("postgresql", database_name(rows))
    try:
        started = time.perf_counter()
        findings = discover(conn, "postgresql")
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    personal = sum(len(t.personal_columns) for t in findings)
    return seconds, len(findings), personal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-rows", type=int, default=10_000_000)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop both sources at the end")
    args = parser.parse_args(argv)
    sizes = (args.small_rows, args.small_rows * args.factor)
    for rows in sizes:
        ensure(rows, args.rebuild)
    timings: dict[int, list[float]] = {rows: [] for rows in sizes}
    for round_number in range(1, args.rounds + 1):
        for rows in sizes if round_number % 2 else reversed(sizes):
            seconds, tables, personal = time_discovery(rows)
            timings[rows].append(seconds)
            print(f"round {round_number}: {rows:>13,} rows  {tables} tables  {personal} personal columns  {seconds:7.2f} s", flush=True)
    small, large = (statistics.median(timings[rows]) for rows in sizes)
    ratio = large / small
    print()
    print(f"| source | tables | rows | discovery, median of {args.rounds} (s) |")
    print("| --- | ---: | ---: | ---: |")
    for rows in sizes:
        print(f"| {database_name(rows)} | {TABLES} | {rows:,} | {statistics.median(timings[rows]):.2f} |")
    print()
    print(f"small source: {small:.2f} s (target < {TARGET_SECONDS:.0f} s): {'PASS' if small < TARGET_SECONDS else 'FAIL'}")
    print(f"{args.factor}x the rows: {ratio:.2f}x the time (target <= {TARGET_RATIO}x): {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
    if args.drop:
        for rows in sizes:
            support.drop_database("postgresql", database_name(rows))
    return 0 if small < TARGET_SECONDS and ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
