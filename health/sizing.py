"""Pool sizing: the original sizing tables applied to the configured figures, next to the core-count rule.

The original sizing tables size pools by workload: 20 read connections for up
to 50 dashboard users, 50 write connections for 10 concurrent scans of 5 connections each. HikariCP's
"About Pool Sizing" and the PostgreSQL wiki size them by the server instead: a server does useful
work on about `2 x cores + effective spindles` connections at once; more connections than that do
not run faster, they wait inside PostgreSQL (for CPU, locks and I/O), where every query waits with
them, dashboards included.

Two facts of this deployment bound what a pool can ever use. Django gives each thread one
connection per alias, so a gunicorn process uses at most WEB_THREADS connections of each pool, and
a Celery prefork child (one task at a time) at most one. Pool capacity above that is never used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings

from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pooler import pooler_in_front
from verisyntra.db.pools import pool_statistics
from verisyntra.db.sizing import advice_text, measured_advice, recommended_pools
from verisyntra.messages import Bilingual, render

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
# "Far above" the core-count rule: more than this many times the connections the server can run at once.
FAR_ABOVE_FACTOR = 2

# The original sizing tables: (largest pool size in the row, catalogue code of the workload it serves).
READ_TABLE = [
    (20, "sizing.read_workload.up_to_50"),
    (30, "sizing.read_workload.50_to_200"),
    (50, "sizing.read_workload.200_to_500"),
]
READ_BEYOND = "sizing.read_workload.beyond"
WRITE_TABLE = [
    (50, "sizing.write_workload.up_to_10"),
    (100, "sizing.write_workload.10_to_20"),
    (200, "sizing.write_workload.20_to_50"),
]
WRITE_BEYOND = "sizing.write_workload.beyond"


def design_workload(pool_size: int, table: list[tuple[int, str]], beyond: str) -> Bilingual:
    """The workload the sizing table meant a pool of `pool_size` for, in both languages."""
    for largest, code in table:
        if pool_size <= largest:
            return render(code)
    return render(beyond)


def server_cores(host: str) -> tuple[int | None, str]:
    """(cores, where the number came from): the setting, else this machine's when the server is local."""
    if settings.DATABASE_SERVER_CORES > 0:
        return settings.DATABASE_SERVER_CORES, "DATABASE_SERVER_CORES"
    if host in LOCAL_HOSTS or host.startswith("127.") or host.startswith("/"):
        return len(os.sched_getaffinity(0)), "detected (local server)"
    return None, "unknown: set DATABASE_SERVER_CORES"


@dataclass(frozen=True)
class Sizing:
    cores: int | None
    cores_source: str
    spindles: int
    rule_connections: int | None
    read_per_process: int
    write_per_process: int
    write_usable_per_web_process: int
    write_usable_per_worker_process: int
    write_usable_total: int
    write_configured_total: int
    read_configured_total: int
    write_far_above: bool
    advice: list[tuple[str, str]]
    # Behind PgBouncer the figures above are client connections to it; the server sees at most this many
    # write server connections (PgBouncer's pool for the write alias's database and user). None: no pooler.
    write_server_connections_at_most: int | None = None

    def as_dict(self) -> dict:
        return {
            "cores": self.cores,
            "cores_source": self.cores_source,
            "spindles": self.spindles,
            "core_rule_connections": self.rule_connections,
            "read_capacity_per_process": self.read_per_process,
            "write_capacity_per_process": self.write_per_process,
            "write_usable_per_web_process": self.write_usable_per_web_process,
            "write_usable_per_worker_process": self.write_usable_per_worker_process,
            "write_usable_total": self.write_usable_total,
            "write_configured_total": self.write_configured_total,
            "read_configured_total": self.read_configured_total,
            "write_far_above_core_rule": self.write_far_above,
            "advice": [{"en": en, "vi": vi} for en, vi in self.advice],
            "behind_pooler": self.write_server_connections_at_most is not None,
            # Which figures count connections to PgBouncer (per client) and which PostgreSQL's own (per server).
            "counted_per": {
                "client": [
                    "read_capacity_per_process",
                    "write_capacity_per_process",
                    "write_usable_per_web_process",
                    "write_usable_per_worker_process",
                    "write_usable_total",
                    "write_configured_total",
                    "read_configured_total",
                ]
                if self.write_server_connections_at_most is not None
                else [],
                "server": ["core_rule_connections", "write_server_connections_at_most"]
                if self.write_server_connections_at_most is not None
                else ["core_rule_connections", "write_usable_total", "write_configured_total", "read_configured_total"],
            },
            "write_server_connections_at_most": self.write_server_connections_at_most,
        }


