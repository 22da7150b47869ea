"""The pools a user would pick instead of ours, side by side: `python -m benchmarks.pool_peers`.

Four ways to run the same service, in one invocation, against the same data and load:

- `ours`: django-db-connection-pool with the project's default pools (read 20 + 10, write 50 + 20),
  straight to PostgreSQL;
- `django-pool`: Django 5.2's native psycopg 3 pool sized like ours (`benchmarks.peer_settings`),
  run from a second virtualenv (`var/peers-venv`, from benchmarks/requirements-peers.txt, made here
  when missing), because the project's own must stay psycopg2-only;
- `persistent+pgbouncer`: no application pool, CONN_MAX_AGE=600 on Django's psycopg2 backend
  (`benchmarks.settings_persistent`), behind a real PgBouncer in transaction mode;
- `ours+pgbouncer`: ours behind the same PgBouncer (DISABLE_SERVER_SIDE_CURSORS=true, as
  docs/scaling.md deploys it).

Each runs as deployed (scripts/dev, docker-compose.yml): nginx in front of one read and one write
gunicorn process, WEB_THREADS=8. PgBouncer is Debian's, rendered from deploy/pgbouncer.ini.template
(default_pool_size 20 + reserve 5) and started fresh for each run as a non-root user, so no run
inherits another's server connections. Two workloads per run:

- dashboards beside writers: READERS_PER_PATH closed-loop readers on the compliance summary and as
  many on the list's first page, with WRITERS concurrent writers posting WRITER_ROWS-record batches;
- the 10,000-record batch, BATCH_REPEATS times from one client, nothing else running.

PostgreSQL's side is sampled every 0.1 s while each workload runs: the server connections to the
benchmark database (`pg_stat_activity`, all of them: the pooled ones, or PgBouncer's). Rounds run
the configurations interleaved (A B C D, A B C D, ...) so that the shared machine's noise hits all
alike; the report gives each figure's median over the rounds and its spread (min-max).
Writes docs/pool-sizing/peers.json, peers.md and peers.png (`--from-json` redraws them from a run).
Method and reading: docs/benchmarks.md, "Pool peers".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks import dataset, stats
from benchmarks.cpu import CpuSampler
from benchmarks.load import DASHBOARD_PATH, Target, Workload, _role_process, activities
from benchmarks.pools import machine
from benchmarks.service import Service, ServiceConfig
from deploy import nginx_conf, pgbouncer_ini

OUT = dataset.ROOT / "docs" / "pool-sizing"
VAR = dataset.ROOT / "var" / "bench-peers"
PEERS_VENV = dataset.ROOT / "var" / "peers-venv"
PEERS_REQUIREMENTS = dataset.ROOT / "benchmarks" / "requirements-peers.txt"
PROJECT_PYTHON = Path(sys.executable)
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_verisyntra_peers"
FIRST_PORT = 18150  # nginx; the read group, the write group and PgBouncer take the next three

LIST_PATH = "/analytics/processing-activities"
READERS_PER_PATH = 3
WRITERS = 30
WRITER_ROWS = 100
BATCH_ROWS = 10_000
BATCH_REPEATS = 3
PGBOUNCER_POOL = (20, 5)  # default_pool_size, reserve_pool_size: the template's defaults

# The deployed topology with the project's default pools (docker-compose.yml, scripts/dev).
DEPLOYED = ServiceConfig(
    "ours",
    "django-db-connection-pool, read 20+10 / write 50+20 (project defaults)",
    read_pool=(20, 10),
    write_pool=(50, 20),
    web_processes=1,
    write_processes=1,
    web_threads=8,
)


@dataclass(frozen=True)
class Peer:
    """One configuration: a ServiceConfig, which virtualenv runs it, and whether PgBouncer sits in front."""

    config: ServiceConfig
    venv: str = "project"  # "project" (.venv, psycopg2 only) or "peers" (var/peers-venv, psycopg 3 too)
    pgbouncer: bool = False


PEERS: dict[str, Peer] = {
    "ours": Peer(DEPLOYED),
    "django-pool": Peer(
        replace(
            DEPLOYED,
            name="django-pool",
            label="Django 5.2 native psycopg 3 pool, max_size 30 / 70 (sized like ours)",
            extra_env={"DJANGO_SETTINGS_MODULE": "benchmarks.peer_settings"},
        ),
        venv="peers",
    ),
    "persistent+pgbouncer": Peer(
        replace(
            DEPLOYED,
            name="persistent+pgbouncer",
            label="CONN_MAX_AGE=600, no application pool, PgBouncer (transaction mode, 20+5)",
            extra_env={"DJANGO_SETTINGS_MODULE": "benchmarks.settings_persistent"},
        ),
        pgbouncer=True,
    ),
    "ours+pgbouncer": Peer(
        replace(DEPLOYED, name="ours+pgbouncer", label="django-db-connection-pool (defaults) behind PgBouncer (20+5)"),
        pgbouncer=True,
    ),
}


# --- The second virtualenv ----------------------------------------------------------------------


def peers_python() -> Path:
    """var/peers-venv's interpreter, made from benchmarks/requirements-peers.txt when missing."""
    python = PEERS_VENV / "bin" / "python"
    probe = [str(python), "-c", "import psycopg, psycopg_pool, psycopg2, django"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {PEERS_VENV} (psycopg 3 for Django's native pool; the project's .venv stays psycopg2-only)", flush=True)
    subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEERS_REQUIREMENTS)], check=True)
    return python


