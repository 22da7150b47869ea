"""Replica routing without a replica: configuration of several read aliases, the lag bound, the
router's choice among fit replicas and its fallback, and the read-your-writes pin cookie.

The same behaviour against real streaming replicas is in tests/replica (scripts/test-replica).
"""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client

from inventory.models import Tenant
from verisyntra.db import pinning, replicas, router
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS, build_databases, read_alias_names
from verisyntra.db.pinning import PIN_COOKIE, pin_cookie_valid, primary_forced
from verisyntra.db.router import ReadWriteRouter, pick_read_alias

# --- configuration -----------------------------------------------------------------------------


def test_read_database_urls_create_one_pooled_alias_per_replica():
    databases = build_databases(
        {
            "DATABASE_URL": "postgresql://u@primary:5432/db",
            "READ_DATABASE_URL": "postgresql://u@ignored:5432/db",
            "READ_DATABASE_URLS": "postgresql://u@replica-a:5432/db, postgresql://u@replica-b:5433/db",
            "READ_POOL_SIZE": "7",
            "READ_STATEMENT_TIMEOUT_MS": "1500",
        }
    )
    assert set(databases) == {"default", "write", "read", "read_1"}
    assert (databases["read"]["HOST"], databases["read_1"]["HOST"], databases["read_1"]["PORT"]) == ("replica-a", "replica-b", 5433)
    for alias in ("read", "read_1"):
        # Every read alias: the read pool's sizes and timeout, its own application_name, the test mirror.
        assert databases[alias]["POOL_OPTIONS"]["POOL_SIZE"] == 7
        assert databases[alias]["STATEMENT_TIMEOUT_MS"] == 1500
        assert "options" not in databases[alias]["OPTIONS"]  # a startup parameter PgBouncer would refuse
        assert databases[alias]["OPTIONS"]["application_name"] == f"verisyntra-{alias}"
        assert databases[alias]["TEST"]["MIRROR"] == WRITE_ALIAS
    assert databases["write"]["POOL_OPTIONS"]["POOL_SIZE"] == 50


def test_without_replicas_the_read_alias_is_the_primary():
    databases = build_databases({"DATABASE_URL": "postgresql://u@primary:5432/db"})
    assert set(databases) == {"default", "write", "read"}
    assert databases["read"]["HOST"] == "primary"
    assert read_alias_names(1) == (READ_ALIAS,)
    assert read_alias_names(3) == ("read", "read_1", "read_2")


# --- the lag bound --------------------------------------------------------------------------------

GB = 1 << 30


def test_caught_up_replica_has_no_lag_even_when_its_last_commit_is_old():
    # Idle primary: the last replayed commit is an hour old, but the replica holds everything.
    history = [(100.0, GB), (101.0, GB)]
    assert replicas.replica_lag_seconds(GB, history, now=101.5, replay_age_seconds=3600.0) == 0.5


def test_lag_is_the_time_since_the_primary_was_where_the_replica_is():
    history = [(100.0, GB), (101.0, GB + 10), (102.0, GB + 20), (103.0, GB + 30)]
    assert replicas.replica_lag_seconds(GB + 10, history, now=103.2, replay_age_seconds=None) == pytest.approx(2.2)


def test_replica_side_age_is_used_when_it_is_the_tighter_bound():
    history = [(100.0, GB), (101.0, GB + 10)]
    assert replicas.replica_lag_seconds(GB + 5, history, now=101.0, replay_age_seconds=0.3) == pytest.approx(0.3)


def test_stalled_replica_behind_every_sample_is_at_least_as_old_as_the_history():
    history = [(100.0, GB + 10), (110.0, GB + 20)]
    assert replicas.replica_lag_seconds(GB, history, now=110.0, replay_age_seconds=None) == pytest.approx(10.0)
    assert replicas.replica_lag_seconds(None, [], now=110.0, replay_age_seconds=None) is None


def test_lsn_text_is_a_byte_position():
    assert replicas.lsn_to_int("0/10") == 16
    assert replicas.lsn_to_int("16/B374D848") == (0x16 << 32) + 0xB374D848


# --- the router's choice ----------------------------------------------------------------------------


@pytest.fixture
def fit(monkeypatch):
    """Pretend the replica monitor found these read aliases fit."""

    def set_fit(*aliases: str) -> None:
        monkeypatch.setattr(router, "healthy_read_aliases", lambda: aliases)

    return set_fit


def test_reads_fall_back_to_the_primary_when_no_replica_is_fit(fit):
    fit()
    assert ReadWriteRouter().db_for_read(Tenant) == WRITE_ALIAS


def test_reads_are_spread_round_robin_outside_a_request(fit):
    fit("read", "read_1")
    chosen = [pick_read_alias() for _ in range(6)]
    assert set(chosen) == {"read", "read_1"}
    assert all(a != b for a, b in zip(chosen, chosen[1:], strict=False)), "alternates"


def test_one_request_keeps_one_replica_and_the_next_may_get_another(fit, rf):
    fit("read", "read_1")
    seen: list[list[str]] = []

    def view(request):
        seen.append([pick_read_alias() for _ in range(3)])
        return None

    middleware = pinning.PinPrimaryAfterWriteMiddleware(view)
    for _ in range(4):
        middleware(rf.get("/"))
    assert all(len(set(aliases)) == 1 for aliases in seen)
    assert {aliases[0] for aliases in seen} == {"read", "read_1"}


