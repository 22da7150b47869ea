"""Discovery: where personal data lives in a tenant's own database.

`discover(connection, kind)` lists a source's schemas, tables and columns, samples a bounded
number of values per column and classifies each column, by its name and by its values, into a
personal-data type under Decree 13/2023/ND-CP Article 2 (`personal_data.py` says which clause
each type follows, and why blood group is basic).

The library is pure: it reads through the DB-API connection it is given (already read-only and
guarded by its caller), writes nothing and keeps no sampled value: a finding holds the column's
name, its detected type, the reason, a confidence and counts.

Modules: `introspect` (the catalogs and sampling, per engine), `names` (rules on column names),
`values` (detectors on sampled values), `classify` (one column's verdict), `personal_data` (the
types and their categories), `text` (folding Vietnamese to ASCII for matching).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inventory.discovery.classify import classify_column
from inventory.discovery.introspect import INTROSPECTORS, Table
from inventory.discovery.personal_data import PERSONAL_DATA_TYPES, category_of
from verisyntra.messages import Bilingual, render

__all__ = [
    "PERSONAL_DATA_TYPES",
    "ColumnFinding",
    "TableFinding",
    "discover",
    "personal_data_type_label",
    "reason_label",
]

REASONS = ("name", "values", "both")


@dataclass(frozen=True)
class ColumnFinding:
    """One column's classification. `sampled` and `matched` are counts; the values are never kept."""

    schema: str
    table: str
    column: str
    data_type: str
    personal_data_type: str | None
    category: str | None
    reason: str | None
    confidence: float
    sampled: int
    matched: int


@dataclass(frozen=True)
class TableFinding:
    """One table: the catalog's row estimate and every column's finding."""

    schema: str
    table: str
    row_estimate: int
    columns: list[ColumnFinding]

    @property
    def personal_columns(self) -> list[ColumnFinding]:
        """The columns that hold personal data."""
        return [c for c in self.columns if c.personal_data_type is not None]

    @property
    def sensitive(self) -> bool:
        """Whether any column holds sensitive personal data."""
        return any(c.category == "sensitive" for c in self.columns)


def _classify_table(table: Table, rows: list[tuple[Any, ...]]) -> TableFinding:
    findings = []
    for index, column in enumerate(table.columns):
        values = [_as_text(row[index]) for row in rows if row[index] is not None]
        verdict = classify_column(column.name, column.data_type, values)
        del values  # the sample ends here
        code = verdict.personal_data_type
        findings.append(
            ColumnFinding(
                schema=table.schema,
                table=table.name,
                column=column.name,
                data_type=column.data_type,
                personal_data_type=code,
                category=category_of(code) if code else None,
                reason=verdict.reason,
                confidence=verdict.confidence,
                sampled=verdict.sampled,
                matched=verdict.matched,
            )
        )
    return TableFinding(schema=table.schema, table=table.name, row_estimate=table.row_estimate, columns=findings)


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def discover(
    connection: Any,
    kind: str,
    *,
    sample_rows: int = 100,
    statement_timeout_ms: int = 5000,
    on_table: Callable[[int, int], None] | None = None,
) -> list[TableFinding]:
    """Classify every column of every table `connection` can read.

    `connection`: an open DB-API connection (psycopg2 for "postgresql", PyMySQL for "mysql"),
    already read-only. Lists schemas/tables/columns from the catalog, samples at most
    `sample_rows` rows per table (one query each, cut off after `statement_timeout_ms`), and
    classifies. A table whose sample fails (timeout, no privilege) is classified by its column
    names alone. `on_table(done, total)` reports progress after each table.
    """
    try:
        introspector = INTROSPECTORS[kind]
    except KeyError:
        raise ValueError(f"unknown data-source kind {kind!r}; expected one of {sorted(INTROSPECTORS)}") from None
    cursor = connection.cursor()
    try:
        introspector.configure(cursor, statement_timeout_ms)
        tables = introspector.tables(cursor)
        findings = []
        for done, table in enumerate(tables, 1):
            try:
                rows = introspector.sample(cursor, table, sample_rows)
            except Exception:  # noqa: BLE001 - a table we cannot sample is still listed, by names
                rows = []
                cursor = _recover(connection, cursor, introspector, statement_timeout_ms)
            findings.append(_classify_table(table, rows))
            if on_table is not None:
                on_table(done, len(tables))
        return findings
    finally:
        cursor.close()


def _recover(connection: Any, cursor: Any, introspector: Any, statement_timeout_ms: int) -> Any:
    # A failed statement aborts PostgreSQL's transaction; roll back (reads only, nothing is lost)
    # and set the timeout again, since a rolled-back SET is undone too.
    try:
        connection.rollback()
    except Exception:  # noqa: BLE001 - autocommit connections have nothing to roll back
        pass
    cursor.close()
    cursor = connection.cursor()
    introspector.configure(cursor, statement_timeout_ms)
    return cursor


def personal_data_type_label(code: str) -> Bilingual:
    """A personal-data type's label in English and Vietnamese (`pd_type.<code>` in the catalogue)."""
    return render(f"pd_type.{code}")


def reason_label(reason: str) -> Bilingual:
    """Why a column was classified so, in English and Vietnamese (`pd_reason.<reason>`)."""
    return render(f"pd_reason.{reason}")