class PeerService(Service):
    """The deployed topology on fixed ports, served by the configuration's own virtualenv."""

    def __init__(self, peer: Peer, base_env: dict[str, str], port: int, run_dir: Path, python: Path):
        super().__init__(peer.config, base_env, port, run_dir, worker=False)
        self.python = python

    def _spawn_web(self) -> None:
        gunicorn = [str(self.python), "-m", "gunicorn", "-c", "gunicorn.conf.py", "benchmarks.wsgi:application"]
        read_bind, write_bind = f"127.0.0.1:{self.port + 1}", f"127.0.0.1:{self.port + 2}"
        self._spawn("gunicorn-read", gunicorn, BIND=read_bind)
        self._spawn("gunicorn-write", [*gunicorn, "--workers", str(self.config.write_processes)], BIND=write_bind)
        conf = nginx_conf.render(self.run_dir / "nginx", f"127.0.0.1:{self.port}", read_bind, write_bind)
        self._spawn("nginx", ["nginx", "-c", str(conf), "-p", str(conf.parent)])


# --- PgBouncer ----------------------------------------------------------------------------------


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def pgbouncer(database_url: str, port: int, run_dir: Path):
    """Debian's PgBouncer in transaction mode on `port`, as scripts/test-pgbouncer runs it; yields (URL, pid); stopped on exit."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise SystemExit("pgbouncer is not installed: apt-get install pgbouncer")
    if _listening(port):
        raise SystemExit(f"port {port} is in use; pass --port with a free range")
    url = urlsplit(database_url)
    upstream = urlunsplit((url.scheme, url.netloc, "", "", ""))
    ini = pgbouncer_ini.render(
        run_dir,
        upstream,
        listen_addr="127.0.0.1",
        listen_port=port,
        auth_type="scram-sha-256" if url.password else "trust",
        default_pool_size=PGBOUNCER_POOL[0],
        reserve_pool_size=PGBOUNCER_POOL[1],
        max_client_conn=2000,
        log_file=None,
    )
    start = f"ulimit -n 8192 2>/dev/null; exec {binary} -d '{ini}'"
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root: run it as postgres, in a directory that user owns.
        shutil.chown(run_dir, "postgres")
        for path in run_dir.iterdir():
            shutil.chown(path, "postgres")
        command = ["su", "-s", "/bin/sh", "postgres", "-c", start]
    else:
        command = ["/bin/sh", "-c", start]
    subprocess.run(command, check=True)
    deadline = time.monotonic() + 10
    while not _listening(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pgbouncer did not listen on {port}; see {run_dir}/pgbouncer.log")
        time.sleep(0.1)
    pid = int((run_dir / "pgbouncer.pid").read_text())
    try:
        credentials = url.netloc.rsplit("@", 1)[0] + "@" if "@" in url.netloc else ""
        yield urlunsplit((url.scheme, f"{credentials}127.0.0.1:{port}", url.path, "", "")), pid
    finally:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _listening(port):
            time.sleep(0.1)


# --- PostgreSQL's side --------------------------------------------------------------------------


class ServerConnections:
    """Samples the server connections to the benchmark database every 0.1 s, from PostgreSQL itself."""

    QUERY = (
        "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-connections", daemon=True)

    def _run(self) -> None:
        connection = dataset.connect(self.database_url)
        try:
            with connection.cursor() as cursor:
                while not self._stop.is_set():
                    cursor.execute(self.QUERY)
                    total, active = cursor.fetchone()
                    self.samples.append((time.time(), total, active))
                    self._stop.wait(0.1)
        finally:
            connection.close()

    def __enter__(self) -> ServerConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict[str, int]:
        totals = [total for _, total, _ in self.samples] or [0]
        actives = [active for _, _, active in self.samples] or [0]
        return {"max": max(totals), "median": round(statistics.median(totals)), "max_active": max(actives), "samples": len(self.samples)}


# --- Workloads ----------------------------------------------------------------------------------


class _Tagged:
    """A queue that files what `_role_process` puts under `tag` instead of its role."""

    def __init__(self, queue, tag: str):
        self.queue, self.tag = queue, tag

    def put(self, item) -> None:
        self.queue.put((self.tag, item[1]))


def drive_mixed(target: Target, *, warmup: float, duration: float, timeout: float, max_requests: int) -> dict:
    """Summary readers, list readers and writers at once, each group in its own driver process."""
    groups = {
        "summary": ("reader", Workload("summary", readers=READERS_PER_PATH, writers=0, reader_path=DASHBOARD_PATH)),
        "list": ("reader", Workload("list", readers=READERS_PER_PATH, writers=0, reader_path=LIST_PATH)),
        "writers": ("writer", Workload("writers", readers=0, writers=WRITERS, batch_rows=WRITER_ROWS)),
    }
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = time.time() + 1.5
    measure_from = start + warmup
    end = measure_from + duration
    processes = [
        context.Process(
            target=_role_process,
            args=(role, target, workload, start, measure_from, end, timeout, max_requests, _Tagged(queue, tag)),
            daemon=True,  # an interrupted run must not wait at exit for drivers whose samples nobody reads
        )
        for tag, (role, workload) in groups.items()
    ]
    for process in processes:
        process.start()
    results = dict(queue.get(timeout=end - time.time() + timeout + 30) for _ in processes)
    for process in processes:
        process.join(timeout=10)
    return {"window": [measure_from, end], **results}


def cpu_sampler(env: dict[str, str], service: PeerService, pgbouncer_pid: int | None) -> CpuSampler:
    """CPU of the service's parts: web (gunicorn and nginx), PgBouncer (counted as "worker"), our PostgreSQL backends."""
    return CpuSampler(
        web_roots=service.web_pids,
        worker_roots={pgbouncer_pid} if pgbouncer_pid else set(),
        database_name=urlsplit(env["DATABASE_URL"]).path.lstrip("/"),
    )


