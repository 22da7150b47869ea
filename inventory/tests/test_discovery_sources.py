"""`discover` against real sources: a PostgreSQL and a MariaDB database holding Vietnamese sample data.

Each engine gets the five-table source of `discovery_support` (customers, medical records,
payments, products with no personal data, an import table with columns `c1` ... `c7`), built for
this module and dropped after it, and is read through a read-only connection as a data source is.
"""

from __future__ import annotations

import os
import random
from datetime import date

import pytest

from inventory.discovery import discover
from inventory.tests import discovery_support as support

pytestmark = pytest.mark.parametrize("engine", support.ENGINES)


@pytest.fixture(scope="module")
def sources():
    names = {engine: f"src_l_{engine}_{os.getpid()}" for engine in support.ENGINES}
    for engine, name in names.items():
        support.build_source(engine, name)
    yield names
    for engine, name in names.items():
        support.drop_source(engine, name)


@pytest.fixture
def connection(engine, sources):
    conn = support.read_only_connection(engine, sources[engine])
    yield conn
    conn.close()


def by_table(findings):
    return {f.table: f for f in findings}


def test_every_column_gets_its_expected_type(engine, connection):
    tables = by_table(discover(connection, engine))
    assert set(tables) == set(support.SOURCE_TABLES)
    wrong = {}
    for table, columns in support.SOURCE_TABLES.items():
        found = {c.column: c.personal_data_type for c in tables[table].columns}
        assert found.pop("id") is None
        expected = {c.name: c.expected for c in columns}
        if found != expected:
            wrong[table] = {name: (found.get(name), want) for name, want in expected.items() if found.get(name) != want}
    assert not wrong, f"(found, expected) per column: {wrong}"


def test_tables_get_their_category_and_products_have_no_personal_data(engine, connection):
    tables = by_table(discover(connection, engine))
    for table, category in support.EXPECTED_CATEGORY.items():
        finding = tables[table]
        actual = "sensitive" if finding.sensitive else ("basic" if finding.personal_columns else None)
        assert actual == category, table
    assert tables["san_pham"].personal_columns == []
    # Blood group alone would not make the medical records sensitive; the diagnoses do.
    blood = next(c for c in tables["benh_an"].columns if c.column == "nhom_mau")
    assert (blood.personal_data_type, blood.category) == ("blood_group", "basic")


def test_findings_explain_why_and_keep_counts_not_values(engine, connection):
    findings = discover(connection, engine, sample_rows=50)
    columns = {(c.table, c.column): c for f in findings for c in f.columns}
    assert columns[("khach_hang", "so_dien_thoai")].reason == "both"
    assert columns[("du_lieu_nhap", "c2")].reason == "values"
    assert columns[("san_pham", "phone")].personal_data_type is None  # the name misleads, the values decide
    for column in columns.values():
        assert 0 < column.sampled <= 50 and 0 <= column.matched <= column.sampled
        assert 0.0 <= column.confidence <= 1.0
    # The data the source holds is regenerated here, value for value: none of it may appear in the findings.
    rng = random.Random(13)
    text = repr(findings)
    for table, table_columns in support.SOURCE_TABLES.items():
        for _ in range(support.SOURCE_ROWS):
            for column in table_columns:
                value = support.VALUES[column.kind](rng)
                if isinstance(value, str) and len(value) >= 6:
                    assert value not in text, f"a sampled value of {table}.{column.name} is in the findings"
                elif isinstance(value, date):
                    assert value.isoformat() not in text


def test_row_counts_come_from_the_catalog_estimates(engine, connection):
    for finding in discover(connection, engine):
        # ANALYZE ran after the load, so the estimates are close; MariaDB's are approximate.
        assert support.SOURCE_ROWS * 0.5 <= finding.row_estimate <= support.SOURCE_ROWS * 1.5, finding.table


def test_progress_is_reported_after_every_table(engine, connection):
    calls = []
    discover(connection, engine, on_table=lambda done, total: calls.append((done, total)))
    total = len(support.SOURCE_TABLES)
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_an_unknown_kind_is_refused(engine, connection):
    with pytest.raises(ValueError, match="unknown data-source kind"):
        discover(connection, "oracle")


