"""System checks for the pools (`manage.py check`, and at server start-up).

- verisyntra.E001: a `POOL_OPTIONS` key that django-db-connection-pool would silently ignore.
- verisyntra.W001: the pools' total capacity, times the number of web and worker processes,
  exceeds what the PostgreSQL server accepts (`max_connections - superuser_reserved_connections`).
  Behind PgBouncer (verisyntra.db.pooler) the pools hold client connections: they are checked
  against PgBouncer's `max_client_conn`, and PgBouncer's own server connections (its pool size per
  database and user pair) against the PostgreSQL server's limit.
- verisyntra.W002: the server's limits could not be read (it is down or unreachable).
- verisyntra.W004: PgBouncer is in front but its limits are unknown (its admin console refused
  the user, and the PGBOUNCER_* variables are not set), so the client side is not checked.
- verisyntra.E002: the pools connect as a superuser, a role with BYPASSRLS or the tables' owner,
  so row-level security would not hold (a Warning with DEBUG on). The web (verisyntra.wsgi) and
  the Celery worker and beat (verisyntra.celery) refuse to start on it.
- verisyntra.W005: the role could not be checked (the server is down or unreachable).
- verisyntra.W003: with read replicas, PRIMARY_PIN_SECONDS is shorter than the staleness a replica may
  have while still serving reads (REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS).

The capacity check opens its own short-lived psycopg2 connection rather than a pooled one: a
check that created a pool before the test databases exist would point that pool at the real
database for the whole test run (conftest.py guards against it).
"""

from __future__ import annotations

from collections import defaultdict

import psycopg2
from django.conf import settings
from django.core.checks import Error, Warning, register

from verisyntra.db.config import POOL_KEYS, POOLED_ALIASES
from verisyntra.db.direct import direct_connection
from verisyntra.db.pooler import Pooler, pooler_in_front


@register("pools")
def pool_options_check(app_configs=None, **kwargs):
    errors = []
    for alias in POOLED_ALIASES:
        options = settings.DATABASES.get(alias, {}).get("POOL_OPTIONS", {})
        for key in options:
            if key not in POOL_KEYS:
                hint = f"Use one of {', '.join(sorted(POOL_KEYS))} (upper case)."
                if key.upper() in POOL_KEYS:
                    hint = f"Write it in upper case: {key.upper()!r}."
                errors.append(
                    Error(
                        f"DATABASES[{alias!r}]['POOL_OPTIONS'] has key {key!r}, which django-db-connection-pool ignores silently.",
                        hint=hint,
                        obj=f"DATABASES[{alias!r}]",
                        id="verisyntra.E001",
                    )
                )
    return errors


def process_count() -> int:
    """Processes that each hold their own pools: web (gunicorn) workers plus Celery worker processes."""
    return settings.WEB_PROCESSES + settings.CELERY_WORKER_CONCURRENCY


def server_key(alias: str) -> tuple[str, str]:
    params = settings.DATABASES[alias]
    return (params.get("HOST") or "localhost", str(params.get("PORT") or 5432))


def read_server_limits(alias: str) -> tuple[int, int]:
    """(max_connections, superuser_reserved_connections) of `alias`'s server, on a throwaway connection."""
    conn = direct_connection(alias, application_name="verisyntra-check")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int")
            return cursor.fetchone()
    finally:
        conn.close()


@register("pools")
def pool_capacity_check(app_configs=None, **kwargs):
    """Warn when the configured pools can open more connections than the server accepts."""
    aliases_by_server: dict[tuple[str, str], list[str]] = defaultdict(list)
    for alias in POOLED_ALIASES:
        aliases_by_server[server_key(alias)].append(alias)
    processes = process_count()
    messages = []
    for (host, port), aliases in aliases_by_server.items():
        capacity = sum(
            settings.DATABASES[a]["POOL_OPTIONS"].get("POOL_SIZE", 0) + settings.DATABASES[a]["POOL_OPTIONS"].get("MAX_OVERFLOW", 0)
            for a in aliases
        )
        pooler = pooler_in_front(aliases[0])
        if pooler is not None:
            messages += pooler_capacity_check(pooler, aliases, capacity, processes)
            continue
        try:
            max_connections, reserved = read_server_limits(aliases[0])
        except psycopg2.Error as exc:
            messages.append(
                Warning(
                    f"Could not read max_connections from {host}:{port} to check the pool capacity: {str(exc).strip()}",
                    hint="Start PostgreSQL or fix DATABASE_URL / READ_DATABASE_URL.",
                    id="verisyntra.W002",
                )
            )
            continue
        available = max_connections - reserved
        needed = capacity * processes
        if needed > available:
            messages.append(
                Warning(
                    f"Pools {'+'.join(aliases)} can open {capacity} connections per process x {processes} processes "
                    f"(WEB_CONCURRENCY={settings.WEB_CONCURRENCY} + WEB_WRITE_CONCURRENCY={settings.WEB_WRITE_CONCURRENCY}"
                    f" + CELERY_WORKER_CONCURRENCY={settings.CELERY_WORKER_CONCURRENCY}) "
                    f"= {needed}, but {host}:{port} accepts {available} (max_connections {max_connections} - {reserved} reserved).",
                    hint="Lower READ_/WRITE_POOL_SIZE and *_MAX_OVERFLOW, run fewer processes, raise max_connections, "
                    "or put PgBouncer in front (docs/scaling.md). `manage.py pool_report` shows the live figures.",
                    id="verisyntra.W001",
                )
            )
    return messages