def service_cpu_seconds(cores: dict[str, float], seconds: float) -> float | None:
    """CPU seconds the service used in a window of `seconds`, from CpuSampler's cores per part."""
    if not cores:
        return None
    return sum(cores.get(part, 0.0) for part in ("web", "worker", "database")) * seconds


def run_mixed(args, env: dict[str, str], target: Target, tenants: dataset.Tenants, cpu: CpuSampler) -> dict:
    dataset.reset(env["DATABASE_URL"], tenants)
    with ServerConnections(env["DATABASE_URL"]) as server, cpu:
        raw = drive_mixed(target, warmup=args.warmup, duration=args.duration, timeout=args.timeout, max_requests=args.max_requests)
    window = tuple(raw["window"])
    readers = stats.summarize_readers(raw["summary"] + raw["list"], window)
    writers = stats.summarize_writers(raw["writers"], window, dataset.rows_written(env["DATABASE_URL"], tenants, window))
    cores = cpu.usage(window)
    used = service_cpu_seconds(cores, window[1] - window[0])
    requests = readers["ok"] + writers["ok"]
    return {
        "reads": readers,
        "summary": stats.summarize_readers(raw["summary"], window),
        "list": stats.summarize_readers(raw["list"], window),
        "writers": writers,
        "server_connections": server.summary(),
        "cpu_cores": cores,
        # Wall times on a shared 2-core machine mostly measure the queue for a core; CPU per request does not.
        "service_cpu_ms_per_request": round(used * 1000 / requests, 2) if used is not None and requests else None,
    }