def test_only_the_sources_own_tables_are_listed(engine, connection, sources):
    # Other databases on the same server (the other test source, the service's own) are not scanned.
    findings = discover(connection, engine)
    schemas = {f.schema for f in findings}
    assert schemas == ({"public"} if engine == "postgresql" else {sources[engine]})


def test_a_table_in_another_schema_is_found_with_its_schema(engine, sources):
    if engine != "postgresql":
        pytest.skip("MySQL/MariaDB schemas are databases; a data source names one")
    admin = support.admin_connection(engine, sources[engine])
    try:
        with admin.cursor() as cursor:
            cursor.execute("CREATE SCHEMA ke_toan")
            cursor.execute("CREATE TABLE ke_toan.nhan_vien (id int, ho_ten text, so_tai_khoan text)")
            cursor.execute("INSERT INTO ke_toan.nhan_vien VALUES (1, %s, %s)", ["Nguyễn Văn An", "0071001234567"])
        conn = support.read_only_connection(engine, sources[engine])
        try:
            tables = {(f.schema, f.table): f for f in discover(conn, engine)}
        finally:
            conn.close()
        staff = tables[("ke_toan", "nhan_vien")]
        assert {c.column: c.personal_data_type for c in staff.personal_columns} == {"ho_ten": "full_name", "so_tai_khoan": "bank_account"}
        assert staff.sensitive
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP SCHEMA ke_toan CASCADE")
        admin.close()


def test_a_table_that_cannot_be_sampled_is_classified_by_its_names(engine, connection, monkeypatch):
    from inventory.discovery import introspect

    introspector = introspect.INTROSPECTORS[engine]
    original = introspector.sample

    def failing(cursor, table, sample_rows):
        if table.name == "khach_hang":
            cursor.execute("SELECT no_such_column FROM khach_hang")  # a real error from the server, as a timeout would be
        return original(cursor, table, sample_rows)

    monkeypatch.setattr(introspector, "sample", failing)
    tables = by_table(discover(connection, engine))
    customers = {c.column: (c.personal_data_type, c.reason, c.sampled) for c in tables["khach_hang"].columns}
    assert customers["so_dien_thoai"] == ("phone", "name", 0)
    assert customers["created_at"] == (None, None, 0)
    # The tables after it were still sampled: the failed statement did not poison the session.
    assert all(c.sampled > 0 for c in tables["san_pham"].columns)


def test_a_large_table_is_sampled_by_pages_spread_over_it(engine, sources):
    if engine != "postgresql":
        pytest.skip("TABLESAMPLE is PostgreSQL's; MariaDB reads the first rows")
    from inventory.discovery import introspect

    admin = support.admin_connection(engine, sources[engine])
    try:
        with admin.cursor() as cursor:
            cursor.execute("CREATE TABLE lon (id bigint, sdt text)")
            cursor.execute(
                "INSERT INTO lon SELECT i, '098' || lpad((i * 7919 % 10000000)::text, 7, '0') FROM generate_series(1, 50000) AS i"
            )
            cursor.execute("ANALYZE lon")
        conn = support.read_only_connection(engine, sources[engine])
        try:
            large = by_table(discover(conn, engine, sample_rows=40))["lon"]
            introspector = introspect.INTROSPECTORS[engine]
            with conn.cursor() as cursor:
                table = next(t for t in introspector.tables(cursor) if t.name == "lon")
                ids = [int(row[0]) for row in introspector.sample(cursor, table, 40)]
        finally:
            conn.close()
        assert large.row_estimate == 50000
        phone = next(c for c in large.columns if c.column == "sdt")
        assert (phone.personal_data_type, phone.sampled, phone.matched) == ("phone", 40, 40)
        # 40 rows from pages spread over the table's 50,000, not its first 40 rows.
        assert len(ids) == 40 and max(ids) - min(ids) > 5000 and max(ids) > 40
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP TABLE lon")
        admin.close()
