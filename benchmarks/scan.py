"""Data-scan benchmark: a 100,000-record scan written by a real Celery worker vs a raw `psql \\copy`.

    .venv/bin/python -m benchmarks.scan                      # 100,000 records, 3 rounds
    .venv/bin/python -m benchmarks.scan --records 20000 --rounds 1 --no-alternatives

In one run, on the same validated rows, into the same table with the same indexes (emptied
before every pass, so each pass starts alike):
- `psql \\copy` of the rows, pre-formatted as COPY text in a file (the floor: no Python, no
  idempotency);
- the scan as the service runs it: `data_scan_submit` stores the records, a `celery worker`
  process (concurrency 1) writes them; worker-side rate = records / (completed_at - started_at),
  the scan's own timestamps. Submission (storing the records) is timed separately;
- with `--alternatives` (default), the service's chunk-writing loop run in this process for several
  chunk sizes (what chose DATA_SCAN_CHUNK_SIZE). The scan has one write path, the insert from the
  stored JSONB; fetching a chunk's records and COPYing them back was measured slower
  (docs/benchmarks.md, "Data scans") and is no longer in the code.

Its own database `bench_verisyntra_scans` (DATABASE_URL overrides; the name must start with
`bench_`), created and migrated when missing; its own broker (BENCH_CELERY_BROKER_URL, default
Redis database 4). The machine is shared: compare the ratios printed side by side, not the
absolute figures of different runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import samples
from benchmarks.dataset import ensure_database, service_env

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_verisyntra_scans"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/4"
VENV_BIN = Path(sys.executable).parent


CATEGORIES = ("Category 2: Basic Personal Data", "Category 1: Sensitive Personal Data", "Category 3: Public Data")


def record(i: int) -> dict:
    """The i-th realistic activity: Vietnamese text, three categories, a few list fields."""
    return {
        "activity_name": samples.SCAN["activity_name"].format(branch=i % 97, i=i),
        "pdpl_category": CATEGORIES[i % 3],
        "data_fields": ["ho_ten", "ngay_sinh", "so_dien_thoai", "email", "dia_chi"],
        "purpose": samples.SCAN["purpose"],
        "legal_basis": ("consent", "contract", "legitimate_interest")[i % 3],
        "data_subjects": ["khach_hang"],
        "recipients": ["bo_phan_cskh", "doi_tac_van_chuyen"],
        "cross_border_transfer": i % 10 == 0,
        "retention_months": 24 + i % 36,
    }


def records(count: int) -> list[dict]:
    """The first `count` realistic activities (`record`)."""
    return [record(i) for i in range(count)]


class Worker:
    """`celery -A verisyntra worker` in its own process group; only that group is ever signalled."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(log, "ab")  # noqa: SIM115 - open for the life of the worker, closed in stop()
        offset = log.stat().st_size
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "verisyntra",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                f"bench-scans-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while " ready." not in log.read_text(errors="replace")[offset:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the Celery worker did not start; see {log}")
            time.sleep(0.2)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._file.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="psql and worker passes, interleaved")
    parser.add_argument("--chunk-size", type=int, default=None, help="the worker passes' chunk size (default: the setting)")
    parser.add_argument("--alternatives", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--chunk-sizes", default="1000,2500,5000,10000,20000")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    broker_url = os.environ.get("BENCH_CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    ensure_database(database_url)
    env = {key: value for key, value in os.environ.items() if key not in {"READ_DATABASE_URL", "READ_DATABASE_URLS", "TEST_DATABASE_NAME"}}
    env.update(
        {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_SETTINGS_MODULE": "verisyntra.settings",
            "LOG_LEVEL": "WARNING",
            "WRITE_POOL_SIZE": "4",
            "READ_POOL_SIZE": "4",
        }
    )
    os.environ.clear()
    os.environ.update(env)
    # The worker as deployed (the runtime role, under row-level security); this process keeps the superuser.
    env = service_env(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from inventory.models import DataScan, Tenant
    from inventory.validation import activities_validate

    chunk_size = args.chunk_size or settings.DATA_SCAN_CHUNK_SIZE
    tenant = Tenant.objects.filter(name="bench-scans").first() or Tenant.objects.create(name="bench-scans")
    started = time.perf_counter()
    result = activities_validate(records(args.records))
    assert result.ok, result.errors[:3]
    rows = result.rows
    print(f"{args.records:,} records validated in {time.perf_counter() - started:.2f} s (request-side cost)")

    tsv = ROOT / "var" / "bench" / "scan-rows.tsv"
    worker = Worker(env, ROOT / "var" / "bench" / "celery-scan-worker.log")
    psql_times: list[float] = []
    worker_times: list[float] = []
    submit_times: list[float] = []
    try:
        for round_number in range(1, args.rounds + 1):
            psql_times.append(psql_copy_pass(tenant, rows, tsv, database_url))
            submit_seconds, worker_seconds = worker_pass(tenant, rows, chunk_size)
            submit_times.append(submit_seconds)
            worker_times.append(worker_seconds)
            print(
                f"round {round_number}: psql \\copy {rate(args.records, psql_times[-1])} | "
                f"worker {rate(args.records, worker_seconds)} (chunk {chunk_size}) | submission {submit_seconds:.2f} s"
            )
    finally:
        worker.stop()
    psql_median = statistics.median(psql_times)
    worker_median = statistics.median(worker_times)
    print()
    print(f"| measure ({args.records:,} records, median of {args.rounds}) | seconds | rows/s |")
    print("| --- | ---: | ---: |")
    print(f"| `psql \\copy` (same rows, pre-formatted file) | {psql_median:.2f} | {args.records / psql_median:,.0f} |")
    print(f"| scan, worker-side (chunk {chunk_size}) | {worker_median:.2f} | {args.records / worker_median:,.0f} |")
    print(f"| scan submission (store the records, before the 202) | {statistics.median(submit_times):.2f} | |")
    print(
        f"\nworker / psql rate: {psql_median / worker_median:.2f} (target >= 0.5); "
        f"worker rate target >= 30,000 rows/s: {'met' if args.records / worker_median >= 30_000 else 'NOT met'}"
    )

    if args.alternatives:
        print("\nIn this process (no Celery), the chunk loop for several chunk sizes:")
        print("| chunk size | insert from stored JSONB (service) rows/s |")
        print("| ---: | ---: |")
        for size in [int(s) for s in args.chunk_sizes.split(",") if s]:
            seconds = in_process_pass(tenant, rows, size)
            print(f"| {size:,} | {args.records / seconds:,.0f} |")
    empty_table()  # before deleting the scans: no SET NULL over 100,000 activities
    DataScan.objects.filter(tenant=tenant).delete()


def rate(count: int, seconds: float) -> str:
    return f"{seconds:.2f} s = {count / seconds:,.0f} rows/s"


def empty_table() -> None:
    from django.db import connections

    with connections["write"].cursor() as cursor:
        cursor.execute("TRUNCATE inventory_processingactivity, inventory_datascanchunk")
        cursor.execute("CHECKPOINT")  # each pass starts with no dirty pages left by the previous one


def psql_copy_pass(tenant, rows, tsv: Path, database_url: str) -> float:
    from inventory.models import DataScan
    from inventory.services import ACTIVITY_COPY_COLUMNS, _ActivityCopyStream

    empty_table()
    scan = DataScan.objects.create(
        tenant=tenant, status="completed", records_total=len(rows), records_processed=len(rows), progress_percent=100
    )
    # The batch path's COPY text, each line extended by the scan's two columns, as the scan writes them.
    stream = _ActivityCopyStream(rows, tenant_id=str(tenant.pk))
    tsv.parent.mkdir(parents=True, exist_ok=True)
    index = 0
    with tsv.open("w") as out:
        while block := stream.read():
            for line in block.splitlines():
                out.write(f"{line}\t{scan.pk}\t{index}\n")
                index += 1
    columns = ", ".join((*ACTIVITY_COPY_COLUMNS, "data_scan_id", "scan_record_index"))
    command = f"\\copy inventory_processingactivity ({columns}) FROM '{tsv}'"
    started = time.perf_counter()
    subprocess.run(["psql", database_url, "-v", "ON_ERROR_STOP=1", "-qc", command], check=True)
    return time.perf_counter() - started


def worker_pass(tenant, rows, chunk_size: int) -> tuple[float, float]:
    from inventory.models import DataScan, ProcessingActivity
    from inventory.scan_services import data_scan_submit

    empty_table()
    started = time.perf_counter()
    scan = data_scan_submit(tenant=tenant, rows=rows, chunk_size=chunk_size)
    submit_seconds = time.perf_counter() - started
    deadline = time.monotonic() + 600
    while True:
        scan = DataScan.objects.using("write").get(pk=scan.pk)
        if scan.status in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if scan.status != "completed":
        sys.exit(f"scan ended {scan.status}: {scan.error}")
    written = ProcessingActivity.objects.using("write").filter(data_scan=scan).count()
    assert written == len(rows), (written, len(rows))
    return submit_seconds, (scan.completed_at - scan.started_at).total_seconds()


def stored_scan(tenant, rows, chunk_size: int):
    """A scan and its chunks, as data_scan_submit stores them, but not sent to the broker."""
    from inventory.models import DataScan
    from inventory.scan_services import data_scan_store

    scan = data_scan_store(tenant=tenant, rows=rows, chunk_size=chunk_size)
    DataScan.objects.filter(pk=scan.pk).update(status="processing")
    scan.status = "processing"
    return scan


def in_process_pass(tenant, rows, chunk_size: int) -> float:
    """The service's chunk loop (`data_scan_chunk_write`) in this process, without Celery."""
    from inventory.models import ProcessingActivity
    from inventory.scan_services import data_scan_chunk_write

    empty_table()
    scan = stored_scan(tenant, rows, chunk_size)
    started = time.perf_counter()
    while data_scan_chunk_write(scan=scan) is not None:
        pass
    seconds = time.perf_counter() - started
    assert ProcessingActivity.objects.using("write").filter(data_scan=scan).count() == len(rows)
    return seconds


if __name__ == "__main__":
    main()
