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

POOLED_ENGINE = "dj_db_conn_pool.backends.postgresql"

# The keys django-db-connection-pool 1.2.x reads (dj_db_conn_pool.core.PoolContainer).
POOL_KEYS = frozenset({"POOL_SIZE", "MAX_OVERFLOW", "RECYCLE", "TIMEOUT", "PRE_PING", "ECHO"})

READ_ALIAS = "read"
WRITE_ALIAS = "write"

# The design's pool sizes (seed, "Step 1"): dashboards read, scans and batches write.
POOL_DEFAULTS: dict[str, dict[str, int]] = {
    READ_ALIAS: {"POOL_SIZE": 20, "MAX_OVERFLOW": 10, "TIMEOUT": 30, "RECYCLE": 3600},
    WRITE_ALIAS: {"POOL_SIZE": 50, "MAX_OVERFLOW": 20, "TIMEOUT": 10, "RECYCLE": 1800},
}

# PostgreSQL statement_timeout per alias family, in ms (0 = none). A dashboard read still running
# after 30 s is a runaway: it is cancelled (a bilingual 504 `query_timeout`) instead of holding a read
# connection forever. Writes have none by default: migrations and large scan chunks may run long.
STATEMENT_TIMEOUT_DEFAULTS_MS: dict[str, int] = {READ_ALIAS: 30_000, WRITE_ALIAS: 0}

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/verisyntra"


def env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """Read an integer variable, failing loudly on garbage rather than guessing."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """Read a number of seconds (fractions allowed), failing loudly on garbage."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def read_database_urls(environ: Mapping[str, str]) -> list[str]:
    """The servers reads may use: READ_DATABASE_URLS (comma-separated replicas), else READ_DATABASE_URL, else the primary."""
    urls = [url.strip() for url in environ.get("READ_DATABASE_URLS", "").split(",") if url.strip()]
    return urls or [environ.get("READ_DATABASE_URL") or environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL]


def read_alias_names(count: int) -> tuple[str, ...]:
    """`read` for the first read server, `read_1`, `read_2`, ... for the others (one pool each)."""
    return (READ_ALIAS, *(f"{READ_ALIAS}_{index}" for index in range(1, count)))


# Fixed at start-up like DATABASES itself: one alias, and one pool per process, per read server.
READ_ALIASES = read_alias_names(len(read_database_urls(os.environ)))
POOLED_ALIASES = (READ_ALIAS, WRITE_ALIAS, *READ_ALIASES[1:])


def pool_options(alias: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """POOL_OPTIONS for one alias: the design's defaults, each overridable by READ_POOL_* / WRITE_POOL_*.

    Every read alias (`read`, `read_1`, ...) is sized by the READ_POOL_* family.
    """
    alias = WRITE_ALIAS if alias == WRITE_ALIAS else READ_ALIAS
    prefix = f"{alias.upper()}_POOL_"
    defaults = POOL_DEFAULTS[alias]
    return {
        "POOL_SIZE": env_int(environ, prefix + "SIZE", defaults["POOL_SIZE"]),
        "MAX_OVERFLOW": env_int(environ, prefix + "MAX_OVERFLOW", defaults["MAX_OVERFLOW"]),
        "TIMEOUT": env_int(environ, prefix + "TIMEOUT", defaults["TIMEOUT"]),
        "RECYCLE": env_int(environ, prefix + "RECYCLE", defaults["RECYCLE"]),
        # A connection that died while idle (server restart, failover) is replaced, not handed out.
        "PRE_PING": True,
    }


def database_alias(url: str, alias: str, environ: Mapping[str, str], test_name: str | None = None) -> dict[str, Any]:
    """One pooled alias for `url`, tagged with its own application_name so pg_stat_activity can tell the pools apart."""
    config = dj_database_url.parse(url, engine=POOLED_ENGINE)
    options = config.setdefault("OPTIONS", {})
    options["application_name"] = f"verisyntra-{alias}"
    options.setdefault("connect_timeout", env_int(environ, "DATABASE_CONNECT_TIMEOUT", 5))
    family = WRITE_ALIAS if alias == WRITE_ALIAS else READ_ALIAS
    statement_timeout_ms = env_int(environ, f"{family.upper()}_STATEMENT_TIMEOUT_MS", STATEMENT_TIMEOUT_DEFAULTS_MS[family])
    if statement_timeout_ms:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    # Connections go back to the pool when the request ends; CONN_MAX_AGE=None would keep one
    # checked out per thread across requests and drain the pool (FIELD-NOTES).
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = False
    # Behind PgBouncer in transaction mode a named cursor (QuerySet.iterator()) would outlive the
    # transaction whose server connection it lives on (docs/scaling.md).
    config["DISABLE_SERVER_SIDE_CURSORS"] = environ.get("DISABLE_SERVER_SIDE_CURSORS", "").strip().lower() in {"1", "true", "yes", "on"}
    config["POOL_OPTIONS"] = pool_options(alias, environ)
    # Test databases depend on nothing (Django's default is to wait for the dummy `default`).
    config["TEST"] = {"DEPENDENCIES": [], **({"NAME": test_name} if test_name else {})}
    return config


def build_databases(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """DATABASES for the project: a dummy `default`, a pooled `write` (primary) and a pooled `read`.

    `default` is Django's dummy backend on purpose: a bare `transaction.atomic()` or
    `django.db.connection` then fails loudly instead of opening a transaction on a third
    connection the router never uses. `manage.py migrate` and friends default to `write`
    (see verisyntra/management/commands).
    """
    environ = os.environ if environ is None else environ
    write_url = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    test_name = environ.get("TEST_DATABASE_NAME") or None
    databases = {
        "default": {"ENGINE": "django.db.backends.dummy"},
        WRITE_ALIAS: database_alias(write_url, WRITE_ALIAS, environ, test_name=test_name),
    }
    read_urls = read_database_urls(environ)
    for alias, url in zip(read_alias_names(len(read_urls)), read_urls, strict=True):
        read = database_alias(url, alias, environ)
        # Under test, every read alias mirrors `write`'s test database: tests never touch a real
        # database, and read-after-write tests must use transactional test cases (FIELD-NOTES,
        # TEST MIRROR). The mirror copies only NAME, so a read alias on a streaming replica reads
        # the test database the replica received from the primary (tests/replica).
        read["TEST"] = {"MIRROR": WRITE_ALIAS, "DEPENDENCIES": []}
        databases[alias] = read
    return databases
