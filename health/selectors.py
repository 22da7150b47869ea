"""Reads behind the health endpoints and `pool_report`: pools, the server's view, database checks.

Pool figures come from `verisyntra.db.pools.pool_statistics()` (the one reader) and are per process.
The server's view (`pg_stat_activity`, `max_connections`) is read on a short-lived connection of its
own, tagged `verisyntra-health`, not through a pool: it must answer while the pools are exhausted
(a pooled checkout would wait for the very connections it reports on), and it must not create a
pool as a side effect of looking at one. `database_health()` on the contrary goes through each
alias's pool on purpose: it checks the path the application uses.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg2
from django.conf import settings
from django.db import DatabaseError, connections

from health import status as st
from verisyntra.checks import process_count
from verisyntra.db.config import POOLED_ALIASES, READ_ALIASES, SCAN_LIVENESS_APPLICATION_NAME
from verisyntra.db.direct import direct_connection
from verisyntra.db.pooler import Pooler, pooler_in_front
from verisyntra.db.pools import PoolExhausted, PoolStatistics, pool_statistics
from verisyntra.db.replicas import replica_report, replica_states
from verisyntra.db.timeouts import SETTINGS_PREFIX_PATTERN
from verisyntra.messages import render

HEALTH_APPLICATION_NAME = "verisyntra-health"
SERVER_CONNECT_TIMEOUT = 3


def application_name(alias: str) -> str:
    return settings.DATABASES[alias].get("OPTIONS", {}).get("application_name", f"verisyntra-{alias}")


def server_address(alias: str) -> tuple[str, int]:
    params = settings.DATABASES[alias]
    return (params.get("HOST") or "localhost", int(params.get("PORT") or 5432))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


@contextmanager
def server_connection(alias: str) -> Iterator[psycopg2.extensions.connection]:
    """A short-lived, unpooled, autocommit connection to `alias`'s server and database."""
    conn = direct_connection(alias, application_name=HEALTH_APPLICATION_NAME, connect_timeout=SERVER_CONNECT_TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


@dataclass
class ServerView:
    """One PostgreSQL server as `pg_stat_activity` shows it, for the aliases that use it."""

    host: str
    port: int
    aliases: list[str]
    reachable: bool = True
    error: str | None = None
    max_connections: int = 0
    superuser_reserved_connections: int = 0
    client_connections: int = 0
    # application_name -> state -> count, for this database
    by_application: dict[str, dict[str, int]] = field(default_factory=dict)
    leak_suspects: list[dict] = field(default_factory=list)
    # The idle-in-transaction age `leak_suspects` were read with (None: not looked for).
    leak_threshold_seconds: float | None = None
    # PgBouncer between the pools and this server (verisyntra.db.pooler): the pools' connections are
    # then its clients, and the server sees only PgBouncer's server connections.
    pooler: Pooler | None = None

    @property
    def available_connections(self) -> int:
        """Connections ordinary roles may open: max_connections minus the superuser reserve."""
        return max(self.max_connections - self.superuser_reserved_connections, 0)

    @property
    def usage_percent(self) -> float:
        return round(100.0 * self.client_connections / self.available_connections, 1) if self.available_connections else 0.0

    def pool_connections(self, alias: str) -> dict[str, int]:
        by_state = self.by_application.get(application_name(alias), {})
        return {"total": sum(by_state.values()), **dict(sorted(by_state.items()))}

    def configured_need(self) -> int:
        """Server connections the configured pools may cause on this server, all web and worker processes at full load.

        Behind PgBouncer, at most its server connections per (database, user) pair for each pair the aliases use.
        """
        clients = self.configured_client_need()
        per_pool = self.pooler.server_connections_per_pool() if self.pooler is not None else None
        if per_pool is None:
            return clients
        pairs = {(settings.DATABASES[a].get("NAME"), settings.DATABASES[a].get("USER")) for a in self.aliases}
        return min(clients, per_pool * len(pairs))

    def configured_client_need(self) -> int:
        """Connections the configured pools may open (to PgBouncer when one is in front), all processes at full load."""
        return sum(pool_statistics(alias).capacity for alias in self.aliases) * process_count()

    def as_dict(self) -> dict:
        if not self.reachable:
            return {"host": self.host, "port": self.port, "reachable": False, "error": self.error}
        return {
            "host": self.host,
            "port": self.port,
            "reachable": True,
            "max_connections": self.max_connections,
            "superuser_reserved_connections": self.superuser_reserved_connections,
            "available_connections": self.available_connections,
            "client_connections": self.client_connections,
            "usage_percent": self.usage_percent,
            # Behind PgBouncer: max_connections and client_connections above are the server's (per server
            # connection); the pools' connections are PgBouncer's clients, counted against its max_client_conn.
            "pooler": None if self.pooler is None else {**self.pooler.as_dict(), "configured_client_need": self.configured_client_need()},
        }


_LIMITS_SQL = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())
"""
_BY_APPLICATION_SQL = """
SELECT coalesce(application_name, ''), coalesce(state, 'unknown'), count(*)
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()
 GROUP BY 1, 2
