"""Read routing against real PostgreSQL streaming replicas (scripts/replica), not a mirror of the primary.

Run with `scripts/test-replica`: it starts two replicas (ports 5433 and 5434) and points
READ_DATABASE_URLS at them. Each test starts with both replicas running, undelayed and caught up;
lag is simulated with recovery_min_apply_delay (the replica receives the WAL at once, and applies
each commit that many seconds late).
"""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, router
from django.test import Client

from health.tests.conftest import rebuilt_pool
from health.tests.operators import staff_headers
from inventory.models import ProcessingActivity, Tenant
from inventory.tests.api_support import activities, member_of_new_tenant, post_batch
from tests.replica.conftest import wait_until
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.pinning import PIN_COOKIE
from verisyntra.db.replicas import healthy_read_aliases, probed_aliases, read_fallback_active, replica_report, replica_states
from verisyntra.db.tenant_scope import acting_for, no_tenant

# Upper bound for "eventually" on a shared 2-core machine where a restarted replica may first
# replay minutes of other tests' WAL; a passing run waits far less (the checks do not depend on speed).
PATIENCE = 90

pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(not probed_aliases(), reason="needs READ_DATABASE_URLS on streaming replicas: run scripts/test-replica"),
    pytest.mark.django_db(transaction=True, databases=list(POOLED_ALIASES)),
    pytest.mark.urls("tests.replica.urls"),
]


