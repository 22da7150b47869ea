"""Project-wide pytest fixtures: test databases that are really test databases.

With pooled aliases, a pool created before the test databases exist keeps the real database's
connection parameters (django-db-connection-pool keeps one pool per alias and never rebuilds it when
Django renames the database to `test_...`), and the run then migrates and queries the REAL database.
So: every pool is reset before the test databases are created, and the run fails at once if
any alias is connected to a database whose name does not start with `test_`.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test.signals import setting_changed
from kombu.exceptions import KombuError

from verisyntra.celery import app as celery_app
from verisyntra.db.config import MIGRATION_ALIAS, POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.direct import direct_connection
from verisyntra.db.pools import reset_pools
from verisyntra.db.tenant_scope import all_tenants

# The tests' Celery broker: Redis database 15 of the configured broker's server (TEST_CELERY_BROKER_URL
# overrides). Never the configured one itself: a development worker (scripts/dev) consumes that,
# and would take the tests' tasks (and a test worker the development ones).
TEST_BROKER_DATABASE = 15

# The tests' RabbitMQ broker (the scan, kill and sweep tests run against both brokers): a virtual
# host of their own, deleted and created again by the run (`rabbitmqctl`), so a fresh machine needs
# nothing but a running RabbitMQ. TEST_CELERY_AMQP_BROKER_URL overrides it; its vhost must not be "/".
TEST_AMQP_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/verisyntra_test"


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
    if not configured.startswith(("redis://", "rediss://")):
        configured = "redis://127.0.0.1:6379/0"  # an amqp:// CELERY_BROKER_URL: the Redis half uses the local Redis
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
    # The Django cache too (read-your-writes positions): the tests' Redis database, emptied below,
    # never the configured cache; CACHE_URL passes it on to the servers a test starts.
    saved_cache, saved_cache_env = settings.CACHES, os.environ.get("CACHE_URL")
    settings.CACHES = {"default": {**saved_cache["default"], "LOCATION": url, "KEY_PREFIX": "verisyntra-test"}}
    os.environ["CACHE_URL"] = url
    setting_changed.send(sender=None, setting="CACHES", value=settings.CACHES, enter=True)
    try:
        redis.Redis.from_url(url).flushdb()  # tasks left by an interrupted run
    except redis.RedisError:
        pass  # Redis down: the tests that need it say so themselves
    yield url, saved[0]
    settings.CACHES = saved_cache
    setting_changed.send(sender=None, setting="CACHES", value=settings.CACHES, enter=False)
    if saved_cache_env is None:
        os.environ.pop("CACHE_URL", None)
    else:
        os.environ["CACHE_URL"] = saved_cache_env
    settings.CELERY_BROKER_URL, celery_app.conf.broker_url = saved[0], saved[1]
    if saved[2] is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = saved[2]


def amqp_broker_url_for_tests() -> str:
    return os.environ.get("TEST_CELERY_AMQP_BROKER_URL") or TEST_AMQP_BROKER_URL


@pytest.fixture(scope="session")
def amqp_tests_broker(tests_broker) -> str:
    """The tests' RabbitMQ virtual host, emptied (deleted and created again); yields its URL."""
    url = amqp_broker_url_for_tests()
    parts = urlsplit(url)
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not vhost or vhost == "/" or url == tests_broker[1]:
        pytest.exit(f"REFUSING TO RUN: the tests' AMQP broker {url} needs a vhost of its own, not '/'", returncode=3)
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    user = parts.username or "guest"
    commands = [["delete_vhost", vhost], ["add_vhost", vhost], ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]]
    for number, command in enumerate(commands):
        try:
            result = subprocess.run([ctl, *command], capture_output=True, text=True, timeout=60)
        except OSError as exc:
            pytest.fail(f"rabbitmqctl unavailable ({exc}): install and start RabbitMQ (scripts/lib.sh ensure_rabbitmq)")
        if result.returncode != 0 and number > 0:  # deleting a vhost that does not exist fails, and that is fine
            advice = "is RabbitMQ running? scripts/lib.sh ensure_rabbitmq"
            pytest.fail(f"rabbitmqctl {' '.join(command)} failed: {result.stdout}{result.stderr} ({advice})")
    return url


@contextmanager
def celery_broker(url: str) -> Iterator[str]:
    """This process (its settings, its Celery app's connections) and the workers it starts use `url`."""
    saved = settings.CELERY_BROKER_URL, celery_app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")

    def switch(to: str | None, conf_to: str | None) -> None:
        # The app keeps the connection and producer pools of the broker it first used; kombu's
        # registry (kombu.pools) keeps one per broker, so forgetting them is enough to switch.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        settings.CELERY_BROKER_URL, celery_app.conf.broker_url = to, conf_to

    switch(url, url)
    os.environ["CELERY_BROKER_URL"] = url
    try:
        yield url
    finally:
        switch(saved[0], saved[1])
        if saved[2] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[2]