def pooler_capacity_check(pooler: Pooler, aliases: list[str], capacity: int, processes: int) -> list[Warning]:
    """W001 behind PgBouncer: client connections against max_client_conn, server connections against max_connections."""
    where = f"PgBouncer at {pooler.host}:{pooler.port}"
    source = "its admin console" if pooler.source == "admin console" else "the PGBOUNCER_* variables"
    messages = []
    if not pooler.limits_known:
        messages.append(
            Warning(
                f"{where} is in front of {'+'.join(aliases)}, but its limits are unknown ({pooler.console_error or 'not set'}).",
                hint="Add the database user to PgBouncer's stats_users, or set PGBOUNCER_MAX_CLIENT_CONN and "
                "PGBOUNCER_DEFAULT_POOL_SIZE (docs/scaling.md).",
                id="verisyntra.W004",
            )
        )
    clients = capacity * processes
    if pooler.max_client_conn is not None and clients > pooler.max_client_conn:
        messages.append(
            Warning(
                f"Pools {'+'.join(aliases)} can open {capacity} client connections per process x {processes} processes = {clients}, "
                f"but {where} accepts {pooler.max_client_conn} clients (max_client_conn, from {source}).",
                hint="Raise PgBouncer's max_client_conn (client connections are cheap), or lower READ_/WRITE_POOL_SIZE and "
                "*_MAX_OVERFLOW. `manage.py pool_report` shows the live figures.",
                id="verisyntra.W001",
            )
        )
    per_pool = pooler.server_connections_per_pool()
    if per_pool is None:
        return messages
    # One PgBouncer pool per (database, user) pair the aliases use; each may open per_pool server connections.
    pairs = {(settings.DATABASES[a].get("NAME"), settings.DATABASES[a].get("USER")) for a in aliases}
    servers = per_pool * len(pairs)
    try:
        max_connections, reserved = read_server_limits(aliases[0])
    except psycopg2.Error as exc:
        messages.append(
            Warning(
                f"Could not read max_connections through {where} to check its server connections: {str(exc).strip()}",
                hint="Start PostgreSQL or check PgBouncer's [databases] section.",
                id="verisyntra.W002",
            )
        )
        return messages
    available = max_connections - reserved
    if servers > available:
        messages.append(
            Warning(
                f"{where} may open {per_pool} server connections per database and user x {len(pairs)} = {servers} "
                f"(default_pool_size + reserve_pool_size, from {source}), but the PostgreSQL behind it accepts {available} "
                f"(max_connections {max_connections} - {reserved} reserved).",
                hint="Lower PgBouncer's default_pool_size (about 2 x the server's cores is enough) or raise max_connections.",
                id="verisyntra.W001",
            )
        )
    return messages


@register("replicas")
def primary_pin_check(app_configs=None, **kwargs):
    """Warn when the read-your-writes pin ends before a replica still allowed to serve reads must have caught up."""
    from verisyntra.db.replicas import probed_aliases

    needed = settings.REPLICA_MAX_LAG_SECONDS + settings.REPLICA_CHECK_SECONDS
    if not probed_aliases() or needed <= settings.PRIMARY_PIN_SECONDS:
        return []
    return [
        Warning(
            f"PRIMARY_PIN_SECONDS={settings.PRIMARY_PIN_SECONDS:g} is shorter than REPLICA_MAX_LAG_SECONDS + "
            f"REPLICA_CHECK_SECONDS = {needed:g}: a client may not see its own write on a replica that still serves reads.",
            hint="Raise PRIMARY_PIN_SECONDS, or lower REPLICA_MAX_LAG_SECONDS (docs/scaling.md).",
            id="verisyntra.W003",
        )
    ]


@register("security")
def runtime_role_check(app_configs=None, **kwargs):
    """E002: the pools' role must be subject to row-level security (see verisyntra.db.security)."""
    from verisyntra.db.security import runtime_role_problems

    seen: dict[tuple[str, str, str], str] = {}
    for alias in POOLED_ALIASES:
        params = settings.DATABASES[alias]
        seen.setdefault((*server_key(alias), params.get("USER") or ""), alias)
    messages = []
    level = Warning if settings.DEBUG else Error
    for alias in seen.values():
        try:
            problems = runtime_role_problems(alias)
        except psycopg2.Error as exc:
            # Down is not unsafe: the service starts and answers 503 until the server is back.
            messages.append(Warning(f"Could not check the database role of alias {alias}: {str(exc).strip()}", id="verisyntra.W005"))
            continue
        if problems:
            messages.append(
                level(
                    f"Alias {alias} connects as a role row-level security does not hold: {'; '.join(problems)}.",
                    hint="Point DATABASE_URL / READ_DATABASE_URL(S) at the runtime role and MIGRATION_DATABASE_URL at the "
                    "owner (docs/configuration.md, Database roles); scripts/dev creates both.",
                    id="verisyntra.E002",
                )
            )
    return messages


def refuse_unsafe_runtime_role() -> None:
    """Raise SystemCheckError when E002 is an error: the web and the Celery processes call it as they start."""
    from django.core.management.base import SystemCheckError

    errors = [message for message in runtime_role_check() if message.is_serious()]
    if errors:
        raise SystemCheckError("\n".join(f"{message.id}: {message.msg} HINT: {message.hint}" for message in errors))
