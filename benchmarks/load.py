"""The load driver: closed-loop dashboard readers and writers over HTTP (httpx), in separate processes.

Readers and writers run in two driver processes, so the driver's own interpreter lock never adds
writer work to a dashboard's measured latency. Every thread loops (no think time) from a common
start, the first `warmup` seconds are not counted, and each thread stops at the end of the
window or after `max_requests`, whichever comes first. A request that exceeds the client timeout
counts as a timeout; a 503 (pool exhausted) as a rejection, after which the writer honours
Retry-After, as a well-behaved client would.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from dataclasses import dataclass

import httpx

from benchmarks import samples

DASHBOARD_PATH = "/analytics/compliance-summary"
BATCH_PATH = "/batch/processing-activities"
SCANS_PATH = "/data-scans"


@dataclass(frozen=True)
class Workload:
    name: str
    readers: int
    writers: int
    writer_kind: str = "batch"  # "batch" (POST a batch) or "scan" (POST a data scan, wait for the worker)
    batch_rows: int = 2000
    reader_path: str = DASHBOARD_PATH


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str
    dashboard_tenant: str
    writer_tenants: tuple[str, ...]


def activities(rows: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    categories = [
        "Category 1: Sensitive Personal Data",
        "Category 2: Basic Personal Data",
        "Category 3: Public Data",
    ]
    fields = ["ho_ten", "dia_chi", "so_dien_thoai", "email", "ngay_sinh", "so_cccd"]
    return [
        {
            "activity_name": samples.LOAD["activity_name"].format(seed=seed, i=i),
            "pdpl_category": rng.choice(categories),
            "data_fields": rng.sample(fields, rng.randint(1, 4)),
            "purpose": samples.LOAD["purpose"],
            "legal_basis": "consent",
            "data_subjects": ["khach_hang"],
            "cross_border_transfer": rng.random() < 0.2,
            "retention_months": 24,
        }
        for i in range(rows)
    ]


def _client(target: Target, timeout: float) -> httpx.Client:
    return httpx.Client(
        base_url=target.base_url,
        headers={"Authorization": f"Token {target.token}"},
        timeout=httpx.Timeout(timeout, connect=timeout),
    )


def _reader(
    target: Target, workload: Workload, start: float, measure_from: float, end: float, timeout: float, max_requests: int, out: list
):
    with _client(target, timeout) as client:
        time.sleep(max(0.0, start - time.time()))
        params = {"tenant_id": target.dashboard_tenant}
        for _ in range(max_requests):
            began = time.time()
            if began >= end:
                break
            t0 = time.perf_counter()
            try:
                status = client.get(workload.reader_path, params=params).status_code
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.TransportError as exc:
                status = f"transport:{type(exc).__name__}"
            elapsed = time.perf_counter() - t0
            if began >= measure_from:
                out.append((began, elapsed, status))


def _writer(target, workload: Workload, index: int, start, measure_from, end, timeout, max_requests, out: list):
    tenant = target.writer_tenants[index % len(target.writer_tenants)]
    rows = activities(workload.batch_rows, seed=index)
    with _client(target, timeout) as client:
        if workload.writer_kind == "batch":
            body = json.dumps({"activities": rows}, ensure_ascii=False).encode()
            url, params = BATCH_PATH, {"tenant_id": tenant}
        else:
            body = json.dumps({"tenant_id": tenant, "activities": rows}, ensure_ascii=False).encode()
            url, params = SCANS_PATH, {"tenant_id": tenant}
        headers = {"Content-Type": "application/json"}
        time.sleep(max(0.0, start - time.time()))
        for _ in range(max_requests):
            began = time.time()
            if began >= end:
                break
            t0 = time.perf_counter()
            written, retry_after = 0, 0.0
            try:
                response = client.post(url, params=params, content=body, headers=headers)
                status = response.status_code
                if status in (200, 201):
                    written = workload.batch_rows
                elif status == 202:
                    status, written = _wait_for_scan(client, response.json(), tenant, end + timeout)
                elif status == 503:
                    retry_after = float(response.headers.get("Retry-After", "1"))
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.TransportError as exc:
                status = f"transport:{type(exc).__name__}"
            finished = time.time()
            elapsed = time.perf_counter() - t0
            if finished >= measure_from:
                out.append((began, finished, elapsed, status, written))
            if retry_after:
                time.sleep(min(retry_after, max(0.0, end - time.time())))


def _wait_for_scan(client: httpx.Client, accepted: dict, tenant: str, give_up_at: float) -> tuple[object, int]:
    """Poll a data scan until the worker finishes it; its rows count only when it completed."""
    path = f"{SCANS_PATH}/{accepted.get('scan_id')}"
    while time.time() < give_up_at:
        scan = client.get(path, params={"tenant_id": tenant}).json()
        if scan.get("status") == "completed":
            return 201, int(scan.get("records_processed", 0))
        if scan.get("status") == "failed":
            return "scan_failed", 0
        time.sleep(0.1)
    return "timeout", 0


def _role_process(role, target, workload, start, measure_from, end, timeout, max_requests, queue):
    samples: list = []
    threads = []
    count = workload.readers if role == "reader" else workload.writers
    for index in range(count):
        if role == "reader":
            args = (target, workload, start, measure_from, end, timeout, max_requests, samples)
            thread = threading.Thread(target=_reader, args=args, daemon=True)
        else:
            args = (target, workload, index, start, measure_from, end, timeout, max_requests, samples)
            thread = threading.Thread(target=_writer, args=args, daemon=True)
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, end - time.time()) + timeout + 5)
    queue.put((role, list(samples)))


def drive(target: Target, workload: Workload, *, warmup: float, duration: float, timeout: float, max_requests: int) -> dict:
    """Run one workload against a running service; return raw samples and the measurement window."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start = time.time() + 1.5  # let every driver thread connect first
    measure_from = start + warmup
    end = measure_from + duration
    roles = [role for role, n in (("reader", workload.readers), ("writer", workload.writers)) if n]
    processes = [
        context.Process(
            target=_role_process,
            args=(role, target, workload, start, measure_from, end, timeout, max_requests, queue),
        )
        for role in roles
    ]
    for process in processes:
        process.start()
    results = dict(queue.get(timeout=end - time.time() + timeout + 30) for _ in processes)
    for process in processes:
        process.join(timeout=10)
    return {
        "window": [measure_from, end],
        "readers": results.get("reader", []),
        "writers": results.get("writer", []),
    }
