"""Fixtures for the tests against real streaming replicas (`scripts/test-replica` runs them).

The read aliases must point at replicas when Django starts (READ_DATABASE_URLS), so these tests
run in a pytest process of their own; without replicas configured they are skipped. The session
fixture starts every configured local replica with `scripts/replica` before the test database is
created on the primary: each replica streams the whole cluster, so the test database (and every
row a test writes through `write`) arrives on the replicas by replication, under the same name
(the read aliases' TEST MIRROR copies only NAME, so `read` on port 5433 opens `test_...` there).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest
from django.db import connections

from verisyntra.db.config import WRITE_ALIAS
from verisyntra.db.replicas import lsn_to_int, monitor, probed_aliases, replica_states, reset_monitor, server_of

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "replica"


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def server_sql(host: str, port: int, sql: str, params=()):
    """One statement on `postgres` of a server, on a throwaway connection (not a pool's)."""
    params_ = connections[WRITE_ALIAS].settings_dict
    conn = psycopg2.connect(
        host=host,
        port=port,
        user=params_.get("USER") or None,
        password=params_.get("PASSWORD") or None,
        dbname="postgres",
        connect_timeout=3,
        application_name="verisyntra-replica-tests",
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        conn.close()


class Replica:
    """One configured read alias on a local replica, driven through `scripts/replica`."""

    def __init__(self, alias: str):
        self.alias = alias
        self.host, self.port = server_of(alias)

    def script(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        primary_host, primary_port = server_of(WRITE_ALIAS)
        user = connections[WRITE_ALIAS].settings_dict.get("USER") or "postgres"
        environ = {**os.environ, "DATABASE_URL": f"postgresql://{user}@{primary_host}:{primary_port}/postgres"}
        return subprocess.run(
            [str(SCRIPT), *args, "--port", str(self.port)], env=environ, check=check, capture_output=True, text=True, timeout=180
        )

    def running(self) -> bool:
        return self.script("status", check=False).returncode == 0

    def start(self) -> None:
        self.script("start")

    def stop(self) -> None:
        self.script("stop")

    def set_delay(self, seconds: float) -> None:
        """recovery_min_apply_delay, effective once the replica reports it (reload is asynchronous)."""
        self.script("delay", str(seconds))
        wait_until(lambda: self.delay_ms() == round(seconds * 1000), timeout=10, what=f"replica {self.port} to apply delay {seconds}s")

    def delay_ms(self) -> int:
        return int(server_sql(self.host, self.port, "SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'")[0])

    def replay_lsn(self) -> int:
        replay = server_sql(self.host, self.port, "SELECT pg_last_wal_replay_lsn()::text")[0]
        return lsn_to_int(replay) if replay else 0

    def wait_caught_up(self, timeout: float = 300) -> None:
        """Until the replica has replayed everything the primary had written when this was called.

        (Not the primary's position at each poll: on a busy primary that target moves away forever.)
        """
        primary_host, primary_port = server_of(WRITE_ALIAS)
        target = lsn_to_int(server_sql(primary_host, primary_port, "SELECT pg_current_wal_lsn()::text")[0])
        wait_until(lambda: self.replay_lsn() >= target, timeout=timeout, what=f"replica {self.port} to catch up", interval=0.1)

    def state(self):
        return next(state for state in replica_states() if state.alias == self.alias)


def local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="session")
def replicas() -> dict[str, Replica]:
    """Every read alias that is a local replica, started (if needed) with no apply delay."""
    aliases = probed_aliases()
    if not aliases:
        pytest.skip("no read alias points at a replica: run scripts/test-replica")
    found = {alias: Replica(alias) for alias in aliases}
    for replica in found.values():
        if not local(replica.host):
            pytest.skip(f"{replica.alias} is on {replica.host}: the replica tests drive local replicas only")
        replica.start()  # idempotent; also resets recovery_min_apply_delay to 0
    # A replica restarted after a while first replays what it missed; the test database created
    # next must reach it before the guard in the root conftest connects to it.
    for replica in found.values():
        replica.wait_caught_up()
    return found


@pytest.fixture(scope="session")
def django_db_setup(replicas, django_db_setup):
    """The replicas run before the test database is created, so they receive it by streaming."""
    yield
    reset_monitor()  # stop probing before the test database is dropped


@pytest.fixture(autouse=True)
def replicas_in_step(request):
    """Each test starts with every replica running, undelayed, caught up, and fit for reads."""
    if "replicas" not in request.fixturenames:
        yield
        return
    found: dict[str, Replica] = request.getfixturevalue("replicas")
    for replica in found.values():
        if not replica.running():
            replica.start()
        if replica.delay_ms() != 0:
            replica.set_delay(0)
    for replica in found.values():
        replica.wait_caught_up()
    current = monitor()
    assert current is not None
    current.request_probe()
    wait_until(lambda: all(state.healthy for state in replica_states()), timeout=90, what="every replica fit for reads")
    yield