def server_facts(alias: str) -> tuple[bool, int]:
    """(pg_is_in_recovery(), backend pid) of this thread's connection on `alias`."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), pg_backend_pid()")
        return cursor.fetchone()


def call_command_output(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def read_as_new_client(tenant_id) -> dict:
    """A client that never wrote: no pin cookie."""
    return Client().get(f"/tenants/{tenant_id}").json()


def test_reads_are_served_by_a_replica_and_writes_by_the_primary(replicas, query_log):
    tenant = Tenant.objects.create(name="Streamed")
    wait_until(lambda: Tenant.objects.filter(pk=tenant.pk).exists(), timeout=PATIENCE, what="the row to reach the replica")

    write_alias, write_pid, insert_sql = query_log.entries[0]
    read_alias, read_pid, select_sql = query_log.entries[-1]
    assert insert_sql.startswith("INSERT") and write_alias == WRITE_ALIAS
    assert select_sql.startswith("SELECT") and read_alias in replicas
    # The very backends that ran the statements: the read one is a standby, the write one is not.
    assert server_facts(read_alias) == (True, read_pid)
    assert server_facts(WRITE_ALIAS) == (False, write_pid)


def test_reads_are_spread_across_the_replicas_one_replica_per_request(replicas):
    if len(replicas) < 2:
        pytest.skip("needs two replicas (READ_DATABASE_URLS with two URLs)")
    tenant = Tenant.objects.create(name="Spread")
    for replica in replicas.values():
        replica.wait_caught_up(PATIENCE)

    bodies = [read_as_new_client(tenant.pk) for _ in range(8)]

    ports = {replica.port: alias for alias, replica in replicas.items()}
    for body in bodies:
        assert body["found"] and body["in_recovery"]
        assert len(set(body["aliases"])) == 1, "both reads of one request go to one replica"
        assert ports[body["port"]] == body["aliases"][0]
    assert {body["port"] for body in bodies} == set(ports), "every replica serves some requests"


def test_a_client_reads_its_own_write_on_its_next_request_while_the_replica_lags(replicas, client):
    delay = settings.REPLICA_MAX_LAG_SECONDS / 2  # lagging, but within the limit: the replicas keep serving reads
    for replica in replicas.values():
        replica.set_delay(delay)

    created = client.post("/tenants", {"name": "Mine"})
    tenant_id = created.json()["id"]
    own = client.get(f"/tenants/{tenant_id}").json()
    other = read_as_new_client(tenant_id)

    assert PIN_COOKIE in created.cookies
    assert created.cookies[PIN_COOKIE]["max-age"] == int(settings.PRIMARY_PIN_SECONDS)
    assert own == {**own, "found": True, "in_recovery": False, "aliases": [WRITE_ALIAS, WRITE_ALIAS]}
    # Another client reads the lagging replica, which does not have the row yet: the pin is what made the difference.
    assert other["in_recovery"] is True and other["found"] is False
    lagging = wait_until(
        lambda: [s for s in replica_states() if (s.lag_seconds or 0) >= delay * 0.8],
        timeout=PATIENCE,
        what="the monitor to measure the lag",
    )
    assert all(state.healthy and state.status == "streaming" for state in replica_states())
    assert lagging
    wait_until(lambda: read_as_new_client(tenant_id)["found"], timeout=PATIENCE, what="the write to reach the replicas")


def rows_on_replicas(tenant_id) -> list[int]:
    counts = []
    for alias in probed_aliases():
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inventory_processingactivity WHERE tenant_id = %s", [tenant_id])
            counts.append(cursor.fetchone()[0])
    return counts


def test_through_the_api_a_client_sees_its_batch_at_once_while_the_replicas_lag(replicas):
    """The real write path (COPY, which the router never sees) and the real read path (analytics)."""
    delay = settings.REPLICA_MAX_LAG_SECONDS / 2
    member = member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet")
    writer, other_session = member.client(), member.client()  # same user, two cookie jars
    for replica in replicas.values():
        replica.wait_caught_up(PATIENCE)
        replica.set_delay(delay)

    created = post_batch(writer, member.tenant.pk, {"activities": activities(3)})
    listed_by_writer = writer.get(f"/analytics/processing-activities?tenant_id={member.tenant.pk}")
    listed_elsewhere = other_session.get(f"/analytics/processing-activities?tenant_id={member.tenant.pk}")

    assert created.status_code == 201 and PIN_COOKIE in created.cookies
    assert listed_by_writer.json()["count"] == 3, "the writer reads its batch on its next request"
    # The same caller without the cookie: its token's write position (shared cache) pins it too.
    assert listed_elsewhere.json()["count"] == 3, "the caller's other session reads its batch as well"
    assert rows_on_replicas(member.tenant.pk) == [0] * len(replicas), "the lagging replicas do not have it yet"
    wait_until(
        lambda: rows_on_replicas(member.tenant.pk) == [3] * len(replicas),
        timeout=PATIENCE,
        what="the batch to reach the replicas",
    )


def test_reads_fall_back_to_the_primary_while_the_replicas_are_down_and_return_when_they_recover(replicas):
    tenant = Tenant.objects.create(name="Fallback")
    staff = staff_headers()
    for replica in replicas.values():
        replica.wait_caught_up(PATIENCE)
    timeout = PATIENCE

    for replica in replicas.values():
        replica.stop()
    wait_until(read_fallback_active, timeout=timeout, what="reads to fall back to the primary")

    during = read_as_new_client(tenant.pk)
    report = replica_report()
    health = Client(headers=staff).get("/health/database")
    pool_report = json.loads(call_command_output("pool_report", "--json"))
    assert during == {**during, "found": True, "in_recovery": False, "aliases": [WRITE_ALIAS, WRITE_ALIAS]}
    assert report["fallback_to_primary"] is True and report["reads_served_by"] == "primary"
    assert {state["status"] for state in report["read_aliases"]} == {"down"}
    # Still serving (from the primary): a warning for probes and load balancers, not a 503.
    assert health.status_code == 200
    assert (health.json()["status"], health.json()["status_vi"]) == ("warning", "Cảnh báo")
    assert health.json()["read_replicas"]["fallback_to_primary"] is True
    assert pool_report["read_replicas"]["fallback_to_primary"] is True and pool_report["status"] == "warning"
    assert any("every read is served by the primary" in finding["en"] for finding in pool_report["findings"])

    first, *others = replicas.values()
    first.start()
    wait_until(lambda: healthy_read_aliases() == (first.alias,), timeout=timeout, what=f"{first.alias} to serve reads again")
    assert {read_as_new_client(tenant.pk)["port"] for _ in range(4)} == {first.port}, "only the replica that is up serves reads"

    for replica in others:
        replica.start()
    wait_until(lambda: set(healthy_read_aliases()) == set(replicas), timeout=timeout, what="every replica back")
    after = replica_report()
    assert after["fallback_to_primary"] is False and after["reads_served_by"] == "replicas"
    healthy = Client(headers=staff).get("/health/database").json()
    assert healthy["status"] == "healthy" and healthy["read_replicas"]["reads_served_by"] == "replicas"


def test_a_replica_lagging_past_the_limit_serves_no_reads_until_it_catches_up(replicas):
    limit = settings.REPLICA_MAX_LAG_SECONDS
    for replica in replicas.values():
        replica.set_delay(limit * 4)
    Tenant.objects.create(name="Held back")  # a commit the replicas must hold back

    wait_until(
        lambda: all(state.status == "lagging" for state in replica_states()), timeout=PATIENCE, what="the replicas to be reported lagging"
    )
    assert router.db_for_read(Tenant) == WRITE_ALIAS
    assert all(state.lag_seconds > limit and not state.healthy for state in replica_states())

    for replica in replicas.values():
        replica.set_delay(0)
    wait_until(lambda: set(healthy_read_aliases()) == set(replicas), timeout=PATIENCE, what="the replicas to catch up")
    assert router.db_for_read(Tenant) in replicas


def test_a_replicas_pool_of_one_alternating_between_tenants_never_carries_one_into_the_other(replicas):
    """Row-level security on the hot standbys: the policies and grants replicate with the tables, and
    the tenant set with each statement ends with its transaction on a replica's pooled connection too."""
    members = [member_of_new_tenant(f"Công ty Bản Sao {name}", f"rls-replica-{name}") for name in ("a", "b")]
    for member, rows in zip(members, (3, 5), strict=True):
        created = post_batch(member.client(), member.tenant.pk, {"activities": activities(rows)})
        assert created.status_code == 201, created.content
    for replica in replicas.values():
        replica.wait_caught_up(PATIENCE)
    tenant_ids = [member.tenant.pk for member in members]
    table = ProcessingActivity._meta.db_table
    for alias in replicas:
        with rebuilt_pool(alias, POOL_SIZE=1, MAX_OVERFLOW=0):
            pids = set()
            for _ in range(5):
                for tenant_id, own in zip(tenant_ids, (3, 5), strict=True):
                    with acting_for(tenant_id), connections[alias].cursor() as cursor:
                        cursor.execute(f"SELECT pg_is_in_recovery(), pg_backend_pid(), count(*) FROM {table}")
                        in_recovery, pid, seen = cursor.fetchone()
                        cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = ANY(%s)", [tenant_ids])
                        assert (in_recovery, seen, cursor.fetchone()[0]) == (True, own, own), (alias, tenant_id)
                    with no_tenant(), connections[alias].cursor() as cursor:
                        cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = ANY(%s)", [tenant_ids])
                        assert cursor.fetchone()[0] == 0, "between tenants the same connection sees nothing"
                    pids.add(pid)
                    connections[alias].close()  # back to the pool of one
            assert len(pids) == 1, f"{alias}: one pooled connection served every checkout"
