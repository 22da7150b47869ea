"""ReadWriteRouter, proven on real, separate connections: which alias and which backend served each query."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connections, router, transaction
from django.db.utils import ConnectionDoesNotExist  # noqa: F401 - documents what a bad alias raises

from inventory.models import Tenant
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pinning import use_primary

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


def application_name_of(pid: int) -> str:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


@pytest.mark.needs_backend_pid
def test_reads_use_read_alias_and_writes_use_write_alias(query_log):
    tenant = Tenant.objects.create(name="Routing")
    fetched = Tenant.objects.get(pk=tenant.pk)
    assert fetched.name == "Routing"
    insert_alias, insert_pid, insert_sql = query_log.entries[0]
    select_alias, select_pid, select_sql = query_log.entries[-1]
    assert insert_sql.startswith("INSERT") and insert_alias == WRITE_ALIAS
    assert select_sql.startswith("SELECT") and select_alias == READ_ALIAS
    assert insert_pid != select_pid, "read and write must be separate server connections"
    assert application_name_of(insert_pid) == "verisyntra-write"
    assert application_name_of(select_pid) == "verisyntra-read"


@pytest.mark.needs_backend_pid
def test_reads_inside_write_transaction_use_write_alias(query_log):
    with transaction.atomic(using=WRITE_ALIAS):
        tenant = Tenant.objects.create(name="Uncommitted")
        # Only the write connection can see this row until commit.
        assert Tenant.objects.filter(pk=tenant.pk).exists()
        assert set(query_log.aliases) == {WRITE_ALIAS}
        assert len(set(query_log.pids)) == 1
    query_log.clear()
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert query_log.aliases == [READ_ALIAS]


def test_instance_saved_through_write_refreshes_and_follows_relations_through_write(query_log):
    tenant = Tenant.objects.create(name="Saved")
    query_log.clear()
    tenant.refresh_from_db()
    list(tenant.memberships.all())
    assert query_log.aliases == [WRITE_ALIAS, WRITE_ALIAS]

    loaded = Tenant.objects.get(pk=tenant.pk)
    query_log.clear()
    loaded.refresh_from_db()
    list(loaded.memberships.all())
    assert query_log.aliases == [READ_ALIAS, READ_ALIAS]


def test_use_primary_as_context_manager_and_decorator(query_log):
    Tenant.objects.create(name="Pinned")
    query_log.clear()
    with use_primary():
        list(Tenant.objects.all())
        with use_primary():  # nesting keeps the pin
            list(Tenant.objects.all())
        list(Tenant.objects.all())
    list(Tenant.objects.all())
    assert query_log.aliases == [WRITE_ALIAS, WRITE_ALIAS, WRITE_ALIAS, READ_ALIAS]

    @use_primary()
    def count() -> int:
        return Tenant.objects.count()

    query_log.clear()
    assert count() == 1
    assert Tenant.objects.count() == 1
    assert query_log.aliases == [WRITE_ALIAS, READ_ALIAS]


def test_use_primary_holds_per_thread():
    inside = threading.Event()
    release = threading.Event()
    decisions: dict[str, str] = {}

    def pinned() -> None:
        with use_primary():
            inside.set()
            release.wait(5)
            decisions["pinned"] = router.db_for_read(Tenant)

    def unpinned() -> None:
        inside.wait(5)
        decisions["unpinned"] = router.db_for_read(Tenant)
        release.set()

    threads = [threading.Thread(target=pinned), threading.Thread(target=unpinned)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert decisions == {"pinned": WRITE_ALIAS, "unpinned": READ_ALIAS}


def test_use_primary_holds_per_async_task():
    async def pinned(started: asyncio.Event, proceed: asyncio.Event) -> str:
        with use_primary():
            started.set()
            await proceed.wait()
            return router.db_for_read(Tenant)

    async def unpinned(started: asyncio.Event, proceed: asyncio.Event) -> str:
        await started.wait()
        decision = router.db_for_read(Tenant)
        proceed.set()
        return decision

    async def main() -> list[str]:
        started, proceed = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(pinned(started, proceed), unpinned(started, proceed))

    assert asyncio.run(main()) == [WRITE_ALIAS, READ_ALIAS]


def test_decorated_function_called_from_threads_keeps_each_pin_separate():
    results: list[str] = []
    barrier = threading.Barrier(4)

    @use_primary()
    def decide() -> str:
        barrier.wait(5)
        return router.db_for_read(Tenant)

    threads = [threading.Thread(target=lambda: results.append(decide())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [WRITE_ALIAS] * 4
    assert router.db_for_read(Tenant) == READ_ALIAS


def test_migrations_run_only_on_the_primary():
    assert router.allow_migrate(WRITE_ALIAS, "inventory", model_name="tenant") is True
    assert router.allow_migrate(READ_ALIAS, "inventory", model_name="tenant") is False
    assert router.allow_migrate("default", "inventory", model_name="tenant") is False


def test_relations_between_read_and_write_instances_are_allowed():
    written = Tenant.objects.create(name="Written")
    read = Tenant.objects.get(pk=written.pk)
    assert read._state.db == READ_ALIAS and written._state.db == WRITE_ALIAS
    assert router.allow_relation(read, written) is True


def test_bare_atomic_fails_loudly_instead_of_using_an_unrouted_connection():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured), transaction.atomic():
        pass
