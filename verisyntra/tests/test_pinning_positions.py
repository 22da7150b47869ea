"""Read-your-writes for API callers by WAL position, kept in the shared cache (no replica needed).

The replica monitor's snapshot is faked here (one replica, `read`, at a chosen replay position);
tests/replica/test_read_your_writes_by_position.py does the same against a really delayed replica
and two web processes.
"""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from inventory.tests.api_support import activities, member_of_new_tenant, post_batch
from verisyntra.db import pinning, replicas
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pinning import PIN_COOKIE, UNKNOWN_POSITION, caller_key, remember_write_position
from verisyntra.db.replicas import ReplicaState

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


@pytest.fixture
def replica_at(monkeypatch):
    """Pretend `read` is a streaming replica whose last probe saw it replayed up to the given position."""
    monitor = replicas.ReplicaMonitor((READ_ALIAS,), interval=3600, max_lag=5)
    monitor._stopped.set()  # no probe thread: the snapshot is the test's
    monkeypatch.setattr(replicas, "_monitor", monitor)
    monkeypatch.setattr(replicas, "_probed", (READ_ALIAS,))

    def set_replay(position: int | None) -> None:
        state = ReplicaState(
            alias=READ_ALIAS,
            host="replica",
            port=5433,
            healthy=True,
            status="streaming",
            in_recovery=True,
            lag_seconds=0.0,
            replay_lsn=position,
        )
        monitor._states = {READ_ALIAS: state}

    set_replay(0)
    return set_replay


def key_of(member) -> str:
    key = caller_key(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {member.token}"))
    assert key is not None
    return key


def list_aliases(member, query_log) -> set[str]:
    """The aliases that served one list request of a new client (no cookies) of `member`."""
    query_log.entries.clear()
    response = member.client().get(f"/analytics/processing-activities?tenant_id={member.tenant.pk}")
    assert response.status_code == 200
    return set(query_log.aliases)


def test_a_caller_without_cookies_reads_from_the_primary_until_the_replica_has_replayed_its_write(replica_at, query_log):
    writer = member_of_new_tenant("Công ty Ghi", "ryw-writer")
    bystander = member_of_new_tenant("Công ty Đọc", "ryw-bystander")

    created = post_batch(writer.client(), writer.tenant.pk, {"activities": activities(2)})
    assert created.status_code == 201
    position = cache.get(key_of(writer))
    assert isinstance(position, int) and 0 < position < UNKNOWN_POSITION

    replica_at(position - 1)
    assert list_aliases(writer, query_log) == {WRITE_ALIAS}, "behind the caller's write: the primary"
    assert list_aliases(bystander, query_log) == {READ_ALIAS}, "another caller is not pinned"

    replica_at(position)
    assert list_aliases(writer, query_log) == {READ_ALIAS}, "back on the replica as soon as it has the write"


def test_a_caller_that_only_reads_or_is_not_authenticated_stores_no_position(replica_at):
    reader = member_of_new_tenant("Công ty Chỉ Đọc", "ryw-reader")
    assert reader.client().get(f"/analytics/processing-activities?tenant_id={reader.tenant.pk}").status_code == 200
    assert cache.get(key_of(reader)) is None

    stranger = member_of_new_tenant("Công ty Lạ", "ryw-stranger")
    stranger.token = "0" * 40  # not a token of this service: 401, and nothing written
    assert post_batch(stranger.client(), stranger.tenant.pk, {"activities": activities(1)}).status_code == 401
    assert cache.get(key_of(stranger)) is None


def test_the_cookie_is_still_set_for_browsers(replica_at):
    writer = member_of_new_tenant("Công ty Trình Duyệt", "ryw-browser")
    created = post_batch(writer.client(), writer.tenant.pk, {"activities": activities(1)})
    assert created.status_code == 201 and PIN_COOKIE in created.cookies


def test_a_later_position_is_never_replaced_by_an_earlier_one():
    remember_write_position("ryw-lsn:test-order", 200)
    remember_write_position("ryw-lsn:test-order", 100)
    assert cache.get("ryw-lsn:test-order") == 200
    remember_write_position("ryw-lsn:test-order", 300)
    assert cache.get("ryw-lsn:test-order") == 300


def test_while_the_cache_is_down_a_caller_reads_from_the_primary_and_its_writes_still_succeed(replica_at, query_log, monkeypatch):
    member = member_of_new_tenant("Công ty Mất Bộ Nhớ Đệm", "ryw-cache-down")

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(pinning.cache, "get", down)
    monkeypatch.setattr(pinning.cache, "set", down)
    assert post_batch(member.client(), member.tenant.pk, {"activities": activities(1)}).status_code == 201
    assert list_aliases(member, query_log) == {WRITE_ALIAS}


def test_a_failed_position_read_pins_the_caller_by_time(replica_at, monkeypatch):
    member = member_of_new_tenant("Công ty Không Vị Trí", "ryw-no-position")
    monkeypatch.setattr(pinning, "current_write_position", lambda: UNKNOWN_POSITION)
    assert post_batch(member.client(), member.tenant.pk, {"activities": activities(1)}).status_code == 201
    assert cache.get(key_of(member)) == UNKNOWN_POSITION
    expires_in = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).ttl(cache.make_key(key_of(member)))
    assert 0 < expires_in <= pinning.position_ttl_seconds(), "kept no longer than a replica serving reads may lag"


def test_a_server_in_no_recovery_has_every_position():
    primary = ReplicaState(alias="read", host="h", port=1, healthy=True, status="not_in_recovery", in_recovery=False)
    behind = ReplicaState(alias="read", host="h", port=1, healthy=True, status="streaming", in_recovery=True, replay_lsn=10)
    assert primary.has_replayed(UNKNOWN_POSITION)
    assert behind.has_replayed(10) and not behind.has_replayed(11)