@pytest.fixture(params=["redis", "amqp"])
def broker(request, tests_broker) -> Iterator[str]:
    """Run the test once with each broker (the tests' Redis database, the tests' RabbitMQ vhost); yields its name."""
    url = request.getfixturevalue("amqp_tests_broker") if request.param == "amqp" else tests_broker[0]
    with celery_broker(url):
        yield request.param
        # A test that failed part-way can leave a message behind (a killed worker's, requeued by
        # RabbitMQ at once); the next test's worker must not receive it.
        try:
            celery_app.control.purge()
        except (KombuError, OSError):
            pass  # broker down: the tests that need it say so themselves


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker):
    """Runs just before the test databases are created: no pool may survive from before."""
    with django_db_blocker.unblock():
        for alias in POOLED_ALIASES:
            connections[alias].close()
        reset_pools()
        # A test database left by an interrupted run is dropped before it is created again.
        end_server_sessions_on(connections[WRITE_ALIAS].creation._get_test_db_name())


def end_server_sessions_on(database: str) -> None:
    """End every other server session on the test database `database`, so it can be dropped.

    Behind PgBouncer the pools' closed connections leave idle server connections on it, which make
    DROP DATABASE fail ("is being accessed by other users"); on a direct server this finds none
    but those of a worker a failed test left behind.
    """
    if not database.startswith("test_"):
        raise ValueError(f"refusing to end sessions on {database!r}: not a test database")
    # As the owner (pg_signal_backend): a leftover session may be the runtime role's or the owner's.
    conn = direct_connection(MIGRATION_ALIAS, application_name="verisyntra-test-teardown", database="postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
            )
    finally:
        conn.close()


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database, made and migrated by the tables' owner, then the guard: every alias on a `test_` database.

    Not Django's own test-database creation: that connects as each alias's role, and the runtime
    role the pools use may not create databases (docs/configuration.md, "Database roles"). The
    owner creates the database and runs `migrate`, which grants the runtime role its privileges
    and puts the tenant policies in place (verisyntra.db.security), as in production.
    """
    from django.core.management import call_command

    if MIGRATION_ALIAS not in settings.DATABASES:
        pytest.exit("REFUSING TO RUN: set MIGRATION_DATABASE_URL to the tables' owner (scripts/test sets it)", returncode=3)
    name = connections[WRITE_ALIAS].creation._get_test_db_name()
    with django_db_blocker.unblock():
        _as_owner_on_server(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)", f"CREATE DATABASE {quote(name)}")
        for alias in settings.DATABASES:
            if alias != "default":
                settings.DATABASES[alias]["NAME"] = connections[alias].settings_dict["NAME"] = name
        call_command("migrate", database=MIGRATION_ALIAS, verbosity=0, interactive=False)
        assert_only_test_databases()
        for alias in POOLED_ALIASES:
            connections[alias].close()
    yield
    with django_db_blocker.unblock():
        for alias in settings.DATABASES:
            connections[alias].close()
        reset_pools()
        end_server_sessions_on(name)
        _as_owner_on_server(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _as_owner_on_server(*statements: str) -> None:
    conn = direct_connection(MIGRATION_ALIAS, application_name="verisyntra-test-setup", database="postgres")
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def act_for_all_tenants(monkeypatch) -> Iterator[None]:
    """Tests set up and inspect rows across tenants, as an operator's command would (row-level
    security's all-tenants scope). Requests they send start with no tenant, as in production; a
    test of the scope itself narrows it with `acting_for()` / `no_tenant()`.

    A thread a test starts (concurrent writers, a held chunk, a second sweep) runs in the scope of
    the code that started it, as `threading.Thread(context=...)` allows from Python 3.14: it plays
    another process of the service, which sets its own scope as the service's entry points do.
    Production code starts no thread that reads tenant rows.
    """
    start, bootstrap = threading.Thread.start, threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def start_in_context(self: threading.Thread) -> None:
        self._verisyntra_context = contextvars.copy_context()  # type: ignore[attr-defined]
        start(self)

    def bootstrap_in_context(self: threading.Thread) -> None:
        context = getattr(self, "_verisyntra_context", None)
        if context is None:
            bootstrap(self)
        else:
            context.run(bootstrap, self)

    monkeypatch.setattr(threading.Thread, "start", start_in_context)
    monkeypatch.setattr(threading.Thread, "_bootstrap_inner", bootstrap_in_context)
    with all_tenants():
        yield


def pytest_runtest_setup(item):
    # Behind a transaction-mode pooler a client connection is no server session: each transaction
    # may run on another backend, and a terminated backend is replaced unseen. Such tests say so.
    if item.get_closest_marker("needs_backend_pid") is not None:
        from verisyntra.db.pooler import pooler_in_front  # asks PostgreSQL itself once per run, PgBouncer each time

        pooler = pooler_in_front(WRITE_ALIAS)
        if pooler is not None:
            pytest.skip(f"needs a real server backend PID: PgBouncer at {pooler.host}:{pooler.port} lends each transaction any backend")


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
