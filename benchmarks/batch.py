"""Batch insert and compliance-summary benchmark, over HTTP against the real service.

    .venv/bin/python -m benchmarks.batch                 # starts its own gunicorn on 127.0.0.1:8310
    .venv/bin/python -m benchmarks.batch --runs 9 --port 8311
    .venv/bin/python -m benchmarks.batch --base-url http://127.0.0.1:8000   # a service already running

In one run, on the same rows, it prints:
- `POST /batch/processing-activities` with 1,000 and 10,000 activities, end to end over HTTP
  (client-side wall time: request serialised beforehand, so it is send + server + response);
- the same rows inserted one by one: one ORM `save()` per row (its own transaction, as a naive
  loop does) and one HTTP request per row, each measured on a sample and extrapolated (said so);
- a raw `COPY` of the same rows, pre-formatted, straight into PostgreSQL (the floor: no HTTP,
  no validation);
- where the time of a 10,000-record batch goes inside the service (parse, validate, COPY);
- `GET /analytics/compliance-summary` latency (p50/p95/p99) for a tenant with 100,000 activities;
- a deep page of `GET /analytics/processing-activities` on that tenant, by `skip` and by cursor.

The service runs exactly as deployed (`gunicorn.conf.py`, threaded workers) against its own
database `bench_verisyntra_api` (BENCH_DATABASE_URL overrides; the name must start with `bench_`),
created and migrated when missing. Each run first deletes the previous runs' batch rows, so every
run starts from the same table: the 100,000 activities of the summary tenant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks import dataset, samples

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_verisyntra_api"
SUMMARY_TENANT_ROWS = 100_000


def activity(i: int) -> dict:
    """A realistic record: every field filled, Vietnamese text, varied categories and bases."""
    return {
        "activity_name": samples.BATCH["activity_name"].format(branch=i % 63, i=i),
        "pdpl_category": ("Category 2: Basic Personal Data", "sensitive", "basic", "public")[i % 4],
        "data_fields": ["ho_ten", "dia_chi", "so_dien_thoai", "email", "ngay_sinh"][: 2 + i % 4],
        "purpose": samples.BATCH["purpose"],
        "legal_basis": ("consent", "contract", "legal_obligation", "legitimate_interest")[i % 4],
        "data_subjects": list(samples.BATCH["data_subjects"]),
        "recipients": samples.BATCH["recipients"][: 1 + i % 2],
        "cross_border_transfer": i % 7 == 0,
        "retention_months": 12 + i % 48,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# --- CPU accounting ---------------------------------------------------------------------------
# Wall times on a shared machine mostly measure the queue for a core. CPU time consumed by the
# service (its gunicorn workers and its PostgreSQL backends, read from /proc) barely depends on
# the load, so it says what a request costs on an idle machine.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def child_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


class ServiceCpu:
    """CPU seconds used by the service's gunicorn workers and by its PostgreSQL backends."""

    def __init__(self, gunicorn_pid: int | None):
        self.gunicorn_pid = gunicorn_pid

    def snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        from django.db import connections

        web = {pid: process_cpu_seconds(pid) for pid in child_pids(self.gunicorn_pid)} if self.gunicorn_pid else {}
        with connections["write"].cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name IN ('verisyntra-read', 'verisyntra-write')"
            )
            database = {pid: process_cpu_seconds(pid) for (pid,) in cursor.fetchall()}
        return web, database

    @staticmethod
    def used(before, after) -> tuple[float, float]:
        return tuple(sum(cpu - start.get(pid, 0.0) for pid, cpu in end.items()) for start, end in zip(before, after, strict=True))


# --- Database and service -------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # This process's own connections must not count as the service's in ServiceCpu.
    for alias in ("read", "write"):
        settings.DATABASES[alias]["OPTIONS"]["application_name"] = "bench-batch-client"


def ensure_database(database_url: str) -> None:
    """The benchmark database (bench_* only), created when missing, then migrated."""
    dataset.ensure_database(database_url)
    env = dataset.service_env({**os.environ, "DATABASE_URL": database_url})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


