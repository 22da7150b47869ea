"""Operations endpoints cost (almost) nothing: liveness touches no database, readiness one `SELECT 1`
per pool and nothing else, and a flood of `/health/connection-pools` calls shares one reading of the
server's view per process and period."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from health import selectors
from health.tests.operators import staff_headers
from verisyntra.db.config import POOLED_ALIASES

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def test_liveness_answers_without_any_database_work(monkeypatch):
    def no_server_session(*args, **kwargs):
        raise AssertionError("liveness opened a server session")

    monkeypatch.setattr(selectors, "server_connection", no_server_session)
    captures = [CaptureQueriesContext(connections[alias]) for alias in POOLED_ALIASES]
    for capture in captures:
        capture.__enter__()
    try:
        response = Client().get("/health/live")
    finally:
        for capture in captures:
            capture.__exit__(None, None, None)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "alive"
    assert [len(capture.captured_queries) for capture in captures] == [0] * len(captures)


def test_a_flood_of_pool_health_calls_reads_the_server_view_once_per_period(monkeypatch):
    readings = []
    real = selectors.server_views

    def counted(*args, **kwargs):
        readings.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(selectors, "server_views", counted)
    monkeypatch.setattr(selectors, "SERVER_VIEW_CACHE_SECONDS", 60.0)  # the whole test is one period
    selectors._server_view_cache.clear()
    statuses = []

    headers = staff_headers()

    def poll():
        client = Client(headers=headers)
        for _ in range(10):
            statuses.append(client.get("/health/connection-pools").status_code)

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 80
    assert len(readings) == 1, f"{len(readings)} server sessions for 80 calls"


def test_readiness_runs_select_1_through_each_pool_and_opens_no_server_session(monkeypatch):
    def no_server_session(*args, **kwargs):
        raise AssertionError("readiness opened a server session of its own")

    monkeypatch.setattr(selectors, "server_connection", no_server_session)
    captures = [CaptureQueriesContext(connections[alias]) for alias in POOLED_ALIASES]
    for capture in captures:
        capture.__enter__()
    try:
        response = Client().get("/health/ready")
    finally:
        for capture in captures:
            capture.__exit__(None, None, None)
    assert response.status_code == 200, response.content
    for capture in captures:
        assert any(query["sql"].endswith("SELECT 1") for query in capture.captured_queries), capture.captured_queries