def run_batch(env: dict[str, str], target: Target, tenants: dataset.Tenants, repeats: int, timeout: float, cpu: CpuSampler) -> dict:
    """The 10,000-record batch, `repeats` times from one client, alone on the service."""
    dataset.reset(env["DATABASE_URL"], tenants)
    body = json.dumps({"activities": activities(BATCH_ROWS, seed=10_000)}, ensure_ascii=False).encode()
    seconds: list[float] = []
    failures: dict[str, int] = {}
    with (
        httpx.Client(base_url=target.base_url, headers={"Authorization": f"Token {target.token}"}, timeout=timeout) as client,
        ServerConnections(env["DATABASE_URL"]) as server,
        cpu,
    ):
        time.sleep(0.6)  # the sampler's first samples, so the window below holds at least two
        began = time.time()
        for _ in range(repeats):
            started = time.perf_counter()
            try:
                response = client.post(
                    "/batch/processing-activities",
                    params={"tenant_id": target.writer_tenants[0]},
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                status: object = response.status_code
            except httpx.TimeoutException:
                status = "timeout"
            elapsed = time.perf_counter() - started
            if status == 201:
                seconds.append(elapsed)
            else:
                failures[str(status)] = failures.get(str(status), 0) + 1
        ended = time.time()
        time.sleep(0.6)
    median = statistics.median(seconds) if seconds else None
    cores = cpu.usage((began, ended))
    used = service_cpu_seconds(cores, ended - began)
    return {
        "ok": len(seconds),
        "failures": failures,
        "seconds": [round(s, 3) for s in seconds],
        "median_s": round(median, 3) if median else None,
        "rows_per_s": round(BATCH_ROWS / median) if median else None,
        "server_connections": server.summary(),
        "cpu_cores": cores,
        "service_cpu_ms_per_batch": round(used * 1000 / repeats, 1) if used is not None else None,
    }


def warm(target: Target) -> None:
    """Every path once, so no run measures imports, first connections or cold plans."""
    with httpx.Client(base_url=target.base_url, headers={"Authorization": f"Token {target.token}"}, timeout=30) as client:
        for path in (DASHBOARD_PATH, LIST_PATH):
            for _ in range(3):
                client.get(path, params={"tenant_id": target.dashboard_tenant})
        body = json.dumps({"activities": activities(WRITER_ROWS, seed=1)}, ensure_ascii=False).encode()
        client.post(
            "/batch/processing-activities",
            params={"tenant_id": target.writer_tenants[0]},
            content=body,
            headers={"Content-Type": "application/json"},
        )


def run_one(args, name: str, peer: Peer, env: dict[str, str], tenants: dataset.Tenants, run_dir: Path, python: Path) -> dict:
    port = args.port
    # Every peer serves as the runtime role, under row-level security, as the service is deployed.
    runtime_env = dataset.service_env(env)
    bouncer = pgbouncer(runtime_env["DATABASE_URL"], port + 3, run_dir / "pgbouncer") if peer.pgbouncer else nullcontext((None, None))
    with bouncer as (bouncer_url, bouncer_pid):
        service_env = dict(runtime_env)
        if bouncer_url:
            service_env.update({"DATABASE_URL": bouncer_url, "DISABLE_SERVER_SIDE_CURSORS": "true"})
        with PeerService(peer, service_env, port, run_dir, python) as service:
            target = Target(service.base_url, tenants.token, tenants.dashboard, tenants.writers)
            warm(target)
            started = time.time()
            result = {
                "config": name,
                "label": peer.config.label,
                "started_at": started,
                "load_average": list(os.getloadavg()),
                "mixed": run_mixed(args, env, target, tenants, cpu_sampler(env, service, bouncer_pid)),
                "batch_10k": run_batch(env, target, tenants, args.batch_repeats, args.timeout, cpu_sampler(env, service, bouncer_pid)),
            }
    return result


def line(result: dict) -> str:
    mixed, batch = result["mixed"], result["batch_10k"]
    reads, writers = mixed["reads"]["latency_ms"], mixed["writers"]["latency_ms"]
    errors = errors_of(result)
    return (
        f"{result['config']:>21}: reads p50/p95 {reads['p50']}/{reads['p95']} ms | writes p50/p95 {writers['p50']}/{writers['p95']} ms,"
        f" {mixed['writers']['rows_per_s']} rows/s | 10k batch {batch['median_s']} s ({batch['rows_per_s']} rows/s)"
        f" | errors {errors} | server connections max {mixed['server_connections']['max']} (10k: {batch['server_connections']['max']})"
        f" | service CPU {mixed['service_cpu_ms_per_request']} ms/request, {batch['service_cpu_ms_per_batch']} ms/10k batch"
        f" | machine {mixed['cpu_cores'].get('machine')} cores busy"
    )


def errors_of(result: dict) -> int:
    mixed, batch = result["mixed"], result["batch_10k"]
    return (
        sum(mixed["reads"]["failures"].values())
        + mixed["reads"]["timeouts"]
        + sum(mixed["writers"]["failures"].values())
        + sum(batch["failures"].values())
    )


# --- Report -------------------------------------------------------------------------------------

FIGURES = {
    "read_p50_ms": lambda r: r["mixed"]["reads"]["latency_ms"]["p50"],
    "read_p95_ms": lambda r: r["mixed"]["reads"]["latency_ms"]["p95"],
    "summary_p95_ms": lambda r: r["mixed"]["summary"]["latency_ms"]["p95"],
    "list_p95_ms": lambda r: r["mixed"]["list"]["latency_ms"]["p95"],
    "reads_per_s": lambda r: r["mixed"]["reads"]["requests_per_s"],
    "write_p50_ms": lambda r: r["mixed"]["writers"]["latency_ms"]["p50"],
    "write_p95_ms": lambda r: r["mixed"]["writers"]["latency_ms"]["p95"],
    "writer_rows_per_s": lambda r: r["mixed"]["writers"]["rows_per_s"],
    "batch_10k_s": lambda r: r["batch_10k"]["median_s"],
    "batch_10k_rows_per_s": lambda r: r["batch_10k"]["rows_per_s"],
    "errors": errors_of,
    "service_cpu_ms_per_request": lambda r: r["mixed"]["service_cpu_ms_per_request"],
    "batch_10k_cpu_ms": lambda r: r["batch_10k"]["service_cpu_ms_per_batch"],
    "machine_cores_mixed": lambda r: r["mixed"]["cpu_cores"].get("machine"),
    "server_connections_mixed": lambda r: r["mixed"]["server_connections"]["max"],
    "server_connections_batch": lambda r: r["batch_10k"]["server_connections"]["max"],
}


def aggregate(runs: list[dict]) -> dict[str, dict]:
    """Per configuration and figure: the median over the rounds, and the spread (min, max)."""
    table: dict[str, dict] = {}
    for name in dict.fromkeys(run["config"] for run in runs):
        mine = [run for run in runs if run["config"] == name]
        figures = {}
        for figure, read in FIGURES.items():
            values = [v for v in (read(run) for run in mine) if v is not None]
            figures[figure] = {
                "median": round(statistics.median(values), 3) if values else None,
                "min": min(values) if values else None,
                "max": max(values) if values else None,
                "values": values,
            }
        table[name] = {"label": mine[0]["label"], "rounds": len(mine), **figures}
    return table


def _cell(figure: dict, digits: int = 0) -> str:
    if figure["median"] is None:
        return "-"
    fmt = f"{{:,.{digits}f}}"
    median, low, high = (fmt.format(figure[k]) for k in ("median", "min", "max"))
    return median if low == high else f"{median} ({low}-{high})"


def markdown(report: dict) -> str:
    table = report["table"]
    m = report["machine"]
    lines = [
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(report['started_at']))} on {m['cpu']} ({m['cores']} cores),"
        f" PostgreSQL {m['postgresql']}, commit {report.get('commit')}, load average at start {m['load_average_at_start'][0]:.1f}"
        " (shared machine);"
        f" {report['rounds']} rounds, configurations interleaved. Each cell: median over the rounds (min-max).",
        "",
        f"Dashboards beside writers: {READERS_PER_PATH} readers on the compliance summary + {READERS_PER_PATH} on the list's"
        f" first page, with {WRITERS} writers of {WRITER_ROWS}-record batches; {report['args']['duration']} s measured"
        f" after {report['args']['warmup']} s of warm-up. Then the {BATCH_ROWS:,}-record batch, {report['args']['batch_repeats']}"
        " times from one client (its median per round). Server connections: the most PostgreSQL showed to the benchmark"
        " database at once (pg_stat_activity, sampled every 0.1 s).",
        "",
        "| configuration | read p50 ms | read p95 ms | write p50 ms | write p95 ms | writer rows/s | 10k batch s | 10k rows/s"
        " | errors | server connections (mixed / 10k) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in table.items():
        lines.append(
            f"| {name}: {row['label']} | {_cell(row['read_p50_ms'], 1)} | {_cell(row['read_p95_ms'], 1)}"
            f" | {_cell(row['write_p50_ms'], 1)} | {_cell(row['write_p95_ms'], 1)} | {_cell(row['writer_rows_per_s'])}"
            f" | {_cell(row['batch_10k_s'], 2)} | {_cell(row['batch_10k_rows_per_s'])} | {_cell(row['errors'])}"
            f" | {_cell(row['server_connections_mixed'])} / {_cell(row['server_connections_batch'])} |"
        )
    lines += [
        "",
        "Per endpoint under the same load, and what the service spent: CPU seconds of gunicorn and nginx, PgBouncer and"
        " our PostgreSQL backends (from /proc) per request completed in the mixed window, and per 10,000-record batch;"
        " unlike wall times, they barely depend on what else the machine runs.",
        "",
        "| configuration | summary p95 ms | list p95 ms | reads/s | service CPU ms per request (mixed) | service CPU ms per 10k batch"
        " | machine cores busy (mixed) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in table.items():
        lines.append(
            f"| {name} | {_cell(row['summary_p95_ms'], 1)} | {_cell(row['list_p95_ms'], 1)} | {_cell(row['reads_per_s'])}"
            f" | {_cell(row['service_cpu_ms_per_request'], 2)} | {_cell(row['batch_10k_cpu_ms'])}"
            f" | {_cell(row['machine_cores_mixed'], 2)} |"
        )
    lines.append("")
    return "\n".join(lines)


def source_commit() -> str | None:
    """The commit the measured code is, with "+changes" when the work tree differs from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=dataset.ROOT, capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=dataset.ROOT, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed.stdout.strip() else "")


PEERS_MD_HEADER = '# Pool peers\n\nWritten by `python -m benchmarks.pool_peers`; the reading is in ../benchmarks.md, "Pool peers".\n\n'
CHART = "peers.png"

# The chart's panels: (figure, title, better when). Bars are medians over the rounds, whiskers the spread.
CHART_PANELS = (
    ("read_p95_ms", "dashboard read p95 (ms), beside 30 writers", "lower"),
    ("writer_rows_per_s", "writers' rows/s (100-record batches)", "higher"),
    ("batch_10k_s", "10,000-record batch, median (s)", "lower"),
    ("server_connections_mixed", "PostgreSQL server connections, most at once", "lower"),
)


def chart(report: dict, out: Path) -> Path:
    """Four panels, one bar per configuration: median over the rounds with its min-max whisker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = report["table"]
    names = list(table)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for ax, (figure, title, better) in zip(axes.flat, CHART_PANELS, strict=True):
        medians = [table[name][figure]["median"] or 0 for name in names]
        lows = [median - (table[name][figure]["min"] or median) for name, median in zip(names, medians, strict=True)]
        highs = [(table[name][figure]["max"] or median) - median for name, median in zip(names, medians, strict=True)]
        ax.bar(range(len(names)), medians, yerr=[lows, highs], capsize=4, color=colours[: len(names)])
        ax.set_xticks(range(len(names)), names, rotation=12, fontsize=8)
        ax.set_title(f"{title}; {better} is better", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    started = time.strftime("%Y-%m-%d", time.gmtime(report["started_at"]))
    fig.suptitle(f"Pool peers, {report['rounds']} rounds interleaved ({started}): median and min-max over the rounds", fontsize=10)
    fig.tight_layout()
    path = out / CHART
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> str:
    """peers.json, peers.md (tables and the chart) and peers.png; returns the tables' text."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    chart(report, out)
    text = markdown(report)
    alt = "Read p95, writers' rows/s, the 10k batch and server connections per configuration"
    (out / "peers.md").write_text(f"{PEERS_MD_HEADER}{text}\n![{alt}]({CHART})\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all configurations, interleaved")
    parser.add_argument("--configs", type=lambda s: s.split(","), default=list(PEERS), help=f"of {','.join(PEERS)}")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not measured at the start of the mixed run")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds of the mixed run")
    parser.add_argument("--batch-repeats", type=int, default=BATCH_REPEATS, help="10k batches per round and configuration")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds")
    parser.add_argument("--max-requests", type=int, default=5000, help="requests per client thread per run, at most")
    parser.add_argument("--port", type=int, default=FIRST_PORT, help="nginx; the next three: read group, write group, PgBouncer")
    parser.add_argument("--out", type=Path, default=OUT, help="where peers.json and peers.md go")
    parser.add_argument("--from-json", type=Path, help="measure nothing: write peers.md and peers.png of an earlier run's peers.json")
    args = parser.parse_args(argv)
    if args.from_json:
        print(write_report(json.loads(args.from_json.read_text(encoding="utf-8")), args.out))
        return 0
    unknown = set(args.configs) - set(PEERS)
    if unknown:
        parser.error(f"unknown configurations {sorted(unknown)}; known: {', '.join(PEERS)}")

    # Run in the background, the shell ignores SIGINT for us and SIGTERM would kill us outright:
    # both must unwind through the context managers, which stop gunicorn, nginx and PgBouncer.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = dataset.bench_env()
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    # No Celery worker runs here, so the broker's Redis database is free for the cache (read-your-writes
    # state, idempotency keys): nothing of another run's cache can leak into this one's.
    env["CACHE_URL"] = env.get("BENCH_CACHE_URL") or env["CELERY_BROKER_URL"]
    pythons = {"project": PROJECT_PYTHON, "peers": peers_python() if any(PEERS[c].venv == "peers" for c in args.configs) else None}
    run_dir = VAR / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"preparing {env['DATABASE_URL']} (logs in {run_dir})", flush=True)
    tenants = dataset.prepare(env)
    report: dict = {
        "machine": machine(),
        "commit": source_commit(),
        "started_at": time.time(),
        "rounds": args.rounds,
        "args": {k: str(v) for k, v in vars(args).items()},
        "configs": {name: {"label": PEERS[name].config.label, **asdict(PEERS[name])} for name in args.configs},
        "runs": [],
    }
    for round_number in range(1, args.rounds + 1):
        print(f"== round {round_number} of {args.rounds}", flush=True)
        for name in args.configs:
            peer = PEERS[name]
            python = pythons[peer.venv]
            assert python is not None
            result = run_one(args, name, peer, env, tenants, run_dir / f"{round_number}-{name}", python)
            result["round"] = round_number
            report["runs"].append(result)
            print(" ", line(result), flush=True)
    report["finished_at"] = time.time()
    report["load_average_at_end"] = list(os.getloadavg())
    report["table"] = aggregate(report["runs"])
    print(write_report(report, args.out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
