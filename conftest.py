"""Project-wide pytest fixtures: test databases that are really test databases.

With pooled aliases, a pool created before the test databases exist keeps the real database's
connection parameters (django-db-connection-pool keeps one pool per alias and never rebuilds it when
Django renames the database to `test_...`), and the run then migrates and queries the REAL database.
So: every pool is reset before the test databases are created, and the run fails at once if
any alias is connected to a database whose name does not start with `test_`.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connections

from verisyntra.celery import app as celery_app
from verisyntra.db.config import POOLED_ALIASES
from verisyntra.db.pools import reset_pools

# The tests' Celery broker: Redis database 15 of the configured broker's server (TEST_CELERY_BROKER_URL
# overrides). Never the configured one itself: a development worker (scripts/dev) consumes that,
# and would take the tests' tasks (and a test worker the development ones).
TEST_BROKER_DATABASE = 15


def connected_database_names() -> dict[str, str]:
    names = {}
    for alias in POOLED_ALIASES:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT current_database()")
            names[alias] = cursor.fetchone()[0]
    return names


def non_test_databases(names: dict[str, str]) -> dict[str, str]:
    return {alias: name for alias, name in names.items() if not name.startswith("test_")}


def assert_only_test_databases() -> None:
    wrong = non_test_databases(connected_database_names())
    if wrong:
        pytest.exit(f"REFUSING TO RUN: aliases connected to non-test databases: {wrong}", returncode=3)


def broker_url_for_tests(configured: str) -> str:
    explicit = os.environ.get("TEST_CELERY_BROKER_URL")
    if explicit:
        return explicit
    return urlunsplit(urlsplit(configured)._replace(path=f"/{TEST_BROKER_DATABASE}"))


@pytest.fixture(scope="session", autouse=True)
def tests_broker() -> tuple[str, str]:
    """Point this run, and the workers it starts, at the tests' own broker database, emptied first.

    Yields (the tests' broker URL, the configured one it replaces).
    """
    saved = settings.CELERY_BROKER_URL, celery_app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    url = broker_url_for_tests(settings.CELERY_BROKER_URL)
    if url == settings.CELERY_BROKER_URL:
        pytest.exit(
            f"REFUSING TO RUN: the tests' broker {url} is the configured CELERY_BROKER_URL; set TEST_CELERY_BROKER_URL to another one",
            returncode=3,
        )
    settings.CELERY_BROKER_URL = celery_app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    try:
        redis.Redis.from_url(url).flushdb()  # tasks left by an interrupted run
    except redis.RedisError:
        pass  # Redis down: the tests that need it say so themselves
    yield url, saved[0]
    settings.CELERY_BROKER_URL, celery_app.conf.broker_url = saved[0], saved[1]
    if saved[2] is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = saved[2]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker):
    """Runs just before the test databases are created: no pool may survive from before."""
    with django_db_blocker.unblock():
        for alias in POOLED_ALIASES:
            connections[alias].close()
        reset_pools()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's setup, then the guard: every alias must be on a `test_` database."""
    with django_db_blocker.unblock():
        assert_only_test_databases()
        for alias in POOLED_ALIASES:
            connections[alias].close()
    yield


class QueryLog:
    """Which alias, and which server backend (PID), served each query of the current thread."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int, str]] = []

    def __call__(self, execute, sql, params, many, context):
        connection = context["connection"]
        self.entries.append((connection.alias, connection.connection.info.backend_pid, sql))
        return execute(sql, params, many, context)

    @property
    def aliases(self) -> list[str]:
        return [alias for alias, _, _ in self.entries]

    @property
    def pids(self) -> list[int]:
        return [pid for _, pid, _ in self.entries]

    def clear(self) -> None:
        self.entries.clear()


@pytest.fixture
def query_log():
    """Record (alias, backend_pid, sql) for every query this thread runs through the pooled aliases."""
    from contextlib import ExitStack

    log = QueryLog()
    with ExitStack() as stack:
        for alias in POOLED_ALIASES:
            stack.enter_context(connections[alias].execute_wrapper(log))
        yield log
