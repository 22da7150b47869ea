"""Per-request cost of a pooled connection against a new connection per request.

The original pool sizing promised that pools cut connection overhead by 40%. Two measurements:

- in one process, the database part of a request alone: take a connection, run one short query,
  give it back; through the service's pooled `read` alias, and through Django's own PostgreSQL
  backend, which connects and disconnects every time (CONN_MAX_AGE=0, what Django does unpooled);
- end to end over HTTP: the same dashboard request from 5 concurrent clients, against the service
  as configured and against the same service on `benchmarks.settings_unpooled`.

`python -m benchmarks.connection_cost` prints the in-process figures as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ITERATIONS = 400


def _in_process() -> dict:
    import django

    django.setup()
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    from benchmarks.stats import percentiles_ms

    def timed(connection) -> list[float]:
        samples = []
        for _ in range(ITERATIONS):
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            connection.close()  # pooled: back to the pool; unpooled: disconnect
            samples.append(time.perf_counter() - t0)
        return samples

    pooled = connections["read"]
    settings_dict = {**pooled.settings_dict, "ENGINE": "django.db.backends.postgresql"}
    unpooled = DatabaseWrapper(settings_dict, alias="unpooled")
    timed(pooled)[:0], timed(unpooled)[:0]  # warm both paths (imports, first pool connection)
    results = {}
    for _round in range(2):  # interleaved, so background load hits both alike
        for name, connection in (("pooled", pooled), ("new_connection", unpooled)):
            results.setdefault(name, []).extend(timed(connection))
    summary = {name: {"iterations": len(v), **percentiles_ms(v, digits=2)} for name, v in results.items()}
    summary["saved_percent_of_mean"] = round(100 * (1 - summary["pooled"]["mean"] / summary["new_connection"]["mean"]), 1)
    return summary


def run(env: dict[str, str], tenants, run_dir: Path) -> dict:
    from benchmarks.load import Target, Workload, drive
    from benchmarks.pools import DESIGN, FIRST_PORT
    from benchmarks.service import Service
    from benchmarks.stats import summarize_readers

    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.connection_cost"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode:
        raise RuntimeError(completed.stderr)
    result = {"in_process": json.loads(completed.stdout.strip().splitlines()[-1]), "http": {}}
    workload = Workload("dashboards-5", readers=5, writers=0)
    configs = {
        "pooled": DESIGN,
        "new_connection": replace(
            DESIGN, name="unpooled", label="no pool", extra_env={"DJANGO_SETTINGS_MODULE": "benchmarks.settings_unpooled"}
        ),
    }
    for offset, (name, config) in enumerate(configs.items()):
        with Service(config, env, FIRST_PORT + 90 + offset, run_dir / f"connections-{name}", worker=False) as service:
            target = Target(service.base_url, tenants.token, tenants.dashboard, tenants.writers)
            raw = drive(target, workload, warmup=1.0, duration=6.0, timeout=30.0, max_requests=3000)
            result["http"][name] = summarize_readers(raw["readers"], tuple(raw["window"]))
    pooled, new = result["http"]["pooled"]["latency_ms"], result["http"]["new_connection"]["latency_ms"]
    if pooled["mean"] and new["mean"]:
        result["http"]["saved_percent_of_mean"] = round(100 * (1 - pooled["mean"] / new["mean"]), 1)
    return result


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    print(json.dumps(_in_process()))
