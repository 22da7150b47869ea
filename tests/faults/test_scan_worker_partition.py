"""A network partition between a scan's worker and PostgreSQL, made with iptables on loopback.

The worker reaches pytest's test database through 127.0.0.1:5448, which a NAT rule redirects to the
real server's port; the partition is a rule that drops every packet of the connections made to 5448,
both ways, and closes nothing: no FIN, no RST, as when a cable is cut or a host freezes. The test's
own connections (port 5432) are untouched.

Asserted: the server ends the cut-off worker's sessions by itself (the liveness session's
keepalives, the chunk transaction's keepalives and client_connection_check_interval), so its
liveness lock and its chunk's row lock go within about 20 s plus a probe; the sweep then dispatches
the scan, and a second worker completes it with every record exactly once. Without those settings the
server would keep the sessions (and the locks) for the kernel's two hours of keepalive silence.

Needs root and iptables (nat and conntrack); skipped otherwise. Slow: about a minute per broker.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from django.db import connections

from inventory.scan_services import data_scans_sweep
from inventory.tests.scan_support import (
    activities_held_from,
    activity_counts,
    held_mid_way,
    scan_row,
    start_worker,
    summary_group_held,
    tenant_client,
    wait_for_scan,
)
from tests.faults.load import save_figures
from tests.faults.servers import wait_until
from tests.faults.test_worker_idle_kill import tcp_client_ports

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["read", "write"])]

PARTITION_PORT = 5448
RECORDS, HELD_FROM = 12_000, 6_000
# Keepalive: 5 s idle + 3 probes 5 s apart = 20 s; client_connection_check_interval adds up to 5 s.
SERVER_NOTICES_WITHIN = 45

REDIRECT = ["-t", "nat", "OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport", str(PARTITION_PORT), "-j", "REDIRECT", "--to-ports"]
CUT = ["OUTPUT", "-p", "tcp", "-m", "conntrack", "--ctorigdstport", str(PARTITION_PORT), "-j", "DROP"]


def iptables(action: str, rule: list[str]) -> None:
    table = rule[:2] if rule[0] == "-t" else []
    body = rule[2:] if table else rule
    subprocess.run(["iptables", *table, action, *body], check=True, capture_output=True, timeout=30)


@pytest.fixture
def partition_route():
    """127.0.0.1:5448 leads to the test database's server; yields (cut, heal)."""
    if shutil.which("iptables") is None:
        pytest.skip("iptables not installed")
    port = str(connections["write"].settings_dict.get("PORT") or 5432)
    redirect = [*REDIRECT, port]
    try:
        iptables("-A", redirect)
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"iptables unusable here (needs root and NET_ADMIN): {exc}")
    cut_rules: list[list[str]] = []

    def cut() -> None:
        iptables("-I", CUT)
        cut_rules.append(CUT)

    def heal() -> None:
        while cut_rules:
            iptables("-D", cut_rules.pop())

    try:
        yield cut, heal
    finally:
        heal()
        iptables("-D", redirect)


def sessions_through_the_partition() -> list[tuple[str, str]]:
    """(application_name, state) of the server sessions whose clients came through the partitioned route."""
    with connections["write"].cursor() as cursor:
        cursor.execute(
            "SELECT application_name, state FROM pg_stat_activity WHERE datname = current_database() AND client_port = ANY(%s)",
            [PARTITIONED_CLIENT_PORTS or [0]],
        )
        return cursor.fetchall()


PARTITIONED_CLIENT_PORTS: list[int] = []


def test_a_worker_cut_off_from_the_database_loses_its_scan_to_another_worker_within_a_minute(broker, settings, partition_route):
    cut, heal = partition_route
    settings.DATA_SCAN_CHUNK_SIZE = 300
    settings.DATA_SCAN_ORPHAN_GRACE_SECONDS = 1
    tenant, client = tenant_client("Bị chia cắt", "bichiacat")
    db = connections["write"].settings_dict
    through_partition = f"postgresql://{db.get('USER') or 'postgres'}@127.0.0.1:{PARTITION_PORT}/{db['NAME']}"
    cut_off = start_worker(f"partitioned-{broker}", DATABASE_URL=through_partition)
    second = None
    try:
        with summary_group_held(tenant) as release:
            response = client.post(
                "/data-scans", {"tenant_id": str(tenant.pk), "activities": activities_held_from(RECORDS, HELD_FROM)}, format="json"
            )
            assert response.status_code == 202, response.content
            scan_id = response.json()["scan_id"]
            wait_for_scan(scan_id, held_mid_way, what="scan held mid-way")
            # The worker's own sockets (the server cannot tell the redirected connections apart).
            PARTITIONED_CLIENT_PORTS[:] = sorted(tcp_client_ports([cut_off.pid, *cut_off.pool_children()]))
            before = sessions_through_the_partition()
            # The liveness lock lives in a transaction left open (and idle) for the whole run.
            assert ("verisyntra-scan-liveness", "idle in transaction") in before, before
            assert data_scans_sweep() == [], "the scan's worker is alive: not due"
            cut()
            cut_at = time.monotonic()
            # The server ends both sessions by itself: the liveness lock and the chunk's lock go.
            wait_until(
                lambda: sessions_through_the_partition() == [], SERVER_NOTICES_WITHIN, "the cut-off worker's sessions ended by the server"
            )
            sessions_gone = time.monotonic() - cut_at
            release()
        wait_until(lambda: data_scans_sweep() == [scan_id], 10, "the sweep dispatches the orphaned scan", interval=0.5)
        dispatched = time.monotonic() - cut_at
        second = start_worker(f"after-partition-{broker}")
        done = wait_for_scan(scan_id, lambda s: s.status == "completed", what="scan completed by the second worker")
        completed = time.monotonic() - cut_at
    finally:
        heal()
        cut_off.stop(timeout=5)  # blocked on a socket that will never answer: SIGKILL after 5 s
        if second is not None:
            second.stop()
    rows, distinct = activity_counts(scan_id)
    save_figures(
        f"worker_partition_{broker}",
        {
            "broker": broker,
            "records": RECORDS,
            "seconds_from_cut_to_sessions_ended_by_the_server": round(sessions_gone, 1),
            "seconds_from_cut_to_dispatched_again": round(dispatched, 1),
            "seconds_from_cut_to_completed": round(completed, 1),
            "rows_found": rows,
            "distinct_record_positions": distinct,
        },
    )
    assert done.records_processed == RECORDS and (rows, distinct) == (RECORDS, RECORDS)
    assert scan_row(scan_id).status == "completed"
