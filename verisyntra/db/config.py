"""Build the `read` and `write` database aliases from the environment.

Both aliases are pooled by django-db-connection-pool. The pool library reads only the
upper-case keys in POOL_KEYS from `POOL_OPTIONS` and silently ignores anything else, so
the keys live here, in one place, and `verisyntra.checks` rejects any other key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dj_database_url

from verisyntra.db.timeouts import timeout_cursor
from verisyntra.env import env_bool, env_int, env_list, env_str

POOLED_ENGINE = "dj_db_conn_pool.backends.postgresql"

# The keys django-db-connection-pool 1.2.x reads (dj_db_conn_pool.core.PoolContainer).
POOL_KEYS = frozenset({"POOL_SIZE", "MAX_OVERFLOW", "RECYCLE", "TIMEOUT", "PRE_PING", "ECHO"})

READ_ALIAS = "read"
WRITE_ALIAS = "write"

# The default pool sizes: 20 + 10 read connections for dashboards, 50 + 20 write connections for
# scans and batches (measure before keeping them: docs/configuration.md "Pool sizes", benchmarks.pools).
POOL_DEFAULTS: dict[str, dict[str, int]] = {
    READ_ALIAS: {"POOL_SIZE": 20, "MAX_OVERFLOW": 10, "TIMEOUT": 30, "RECYCLE": 3600},
    WRITE_ALIAS: {"POOL_SIZE": 50, "MAX_OVERFLOW": 20, "TIMEOUT": 10, "RECYCLE": 1800},
}

# PostgreSQL statement_timeout per alias family, in ms (0 = none). A dashboard read still running
# after 30 s is a runaway: it is cancelled (a bilingual 504 `query_timeout`) instead of holding a read
# connection forever. Writes have none by default: migrations and large scan chunks may run long.
STATEMENT_TIMEOUT_DEFAULTS_MS: dict[str, int] = {READ_ALIAS: 30_000, WRITE_ALIAS: 0}
# The alias's key holding that timeout; verisyntra.db.timeouts sends it with every statement.
STATEMENT_TIMEOUT_KEY = "STATEMENT_TIMEOUT_MS"

# The runtime role: not a superuser, no BYPASSRLS, owns nothing (scripts/lib.sh creates it locally).
DEFAULT_DATABASE_URL = "postgresql://verisyntra_app@127.0.0.1:5432/verisyntra"

# The alias `migrate` runs on: the table owner's unpooled connection (MIGRATION_DATABASE_URL). It
# exists only when that URL is set, or DEBUG lets it default to DATABASE_URL's.
MIGRATION_ALIAS = "migrations"


def read_database_urls(environ: Mapping[str, str]) -> list[str]:
    """The servers reads may use: READ_DATABASE_URLS (comma-separated replicas), else READ_DATABASE_URL, else the primary."""
    primary = env_str("DATABASE_URL", DEFAULT_DATABASE_URL, environ=environ)
    return env_list("READ_DATABASE_URLS", environ=environ) or [env_str("READ_DATABASE_URL", primary, environ=environ)]


def read_alias_names(count: int) -> tuple[str, ...]:
    """`read` for the first read server, `read_1`, `read_2`, ... for the others (one pool each)."""
    return (READ_ALIAS, *(f"{READ_ALIAS}_{index}" for index in range(1, count)))


# Fixed at start-up like DATABASES itself: one alias, and one pool per process, per read server.
READ_ALIASES = read_alias_names(len(read_database_urls(os.environ)))
POOLED_ALIASES = (READ_ALIAS, WRITE_ALIAS, *READ_ALIASES[1:])


def pool_options(alias: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """POOL_OPTIONS for one alias: POOL_DEFAULTS, each overridable by READ_POOL_* / WRITE_POOL_*.

    Every read alias (`read`, `read_1`, ...) is sized by the READ_POOL_* family.
    """
    alias = WRITE_ALIAS if alias == WRITE_ALIAS else READ_ALIAS
    prefix = f"{alias.upper()}_POOL_"
    defaults = POOL_DEFAULTS[alias]
    return {
        "POOL_SIZE": env_int(prefix + "SIZE", defaults["POOL_SIZE"], environ=environ),
        "MAX_OVERFLOW": env_int(prefix + "MAX_OVERFLOW", defaults["MAX_OVERFLOW"], environ=environ),
        "TIMEOUT": env_int(prefix + "TIMEOUT", defaults["TIMEOUT"], environ=environ),
        "RECYCLE": env_int(prefix + "RECYCLE", defaults["RECYCLE"], environ=environ),
        # A connection that died while idle (server restart, failover) is replaced, not handed out.
        "PRE_PING": True,
    }


# The application_name of a data scan's liveness session (inventory.scan_services.data_scan_liveness):
# a transaction it leaves open for the whole run on purpose, so health must not count it as a leak.
SCAN_LIVENESS_APPLICATION_NAME = "verisyntra-scan-liveness"


def database_alias(url: str, alias: str, environ: Mapping[str, str], test_name: str | None = None) -> dict[str, Any]:
    """One pooled alias for `url`, tagged with its own application_name so pg_stat_activity can tell the pools apart."""
    # A plain dict: the alias carries keys dj_database_url's DBConfig does not know (POOL_OPTIONS).
    config: dict[str, Any] = {**dj_database_url.parse(url, engine=POOLED_ENGINE)}
    options = config.setdefault("OPTIONS", {})
    options["application_name"] = f"verisyntra-{alias}"
    options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, environ=environ))
    family = WRITE_ALIAS if alias == WRITE_ALIAS else READ_ALIAS
    statement_timeout_ms = env_int(f"{family.upper()}_STATEMENT_TIMEOUT_MS", STATEMENT_TIMEOUT_DEFAULTS_MS[family], environ=environ)
    # Sent as SET LOCAL with each statement (verisyntra.db.timeouts), not as the startup parameter
    # `options`: PgBouncer in transaction mode refuses that parameter, and a session setting would
    # not survive its handing server connections from client to client between transactions.
    # The tenant scope row-level security reads travels the same way, so every alias has the cursor.
    config[STATEMENT_TIMEOUT_KEY] = statement_timeout_ms
    options["cursor_factory"] = timeout_cursor(statement_timeout_ms)
    # Connections go back to the pool when the request ends; CONN_MAX_AGE=None would keep one
    # checked out per thread across requests and drain the pool (a thread keeps its connection
    # between requests, and the pool never gets it back).
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = False
    # Behind PgBouncer in transaction mode a named cursor (QuerySet.iterator()) would outlive the
    # transaction whose server connection it lives on (docs/scaling.md).
    config["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS", False, environ=environ)
    config["POOL_OPTIONS"] = pool_options(alias, environ)
    # Test databases depend on nothing (Django's default is to wait for the dummy `default`).
    config["TEST"] = {"DEPENDENCIES": [], **({"NAME": test_name} if test_name else {})}
    return config


def migration_database_url(environ: Mapping[str, str]) -> str:
    """MIGRATION_DATABASE_URL; with DEBUG on and none set, DATABASE_URL (one role does everything in development)."""
    explicit = env_str("MIGRATION_DATABASE_URL", "", environ=environ)
    if explicit or not env_bool("DEBUG", False, environ=environ):
        return explicit
    return env_str("DATABASE_URL", DEFAULT_DATABASE_URL, environ=environ)


def migration_alias() -> str:
    """The alias schema changes run on: MIGRATION_ALIAS when configured, else the write alias (whose role then must own the tables)."""
    from django.conf import settings

    return MIGRATION_ALIAS if MIGRATION_ALIAS in settings.DATABASES else WRITE_ALIAS


def build_databases(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """DATABASES for the project: a dummy `default`, a pooled `write` (primary) and a pooled `read`.

    With MIGRATION_DATABASE_URL (or DEBUG), a plain `migrations` alias for the table owner.

    `default` is Django's dummy backend on purpose: a bare `transaction.atomic()` or
    `django.db.connection` then fails loudly instead of opening a transaction on a third
    connection the router never uses. `manage.py migrate` and friends default to `write`
    (see verisyntra/management/commands).
    """
    environ = os.environ if environ is None else environ
    write_url = env_str("DATABASE_URL", DEFAULT_DATABASE_URL, environ=environ)
    test_name = env_str("TEST_DATABASE_NAME", environ=environ) or None
    databases = {
        "default": {"ENGINE": "django.db.backends.dummy"},
        WRITE_ALIAS: database_alias(write_url, WRITE_ALIAS, environ, test_name=test_name),
    }
    read_urls = read_database_urls(environ)
    for alias, url in zip(read_alias_names(len(read_urls)), read_urls, strict=True):
        read = database_alias(url, alias, environ)
        # Under test, every read alias mirrors `write`'s test database: tests never touch a real
        # database. Django's docs (multi-db testing, TEST MIRROR) say a mirror needs
        # TransactionTestCase: under TestCase each alias has its own transaction, so read-after-write
        # tests must be transactional. The mirror copies only NAME, so a read alias on a streaming replica reads
        # the test database the replica received from the primary (tests/replica).
        read["TEST"] = {"MIRROR": WRITE_ALIAS, "DEPENDENCIES": []}
        databases[alias] = read
    migration_url = migration_database_url(environ)
    if migration_url:
        # Plain Django PostgreSQL, unpooled: it runs `migrate`, `flush` and a few commands, never requests.
        migrations: dict[str, Any] = {**dj_database_url.parse(migration_url)}
        migrations["OPTIONS"] = {"application_name": f"verisyntra-{MIGRATION_ALIAS}"}
        migrations["CONN_MAX_AGE"] = 0
        migrations["TEST"] = {"MIRROR": WRITE_ALIAS, "DEPENDENCIES": []}
        databases[MIGRATION_ALIAS] = migrations
    return databases


# The Django cache's Redis database on the broker's server: its own number, so the cache's keys
# never mix with Celery's queues (database 0 by default) nor with the tests' broker (database 15).
CACHE_REDIS_DATABASE = 1


def cache_url(broker_url: str, environ: Mapping[str, str] | None = None) -> str:
    """CACHE_URL, or database CACHE_REDIS_DATABASE of the broker's Redis (the local Redis for an amqp:// broker)."""
    from urllib.parse import urlsplit, urlunsplit

    explicit = env_str("CACHE_URL", "", environ=environ)
    if explicit:
        return explicit
    redis_url = broker_url if broker_url.startswith(("redis://", "rediss://")) else "redis://127.0.0.1:6379/0"
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{CACHE_REDIS_DATABASE}"))