"""
# Sessions sitting inside an open transaction without running anything: the classic leaked
# connection (a code path that began a transaction and never ended it). They hold locks and keep
# VACUUM from cleaning up. `query` is the last statement they ran, cut short (it can hold values),
# without the timeout and tenant settings every statement of the service begins with.
_LEAK_SUSPECTS_SQL = """
SELECT pid, coalesce(application_name, ''), state,
       extract(epoch FROM now() - state_change)::float8 AS idle_seconds,
       extract(epoch FROM now() - xact_start)::float8 AS transaction_seconds,
       query_start, left(regexp_replace(query, %s, ''), %s),
       (SELECT count(*) FROM pg_stat_activity waiting WHERE a.pid = ANY (pg_blocking_pids(waiting.pid))) AS blocking
  FROM pg_stat_activity a
 WHERE datname = current_database()
   AND state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND now() - state_change >= make_interval(secs => %s)
   AND coalesce(application_name, '') <> %s
 ORDER BY state_change
"""
QUERY_PREVIEW_CHARS = 120


def server_views(leak_threshold_seconds: float | None = None) -> dict[tuple[str, int], ServerView]:
    """Each distinct server behind the pooled aliases (one when `read` is the primary itself)."""
    aliases_by_server: dict[tuple[str, int], list[str]] = defaultdict(list)
    for alias in POOLED_ALIASES:
        aliases_by_server[server_address(alias)].append(alias)
    views = {}
    for (host, port), aliases in aliases_by_server.items():
        view = ServerView(host=host, port=port, aliases=aliases, leak_threshold_seconds=leak_threshold_seconds)
        try:
            with server_connection(aliases[0]) as conn, conn.cursor() as cursor:
                cursor.execute(_LIMITS_SQL)
                view.max_connections, view.superuser_reserved_connections, view.client_connections = cursor.fetchone()
                cursor.execute(_BY_APPLICATION_SQL)
                for app, state, count in cursor.fetchall():
                    view.by_application.setdefault(app, {})[state] = count
                if leak_threshold_seconds is not None:
                    cursor.execute(
                        _LEAK_SUSPECTS_SQL,
                        [SETTINGS_PREFIX_PATTERN.pattern, QUERY_PREVIEW_CHARS, leak_threshold_seconds, SCAN_LIVENESS_APPLICATION_NAME],
                    )
                    view.leak_suspects = [
                        {
                            "pid": pid,
                            "application_name": app,
                            "state": state,
                            "idle_in_transaction_seconds": round(idle, 1),
                            "transaction_seconds": round(xact, 1) if xact is not None else None,
                            "last_query_start": query_start.isoformat() if query_start else None,
                            "last_query": query,
                            "blocking_sessions": blocking,
                        }
                        for pid, app, state, idle, xact, query_start, query, blocking in cursor.fetchall()
                    ]
        except psycopg2.Error as exc:
            view.reachable = False
            view.error = first_line(exc)
        if view.reachable:
            view.pooler = pooler_in_front(aliases[0])
        views[(host, port)] = view
    return views


# --- The verdict every pool surface shares -----------------------------------------------------


def finding(status: str, code: str, **params: object) -> dict:
    """One finding: its severity, its catalogue code and its sentence in both languages."""
    text = render(code, **params)
    return {"status": status, "code": code, "en": text.en, "vi": text.vi}


def replica_aliases(replicas: dict) -> set[str]:
    """The read aliases served by a replica (from `replica_report()`): reads are routed around them when they fail."""
    return {state["alias"] for state in replicas["read_aliases"] if state["status"] != "primary"}


def server_findings(views: dict[tuple[str, int], ServerView], replicas: dict) -> list[dict]:
    """The server-wide findings `/health/connection-pools`, `pool_report` and the admin's pool page all judge by.

    One set of rules, so no surface says healthy while another warns: an unreachable server
    (critical, or a warning when only replicas are behind it, since reads are routed around them),
    the server's connections nearly used up, pools that could open more connections than the server
    allows at full load, connections idle in transaction (when `views` were read with a leak
    threshold), and replicas down, lagging or all unfit. What one process sees of its own pools
    (utilization, a recent exhaustion) is added by the endpoint that runs in that process.
    """
    findings: list[dict] = []
    on_replica = replica_aliases(replicas)
    leak_count, leak_threshold = 0, None
    for view in views.values():
        where = f"{view.host}:{view.port}"
        if not view.reachable:
            severity = st.WARNING if set(view.aliases) <= on_replica else st.CRITICAL
            findings.append(finding(severity, "finding.server_unreachable", where=where, error=view.error))
            continue
        usage = st.server_usage_status(view.usage_percent)
        if usage != st.HEALTHY:
            findings.append(
                finding(
                    usage,
                    "finding.server_usage",
                    where=where,
                    used=view.client_connections,
                    available=view.available_connections,
                    usage=view.usage_percent,
                )
            )
        need = view.configured_need()
        if need > view.available_connections:
            findings.append(
                finding(
                    st.WARNING,
                    "finding.headroom_negative",
                    processes=process_count(),
                    need=need,
                    where=where,
                    missing=need - view.available_connections,
                    available=view.available_connections,
                    max_connections=view.max_connections,
                    reserved=view.superuser_reserved_connections,
                )
            )
        leak_count += len(view.leak_suspects)
        leak_threshold = view.leak_threshold_seconds
    if leak_count:
        findings.append(finding(st.WARNING, "finding.leak_suspects", count=leak_count, threshold=leak_threshold))
    limit = replicas["max_lag_seconds"]
    for state in replicas["read_aliases"]:
        where = f"{state['alias']} ({state['host']}:{state['port']})"
        if state["status"] == "down":
            findings.append(finding(st.WARNING, "finding.replica_down", where=where, error=state["error"]))
        elif state["status"] == "lagging":
            findings.append(finding(st.WARNING, "finding.replica_lagging", where=where, lag=state["lag_seconds"], limit=limit))
    if replicas["fallback_to_primary"]:
        findings.append(finding(st.WARNING, "finding.reads_on_primary"))
    return findings


# --- /health/connection-pools ------------------------------------------------------------------


def _pool_assessment(stats: PoolStatistics, server: ServerView, *, on_replica: bool) -> tuple[str, str, str]:
    """(status, recommendation, recommendation_vi) for one pool of this process and its server."""
    name = stats.alias.upper()
    env = f"{stats.alias.upper()}_POOL_SIZE"

    def assessment(status: str, code: str, **params) -> tuple[str, str, str]:
        text = render(code, **params)
        return status, text.en, text.vi

    if not server.reachable:
        # As in server_findings(): reads are routed around a replica that is down.
        severity = st.WARNING if on_replica else st.CRITICAL
        return assessment(severity, "pool.server_unreachable", host=server.host, port=server.port)
    since = st.seconds_since_exhaustion(stats.alias)
    if since is not None:
        return assessment(st.CRITICAL, "pool.exhausted_recently", name=name, seconds=round(since), env=env)
    server_status = st.server_usage_status(server.usage_percent)
    pool_status = st.utilization_status(stats.utilization_percent)
    if server_status != st.HEALTHY and server_status == st.worst(pool_status, server_status):
        return assessment(server_status, "pool.server_busy", used=server.client_connections, available=server.available_connections)
    if pool_status != st.HEALTHY:
        room = server.available_connections - server.configured_need()
        percent = round(stats.utilization_percent)
        if room > 0:
            return assessment(pool_status, "pool.busy_with_room", name=name, percent=percent, env=env, room=room)
        return assessment(pool_status, "pool.busy_no_room", name=name, percent=percent)
    return assessment(st.HEALTHY, "pool.normal", name=name)


# The server's view costs a new PostgreSQL session: 16 clients polling /health/connection-pools
# made 813 sessions in 5 s. Each process reuses its last reading for this long, and concurrent
# callers wait for the one reading in progress, so a flood of health calls costs one session per
# process per period.
SERVER_VIEW_CACHE_SECONDS = 2.0
_server_view_lock = threading.Lock()
_server_view_cache: dict[tuple, tuple[float, dict[tuple[str, int], ServerView]]] = {}


def server_views_cached(leak_threshold_seconds: float | None = None) -> dict[tuple[str, int], ServerView]:
    """`server_views()`, read at most once per SERVER_VIEW_CACHE_SECONDS in this process."""
    # Keyed by the servers too: a reading of other servers (settings changed) is never reused.
    key = (leak_threshold_seconds, tuple(server_address(alias) for alias in POOLED_ALIASES))
    with _server_view_lock:
        cached = _server_view_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < SERVER_VIEW_CACHE_SECONDS:
            return cached[1]
        views = server_views(leak_threshold_seconds=leak_threshold_seconds)
        _server_view_cache.clear()
        _server_view_cache[key] = (time.monotonic(), views)
        return views


def connection_pools_health() -> dict:
    """The body of GET /health/connection-pools.

    Pool figures are read first, so an answer given before any connection reports the configured
    pools with nothing checked out, rather than the connection this check itself made.
    """
    statistics = {alias: pool_statistics(alias) for alias in POOLED_ALIASES}
    servers = server_views_cached(leak_threshold_seconds=float(settings.POOL_LEAK_SUSPECT_SECONDS))
    replicas = replica_report()
    on_replica = replica_aliases(replicas)
    body: dict = {"pid": os.getpid(), "scope": "process"}
    worst_pool: tuple[str, str, str] | None = None
    for alias, stats in statistics.items():
        server = servers[server_address(alias)]
        status, recommendation, recommendation_vi = _pool_assessment(stats, server, on_replica=alias in on_replica)
        body[f"{alias}_pool"] = {
            "pool_size": stats.pool_size,
            "max_overflow": stats.max_overflow,
            "checked_in": stats.checked_in,
            "checked_out": stats.checked_out,
            "overflow": stats.overflow,
            "timeout": stats.timeout,
            "recycle": stats.recycle,
            "utilization_percent": stats.utilization_percent,
            "created": stats.exists,
            "status": status,
            "status_vi": st.STATUS_VI[status],
            "recommendation": recommendation,
            "recommendation_vi": recommendation_vi,
            "server_connections": server.pool_connections(alias) if server.reachable else None,
            "server": server.as_dict(),
        }
        if status != st.HEALTHY and (worst_pool is None or st.worst(worst_pool[0], status) != worst_pool[0]):
            worst_pool = (status, recommendation, recommendation_vi)
    all_normal = render("pools.normal")
    status, recommendation, recommendation_vi = worst_pool or (st.HEALTHY, all_normal.en, all_normal.vi)
    # The same server-wide rules as pool_report; a finding worse than every pool gives the advice.
    findings = server_findings(servers, replicas)
    for item in findings:
        if st.worst(status, item["status"]) != status:
            status, recommendation, recommendation_vi = item["status"], item["en"], item["vi"]
    body.update(
        status=status,
        status_vi=st.STATUS_VI[status],
        recommendation=recommendation,
        recommendation_vi=recommendation_vi,
        findings=findings,
    )
    return body


# --- /health/database --------------------------------------------------------------------------


def replication_status(alias: str, cursor) -> dict:
    """Whether `alias`'s server is a standby and, if so, how far its replay is behind.

    For a replica the router watches, the lag is the replica monitor's (`verisyntra.db.replicas`,
    measured against the primary's WAL position): the figure that decides whether it serves reads.
    Otherwise it is 0 when everything received has been replayed (an idle primary writes nothing,
    so "now - last replayed commit" alone would grow forever), else the age of the last replayed
    commit; null before the standby replayed anything.
    """
    cursor.execute(
        """
        SELECT pg_is_in_recovery(),
               CASE WHEN NOT pg_is_in_recovery() THEN NULL
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END
        """
    )
    in_recovery, lag = cursor.fetchone()
    if not in_recovery:
        return {"in_recovery": False}
    monitored = {state.alias: state for state in replica_states() if state.is_replica}
    if alias in monitored and monitored[alias].lag_seconds is not None:
        lag = monitored[alias].lag_seconds
    return {"in_recovery": True, "replication_lag_seconds": None if lag is None else round(max(lag, 0.0), 3)}


def _unhealthy(code: str, **detail: object) -> dict:
    """A failed alias check, worded as the API words the same failure (one sentence per error code)."""
    text = render(code)
    return {"status": st.UNHEALTHY, "status_vi": st.STATUS_VI[st.UNHEALTHY], "code": code, "error": text.en, "error_vi": text.vi, **detail}


def check_alias(alias: str) -> dict:
    """`SELECT 1` through `alias`'s pool, with the latency of checkout plus query."""
    stats = pool_statistics(alias)
    if stats.exists and stats.checked_out >= stats.capacity:
        # Waiting up to the pool's timeout would hang the probe; a full pool is the answer.
        return _unhealthy("pool_exhausted", checked_out=stats.checked_out, capacity=stats.capacity)
    started = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            result = {"status": st.HEALTHY, "status_vi": st.STATUS_VI[st.HEALTHY], "latency_ms": latency_ms}
            if alias in READ_ALIASES:
                result.update(replication_status(alias, cursor))
            return result
    except PoolExhausted as exc:
        return _unhealthy("pool_exhausted", detail=str(exc))
    except DatabaseError as exc:
        return _unhealthy("database_unavailable", detail=first_line(exc))
    finally:
        # Back to the pool now: a health probe must not keep a connection for the rest of the request.
        connections[alias].close()


def database_health() -> tuple[bool, dict[str, dict]]:
    """(every alias the service depends on is healthy, per-alias results) for GET /health/database.

    A read alias on a replica is not depended on: when it fails, the router sends its reads to
    another replica or to the primary (`read_replicas()` says which), so the service still answers.
    Failing the endpoint for it would make a load balancer drop every web node at once.
    """
    results = {alias: check_alias(alias) for alias in POOLED_ALIASES}
    replicas = {state.alias for state in replica_states() if state.is_replica}
    return all(r["status"] == "healthy" for alias, r in results.items() if alias not in replicas), results


def read_replicas() -> dict:
    """Where reads go now: each read alias's replica state, lag, and whether reads fell back to the primary."""
    return replica_report()
