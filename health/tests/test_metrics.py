"""/metrics: the Prometheus text format, per-pool series, and values merged across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from health.metrics import HOST, process_identifier
from inventory.models import Tenant
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS]),
    pytest.mark.urls("health.tests.urls"),
]

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_exposes_every_pool_series_to_staff(staff_client):
    response = staff_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    values = samples(response.content.decode())
    for alias in POOLED_ALIASES:
        pool = (("pool", alias),)
        assert ("verisyntra_pool_connections_in_use", pool) in values
        assert ("verisyntra_pool_connections_open", pool) in values
        assert ("verisyntra_pool_utilization_ratio", pool) in values
        assert ("verisyntra_pool_exhausted_total", pool) in values
        assert ("verisyntra_pool_checkout_wait_seconds_count", pool) in values
        assert ("verisyntra_pool_checkout_wait_seconds_bucket", (("le", "+Inf"), ("pool", alias))) in values


def test_every_checkout_is_timed_and_in_use_follows_checkout_and_checkin(staff_client):
    key = ("verisyntra_pool_checkout_wait_seconds_count", (("pool", READ_ALIAS),))
    before = samples(staff_client.get("/metrics").content.decode())
    Tenant.objects.count()  # one checkout of a read connection, still held by this thread
    held = samples(generate_latest().decode())
    assert held[key] == before[key] + 1
    assert held[("verisyntra_pool_connections_in_use", (("pool", READ_ALIAS),))] == 1
    assert held[("verisyntra_pool_utilization_ratio", (("pool", READ_ALIAS),))] == pytest.approx(1 / 30)
    connections[READ_ALIAS].close()
    returned = samples(generate_latest().decode())
    assert returned[("verisyntra_pool_connections_in_use", (("pool", READ_ALIAS),))] == 0
    assert returned[("verisyntra_pool_connections_open", (("pool", READ_ALIAS),))] >= 1


def test_record_scan_finished_counts_by_status(staff_client):
    from health.metrics import record_scan_finished

    key = ("verisyntra_data_scans_finished_total", (("status", "completed"),))
    before = samples(staff_client.get("/metrics").content.decode()).get(key, 0.0)
    record_scan_finished("completed")
    record_scan_finished("completed")
    assert samples(staff_client.get("/metrics").content.decode())[key] == before + 2


CHILD = textwrap.dedent(
    """
    import os, sys
    import django
    django.setup()
    from django.db import connections
    from health.metrics import record_exhaustion, record_scan_finished
    from verisyntra.db.pools import PoolExhausted

    connections["read"].ensure_connection()  # a real checkout, held
    record_exhaustion(PoolExhausted("write", 50, 20, 10.0, 10.0))
    record_scan_finished("completed")
    print("held", flush=True)
    sys.stdin.readline()
    connections["read"].close()
    """
)


def test_values_from_several_processes_are_merged_and_dead_processes_drop_their_gauges(tmp_path):
    """What gunicorn's workers do: each process writes its own files; one scrape merges them."""
    db = settings.DATABASES[WRITE_ALIAS]
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "verisyntra.settings",
        # The test database, which only exists while this test session runs.
        "DATABASE_URL": f"postgresql://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "READ_DATABASE_URL": "",
    }
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "held"

        def scrape() -> dict:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
            return samples(generate_latest(registry).decode())

        # Named after host and pid: containers sharing the directory reuse the same pids.
        for child in children:
            assert {path.name for path in tmp_path.glob(f"*_{HOST}-{child.pid}.db")} >= {
                f"counter_{HOST}-{child.pid}.db",
                f"gauge_livesum_{HOST}-{child.pid}.db",
            }
        assert not [path.name for path in tmp_path.glob("*.db") if not path.name.split("_")[-1].startswith(f"{HOST}-")]
        both = scrape()
        assert both[("verisyntra_pool_connections_in_use", (("pool", READ_ALIAS),))] == 2
        assert both[("verisyntra_pool_exhausted_total", (("pool", WRITE_ALIAS),))] == 2
        assert both[("verisyntra_data_scans_finished_total", (("status", "completed"),))] == 2

        children[0].communicate("\n", timeout=30)
        multiprocess.mark_process_dead(process_identifier(children[0].pid), str(tmp_path))  # gunicorn's child_exit hook
        one = scrape()
        assert one[("verisyntra_pool_connections_in_use", (("pool", READ_ALIAS),))] == 1
        # Counters keep what the dead process counted.
        assert one[("verisyntra_pool_exhausted_total", (("pool", WRITE_ALIAS),))] == 2
    finally:
        for child in children:
            if child.poll() is None:
                child.communicate("\n", timeout=30)
