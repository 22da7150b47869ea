"""What is specific to running behind PgBouncer in transaction mode (`scripts/test-pgbouncer` runs them).

Skipped when the write alias reaches PostgreSQL itself. The rest of the pooler run is the ordinary
API, scan and health tests, unchanged: the service must not need to know the pooler is there.
"""

from __future__ import annotations

import copy
import time

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings

from health.report import build_pool_report, render_text
from inventory.scan_services import LIVENESS_LOCK_CLASS, data_scan_liveness, liveness_key
from verisyntra.checks import pool_capacity_check
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pooler import pooler_in_front
from verisyntra.db.replicas import ReplicaMonitor

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@pytest.fixture
def pooler():
    found = pooler_in_front(WRITE_ALIAS)
    if found is None:
        pytest.skip("the write alias reaches PostgreSQL itself; scripts/test-pgbouncer runs these behind PgBouncer")
    return found


def test_pgbouncer_is_found_with_its_limits_on_its_admin_console(pooler):
    assert pooler.source == "admin console"
    assert pooler.version.startswith("PgBouncer ")
    assert pooler.pool_mode == "transaction"
    assert pooler.max_client_conn > 0 and pooler.default_pool_size > 0
    assert pooler.server_connections_per_pool() == pooler.default_pool_size + pooler.reserve_pool_size


def test_the_capacity_check_counts_client_connections_against_max_client_conn(pooler):
    databases = copy.deepcopy(settings.DATABASES)
    for alias in (READ_ALIAS, WRITE_ALIAS):
        databases[alias]["POOL_OPTIONS"] = {**databases[alias]["POOL_OPTIONS"], "POOL_SIZE": 1, "MAX_OVERFLOW": 0}
    fits = pooler.max_client_conn // 2  # 2 client connections per process
    with override_settings(DATABASES=databases, WEB_PROCESSES=fits, CELERY_WORKER_CONCURRENCY=0):
        assert [w.id for w in pool_capacity_check()] == []
    with override_settings(DATABASES=databases, WEB_PROCESSES=fits, CELERY_WORKER_CONCURRENCY=1):
        warnings = pool_capacity_check()
    assert [w.id for w in warnings] == ["verisyntra.W001"]
    assert f"= {2 * (fits + 1)}, but PgBouncer at {pooler.host}:{pooler.port} accepts {pooler.max_client_conn} clients" in warnings[0].msg


def test_a_statement_timeout_cancels_a_read_through_pgbouncer():
    from django.db import OperationalError

    from verisyntra.api.errors import is_query_timeout

    assert connections[READ_ALIAS].settings_dict["STATEMENT_TIMEOUT_MS"] > 0
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{connections[READ_ALIAS].settings_dict['STATEMENT_TIMEOUT_MS'] // 1000}s"
    saved = connections[READ_ALIAS].settings_dict["OPTIONS"]
    from verisyntra.db.pools import reset_pools
    from verisyntra.db.timeouts import timeout_cursor

    connections[READ_ALIAS].close()
    reset_pools([READ_ALIAS])
    connections[READ_ALIAS].settings_dict["OPTIONS"] = {**saved, "cursor_factory": timeout_cursor(300)}
    try:
        with pytest.raises(OperationalError) as raised:
            with connections[READ_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_sleep(5)")
        assert is_query_timeout(raised.value)
    finally:
        connections[READ_ALIAS].close()
        reset_pools([READ_ALIAS])
        connections[READ_ALIAS].settings_dict["OPTIONS"] = saved


def liveness_locks(scan_id: str) -> int:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s::bigint::oid",
            [LIVENESS_LOCK_CLASS, liveness_key(scan_id) & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


def test_a_scans_liveness_lock_ends_with_its_run_through_pgbouncer(pooler):
    # A session-level lock would stay on the server connection PgBouncer keeps after the client leaves.
    scan_id = "6f1c2b9e-0000-4000-8000-00000000abcd"
    with data_scan_liveness(scan_id=scan_id):
        assert liveness_locks(scan_id) == 1
    # PgBouncer closes the server connection as it sees the client go, a moment after close() returns.
    deadline = time.monotonic() + 5
    while liveness_locks(scan_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert liveness_locks(scan_id) == 0


def test_the_replica_monitor_probes_through_pgbouncer(pooler):
    # The probe once sent `options`, which PgBouncer refuses: every replica behind it looked down.
    state = ReplicaMonitor((READ_ALIAS,), interval=60, max_lag=5).probe_once()[READ_ALIAS]
    assert state.healthy and state.status == "not_in_recovery", state


def test_pool_report_says_which_figures_are_per_client_and_which_per_server(pooler):
    report = build_pool_report(leak_threshold_seconds=60)
    server = report["servers"][0]
    assert server["pooler"]["source"] == "admin console"
    assert server["pooler"]["max_client_conn"] == pooler.max_client_conn
    assert server["configured_need"] <= pooler.server_connections_per_pool()
    assert report["sizing"]["behind_pooler"] is True
    assert "write_usable_total" in report["sizing"]["counted_per"]["client"]
    text = render_text(report)
    assert f"behind PgBouncer {pooler.version.split()[1]} (admin console, transaction mode)" in text
    assert "sau PgBouncer" in render_text(report, "vi")
