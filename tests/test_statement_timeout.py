"""A runaway query cannot hold a pooled connection forever: each alias has its own statement
timeout (READ_STATEMENT_TIMEOUT_MS / WRITE_STATEMENT_TIMEOUT_MS), and a cancelled statement is a
bilingual 504 `query_timeout`, not a hang, a 500, or a misleading "database unavailable"."""

from __future__ import annotations

import time
from contextlib import contextmanager

import psycopg2.errors
import pytest
from django.db import OperationalError, connections

from verisyntra.api.errors import is_query_timeout
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, STATEMENT_TIMEOUT_KEY, WRITE_ALIAS, build_databases
from verisyntra.db.pools import reset_pools
from verisyntra.db.timeouts import statement_with_timeout

TIMEOUT_MS = 300

db = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@contextmanager
def statement_timeouts(environ: dict[str, str]):
    """Rebuild both aliases' connection OPTIONS from `environ`, as settings.py would at start-up,
    with fresh pools (a pool keeps the parameters it was created with)."""
    configured = build_databases(environ)
    keys = ("OPTIONS", STATEMENT_TIMEOUT_KEY)
    saved = {alias: {key: connections[alias].settings_dict[key] for key in keys} for alias in POOLED_ALIASES}
    for alias in POOLED_ALIASES:
        connections[alias].close()
    reset_pools()
    for alias in POOLED_ALIASES:
        connections[alias].settings_dict.update({key: configured[alias][key] for key in keys})
    try:
        yield
    finally:
        for alias in POOLED_ALIASES:
            connections[alias].close()
        reset_pools()
        for alias in POOLED_ALIASES:
            connections[alias].settings_dict.update(saved[alias])


