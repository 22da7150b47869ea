"""A connection pooler (PgBouncer) between the pools and PostgreSQL: is there one, and what are its limits.

Behind PgBouncer the figures split in two. Every process's pools hold *client* connections to
PgBouncer, bounded by its `max_client_conn`; PgBouncer holds the *server* connections to
PostgreSQL, at most `default_pool_size + reserve_pool_size` per (database, user) pair (and
`max_db_connections` per database when set), and those are what `max_connections` bounds. So the
capacity check (`verisyntra.W001`) and `pool_report` need the pooler's limits and its own count of
server connections: PostgreSQL's `pg_stat_activity` cannot tell the pools apart there, since an
idle server connection keeps the `application_name` of the last client that used it.

The pooler is found on its admin console, the virtual database `pgbouncer` on the same address,
with the alias's own credentials: `SHOW CONFIG` and `SHOW POOLS` when the user may read them
(PgBouncer's `stats_users`), else PgBouncer's refusal ("not allowed") still says it is there, and
the limits come from PGBOUNCER_MAX_CLIENT_CONN / PGBOUNCER_DEFAULT_POOL_SIZE /
PGBOUNCER_RESERVE_POOL_SIZE. DATABASE_POOLER (`auto`, `pgbouncer`, `none`) overrides the detection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg2
import psycopg2.extensions
from django.conf import settings

from verisyntra.env import env_int, env_str

ADMIN_DATABASE = "pgbouncer"
ADMIN_CONNECT_TIMEOUT = 2
POOLER_MODES = ("auto", "pgbouncer", "none")
# PgBouncer's answer to a user outside admin_users and stats_users on its console.
_NOT_ALLOWED = "not allowed"


@dataclass(frozen=True)
class ServerPool:
    """One PgBouncer pool (a database and user pair): its clients and the server connections it holds."""

    database: str
    user: str
    clients_active: int
    clients_waiting: int
    servers_active: int
    servers_idle: int
    servers_used: int
    servers_other: int  # being tested, logging in, cancelling
    max_wait_seconds: float

    @property
    def servers_total(self) -> int:
        return self.servers_active + self.servers_idle + self.servers_used + self.servers_other


@dataclass(frozen=True)
class Pooler:
    """A pooler in front of one address, with its limits and where they were read (`admin console` or `environment`)."""

    kind: str
    host: str
    port: int
    source: str
    version: str | None = None
    pool_mode: str | None = None
    max_client_conn: int | None = None
    default_pool_size: int | None = None
    reserve_pool_size: int | None = None
    max_db_connections: int | None = None
    pools: tuple[ServerPool, ...] = field(default=())
    console_error: str | None = None

    @property
    def limits_known(self) -> bool:
        return self.max_client_conn is not None and self.default_pool_size is not None

    def server_connections_per_pool(self) -> int | None:
        """The most server connections PgBouncer opens for one (database, user) pair."""
        if self.default_pool_size is None:
            return None
        per_pool = self.default_pool_size + (self.reserve_pool_size or 0)
        return min(per_pool, self.max_db_connections) if self.max_db_connections else per_pool

    def pool_for(self, database: str, user: str) -> ServerPool | None:
        return next((pool for pool in self.pools if pool.database == database and pool.user == user), None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pools"] = [{**asdict(pool), "servers_total": pool.servers_total} for pool in self.pools]
        data["server_connections_per_pool"] = self.server_connections_per_pool()
        return data


def pooler_mode(environ: Mapping[str, str] | None = None) -> str:
    """DATABASE_POOLER: `auto` (default: look for a PgBouncer console), `pgbouncer` or `none`."""
    mode = env_str("DATABASE_POOLER", "auto", environ=os.environ if environ is None else environ).lower()
    return mode if mode in POOLER_MODES else "auto"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1].strip() if text else exc.__class__.__name__


def _show(cursor: psycopg2.extensions.cursor, command: str) -> list[dict[str, Any]]:
    cursor.execute(command)
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _from_environment(host: str, port: int, console_error: str | None, environ: Mapping[str, str]) -> Pooler:
    # 0 (unset) means unknown, except for the reserve, whose PgBouncer default is 0.
    return Pooler(
        kind="pgbouncer",
        host=host,
        port=port,
        source="environment",
        max_client_conn=env_int("PGBOUNCER_MAX_CLIENT_CONN", 0, environ=environ) or None,
        default_pool_size=env_int("PGBOUNCER_DEFAULT_POOL_SIZE", 0, environ=environ) or None,
        reserve_pool_size=env_int("PGBOUNCER_RESERVE_POOL_SIZE", 0, environ=environ),
        max_db_connections=env_int("PGBOUNCER_MAX_DB_CONNECTIONS", 0, environ=environ) or None,
        console_error=console_error,
    )


def _from_console(host: str, port: int, conn: psycopg2.extensions.connection) -> Pooler | None:
    with conn.cursor() as cursor:
        try:
            version = str(_show(cursor, "SHOW VERSION")[0].get("version", ""))
        except psycopg2.Error:
            return None  # a real database that happens to be called "pgbouncer"
        if "pgbouncer" not in version.lower():
            return None
        config = {row["key"]: row["value"] for row in _show(cursor, "SHOW CONFIG")}
        pools = tuple(
            ServerPool(
                database=row["database"],
                user=row["user"],
                clients_active=int(row["cl_active"]),
                clients_waiting=int(row["cl_waiting"]),
                servers_active=int(row["sv_active"]),
                servers_idle=int(row["sv_idle"]),
                servers_used=int(row["sv_used"]),
                servers_other=int(row["sv_tested"]) + int(row["sv_login"]),
                max_wait_seconds=int(row["maxwait"]) + int(row.get("maxwait_us") or 0) / 1_000_000,
            )
            for row in _show(cursor, "SHOW POOLS")
            if row["database"] != ADMIN_DATABASE
        )
    return Pooler(
        kind="pgbouncer",
        host=host,
        port=port,
        source="admin console",
        version=version,
        pool_mode=config.get("pool_mode"),
        max_client_conn=_int_or_none(config.get("max_client_conn")),
        default_pool_size=_int_or_none(config.get("default_pool_size")),
        reserve_pool_size=_int_or_none(config.get("reserve_pool_size")),
        max_db_connections=_int_or_none(config.get("max_db_connections")) or None,
        pools=pools,
    )


# Addresses where PostgreSQL itself answered: an address does not change servers while a process
# runs, and asking again would log a FATAL line on the server at every health poll.
_postgresql_itself: set[tuple[str, int]] = set()


def forget_poolers() -> None:
    """Ask every address again on the next call (tests that start or stop a pooler)."""
    _postgresql_itself.clear()


def pooler_in_front(alias: str, environ: Mapping[str, str] | None = None) -> Pooler | None:
    """The pooler between `alias` and PostgreSQL, or None when the alias reaches PostgreSQL itself.

    Opens one short-lived connection to the address's admin console (never a pooled one); an
    address where PostgreSQL itself answers refuses it at once ("database does not exist"), and
    is not asked again by this process.
    """
    environ = os.environ if environ is None else environ
    mode = pooler_mode(environ)
    if mode == "none":
        return None
    params = settings.DATABASES[alias]
    host, port = params.get("HOST") or "localhost", int(params.get("PORT") or 5432)
    if mode == "auto" and (host, port) in _postgresql_itself:
        return None
    try:
        conn = psycopg2.connect(
            host=params.get("HOST") or None,
            port=params.get("PORT") or None,
            user=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            dbname=ADMIN_DATABASE,
            connect_timeout=ADMIN_CONNECT_TIMEOUT,
            application_name="verisyntra-pooler-check",
        )
    except psycopg2.Error as exc:
        if mode == "pgbouncer" or _NOT_ALLOWED in str(exc):
            return _from_environment(host, port, _first_line(exc), environ)
        if f'database "{ADMIN_DATABASE}" does not exist' in str(exc):
            _postgresql_itself.add((host, port))
        return None
    try:
        conn.autocommit = True  # the console accepts no transactions
        found = _from_console(host, port, conn)
    except psycopg2.Error as exc:
        found = None if mode == "auto" else _from_environment(host, port, _first_line(exc), environ)
    finally:
        conn.close()
    if found is None and mode == "pgbouncer":
        return _from_environment(host, port, "no PgBouncer console at this address", environ)
    if found is None:
        _postgresql_itself.add((host, port))
    return found
