"""The pool sizes we recommend, as measured on this stack by `python -m benchmarks.pools`.

The evidence is in docs/benchmarks.md, "Pool sizing under concurrent load" (figures in
docs/pool-sizing/results.md). In short, on the real service (threaded gunicorn, PostgreSQL, Celery):

- Separate read and write pools protect dashboards only when the write pool also bounds how much
  write work runs at once. A write pool far larger than the database server's cores (the default
  50 + 20, `verisyntra.db.config.POOL_DEFAULTS`) lets every writer run at once; they then queue
  for CPU inside PostgreSQL, and every dashboard queues with them.
- A writer request takes a read connection first (token and tenant checks go through `read`) and
  keeps it until the request ends, also while it queues for the write pool. A read pool smaller than
  a process's threads can therefore be emptied by writers, and dashboards wait for it. Each thread
  holds at most one connection per pool, so a read capacity of WEB_THREADS can never make one wait.

This module only states the rule and its advice; `health.sizing` (what `pool_report` and
`/health/connection-pools` show) decides where to quote it. It changes no default by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

EVIDENCE = 'docs/benchmarks.md, "Pool sizing under concurrent load"'


@dataclass(frozen=True)
class PoolRecommendation:
    """Per web process: write pool size (overflow 0) and the read capacity (size + overflow) to allow."""

    write_pool_size: int
    write_max_overflow: int
    read_capacity: int


def recommended_pools(*, server_cores: int, web_processes: int, web_threads: int) -> PoolRecommendation:
    """About two write connections per database core, shared by the web processes; reads for every thread."""
    return PoolRecommendation(
        write_pool_size=max(1, 2 * server_cores // max(web_processes, 1)),
        write_max_overflow=0,
        read_capacity=web_threads,
    )


def measured_advice(
    *, server_cores: int, web_processes: int, web_threads: int, read_capacity: int, write_capacity: int, split: bool = True
) -> list[tuple[str, str]]:
    """(English, Vietnamese) advice for the configured pools, from the benchmark's recommendation.

    `web_processes` are the processes that serve heavy writes: the write group's when nginx splits
    the traffic (`split`), every web process otherwise.
    """
    rec = recommended_pools(server_cores=server_cores, web_processes=web_processes, web_threads=web_threads)
    advice: list[tuple[str, str]] = []
    if not split:
        advice.append(
            (
                f"Measured ({EVIDENCE}): in one process, threads share one interpreter lock, and parsing a large batch "
                "holds it for tens of milliseconds; with 30 writers, dashboards served by the same processes were 7.8x "
                "slower than without writers, against 1.9x when nginx sent the heavy writes to their own processes. "
                "Run the write group (WEB_WRITE_CONCURRENCY >= 1, deploy/nginx.conf.template).",
                f"Đã đo ({EVIDENCE}): trong một tiến trình, các luồng dùng chung một khóa trình thông dịch, và việc "
                "phân tích một lô lớn giữ khóa đó hàng chục mili giây; với 30 tác vụ ghi, bảng điều khiển do cùng các "
                "tiến trình phục vụ chậm gấp 7,8 lần so với khi không có tác vụ ghi, so với 1,9 lần khi nginx chuyển các "
                "tác vụ ghi nặng sang tiến trình riêng. Hãy chạy nhóm ghi (WEB_WRITE_CONCURRENCY >= 1, "
                "deploy/nginx.conf.template).",
            )
        )
    if write_capacity > 2 * rec.write_pool_size:
        writers_en = f"{web_processes} write-group process(es)" if split else f"{web_processes} web process(es)"
        writers_vi = f"{web_processes} tiến trình nhóm ghi" if split else f"{web_processes} tiến trình web"
        advice.append(
            (
                f"Measured ({EVIDENCE}): with a write pool of {write_capacity} per process, concurrent writers run all "
                f"at once and dashboards slow down with them. For a {server_cores}-core database and {writers_en}, "
                f"WRITE_POOL_SIZE={rec.write_pool_size} and WRITE_POOL_MAX_OVERFLOW=0 kept "
                "dashboards fast at most of the write throughput.",
                f"Đã đo ({EVIDENCE}): với pool ghi {write_capacity} kết nối mỗi tiến trình, các tác vụ ghi đồng thời "
                f"chạy cùng lúc và bảng điều khiển chậm theo. Với máy chủ cơ sở dữ liệu {server_cores} lõi và "
                f"{writers_vi}, WRITE_POOL_SIZE={rec.write_pool_size} và WRITE_POOL_MAX_OVERFLOW=0 "
                "giữ bảng điều khiển nhanh mà vẫn giữ phần lớn thông lượng ghi.",
            )
        )
    if read_capacity < rec.read_capacity:
        advice.append(
            (
                f"Measured ({EVIDENCE}): a writer request keeps its read connection while it waits for the write pool, "
                f"so with WEB_THREADS={web_threads} and a read capacity of {read_capacity}, writers can empty the read "
                f"pool and dashboards wait. Allow READ_POOL_SIZE + READ_POOL_MAX_OVERFLOW >= {rec.read_capacity}.",
                f"Đã đo ({EVIDENCE}): một yêu cầu ghi giữ kết nối đọc trong khi chờ pool ghi, nên với "
                f"WEB_THREADS={web_threads} và dung lượng đọc {read_capacity}, các tác vụ ghi có thể dùng hết pool đọc "
                f"và bảng điều khiển phải chờ. Hãy đặt READ_POOL_SIZE + READ_POOL_MAX_OVERFLOW >= {rec.read_capacity}.",
            )
        )
    return advice