def sizing(write_host: str) -> Sizing:
    """The sizing tables' guidance and the core-count rule for the configured pools and process counts."""
    read, write = pool_statistics(READ_ALIAS), pool_statistics(WRITE_ALIAS)
    web, threads, workers = settings.WEB_PROCESSES, settings.WEB_THREADS, settings.CELERY_WORKER_CONCURRENCY
    cores, cores_source = server_cores(write_host)
    spindles = settings.DATABASE_SERVER_SPINDLES
    rule = 2 * cores + spindles if cores else None
    write_per_web = min(write.capacity, threads)
    write_per_worker = min(write.capacity, 1)
    write_usable = web * write_per_web + workers * write_per_worker
    processes = web + workers
    # Behind PgBouncer, PostgreSQL runs at most PgBouncer's pool of server connections, whatever the clients hold.
    pooler = pooler_in_front(WRITE_ALIAS)
    server_bound = pooler.server_connections_per_pool() if pooler is not None else None
    write_on_server = min(write_usable, server_bound) if server_bound is not None else write_usable
    far_above = rule is not None and write_on_server > FAR_ABOVE_FACTOR * rule

    advice: list[tuple[str, str]] = [
        advice_text(
            "sizing.table_read",
            size=read.pool_size,
            overflow=read.max_overflow,
            workload=design_workload(read.pool_size, READ_TABLE, READ_BEYOND),
        ),
        advice_text(
            "sizing.table_write",
            size=write.pool_size,
            overflow=write.max_overflow,
            workload=design_workload(write.pool_size, WRITE_TABLE, WRITE_BEYOND),
        ),
        advice_text(
            "sizing.usable",
            threads=threads,
            capacity=write.capacity,
            per_web=write_per_web,
            web=web,
            workers=workers,
            usable=write_usable,
            allowed=write.capacity * processes,
        ),
    ]
    if rule is None:
        advice.append(advice_text("sizing.core_rule_unknown"))
    else:
        advice.append(advice_text("sizing.core_rule", cores=cores, spindles=spindles, rule=rule))
    # Heavy writes run in the write group when nginx splits the traffic, else in every web process.
    heavy_writers = settings.WEB_WRITE_CONCURRENCY or web
    if far_above:
        # The same figure as the measured advice below (one rule, one number): about two write
        # connections per database core, shared by the processes that serve heavy writes.
        suggested = recommended_pools(server_cores=cores, web_processes=heavy_writers, web_threads=threads).write_pool_size
        advice.append(
            advice_text("sizing.far_above_warning", usable=write_usable, rule=rule, heavy_writers=heavy_writers, suggested=suggested)
        )
    if cores:
        # What `python -m benchmarks.pools` measured on this stack (verisyntra/db/sizing.py, docs/benchmarks.md).
        advice.extend(
            measured_advice(
                server_cores=cores,
                web_processes=heavy_writers,
                web_threads=threads,
                split=settings.WEB_WRITE_CONCURRENCY > 0,
                read_capacity=read.capacity,
                write_capacity=write.capacity,
            )
        )
    return Sizing(
        cores=cores,
        cores_source=cores_source,
        spindles=spindles,
        rule_connections=rule,
        read_per_process=read.capacity,
        write_per_process=write.capacity,
        write_usable_per_web_process=write_per_web,
        write_usable_per_worker_process=write_per_worker,
        write_usable_total=write_usable,
        write_configured_total=write.capacity * processes,
        read_configured_total=read.capacity * processes,
        write_far_above=far_above,
        advice=advice,
        write_server_connections_at_most=server_bound if pooler is not None else None,
    )