@pytest.fixture
def read_timeout():
    with statement_timeouts({"READ_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS)}):
        yield TIMEOUT_MS


def runaway_statements_on_server() -> int:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%%'")
        return cursor.fetchone()[0]


def show_statement_timeout(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_each_alias_reads_its_own_statement_timeout_variable():
    databases = build_databases({"READ_STATEMENT_TIMEOUT_MS": "250", "WRITE_STATEMENT_TIMEOUT_MS": "60000"})
    assert databases["read"][STATEMENT_TIMEOUT_KEY] == 250
    assert databases["write"][STATEMENT_TIMEOUT_KEY] == 60000
    defaults = build_databases({})
    assert defaults["read"][STATEMENT_TIMEOUT_KEY] == 30000
    assert defaults["write"][STATEMENT_TIMEOUT_KEY] == 0
    assert build_databases({"READ_STATEMENT_TIMEOUT_MS": "0"})["read"][STATEMENT_TIMEOUT_KEY] == 0


def test_no_alias_sends_the_startup_parameter_a_transaction_pooler_refuses():
    # PgBouncer in transaction mode answers `options` with FATAL "unsupported startup parameter".
    databases = build_databases({"READ_STATEMENT_TIMEOUT_MS": "250", "WRITE_STATEMENT_TIMEOUT_MS": "60000"})
    assert all("options" not in databases[alias]["OPTIONS"] for alias in ("read", "write"))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SET LOCAL statement_timeout = 250; SELECT 1"),
        ("  with x as (select 1) select * from x", "SET LOCAL statement_timeout = 250;   with x as (select 1) select * from x"),
        ('ROLLBACK TO SAVEPOINT "s1"', 'ROLLBACK TO SAVEPOINT "s1"'),
        ('SAVEPOINT "s1"', 'SAVEPOINT "s1"'),
        ("VACUUM ANALYZE t", "VACUUM ANALYZE t"),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY i ON t (a)"),
        ('DROP DATABASE "test_x"', 'DROP DATABASE "test_x"'),
        ("REINDEX INDEX CONCURRENTLY i", "REINDEX INDEX CONCURRENTLY i"),
        ("CREATE INDEX i ON t (a)", "SET LOCAL statement_timeout = 250; CREATE INDEX i ON t (a)"),
    ],
)
def test_statements_carry_set_local_except_those_that_must_run_alone(sql, expected):
    # Every prefixed statement also carries the transaction's tenant scope (verisyntra.db.tenant_scope).
    tenant = "6a18d479-b471-4ce9-925b-f41d62b4cfb7"
    scope = f"SELECT set_config('app.tenant_id', '{tenant}', true), set_config('app.all_tenants', '', true); "
    prefixed = expected != sql
    assert statement_with_timeout(sql, 250, tenant) == expected.replace("250; ", f"250; {scope}", 1)
    assert statement_with_timeout(sql, 0, tenant) == (f"{scope}{sql}" if prefixed else sql)


@db
def test_the_timeout_holds_for_one_statement_and_never_leaks_to_the_session(read_timeout):
    # Outside a transaction the SET LOCAL and its statement are one implicit transaction: the next
    # statement on the same server connection, sent by a plain psycopg2 cursor, sees the server's default.
    import psycopg2.extensions

    connection = connections[READ_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{read_timeout}ms"
        with psycopg2.extensions.cursor(connection.connection.dbapi_connection) as plain:
            plain.execute("SHOW statement_timeout")
            assert plain.fetchone()[0] == "0"


@db
def test_query_logs_see_the_statement_as_the_code_wrote_it(read_timeout):
    seen = []
    with connections[READ_ALIAS].execute_wrapper(lambda execute, sql, *rest: seen.append(sql) or execute(sql, *rest)):
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    assert seen == ["SELECT 1"]


@db
def test_a_failed_statement_inside_atomic_rolls_back_to_its_savepoint(read_timeout):
    # ROLLBACK TO SAVEPOINT goes out alone: a SET LOCAL before it would fail in the aborted transaction.
    from django.db import DatabaseError, transaction

    with transaction.atomic(using=READ_ALIAS):
        with pytest.raises(DatabaseError):
            with transaction.atomic(using=READ_ALIAS):
                with connections[READ_ALIAS].cursor() as cursor:
                    cursor.execute("SELECT 1/0")
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            assert cursor.fetchone()[0] == f"{read_timeout}ms"


@db
def test_unpooled_connections_carry_their_timeout_per_statement():
    from verisyntra.db.direct import direct_connection

    conn = direct_connection(WRITE_ALIAS, application_name="verisyntra-test", statement_timeout_ms=200)
    try:
        with conn.cursor() as cursor:
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cursor.execute("SELECT pg_sleep(5)")
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        conn.close()


@db
def test_pooled_read_connections_carry_the_read_timeout_and_write_connections_do_not(read_timeout):
    assert show_statement_timeout(READ_ALIAS) == f"{read_timeout}ms"
    assert show_statement_timeout(WRITE_ALIAS) == "0"


@db
def test_runaway_read_is_cancelled_after_the_timeout_not_left_running(read_timeout):
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        with connections[READ_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_sleep(30)")
    elapsed = time.monotonic() - started
    assert is_query_timeout(raised.value)
    assert read_timeout / 1000 <= elapsed < read_timeout / 1000 + 2
    assert runaway_statements_on_server() == 0


@db
@pytest.mark.needs_backend_pid
def test_lost_connection_is_not_mistaken_for_a_timeout():
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(OperationalError) as raised:
        with connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    assert not is_query_timeout(raised.value)
    connections[WRITE_ALIAS].close()


@db
@pytest.mark.urls("tests.slow_query_urls")
@pytest.mark.parametrize("path", ["/runaway-api", "/runaway-plain"])
def test_cancelled_statement_is_a_bilingual_504_and_the_pool_keeps_serving(client, read_timeout, path):
    started = time.monotonic()
    response = client.get(path)
    elapsed = time.monotonic() - started

    assert response.status_code == 504
    body = response.json()
    assert body["code"] == "query_timeout"
    assert body["error"] == "The database query took too long and was cancelled."
    assert body["error_vi"] == "Truy vấn cơ sở dữ liệu vượt quá thời gian cho phép và đã bị hủy."
    assert "Traceback" not in response.content.decode()
    assert elapsed < read_timeout / 1000 + 2
    # The server really stopped the statement, and the same pooled connection serves the next request.
    assert runaway_statements_on_server() == 0
    assert client.get("/quick-read").json() == {"value": 1}
