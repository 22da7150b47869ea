"""Pool sizing: the design's tables applied to the configured figures, next to the core-count rule.

The design sizes pools by workload (its "Pool Sizing Recommendations"): 20 read connections for up
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
from verisyntra.db.pools import pool_statistics
from verisyntra.db.sizing import measured_advice, recommended_pools

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
# "Far above" the core-count rule: more than this many times the connections the server can run at once.
FAR_ABOVE_FACTOR = 2

# The design's tables: (largest pool size in the row, workload it serves in en, in vi).
READ_TABLE = [
    (20, "up to 50 concurrent dashboard users", "tối đa 50 người dùng bảng điều khiển đồng thời"),
    (30, "50-200 concurrent dashboard users", "50-200 người dùng bảng điều khiển đồng thời"),
    (50, "200-500 concurrent dashboard users", "200-500 người dùng bảng điều khiển đồng thời"),
]
READ_BEYOND = (
    "more than 500 users, where the design adds read replicas and PgBouncer instead of a bigger pool",
    "hơn 500 người dùng, khi đó thiết kế thêm bản sao đọc và PgBouncer thay vì tăng pool",
)
WRITE_TABLE = [
    (50, "up to 10 concurrent data scans (5 connections each)", "tối đa 10 lượt quét dữ liệu đồng thời (mỗi lượt 5 kết nối)"),
    (100, "10-20 concurrent data scans", "10-20 lượt quét dữ liệu đồng thời"),
    (200, "20-50 concurrent data scans", "20-50 lượt quét dữ liệu đồng thời"),
]
WRITE_BEYOND = (
    "more than 50 concurrent scans, where the design moves to write sharding or queueing",
    "hơn 50 lượt quét đồng thời, khi đó thiết kế chuyển sang phân mảnh ghi hoặc xếp hàng",
)


def design_workload(pool_size: int, table, beyond) -> tuple[str, str]:
    for largest, en, vi in table:
        if pool_size <= largest:
            return en, vi
    return beyond


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
        }


def sizing(write_host: str) -> Sizing:
    """The design's guidance and the core-count rule for the configured pools and process counts."""
    read, write = pool_statistics(READ_ALIAS), pool_statistics(WRITE_ALIAS)
    web, threads, workers = settings.WEB_PROCESSES, settings.WEB_THREADS, settings.CELERY_WORKER_CONCURRENCY
    cores, cores_source = server_cores(write_host)
    spindles = settings.DATABASE_SERVER_SPINDLES
    rule = 2 * cores + spindles if cores else None
    write_per_web = min(write.capacity, threads)
    write_per_worker = min(write.capacity, 1)
    write_usable = web * write_per_web + workers * write_per_worker
    processes = web + workers
    far_above = rule is not None and write_usable > FAR_ABOVE_FACTOR * rule

    advice: list[tuple[str, str]] = []
    read_en, read_vi = design_workload(read.pool_size, READ_TABLE, READ_BEYOND)
    write_en, write_vi = design_workload(write.pool_size, WRITE_TABLE, WRITE_BEYOND)
    advice.append(
        (
            f"Design: a read pool of {read.pool_size} (+{read.max_overflow} overflow) per process is sized for {read_en}.",
            f"Thiết kế: pool đọc {read.pool_size} (+{read.max_overflow} dự phòng) mỗi tiến trình phù hợp cho {read_vi}.",
        )
    )
    advice.append(
        (
            f"Design: a write pool of {write.pool_size} (+{write.max_overflow} overflow) per process is sized for {write_en}.",
            f"Thiết kế: pool ghi {write.pool_size} (+{write.max_overflow} dự phòng) mỗi tiến trình phù hợp cho {write_vi}.",
        )
    )
    advice.append(
        (
            f"Here a web process uses at most WEB_THREADS={threads} connections of each pool (one per thread) and a "
            f"Celery process at most 1 (one scan at a time, one write connection): of the {write.capacity} write "
            f"connections per process, at most {write_per_web} are ever used; {web} web + {workers} worker processes "
            f"can use {write_usable} write connections at once, though the pools allow {write.capacity * processes}.",
            f"Ở đây mỗi tiến trình web dùng tối đa WEB_THREADS={threads} kết nối của mỗi pool (một kết nối mỗi luồng) và "
            f"mỗi tiến trình Celery tối đa 1 (mỗi lần một lượt quét, một kết nối ghi): trong {write.capacity} kết nối ghi "
            f"mỗi tiến trình, nhiều nhất {write_per_web} được dùng; {web} tiến trình web + {workers} tiến trình worker "
            f"dùng được {write_usable} kết nối ghi cùng lúc, dù các pool cho phép {write.capacity * processes}.",
        )
    )
    if rule is None:
        advice.append(
            (
                "Core-count rule (HikariCP, PostgreSQL wiki): about 2 x server cores + spindles connections doing work at "
                "once. The server is not local: set DATABASE_SERVER_CORES to apply it.",
                "Quy tắc theo số lõi (HikariCP, wiki PostgreSQL): khoảng 2 x số lõi máy chủ + số đĩa kết nối làm việc cùng "
                "lúc. Máy chủ không ở máy này: hãy đặt DATABASE_SERVER_CORES để áp dụng.",
            )
        )
    else:
        advice.append(
            (
                f"Core-count rule (HikariCP, PostgreSQL wiki): 2 x {cores} cores + {spindles} spindle(s) = about {rule} "
                f"connections doing work at once on this server.",
                f"Quy tắc theo số lõi (HikariCP, wiki PostgreSQL): 2 x {cores} lõi + {spindles} đĩa = khoảng {rule} "
                f"kết nối làm việc cùng lúc trên máy chủ này.",
            )
        )
    # Heavy writes run in the write group when nginx splits the traffic, else in every web process.
    heavy_writers = settings.WEB_WRITE_CONCURRENCY or web
    if far_above:
        # The same figure as the measured advice below (one rule, one number): about two write
        # connections per database core, shared by the processes that serve heavy writes.
        suggested = recommended_pools(server_cores=cores, web_processes=heavy_writers, web_threads=threads).write_pool_size
        advice.append(
            (
                f"WARNING: the write pools can run {write_usable} connections at once, far above the ~{rule} the server "
                "can serve. A write pool larger than the server can run at once only queues the work inside PostgreSQL, "
                f"where it slows every dashboard. Cap the write pool of each process that serves heavy writes "
                f"({heavy_writers} here) near the rule (about WRITE_POOL_SIZE = {suggested}, WRITE_POOL_MAX_OVERFLOW = 0), "
                "so surplus requests wait briefly and in order in the pool "
                "instead of inside the server, or run fewer processes.",
                f"CẢNH BÁO: các pool ghi có thể chạy {write_usable} kết nối cùng lúc, vượt xa khoảng {rule} mà máy chủ "
                "phục vụ được. Pool ghi lớn hơn khả năng chạy đồng thời của máy chủ chỉ khiến công việc xếp hàng bên trong "
                f"PostgreSQL, làm chậm mọi bảng điều khiển. Hãy giới hạn pool ghi của từng tiến trình phục vụ tác vụ ghi nặng "
                f"(ở đây {heavy_writers} tiến trình) gần quy tắc (khoảng WRITE_POOL_SIZE = {suggested}, "
                "WRITE_POOL_MAX_OVERFLOW = 0), để các yêu cầu dư chờ ngắn và có thứ tự trong pool thay vì bên trong "
                "máy chủ, hoặc chạy ít tiến trình hơn.",
            )
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
    )
