"""Classification benchmark: discovery's precision and recall per personal-data type on a labelled corpus.

    .venv/bin/python -m benchmarks.discovery_classify                 # 1,200 columns, both engines
    .venv/bin/python -m benchmarks.discovery_classify --columns 600 --engines postgresql

The corpus is generated (`inventory/tests/discovery_support.py`, `corpus_columns`), seeded so every
run builds the same one: about half the columns named for their type (Vietnamese and English,
snake and camel case, with and without diacritics), a fifth called `c<n>`, a sixth with a
misleading name (another type's name over this type's values, or a personal-data name over product
codes), and business columns (products, prices, order dates, a company's own address and phone).
A tenth of the values are NULL, and some columns carry filler ("N/A", "-"). Each column's label is
what its values are, not what its name says.

The columns are split over real databases, `bench_disc_classify` on PostgreSQL and on MariaDB
(created again on every run, dropped with `--drop`), in tables of 12 columns and `--rows` rows;
`discover` reads them through read-only connections with its default sample of 100 rows per table.
It prints precision and recall per type (target: at least 0.95 for both, for every type) and
every confusion (the column, its engine, its name, its label, the verdict and the reason). Then,
apart and outside the target, `HARD_COLUMNS`: cases the classifier is known to get wrong (bank
accounts under a meaningless name, a pharmacy's product names ...), so their outcome stays visible.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass

from inventory.discovery import discover
from inventory.tests import discovery_support as support

DATABASE = "bench_disc_classify"
COLUMNS_PER_TABLE = 12
TARGET = 0.95


@dataclass(frozen=True)
class Outcome:
    """One column's label against discovery's verdict."""

    engine: str
    table: str
    column: support.CorpusColumn
    predicted: str | None
    reason: str | None


def build(engine: str, columns: list[support.CorpusColumn], rows: int, rng: random.Random) -> dict[tuple[str, str], support.CorpusColumn]:
    """Create the engine's database with `columns` spread over tables; returns (table, column name) -> corpus column."""
    support.create_database(engine, DATABASE)
    conn = support.admin_connection(engine, DATABASE)
    where: dict[tuple[str, str], support.CorpusColumn] = {}
    try:
        for start in range(0, len(columns), COLUMNS_PER_TABLE):
            table = f"bang_{start // COLUMNS_PER_TABLE:03d}"
            chosen: list[support.CorpusColumn] = []
            used: set[str] = {"id"}
            for column in columns[start : start + COLUMNS_PER_TABLE]:
                name = column.name
                while name.lower() in used:  # MariaDB column names ignore case
                    name += "_2"
                used.add(name.lower())
                chosen.append(support.CorpusColumn(name, column.kind, column.label, column.case))
            noisy = [rng.random() < 0.2 for _ in chosen]
            key = "id bigserial PRIMARY KEY" if engine == "postgresql" else "id bigint AUTO_INCREMENT PRIMARY KEY"
            definitions = ", ".join(f"{support.quote(engine, c.name)} {support.sql_type(engine, c.kind)}" for c in chosen)
            with conn.cursor() as cursor:
                cursor.execute(f"CREATE TABLE {support.quote(engine, table)} ({key}, {definitions})")
                names = ", ".join(support.quote(engine, c.name) for c in chosen)
                data = [tuple(support.corpus_value(c.kind, rng, noisy=n) for c, n in zip(chosen, noisy, strict=True)) for _ in range(rows)]
                placeholders = ", ".join(["%s"] * len(chosen))
                cursor.executemany(f"INSERT INTO {support.quote(engine, table)} ({names}) VALUES ({placeholders})", data)
                cursor.execute(f"ANALYZE {'' if engine == 'postgresql' else 'TABLE '}{support.quote(engine, table)}")
                if engine != "postgresql":
                    cursor.fetchall()
            where.update({(table, c.name): c for c in chosen})
    finally:
        conn.close()
    return where


def evaluate(engine: str, where: dict[tuple[str, str], support.CorpusColumn]) -> tuple[list[Outcome], float]:
    conn = support.read_only_connection(engine, DATABASE)
    try:
        started = time.perf_counter()
        findings = discover(conn, engine)
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    outcomes = []
    for table in findings:
        for finding in table.columns:
            column = where.get((table.table, finding.column))
            if column is not None:
                outcomes.append(Outcome(engine, table.table, column, finding.personal_data_type, finding.reason))
    return outcomes, seconds


def report(outcomes: list[Outcome]) -> bool:
    labels = Counter(o.column.label for o in outcomes)
    predicted = Counter(o.predicted for o in outcomes)
    correct = Counter(o.predicted for o in outcomes if o.predicted == o.column.label)
    codes = sorted((code for code in labels | predicted if code is not None), key=lambda c: -labels[c])
    print("| type | columns | found | right | precision | recall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    passed = True
    for code in [*codes, None]:
        precision = correct[code] / predicted[code] if predicted[code] else 1.0
        recall = correct[code] / labels[code] if labels[code] else 1.0
        passed &= precision >= TARGET and recall >= TARGET
        print(f"| {code or '(not personal)'} | {labels[code]} | {predicted[code]} | {correct[code]} | {precision:.3f} | {recall:.3f} |")
    right = sum(correct.values())
    print(
        f"\n{len(outcomes)} columns, {right} right ({right / len(outcomes):.3f}); cases: {dict(Counter(o.column.case for o in outcomes))}"
    )
    wrong = [o for o in outcomes if o.predicted != o.column.label]
    print(f"\nConfusions ({len(wrong)}):\n")
    if wrong:
        print("| engine | table.column | case | values are | found | reason |")
        print("| --- | --- | --- | --- | --- | --- |")
        for o in sorted(wrong, key=lambda o: (str(o.column.label), o.engine, o.table)):
            label = o.column.label or "(not personal)"
            print(f"| {o.engine} | {o.table}.{o.column.name} | {o.column.case} | {label} | {o.predicted} | {o.reason} |")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--columns", type=int, default=1200, help="columns in all, split evenly over the engines")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--engines", default=",".join(support.ENGINES))
    parser.add_argument("--drop", action="store_true", help="drop the benchmark databases at the end")
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    rng = random.Random(args.seed)
    outcomes: list[Outcome] = []
    for engine in engines:
        columns = support.corpus_columns(rng, args.columns // len(engines))
        # The hard cases, three times each, in their own tables after the corpus's.
        padding = -len(columns) % COLUMNS_PER_TABLE
        columns += support.corpus_columns(rng, padding) + [c for _ in range(3) for c in support.HARD_COLUMNS]
        started = time.perf_counter()
        where = build(engine, columns, args.rows, rng)
        built = time.perf_counter() - started
        found, seconds = evaluate(engine, where)
        outcomes += found
        tables = -(-len(found) // COLUMNS_PER_TABLE)
        print(f"{engine}: {len(found)} columns in {tables} tables; built in {built:.1f} s, discovered in {seconds:.1f} s")
        if args.drop:
            support.drop_database(engine, DATABASE)
    print()
    passed = report([o for o in outcomes if o.column.case != "hard"])
    hard = [o for o in outcomes if o.column.case == "hard"]
    print(f"\nHard cases, outside the target ({len(hard)} columns, {sum(o.predicted == o.column.label for o in hard)} right):\n")
    print("| engine | table.column | values are | found | reason |")
    print("| --- | --- | --- | --- | --- |")
    for o in hard:
        label = o.column.label or "not personal"
        print(f"| {o.engine} | {o.table}.{o.column.name} | {o.column.kind} ({label}) | {o.predicted} | {o.reason} |")
    print(f"\ntarget: precision and recall >= {TARGET} for every type: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
