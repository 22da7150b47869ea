"""Reading a source database's catalog and a bounded sample of its rows, per engine.

Cost is bounded by tables x columns, never by rows: row counts come from the catalog's estimates
(PostgreSQL `pg_class.reltuples`, MySQL/MariaDB `information_schema.tables.table_rows`), never
`count(*)`; each table is sampled with one query that returns at most `sample_rows` rows, each
value cut to `VALUE_CHARS` characters on the server. PostgreSQL samples with `TABLESAMPLE SYSTEM`
(a few pages drawn with a fixed seed, so a large table costs what a small one does); MySQL/MariaDB has no
TABLESAMPLE and reads the first `sample_rows` rows (`LIMIT`).

Sampled values live only in the lists returned here, for the classifier to count; nothing here
logs or stores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from inventory.discovery.classify import samples_values

# Each sampled value is cut to this many characters on the server: enough for any identifier,
# name or address, and it bounds what a wide text column costs.
VALUE_CHARS = 200
# TABLESAMPLE picks whole pages; ask for enough of them that the sample spreads over the table.
_SAMPLE_OVERSHOOT = 4
_MIN_SAMPLE_PAGES = 10
_SAMPLE_SEED = 13


@dataclass(frozen=True)
class Column:
    """A column as the catalog lists it."""

    name: str
    data_type: str


@dataclass(frozen=True)
class Table:
    """A table as the catalog lists it, with the catalog's row and page estimates."""

    schema: str
    name: str
    row_estimate: int
    pages: int
    columns: tuple[Column, ...]


class Introspector(Protocol):
    """What discovery needs from an engine."""

    def configure(self, cursor: Any, statement_timeout_ms: int) -> None: ...

    def tables(self, cursor: Any) -> list[Table]: ...

    def sample(self, cursor: Any, table: Table, sample_rows: int) -> list[tuple[Any, ...]]: ...


def _pg_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _my_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class PostgreSQLIntrospector:
    """PostgreSQL through psycopg2."""

    _TABLES = """
        SELECT n.nspname, c.relname,
               CASE WHEN c.relkind = 'p' THEN
                   (SELECT coalesce(sum(greatest(k.reltuples, 0)), 0) FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
                    WHERE i.inhparent = c.oid)
               ELSE greatest(c.reltuples, 0) END::bigint,
               c.relpages, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
          AND has_table_privilege(c.oid, 'SELECT')
        ORDER BY n.nspname, c.relname, a.attnum
    """

    def configure(self, cursor: Any, statement_timeout_ms: int) -> None:
        cursor.execute("SET statement_timeout = %s", [int(statement_timeout_ms)])

    def tables(self, cursor: Any) -> list[Table]:
        cursor.execute(self._TABLES)
        return _group(cursor.fetchall())

    def sample(self, cursor: Any, table: Table, sample_rows: int) -> list[tuple[Any, ...]]:
        columns = ", ".join(
            f"left({_pg_ident(c.name)}::text, {VALUE_CHARS})" if samples_values(c.data_type) else "NULL" for c in table.columns
        )
        source = f"{_pg_ident(table.schema)}.{_pg_ident(table.name)}"
        wanted = sample_rows * _SAMPLE_OVERSHOOT
        if table.row_estimate > wanted and table.pages > _MIN_SAMPLE_PAGES:
            percent = min(100.0, 100.0 * max(wanted / table.row_estimate, _MIN_SAMPLE_PAGES / table.pages))
            # REPEATABLE: every scan of an unchanged table samples the same pages, so a re-scan reports
            # changes in the data, not in the draw. The pages returned are few (about `wanted` rows);
            # shuffling them by a hash of their position is cheap and keeps the first pages' rows from
            # filling the sample.
            cursor.execute(
                f"SELECT {columns} FROM {source} TABLESAMPLE SYSTEM (%s) REPEATABLE (%s) ORDER BY md5(ctid::text) LIMIT %s",
                [percent, _SAMPLE_SEED, sample_rows],
            )
            rows = cursor.fetchall()
            if len(rows) >= sample_rows // 2:
                return list(rows)
        # A small table, or statistics that overstate it: the first rows are the sample.
        cursor.execute(f"SELECT {columns} FROM {source} LIMIT %s", [sample_rows])
        return list(cursor.fetchall())


class MySQLIntrospector:
    """MySQL and MariaDB through PyMySQL."""

    _TABLES = """
        SELECT c.TABLE_SCHEMA, c.TABLE_NAME, COALESCE(t.TABLE_ROWS, 0), 0, c.COLUMN_NAME, c.COLUMN_TYPE
        FROM information_schema.COLUMNS c
        JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
        WHERE t.TABLE_TYPE = 'BASE TABLE' AND {where}
        ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION
    """
    _SYSTEM_SCHEMAS = ("information_schema", "mysql", "performance_schema", "sys")

    def configure(self, cursor: Any, statement_timeout_ms: int) -> None:
        # MariaDB counts seconds in max_statement_time; MySQL counts milliseconds in max_execution_time.
        try:
            cursor.execute("SET SESSION max_statement_time = %s", [statement_timeout_ms / 1000])
        except Exception:  # noqa: BLE001 - MySQL has no such variable; it has the other one
            cursor.execute("SET SESSION max_execution_time = %s", [int(statement_timeout_ms)])

    def tables(self, cursor: Any) -> list[Table]:
        cursor.execute("SELECT DATABASE()")
        current = cursor.fetchone()[0]
        if current:
            # A DSN that names a database scans that database only.
            cursor.execute(self._TABLES.format(where="c.TABLE_SCHEMA = %s"), [current])
        else:
            cursor.execute(self._TABLES.format(where="c.TABLE_SCHEMA NOT IN %s"), [self._SYSTEM_SCHEMAS])
        return _group(cursor.fetchall())

    def sample(self, cursor: Any, table: Table, sample_rows: int) -> list[tuple[Any, ...]]:
        columns = ", ".join(
            f"LEFT(CAST({_my_ident(c.name)} AS CHAR), {VALUE_CHARS})" if samples_values(c.data_type) else "NULL" for c in table.columns
        )
        cursor.execute(f"SELECT {columns} FROM {_my_ident(table.schema)}.{_my_ident(table.name)} LIMIT %s", [sample_rows])
        return list(cursor.fetchall())


def _group(rows: list[tuple[Any, ...]]) -> list[Table]:
    tables: list[Table] = []
    current: tuple[str, str] | None = None
    columns: list[Column] = []
    estimate = pages = 0
    for schema, name, row_estimate, relpages, column, data_type in rows:
        if (schema, name) != current:
            if current is not None:
                tables.append(Table(current[0], current[1], estimate, pages, tuple(columns)))
            current, columns, estimate, pages = (schema, name), [], int(row_estimate or 0), int(relpages or 0)
        columns.append(Column(column, data_type))
    if current is not None:
        tables.append(Table(current[0], current[1], estimate, pages, tuple(columns)))
    return tables


INTROSPECTORS: dict[str, Introspector] = {"postgresql": PostgreSQLIntrospector(), "mysql": MySQLIntrospector()}
"""The engines discovery reads, by data-source kind."""
