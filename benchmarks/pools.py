"""Pool sizing under concurrent load: `python -m benchmarks.pools` (method and reading: docs/benchmarks.md).

For each configuration (one shared pool; the original pool sizes, read 20 / write 50; a sweep of the
write pool size; two gunicorn processes) this starts the real service, runs the three original
workloads (dashboards only, writers only, both at once) and a sweep of concurrent writers at a
fixed dashboard load, resets the data between runs, and writes `docs/pool-sizing/results.json`,
`results.md` and the charts. It then runs the batch benchmark (`benchmarks.batch`, if present) and the pooled-vs-new-connection comparison.

Every run is bounded in time (warm-up + window) and in requests per client thread.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks import dataset, stats
from benchmarks.cpu import CpuSampler
from benchmarks.load import Target, Workload, drive
from benchmarks.service import Service, ServiceConfig

OUT = dataset.ROOT / "docs" / "pool-sizing"
VAR = dataset.ROOT / "var" / "bench"
FIRST_PORT = 8600

SHARED = ServiceConfig("shared", "one shared pool 20+10", shared=True)
# The original configuration (read 20+10, write 50+20), the pool sizes first chosen. Its name stays
# "design" ("design-8t", "design-2p") because results.json and the reports key their runs by it.
DESIGN = ServiceConfig("design", "read 20+10 / write 50+20 (original)", write_pool=(50, 20))
# Bounded pools without process separation, on 2 web processes: write pools that together hold
# about 2 x the database server's cores (2 + 2 here), and a read pool that can serve every web
# thread at once (the previous recommendation; docs/benchmarks.md).
BOUNDED_2P = ServiceConfig(
    "bounded-2p",
    "read 20+60 / write 2+0, 2 processes",
    read_pool=(20, 60),
    write_pool=(2, 0),
    web_processes=2,
)
# What we recommend and deploy (scripts/dev, docker-compose, docs/benchmarks.md): the same 2 web
# processes, but nginx sends heavy writes (POST /batch, POST /data-scans) to one of them, so their
# parsing never holds the interpreter lock of the process that serves dashboards; its write pool
# holds about 2 x the database server's cores.
RECOMMENDED = replace(
    BOUNDED_2P,
    name="recommended",
    label="read 20+60 / write 4+0, 1 read + 1 write process behind nginx (recommended)",
    write_pool=(4, 0),
    web_processes=1,
    write_processes=1,
)
SWEEP_SIZES = (2, 4, 8, 16)
CONFIGS: dict[str, ServiceConfig] = {
    # One process: the original pool sizes against one shared pool, and the write-pool sweep with the read pool kept.
    "shared": SHARED,
    "design": DESIGN,
    **{f"w{n}": ServiceConfig(f"w{n}", f"read 20+10 / write {n}+0", write_pool=(n, 0)) for n in SWEEP_SIZES},
    # The same write connections as the recommendation, in one process that serves everything.
    "recommended-1p": replace(
        BOUNDED_2P, name="recommended-1p", label="read 20+60 / write 4+0, 1 process", write_pool=(4, 0), web_processes=1
    ),
    # The service's default thread count: a process then never runs more than 8 requests at once.
    "design-8t": replace(DESIGN, name="design-8t", label="read 20+10 / write 50+20, WEB_THREADS=8", web_threads=8),
    # Two processes: each has its own pools and interpreter lock, but serves reads and writes alike.
    "shared-2p": replace(SHARED, name="shared-2p", label="one shared pool 20+10, 2 processes", web_processes=2),
    "design-2p": replace(DESIGN, name="design-2p", label="read 20+10 / write 50+20, 2 processes", web_processes=2),
    "bounded-2p": BOUNDED_2P,
    "recommended": RECOMMENDED,
}
# The original "before" (one shared pool) and "after" (read 20+10 / write 50+20), and ours, on the same number of processes.
BASELINE, DESIGN_AFTER, RECOMMENDED_NAME = "shared-2p", "design-2p", "recommended"

READERS = 5
BATCH_ROWS = 2000
SCAN_ROWS = 10_000
SWEEP_WRITERS = (0, 2, 30, 60)
SHORT_SWEEP = (0, 30)


def design_workloads(scans: bool) -> list[Workload]:
    kind, rows = ("scan", SCAN_ROWS) if scans else ("batch", BATCH_ROWS)
    return [
        Workload("dashboards-10", readers=10, writers=0),
        Workload(f"{kind}s-5", readers=0, writers=5, writer_kind=kind, batch_rows=rows),
        Workload(f"mixed-5+2{kind}s", readers=5, writers=2, writer_kind=kind, batch_rows=rows),
    ]


def sweep_workloads(writers: tuple[int, ...]) -> list[Workload]:
    return [Workload(f"sweep-{n}", readers=READERS, writers=n, batch_rows=BATCH_ROWS) for n in writers]


def plan(scans: bool, quick: bool) -> list[tuple[ServiceConfig, list[Workload]]]:
    sweep = (0, 2, 30) if quick else SWEEP_WRITERS
    with_design = {BASELINE, DESIGN_AFTER, RECOMMENDED_NAME}
    steps = []
    for name, config in CONFIGS.items():
        short = name in ("recommended-1p", "design-8t")
        workloads = sweep_workloads(SHORT_SWEEP if short else sweep)
        if name in with_design:
            workloads = design_workloads(scans) + workloads
        steps.append((config, workloads))
    return steps


def scans_available(base_url: str, token: str) -> bool:
    response = httpx.post(base_url + "/data-scans", json={}, headers={"Authorization": f"Token {token}"}, timeout=10)
    return response.status_code != 404


def machine() -> dict:
    def first_line(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except Exception:
            return "unknown"

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": len(__import__("os").sched_getaffinity(0)),
        "memory_gb": round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": first_line(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"]),
        "load_average_at_start": list(__import__("os").getloadavg()),
    }


def run_pools(args, env: dict[str, str], tenants: dataset.Tenants, run_dir: Path) -> list[dict]:
    results: list[dict] = []
    port = FIRST_PORT + (int(time.time()) % 50)
    scans = None
    for config, workloads in plan(scans=True, quick=args.quick):
        if args.configs and config.name not in args.configs:
            continue
        if args.writers is not None:
            workloads = sweep_workloads(tuple(args.writers))
        if not workloads:
            continue
        needs_worker = any(w.writer_kind == "scan" for w in workloads)
        config_dir = run_dir / config.name
        print(f"== {config.name}: {config.label}", flush=True)
        with Service(config, env, port, config_dir, worker=needs_worker) as service:
            target = Target(service.base_url, tenants.token, tenants.dashboard, tenants.writers)
            if needs_worker and scans is None:
                scans = scans_available(service.base_url, tenants.token)
            for workload in workloads:
                if workload.writer_kind == "scan" and not scans:
                    workload = replace(workload, name=workload.name.replace("scan", "batch"), writer_kind="batch", batch_rows=BATCH_ROWS)
                reset = dataset.reset(env["DATABASE_URL"], tenants)
                started = time.time()
                with CpuSampler(
                    web_roots=service.web_pids,
                    worker_roots=service.worker_pids,
                    database_name=urlsplit(env["DATABASE_URL"]).path.lstrip("/"),
                ) as cpu:
                    # A scan's records are stored first, then written by the worker: give scans time to land.
                    scan = workload.writer_kind == "scan"
                    raw = drive(
                        target,
                        workload,
                        warmup=max(args.warmup, 4.0) if scan else args.warmup,
                        duration=max(args.duration, 12.0) if scan else args.duration,
                        timeout=args.timeout,
                        max_requests=args.max_requests,
                    )
                window = tuple(raw["window"])
                time.sleep(1.2)  # the recorder flushes every 0.5 s
                result = {
                    "config": config.name,
                    "config_label": config.label,
                    "service": asdict(config),
                    "workload": asdict(workload),
                    "started_at": started,
                    "load_average": list(__import__("os").getloadavg()),
                    "reset": reset,
                    "dashboard": stats.summarize_readers(raw["readers"], window) if workload.readers else None,
                    "writers": stats.summarize_writers(
                        raw["writers"], window, rows_in_database=dataset.rows_written(env["DATABASE_URL"], tenants, window)
                    )
                    if workload.writers
                    else None,
                    "pool_waits": stats.read_waits(service.wait_dir, window),
                    "cpu_cores": cpu.usage(window),
                }
                if workload.readers and workload.writers in (0, 2, 30):
                    result["dashboard_latencies_ms"] = sorted(
                        round(elapsed * 1000, 1)
                        for began, elapsed, status in raw["readers"]
                        if status == 200 and window[0] <= began < window[1]
                    )
                results.append(result)
                print(" ", line(result), flush=True)
        port += 1
    return results


def line(result: dict) -> str:
    dash, writers = result["dashboard"], result["writers"]
    parts = [f"{result['workload']['name']:>18}"]
    if dash:
        lat = dash["latency_ms"]
        parts.append(
            f"dash p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms"
            f" ({dash['ok']} ok, {dash['timeouts']} timeouts, fail {dash['failures']})"
        )
    if writers:
        parts.append(
            f"writers {writers['rows_per_s']} rows/s ({writers['ok']} ok, {writers['timeouts']} timeouts,"
            f" 503 {writers['rejected_503']}, fail {writers['failures']})"
        )
    waits = ", ".join(f"{k} p95 {v['p95']}" for k, v in result["pool_waits"].items())
    parts.append(f"waits ms: {waits}")
    parts.append("cores: " + ", ".join(f"{k} {v}" for k, v in result["cpu_cores"].items()))
    return " | ".join(parts)


def run_batch(env: dict[str, str], run_dir: Path) -> dict | None:
    """The batch benchmark belongs to `benchmarks.batch`; run it if it is there."""
    if not (dataset.ROOT / "benchmarks" / "batch.py").exists():
        return None
    started = time.time()
    # Its own database (bench_verisyntra_api) and a port in this benchmark's range.
    batch_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.batch", "--port", str(FIRST_PORT + 80), "--runs", "5"],
        cwd=dataset.ROOT,
        env=batch_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    (run_dir / "batch.log").write_text(completed.stdout + completed.stderr)
    return {"returncode": completed.returncode, "output": completed.stdout[-4000:], "started_at": started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs and fewer points (development)")
    parser.add_argument("--configs", type=lambda s: s.split(","), help=f"only these, of {','.join(CONFIGS)}")
    parser.add_argument("--writers", type=lambda s: [int(x) for x in s.split(",")], help="only these sweep points")
    parser.add_argument("--parts", default="pools,connections,batch", help="pools,connections,batch")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not measured at the start of each run")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    parser.add_argument("--max-requests", type=int, default=5000, help="requests per client thread per run, at most")
    parser.add_argument("--out", type=Path, default=OUT, help="where results.json, results.md and the charts go")
    args = parser.parse_args(argv)
    if args.quick:
        args.warmup, args.duration = min(args.warmup, 1.0), min(args.duration, 5.0)
    parts = set(args.parts.split(","))

    env = dataset.bench_env()
    run_dir = VAR / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"preparing {env['DATABASE_URL']} (logs in {run_dir})", flush=True)
    tenants = dataset.prepare(env)
    began = time.time()
    report: dict = {"machine": machine(), "started_at": began, "args": {k: str(v) for k, v in vars(args).items()}}
    if "pools" in parts:
        report["runs"] = run_pools(args, env, tenants, run_dir)
    if "connections" in parts:
        from benchmarks import connection_cost

        report["connection_cost"] = connection_cost.run(env, tenants, run_dir)
    if "batch" in parts:
        report["batch"] = run_batch(env, run_dir)
    # Parts not run this time keep their figures from the previous results (each carries its own time).
    previous_path = args.out / "results.json"
    if previous_path.exists():
        previous = json.loads(previous_path.read_text())
        for part, key in (("pools", "runs"), ("connections", "connection_cost"), ("batch", "batch")):
            if part not in parts and previous.get(key):
                report[key] = previous[key]
                report.setdefault("carried_over", {})[key] = previous.get("started_at")
    report["finished_at"] = time.time()
    report["load_average_at_end"] = list(__import__("os").getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    from benchmarks import report as render

    # docs/benchmarks.md's measured block is rewritten only by a full run into docs/pool-sizing.
    document = OUT.parent / "benchmarks.md" if args.out.resolve() == OUT.resolve() and not args.quick else None
    render.write(report, args.out, recommended=RECOMMENDED_NAME, baseline=BASELINE, design=DESIGN_AFTER, document=document)
    print(f"done in {time.time() - began:.0f} s: {args.out}/results.md", flush=True)
    shutil.rmtree(run_dir / "waits", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
