"""A runaway query cannot hold a pooled connection forever: each alias has its own statement
timeout (READ_STATEMENT_TIMEOUT_MS / WRITE_STATEMENT_TIMEOUT_MS), and a cancelled statement is a
bilingual 504 `query_timeout`, not a hang, a 500, or a misleading "database unavailable"."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connections

from verisyntra.api.errors import is_query_timeout
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS, build_databases
from verisyntra.db.pools import reset_pools

TIMEOUT_MS = 300

db = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@contextmanager
def statement_timeouts(environ: dict[str, str]):
    """Rebuild both aliases' connection OPTIONS from `environ`, as settings.py would at start-up,
    with fresh pools (a pool keeps the parameters it was created with)."""
    configured = build_databases(environ)
    saved = {alias: dict(connections[alias].settings_dict["OPTIONS"]) for alias in POOLED_ALIASES}
    for alias in POOLED_ALIASES:
        connections[alias].close()
    reset_pools()
    for alias in POOLED_ALIASES:
        connections[alias].settings_dict["OPTIONS"] = dict(configured[alias]["OPTIONS"])
    try:
        yield
    finally:
        for alias in POOLED_ALIASES:
            connections[alias].close()
        reset_pools()
        for alias in POOLED_ALIASES:
            connections[alias].settings_dict["OPTIONS"] = saved[alias]


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
    assert databases["read"]["OPTIONS"]["options"] == "-c statement_timeout=250"
    assert databases["write"]["OPTIONS"]["options"] == "-c statement_timeout=60000"
    defaults = build_databases({})
    assert defaults["read"]["OPTIONS"]["options"] == "-c statement_timeout=30000"
    assert "options" not in defaults["write"]["OPTIONS"]
    assert "options" not in build_databases({"READ_STATEMENT_TIMEOUT_MS": "0"})["read"]["OPTIONS"]


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
