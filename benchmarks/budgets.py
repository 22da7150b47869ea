"""Resource-budget benchmark: hostile bodies and 1,000,000-record scans against the deployed front.

    .venv/bin/python -m benchmarks.budgets                    # the full run (about 10 minutes)
    .venv/bin/python -m benchmarks.budgets --large 200000     # a shorter run: the "large" scans smaller

In one run, against nginx in front of a read and a write gunicorn group and a Celery worker
(concurrency 1), as scripts/dev runs them:

- bodies of 1, 10 and 25 MB of maximally invalid items (each item's three lists full of
  elements of the wrong type) to `POST /batch/processing-activities`, and the same items to
  `POST /data-scans` as JSON and as NDJSON: status, response bytes, wall time and the peak RSS
  growth of the write group's worker process (from /proc: VmRSS sampled every 10 ms, and VmHWM
  after resetting it through /proc/PID/clear_refs where allowed);
- valid scans of 100,000 and `--large` (1,000,000) records, JSON and NDJSON, streamed from a file:
  the same figures, then the worker's run to completion with exact counts (the scan's
  `records_processed` and the rows in the table); worker-side rate = records / the scan's
  (completed_at - started_at);
- the compliance summary's p95 idle and while the large NDJSON scan is being submitted;
- `psql \\copy` of the same large number of rows (benchmarks/scan.py's pass), for the worker's ratio.

Its own database `bench_verisyntra_budgets` (BENCH_DATABASE_URL overrides), its own broker
(BENCH_CELERY_BROKER_URL, default Redis database 7), ports 8901-8903 (BENCH_BUDGETS_PORT).
The machine may be shared: the ratios printed side by side are the result, with `uptime`'s load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from benchmarks import dataset
from benchmarks.service import Service, ServiceConfig

ROOT = dataset.ROOT
RUN_DIR = ROOT / "var" / "bench" / "budgets"
TARGET_ERROR_BYTES = 256 * 1024
TARGET_ERROR_SECONDS = 2.0
TARGET_RSS_GROWTH_MB = 150
TARGET_WORKER_RATIO = 0.5
TARGET_DASHBOARD_RATIO = 3.0


class BudgetService(Service):
    """The deployed topology on three fixed ports: nginx on `port`, the read group on +1, the write group on +2."""

    def _spawn_web(self) -> None:
        from deploy import nginx_conf

        gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "benchmarks.wsgi:application"]
        read_bind, write_bind = f"127.0.0.1:{self.port + 1}", f"127.0.0.1:{self.port + 2}"
        self._spawn("gunicorn-read", gunicorn, BIND=read_bind)
        self._spawn("gunicorn-write", [*gunicorn, "--workers", "1"], BIND=write_bind)
        conf = nginx_conf.render(self.run_dir / "nginx", f"127.0.0.1:{self.port}", read_bind, write_bind)
        self._spawn("nginx", ["nginx", "-c", str(conf), "-p", str(conf.parent)])

    def write_worker_pid(self) -> int:
        """The write group's worker process (the gunicorn master's only child)."""
        master = self.processes[self.names.index("gunicorn-write")].pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            if children:
                return int(children[0])
            time.sleep(0.2)
        raise RuntimeError("the write group has no worker process")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRss:
    """A process's RSS growth over a block: sampled every 10 ms, and VmHWM after a clear_refs reset."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            self._hwm = True
        except OSError:
            self._hwm = False
        self.base_kb = _status_kb(self.pid, "VmRSS")
        self.peak_kb = self.base_kb
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        if self._hwm:
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmHWM"))

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.base_kb) / 1024


def hostile_item(i: int) -> dict:
    """An item with three lists of 1,000 elements of the wrong type: the most errors per byte."""
    bad = [0] * 1_000
    return {"activity_name": f"a{i}", "pdpl_category": "basic", "data_fields": bad, "data_subjects": bad, "recipients": bad}


def hostile_lines(megabytes: int) -> list[bytes]:
    lines, size, i = [], 0, 0
    while size < megabytes * 1_000_000 - 10_000:
        line = json.dumps(hostile_item(i), separators=(",", ":")).encode()
        lines.append(line)
        size += len(line) + 1
        i += 1
    return lines


def json_body(lines: list[bytes], tenant_id: str | None = None) -> bytes:
    head = b'{"tenant_id":"' + tenant_id.encode() + b'",' if tenant_id else b"{"
    return head + b'"activities":[' + b",".join(lines) + b"]}"


def scan_file(count: int) -> Path:
    """`count` realistic records as NDJSON (benchmarks/scan.py's records), written once and reused."""
    from benchmarks.scan import record

    path = RUN_DIR / f"scan-{count}.ndjson"
    if not path.exists() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for start in range(0, count, 10_000):
                out.write(
                    b"".join(json.dumps(record(i), ensure_ascii=False).encode() + b"\n" for i in range(start, min(start + 10_000, count)))
                )
    return path


