"""Read-your-writes for an API caller that keeps no cookies, by WAL position, across two web processes.

Two gunicorns (ports RYW_WEB_PORTS, default 9011 and 9012) serve the test database with the read
aliases on the streaming replicas and share the Django cache (the tests' Redis database). The
replicas apply each commit DELAY seconds late. The caller writes through one process and reads
through the other, sending its token and nothing else: it must see its write at once (from the
primary), and be served by the replicas again as soon as they have replayed it.
"""

from __future__ import annotations

import os
import time

import httpx
import pytest
from django.conf import settings
from django.db import connections

from health.tests.operators import staff_headers
from inventory.models import ProcessingActivity
from inventory.tests.api_support import activities, member_of_new_tenant
from tests.faults.servers import Gunicorn, service_environment
from tests.replica.conftest import server_sql, wait_until
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.replicas import lsn_to_int, probed_aliases, server_of

PATIENCE = 90
# Well under REPLICA_MAX_LAG_SECONDS (scripts/test-replica: 5 s), so the delayed replicas stay fit for
# reads: only the caller's write position can send its reads to the primary.
DELAY = 3.0
WEB_PORTS = tuple(int(port) for port in os.environ.get("RYW_WEB_PORTS", "9011 9012").split())

pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(not probed_aliases(), reason="needs READ_DATABASE_URLS on streaming replicas: run scripts/test-replica"),
    pytest.mark.django_db(transaction=True, databases=list(POOLED_ALIASES)),
]


def url_of(alias: str) -> str:
    """The alias's test database as a URL, for the web processes."""
    params = connections[alias].settings_dict
    host, port = server_of(alias)
    return f"postgresql://{params.get('USER') or 'postgres'}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def two_web_processes(replicas):
    env = service_environment(
        database_url=url_of(WRITE_ALIAS),
        broker_url=settings.CELERY_BROKER_URL,
        READ_DATABASE_URLS=",".join(url_of(alias) for alias in probed_aliases()),
        CACHE_URL=os.environ["CACHE_URL"],  # the tests' Redis database (root conftest): shared by both
        REPLICA_MAX_LAG_SECONDS=settings.REPLICA_MAX_LAG_SECONDS,
        REPLICA_CHECK_SECONDS=settings.REPLICA_CHECK_SECONDS,
        WEB_CONCURRENCY=1,
    )
    with Gunicorn(WEB_PORTS[0], env) as first, Gunicorn(WEB_PORTS[1], env) as second:
        yield first, second


def primary_position() -> int:
    host, port = server_of(WRITE_ALIAS)
    return lsn_to_int(server_sql(host, port, "SELECT pg_current_wal_lsn()::text")[0])


def read_aliases_of(web: Gunicorn, staff: dict[str, str]) -> list[dict]:
    """What that web process's replica monitor last saw (its /health/database, which answers staff only)."""
    return httpx.get(web.base_url + "/health/database", headers=staff, timeout=30).json()["read_replicas"]["read_aliases"]


def rows_on(alias: str, tenant_id) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {ProcessingActivity._meta.db_table} WHERE tenant_id = %s", [tenant_id])
        return cursor.fetchone()[0]


def test_a_caller_without_cookies_reads_its_write_through_another_process_until_the_replicas_have_it(replicas, two_web_processes):
    web_a, web_b = two_web_processes
    member = member_of_new_tenant("Công ty Vị Trí WAL", "ryw-by-position")
    headers = {"Authorization": f"Token {member.token}"}
    staff = staff_headers()
    listing = f"/analytics/processing-activities?tenant_id={member.tenant.pk}"
    for replica in replicas.values():
        replica.wait_caught_up(PATIENCE)  # the caller's and the operator's tokens and the tenant are on the replicas
        replica.set_delay(DELAY)

    # Write through one process; read through the other, with the token only (httpx.post/get keep no cookies).
    created = httpx.post(
        web_a.base_url + f"/batch/processing-activities?tenant_id={member.tenant.pk}",
        json={"activities": activities(3)},
        headers=headers,
        timeout=30,
    )
    written_at = primary_position()
    seen = httpx.get(web_b.base_url + listing, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert "cookie" not in seen.request.headers
    assert seen.json()["count"] == 3, "the caller sees its write at once, through the other process"
    assert [rows_on(alias, member.tenant.pk) for alias in replicas] == [0] * len(replicas), "the replicas do not have it yet"
    behind = read_aliases_of(web_b, staff)
    assert all(state["healthy"] and state["replay_lsn"] < written_at for state in behind), (
        f"fit for reads but behind the write: only its position sent the read to the primary ({behind})"
    )

    # Back on the replicas as soon as both processes' monitors see them past the write.
    waited = wait_until(
        lambda: (
            all(state["replay_lsn"] >= written_at for web in (web_a, web_b) for state in read_aliases_of(web, staff)) and time.monotonic()
        ),
        timeout=PATIENCE,
        what="the replicas to replay the caller's write",
        interval=0.1,
    )
    # A row written around the caller: on the primary now, on the replicas only DELAY seconds later.
    ProcessingActivity.objects.create(tenant=member.tenant, activity_name="Around the caller", pdpl_category="basic")
    counts = [httpx.get(web.base_url + listing, headers=headers, timeout=30).json()["count"] for web in (web_a, web_b)]
    assert time.monotonic() - waited < DELAY, "the check ran inside the replicas' delay"
    assert rows_on(WRITE_ALIAS, member.tenant.pk) == 4
    assert counts == [3, 3], "both processes serve the caller from a replica again (the primary has 4 rows)"