@contextmanager
def gunicorn(database_url: str, port: int, tree: Path = ROOT):
    """gunicorn serving `tree`'s code (this checkout, or another commit's worktree) as deployed."""
    env = dataset.service_env({**os.environ, "DATABASE_URL": database_url, "BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING"})
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / f"bench-batch-{port}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "verisyntra.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"gunicorn did not start; see var/bench-batch-{port}.log")
            time.sleep(0.3)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def tenant_with_token(name: str) -> tuple[str, str]:
    from inventory.services import tenant_create

    tenant, _user, token = tenant_create(name=name, username="bench-batch", reuse_existing=True)
    return str(tenant.pk), token.key


# --- Measurements ---------------------------------------------------------------------------


def http_batch(client: httpx.Client, base_url: str, tenant_id: str, body: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post(
        f"{base_url}/batch/processing-activities",
        params={"tenant_id": tenant_id},
        content=body,
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        sys.exit(f"batch failed: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


def orm_save_per_row(tenant_id: str, items: list[dict]) -> float:
    """One `save()` per row, each in its own transaction (autocommit), as a naive loop does."""
    from inventory.models import ProcessingActivity
    from inventory.validation import activities_validate

    rows = activities_validate(items).rows
    started = time.perf_counter()
    for row in rows:
        ProcessingActivity(tenant_id=tenant_id, **row).save()
    return time.perf_counter() - started


def http_per_row(client: httpx.Client, base_url: str, tenant_id: str, items: list[dict]) -> float:
    bodies = [json.dumps({"activities": [item]}).encode() for item in items]
    started = time.perf_counter()
    for body in bodies:
        http_batch(client, base_url, tenant_id, body)
    return time.perf_counter() - started


def raw_copy(tenant_id: str, items: list[dict]) -> float:
    """The same rows, formatted beforehand, through one COPY and commit: PostgreSQL's floor."""
    from django.db import connections, transaction

    from inventory.services import ACTIVITY_COPY_COLUMNS, _copy_lines
    from inventory.validation import activities_validate
    from verisyntra.ids import id_range_reserve

    rows = activities_validate(items).rows
    text, _, _ = _copy_lines(rows, id_range_reserve(len(rows)).strings(), tenant_id, escape=True)
    columns = ", ".join(ACTIVITY_COPY_COLUMNS)
    import io

    buffer = io.StringIO(text)
    started = time.perf_counter()
    with transaction.atomic(using="write"), connections["write"].cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY inventory_processingactivity ({columns}) FROM STDIN", buffer, size=1 << 20)
    return time.perf_counter() - started


def phases(tenant_id: str, body: bytes) -> dict[str, tuple[float, float, float]]:
    """Where a 10,000-record batch spends its time inside the service (same functions, in process;
    the service overlaps the last two, formatting rows while PostgreSQL parses earlier ones).

    Each phase: (wall seconds, this thread's CPU seconds, this connection's backend CPU seconds).
    """
    from django.db import connections

    from inventory.services import processing_activities_bulk_insert
    from inventory.validation import activities_normalise, batch_body_validate_json

    with connections["write"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def mark() -> tuple[float, float, float]:
        return time.perf_counter(), time.thread_time(), process_cpu_seconds(backend)

    def since(start: tuple[float, float, float], end: tuple[float, float, float]) -> tuple[float, float, float]:
        return tuple(b - a for a, b in zip(start, end, strict=True))

    m0 = mark()
    items = batch_body_validate_json(body)
    m1 = mark()
    rows = activities_normalise(items).rows
    m2 = mark()
    processing_activities_bulk_insert(tenant=tenant_id, rows=rows)
    m3 = mark()
    return {
        "parse + type-check (pydantic, 1 pass)": since(m0, m1),
        "labels, blank/NUL checks (Python)": since(m1, m2),
        "COPY + commit (FK checks)": since(m2, m3),
    }


def reset_batch_tenant(tenant_id: str) -> None:
    """Every run starts from the same table: the 100,000-row tenant, none of the previous runs' rows."""
    from django.db import connections

    with connections["write"].cursor() as cursor:
        cursor.execute("DELETE FROM inventory_processingactivity WHERE tenant_id = %s", [tenant_id])
        cursor.execute("VACUUM ANALYZE inventory_processingactivity")


def ensure_summary_tenant() -> tuple[str, int]:
    """A tenant with 100,000 activities (written once, by COPY), vacuumed like autovacuum would."""
    from django.db import connections

    from inventory.models import ProcessingActivity
    from inventory.services import processing_activities_bulk_insert
    from inventory.validation import activities_validate

    tenant_id, _ = tenant_with_token("bench-summary-100k")
    existing = ProcessingActivity.objects.filter(tenant_id=tenant_id).count()
    if existing < SUMMARY_TENANT_ROWS:
        for start in range(existing, SUMMARY_TENANT_ROWS, 10_000):
            count = min(10_000, SUMMARY_TENANT_ROWS - start)
            rows = activities_validate([activity(start + i) for i in range(count)]).rows
            processing_activities_bulk_insert(tenant=tenant_id, rows=rows)
    with connections["write"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_processingactivity")
    return tenant_id, ProcessingActivity.objects.filter(tenant_id=tenant_id).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--base-url", help="Use a running service instead of starting gunicorn (same DATABASE_URL).")
    parser.add_argument("--runs", type=int, default=7, help="Measured runs per batch size (after one warm-up).")
    parser.add_argument("--orm-sample", type=int, default=1_000, help="Rows saved one by one, then extrapolated.")
    parser.add_argument("--http-sample", type=int, default=200, help="Rows posted one request each, then extrapolated.")
    parser.add_argument("--summary-requests", type=int, default=300)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    (ROOT / "var").mkdir(exist_ok=True)
    ensure_database(database_url)
    setup_django(database_url)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    tenant_id, token = tenant_with_token("bench-batch")
    reset_batch_tenant(tenant_id)
    summary_tenant, summary_rows = ensure_summary_tenant()

    items_10k = [activity(i) for i in range(10_000)]
    items_1k = items_10k[:1_000]
    body_10k = json.dumps({"activities": items_10k}).encode()
    body_1k = json.dumps({"activities": items_1k}).encode()

    server = gunicorn(database_url, args.port) if args.base_url is None else _existing(args.base_url)
    with server as (base_url, gunicorn_pid), httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=120) as client:
        from django.db import connections

        with connections["write"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inventory_processingactivity")
            table_rows = cursor.fetchone()[0]
        print(f"service {base_url}; table holds {table_rows:,} activities; body 1k = {len(body_1k):,} B, 10k = {len(body_10k):,} B")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared machine: figures are noisy)\n")

        http_batch(client, base_url, tenant_id, body_1k)  # warm-up: imports, pools, plans
        http_batch(client, base_url, tenant_id, body_10k)
        times: dict[str, list[float]] = {"http 1k": [], "http 10k": [], "copy 1k": [], "copy 10k": []}
        server_10k: list[float] = []
        meter = ServiceCpu(gunicorn_pid)
        cpu: dict[str, list[tuple[float, float]]] = {"http 1k": [], "http 10k": []}
        for _ in range(args.runs):  # interleaved, so load spikes hit every method alike
            before = meter.snapshot()
            times["http 1k"].append(http_batch(client, base_url, tenant_id, body_1k)[0])
            cpu["http 1k"].append(meter.used(before, meter.snapshot()))
            before = meter.snapshot()
            elapsed, data = http_batch(client, base_url, tenant_id, body_10k)
            cpu["http 10k"].append(meter.used(before, meter.snapshot()))
            times["http 10k"].append(elapsed)
            server_10k.append(data["execution_time_seconds"])
            times["copy 1k"].append(raw_copy(tenant_id, items_1k))
            times["copy 10k"].append(raw_copy(tenant_id, items_10k))
        connections["write"].close()
        orm_sample = orm_save_per_row(tenant_id, items_10k[: args.orm_sample])
        http_sample = http_per_row(client, base_url, tenant_id, items_10k[: args.http_sample])
        phase_runs = [phases(tenant_id, body_10k) for _ in range(3)]

        orm_per_row = orm_sample / args.orm_sample
        http_row = http_sample / args.http_sample
        print(f"Batch insert, {args.runs} runs each (median / min / max)")
        print(f"{'method':48} {'1,000 rows':>22} {'10,000 rows':>22}")
        for label, one, ten in [
            ("POST /batch/processing-activities (HTTP)", times["http 1k"], times["http 10k"]),
            ("raw COPY of the same rows (no HTTP, no checks)", times["copy 1k"], times["copy 10k"]),
        ]:
            print(
                f"{label:48} {ms(statistics.median(one))} ({min(one) * 1000:.0f}-{max(one) * 1000:.0f})"
                f" {ms(statistics.median(ten))} ({min(ten) * 1000:.0f}-{max(ten) * 1000:.0f})"
            )
        print(f"{'one ORM save() per row *':48} {ms(orm_per_row * 1_000)} {'':>12}{ms(orm_per_row * 10_000)}")
        print(f"{'one HTTP request per row *':48} {ms(http_row * 1_000)} {'':>12}{ms(http_row * 10_000)}")
        print(
            f"* extrapolated: {args.orm_sample} rows saved one by one took {orm_sample:.2f} s; "
            f"{args.http_sample} single-row requests took {http_sample:.2f} s"
        )
        median_10k = statistics.median(times["http 10k"])
        print(
            f"10k batch: {orm_per_row * 10_000 / median_10k:.0f}x faster than save() per row, "
            f"{http_row * 10_000 / median_10k:.0f}x faster than a request per row; "
            f"server-side execution_time_seconds median {statistics.median(server_10k) * 1000:.0f} ms"
        )
        if gunicorn_pid is not None:
            print("\nCPU time one batch request costs the service (median; /proc, 10 ms ticks):")
            for label in ("http 1k", "http 10k"):
                web = statistics.median(used[0] for used in cpu[label])
                database = statistics.median(used[1] for used in cpu[label])
                print(f"  {label[5:]:>4} rows: gunicorn {ms(web)}  PostgreSQL {ms(database)}  sum {ms(web + database)}")
        print("\nInside the service, 10,000 records (in process, best of 3; wall, and CPU of this thread / its backend):")
        for phase in phase_runs[0]:
            wall = min(run[phase][0] for run in phase_runs)
            python_cpu = min(run[phase][1] for run in phase_runs)
            backend_cpu = min(run[phase][2] for run in phase_runs)
            print(f"  {phase:36} wall {ms(wall)}  CPU: Python {ms(python_cpu)}, PostgreSQL {ms(backend_cpu)}")

        # Vacuum now, as autovacuum would after the inserts above (the list's index scans; the
        # summary reads the rollup the triggers keep, whatever the table's state).
        with connections["write"].cursor() as cursor:
            cursor.execute("VACUUM ANALYZE inventory_processingactivity")
        latencies = []
        url = f"{base_url}/analytics/compliance-summary"
        for _ in range(20):
            client.get(url, params={"tenant_id": summary_tenant})
        before = meter.snapshot()
        for _ in range(args.summary_requests):
            started = time.perf_counter()
            response = client.get(url, params={"tenant_id": summary_tenant})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["total_activities"] == summary_rows, response.text[:200]
        summary_web, summary_database = meter.used(before, meter.snapshot())
        print(
            f"\nGET /analytics/compliance-summary, tenant with {summary_rows:,} activities, {args.summary_requests} sequential requests:"
            f"\n  p50 {ms(percentile(latencies, 50))}  p95 {ms(percentile(latencies, 95))}  p99 {ms(percentile(latencies, 99))}"
            f"  max {ms(max(latencies))}"
            f"\n  CPU per request: gunicorn {ms(summary_web / args.summary_requests)}"
            f"  PostgreSQL {ms(summary_database / args.summary_requests)}"
        )

        # Deep paging on the same tenant: OFFSET reads every row it skips, the cursor seeks.
        list_url = f"{base_url}/analytics/processing-activities"
        depth = summary_rows - 10_000
        skip_page = client.get(list_url, params={"tenant_id": summary_tenant, "skip": depth - 100, "limit": 100}).json()
        cursor = skip_page["next_cursor"]
        by_skip, by_cursor = [], []
        for _ in range(25):
            started = time.perf_counter()
            client.get(list_url, params={"tenant_id": summary_tenant, "skip": depth, "limit": 100}).raise_for_status()
            by_skip.append(time.perf_counter() - started)
            started = time.perf_counter()
            page = client.get(list_url, params={"tenant_id": summary_tenant, "cursor": cursor, "limit": 100})
            by_cursor.append(time.perf_counter() - started)
            page.raise_for_status()
        print(
            f"\nGET /analytics/processing-activities, 100 rows at position {depth:,} of the same tenant (median of 25):"
            f"\n  skip={depth}: {ms(statistics.median(by_skip))}   cursor: {ms(statistics.median(by_cursor))}"
        )


@contextmanager
def _existing(base_url: str):
    yield base_url.rstrip("/"), None


if __name__ == "__main__":
    main()