def streamed(path: Path, as_json: bool, tenant_id: str) -> Iterator[bytes]:
    """The file as an NDJSON body, or as a JSON object built from its lines, 1 MB at a time."""
    if as_json:
        yield b'{"tenant_id":"' + tenant_id.encode() + b'","activities":['
    first = True
    with path.open("rb") as source:
        block: list[bytes] = []
        size = 0
        for line in source:
            item = line.rstrip(b"\n")
            if as_json:
                block.append(item if first else b"," + item)
                first = False
            else:
                block.append(line)
            size += len(item)
            if size >= 1 << 20:
                yield b"".join(block)
                block, size = [], 0
        if block:
            yield b"".join(block)
    if as_json:
        yield b"]}"


class Bench:
    def __init__(self, service: BudgetService, token: str, scan_tenant: str, dashboard_tenant: str, database_url: str):
        self.service = service
        self.client = httpx.Client(base_url=service.base_url, headers={"Authorization": f"Token {token}"}, timeout=600)
        self.scan_tenant = scan_tenant
        self.dashboard_tenant = dashboard_tenant
        self.database_url = database_url
        self.pid = service.write_worker_pid()
        self.rows: list[dict] = []

    def post(self, label: str, path: str, content, media_type: str) -> httpx.Response:
        started = time.perf_counter()
        with PeakRss(self.pid) as rss:
            response = self.client.post(path, content=content, headers={"Content-Type": media_type})
        seconds = time.perf_counter() - started
        row = {
            "case": label,
            "status": response.status_code,
            "response_bytes": len(response.content),
            "seconds": round(seconds, 2),
            "rss_growth_mb": round(rss.growth_mb, 1),
            "rss_peak_mb": round(rss.peak_kb / 1024, 1),
        }
        self.rows.append(row)
        print(f"  {label}: {row['status']} {row['response_bytes']:,} B {row['seconds']} s, web RSS +{row['rss_growth_mb']} MB", flush=True)
        return response

    def summary_seconds(self, stop: threading.Event | None = None, count: int = 200) -> list[float]:
        times = []
        with httpx.Client(base_url=self.service.base_url, headers=self.client.headers, timeout=30) as client:
            while (stop is None and len(times) < count) or (stop is not None and not stop.is_set()):
                started = time.perf_counter()
                response = client.get("/analytics/compliance-summary", params={"tenant_id": self.dashboard_tenant})
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:200]
                time.sleep(0.02)
        return times

    def wait_for_scan(self, scan_id: str, records: int) -> dict:
        deadline = time.monotonic() + 3_600
        while time.monotonic() < deadline:
            body = self.client.get(f"/data-scans/{scan_id}", params={"tenant_id": self.scan_tenant}).json()
            if body["status"] in ("completed", "failed"):
                break
            time.sleep(0.5)
        connection = dataset.connect(self.database_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inventory_processingactivity WHERE data_scan_id = %s", [scan_id])
            (in_table,) = cursor.fetchone()
        connection.close()
        exact = body["status"] == "completed" and body["records_processed"] == body["records_total"] == in_table == records
        return {"status": body["status"], "seconds": body["duration_seconds"], "in_table": in_table, "exact": exact}


def psql_seconds(count: int, database_url: str) -> float:
    """benchmarks/scan.py's `psql \\copy` pass over `count` records, validated a chunk at a time."""
    from benchmarks.scan import psql_copy_pass, record
    from inventory.models import Tenant
    from inventory.validation import activities_validate

    class Rows:
        def __len__(self) -> int:
            return count

        def __iter__(self):
            for start in range(0, count, 10_000):
                yield from activities_validate([record(i) for i in range(start, min(start + 10_000, count))]).rows

    tenant = Tenant.objects.filter(name="bench-budgets-psql").first() or Tenant.objects.create(name="bench-budgets-psql")
    return psql_copy_pass(tenant, Rows(), RUN_DIR / "psql-rows.tsv", database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", type=int, default=1_000_000, help="the large scans' record count")
    parser.add_argument("--hostile-mb", default="1,10,25")
    args = parser.parse_args()

    env = dataset.bench_env()
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/bench_verisyntra_budgets"
    env["CELERY_BROKER_URL"] = os.environ.get("BENCH_CELERY_BROKER_URL") or "redis://127.0.0.1:6379/7"
    env["CELERY_WORKER_CONCURRENCY"] = "1"
    port = int(os.environ.get("BENCH_BUDGETS_PORT", "8901"))
    database_url = env["DATABASE_URL"]
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)

    dataset.ensure_database(database_url)
    env = dataset.service_env(env)  # its web and worker as deployed: the runtime role, under row-level security
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(
        {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "verisyntra.settings", "CELERY_BROKER_URL": env["CELERY_BROKER_URL"]}
    )
    os.environ.pop("READ_DATABASE_URL", None)
    os.environ.pop("READ_DATABASE_URLS", None)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Django's logging setup would print every request

    print(f"psql \\copy of {args.large:,} rows ...", flush=True)
    psql = psql_seconds(args.large, database_url)
    print(f"  {psql:.2f} s = {args.large / psql:,.0f} rows/s", flush=True)
    tenants = dataset.prepare(env)  # after the copy's TRUNCATE: the dashboard tenant's 100,000 rows again
    files = {count: scan_file(count) for count in (100_000, args.large)}

    config = ServiceConfig(name="budgets", label="nginx + read and write groups", web_processes=1, write_processes=1, web_threads=8)
    with BudgetService(config, env, port, RUN_DIR, worker=True) as service:
        bench = Bench(service, tenants.token, tenants.writers[0], tenants.dashboard, database_url)
        scan_tenant = tenants.writers[0]
        print("hostile bodies:", flush=True)
        for megabytes in [int(m) for m in args.hostile_mb.split(",")]:
            lines = hostile_lines(megabytes)
            bench.post(
                f"batch, {megabytes} MB invalid",
                f"/batch/processing-activities?tenant_id={scan_tenant}",
                json_body(lines),
                "application/json",
            )
            bench.post(f"scan JSON, {megabytes} MB invalid", "/data-scans", json_body(lines, scan_tenant), "application/json")
            bench.post(
                f"scan NDJSON, {megabytes} MB invalid",
                f"/data-scans?tenant_id={scan_tenant}",
                b"\n".join(lines) + b"\n",
                "application/x-ndjson",
            )
        idle = bench.summary_seconds()
        completions = []
        print("valid scans:", flush=True)
        for count in (100_000, args.large):
            for as_json in (True, False):
                label = f"scan {'JSON' if as_json else 'NDJSON'}, {count:,} records"
                busy: list[float] = []
                stop = threading.Event()
                probe = None
                if count == args.large and not as_json:
                    probe = threading.Thread(target=lambda busy=busy, stop=stop: busy.extend(bench.summary_seconds(stop)), daemon=True)
                    probe.start()
                path = "/data-scans" if as_json else f"/data-scans?tenant_id={scan_tenant}"
                response = bench.post(
                    label, path, streamed(files[count], as_json, scan_tenant), "application/json" if as_json else "application/x-ndjson"
                )
                if probe is not None:
                    stop.set()
                    probe.join()
                    busy_during_large = busy
                assert response.status_code == 202, response.text[:500]
                done = bench.wait_for_scan(response.json()["scan_id"], count)
                completions.append((label, count, done))
                print(f"    worker: {done['status']} in {done['seconds']} s, {done['in_table']:,} rows, exact: {done['exact']}", flush=True)

    print()
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print()
    print("| case | status | response bytes | seconds | web RSS growth, MB | web RSS peak, MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in bench.rows:
        figures = f"{row['response_bytes']:,} | {row['seconds']} | {row['rss_growth_mb']} | {row['rss_peak_mb']}"
        print(f"| {row['case']} | {row['status']} | {figures} |")
    errors = [row for row in bench.rows if row["status"] >= 400]
    print()
    print(
        f"error responses: largest {max(r['response_bytes'] for r in errors):,} B (target <= {TARGET_ERROR_BYTES:,}), "
        f"slowest {max(r['seconds'] for r in errors)} s (target <= {TARGET_ERROR_SECONDS})"
    )
    large_ndjson = next(row for row in bench.rows if row["case"] == f"scan NDJSON, {args.large:,} records")
    print(f"web RSS growth, {args.large:,}-record NDJSON scan: {large_ndjson['rss_growth_mb']} MB (target <= {TARGET_RSS_GROWTH_MB})")
    print()
    print("| scan | worker seconds | rows/s | exact counts |")
    print("| --- | ---: | ---: | --- |")
    for label, count, done in completions:
        print(f"| {label} | {done['seconds']} | {count / done['seconds']:,.0f} | {done['exact']} |")
    worker = next(done for label, count, done in completions if label == f"scan NDJSON, {args.large:,} records")
    print(f"| `psql \\copy`, same {args.large:,} rows | {psql:.2f} | {args.large / psql:,.0f} | |")
    print(f"\nworker / psql rate: {psql / worker['seconds']:.2f} (target >= {TARGET_WORKER_RATIO})")
    idle_p95 = statistics.quantiles(idle, n=20)[-1] * 1000
    busy_p95 = statistics.quantiles(busy_during_large, n=20)[-1] * 1000
    print(
        f"compliance summary p95: idle {idle_p95:.1f} ms ({len(idle)} requests), during the {args.large:,}-record NDJSON submission "
        f"{busy_p95:.1f} ms ({len(busy_during_large)} requests): {busy_p95 / idle_p95:.2f}x (target <= {TARGET_DASHBOARD_RATIO})"
    )


if __name__ == "__main__":
    main()