def test_a_request_leaves_a_replica_that_became_unfit(fit, rf):
    fit("read", "read_1")
    seen = []

    def view(request):
        first = pick_read_alias()
        fit(*({"read", "read_1"} - {first}))
        seen.append((first, pick_read_alias()))

    pinning.PinPrimaryAfterWriteMiddleware(view)(rf.get("/"))
    ((first, second),) = seen
    assert first != second


# --- read-your-writes across requests: the pin cookie ------------------------------------------------

db = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@pytest.fixture
def with_replicas(monkeypatch):
    monkeypatch.setattr(pinning.PinPrimaryAfterWriteMiddleware, "replicas_in_use", staticmethod(lambda: True))


@db
@pytest.mark.urls("verisyntra.tests.urls")
def test_after_a_write_the_clients_next_requests_read_from_the_primary(client, with_replicas, settings):
    wrote = client.get("/read-write-read", {"write": "1"})
    assert wrote.cookies[PIN_COOKIE]["max-age"] == int(settings.PRIMARY_PIN_SECONDS)
    assert wrote.cookies[PIN_COOKIE]["httponly"]

    assert client.get("/read-write-read").json()["aliases"] == [WRITE_ALIAS, WRITE_ALIAS]
    assert Client().get("/read-write-read").json()["aliases"] == [READ_ALIAS, READ_ALIAS], "other clients are not pinned"


@db
@pytest.mark.urls("verisyntra.tests.urls")
def test_a_request_that_only_reads_sets_no_pin(client, with_replicas):
    assert PIN_COOKIE not in client.get("/read-write-read").cookies


@db
@pytest.mark.urls("verisyntra.tests.urls")
def test_without_replicas_no_pin_cookie_is_set(client):
    assert not replicas.replicas_in_use()
    assert PIN_COOKIE not in client.get("/read-write-read", {"write": "1"}).cookies


@db
@pytest.mark.urls("verisyntra.tests.urls")
def test_an_expired_or_forged_pin_is_ignored(client, with_replicas, settings, monkeypatch):
    signed_at = time.time() - settings.PRIMARY_PIN_SECONDS - 1
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: signed_at)
        expired = pinning.pin_cookie_value()

    for value in (expired, "primary:forged:signature", pinning.pin_cookie_value()[:-2] + "xx"):
        client.cookies[PIN_COOKIE] = value
        assert client.get("/read-write-read").json()["aliases"] == [READ_ALIAS, READ_ALIAS], value


def test_pin_cookie_is_valid_only_while_fresh_and_signed(settings):
    value = pinning.pin_cookie_value()
    assert pin_cookie_valid(value, max_age=10)
    assert not pin_cookie_valid(value, max_age=0)
    assert not pin_cookie_valid(None, max_age=10)
    assert not pin_cookie_valid("primary", max_age=10)
    assert not primary_forced(), "outside a request nothing is pinned"


# --- configuration checks ---------------------------------------------------------------------------


def test_pin_shorter_than_the_staleness_a_replica_may_serve_is_flagged(settings, monkeypatch):
    from verisyntra.checks import primary_pin_check

    settings.REPLICA_MAX_LAG_SECONDS, settings.REPLICA_CHECK_SECONDS = 5.0, 1.0
    settings.PRIMARY_PIN_SECONDS = 4.0
    assert primary_pin_check() == [], "no replica, nothing to pin against"
    monkeypatch.setattr(replicas, "probed_aliases", lambda: ("read",))
    assert [w.id for w in primary_pin_check()] == ["verisyntra.W003"]
    settings.PRIMARY_PIN_SECONDS = 6.0
    assert primary_pin_check() == []


def test_server_side_cursors_can_be_disabled_for_pgbouncer_transaction_mode():
    assert build_databases({})["read"]["DISABLE_SERVER_SIDE_CURSORS"] is False
    databases = build_databases({"DISABLE_SERVER_SIDE_CURSORS": "true", "READ_DATABASE_URLS": "postgresql://u@a/db,postgresql://u@b/db"})
    assert all(databases[alias]["DISABLE_SERVER_SIDE_CURSORS"] for alias in ("write", "read", "read_1"))


@db
def test_a_write_around_the_orm_pins_too(with_replicas, query_log):
    """The batch API writes with COPY on the raw connection, which the router never sees."""
    from inventory.tests.api_support import activities, member_of_new_tenant, post_batch

    member = member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet")
    client = member.client()
    response = post_batch(client, member.tenant.pk, {"activities": activities(2)})
    assert response.status_code == 201
    assert PIN_COOKIE in response.cookies

    query_log.clear()
    listed = client.get(f"/analytics/processing-activities?tenant_id={member.tenant.pk}")
    assert listed.status_code == 200
    assert set(query_log.aliases) == {WRITE_ALIAS}, "the client's next request reads from the primary"


def test_a_refused_connection_takes_a_replica_out_at_once_without_waiting_for_the_probe(monkeypatch):
    import psycopg2
    from sqlalchemy.pool import QueuePool

    from verisyntra.db import pools

    monitor = replicas.ReplicaMonitor(("read",), interval=3600, max_lag=5)
    monitor._states = {"read": replicas.ReplicaState(alias="read", host="replica", port=5433, healthy=True, status="streaming")}
    monkeypatch.setattr(replicas, "_monitor", monitor)

    def refuse():
        raise psycopg2.OperationalError("connection refused")

    with pytest.raises(psycopg2.OperationalError):
        pools._timed_connect(QueuePool(refuse, pool_size=1), "read")
    assert (monitor._states["read"].healthy, monitor._states["read"].status) == (False, "down")
    assert monitor._wake.is_set(), "the probe thread is woken to re-check now"
