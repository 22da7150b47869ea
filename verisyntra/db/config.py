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
POOLED_ALIASES = (READ_ALIAS, WRITE_ALIAS)

# The design's pool sizes (seed, "Step 1"): dashboards read, scans and batches write.
POOL_DEFAULTS: dict[str, dict[str, int]] = {
    READ_ALIAS: {"POOL_SIZE": 20, "MAX_OVERFLOW": 10, "TIMEOUT": 30, "RECYCLE": 3600},
    WRITE_ALIAS: {"POOL_SIZE": 50, "MAX_OVERFLOW": 20, "TIMEOUT": 10, "RECYCLE": 1800},
}

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


def pool_options(alias: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """POOL_OPTIONS for one alias: the design's defaults, each overridable by READ_POOL_* / WRITE_POOL_*."""
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
    statement_timeout_ms = env_int(environ, f"{alias.upper()}_STATEMENT_TIMEOUT_MS", 0)
    if statement_timeout_ms:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    # Connections go back to the pool when the request ends; CONN_MAX_AGE=None would keep one
    # checked out per thread across requests and drain the pool (FIELD-NOTES).
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = False
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
    read_url = environ.get("READ_DATABASE_URL") or write_url
    test_name = environ.get("TEST_DATABASE_NAME") or None
    read = database_alias(read_url, READ_ALIAS, environ)
    # Under test, `read` mirrors `write`'s test database: tests never touch a real database,
    # and read-after-write tests must use transactional test cases (FIELD-NOTES, TEST MIRROR).
    read["TEST"] = {"MIRROR": WRITE_ALIAS, "DEPENDENCIES": []}
    return {
        "default": {"ENGINE": "django.db.backends.dummy"},
        WRITE_ALIAS: database_alias(write_url, WRITE_ALIAS, environ, test_name=test_name),
        READ_ALIAS: read,
    }
