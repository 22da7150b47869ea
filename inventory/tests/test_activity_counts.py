"""The compliance summary's rollup: PostgreSQL's triggers keep `ActivityCount` equal to the activities.

Every way rows reach or leave the table is exercised against the real database, and each test
compares the rollup with a fresh GROUP BY of the activities (`activity_counts_drift`).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections, connections, transaction

from inventory.activity_counts import activity_counts_drift, activity_counts_rebuild
from inventory.models import ActivityCount, ProcessingActivity, Tenant
from inventory.scan_services import data_scan_process, data_scan_store
from inventory.services import processing_activities_bulk_insert
from inventory.tests.api_support import activities, member_of_new_tenant
from inventory.tests.scan_support import scan_chunk_written_twice
from inventory.validation import activities_validate
from verisyntra.tests.owner import owner_cursor

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def tenant():
    return member_of_new_tenant("Công ty TNHH Sao Mai", "saomai").tenant


def rows(count: int):
    return activities_validate(activities(count)).rows


def stored_counts(tenant) -> Counter:
    counts = ActivityCount.objects.using("write").filter(tenant=tenant, activities__gt=0)
    return Counter({(c.pdpl_category, c.legal_basis, c.cross_border_transfer): c.activities for c in counts})


def actual_counts(tenant) -> Counter:
    return Counter(
        ProcessingActivity.objects.using("write").filter(tenant=tenant).values_list("pdpl_category", "legal_basis", "cross_border_transfer")
    )


def test_a_copied_batch_is_counted_by_group(tenant):
    processing_activities_bulk_insert(tenant=tenant, rows=rows(250))
    assert sum(stored_counts(tenant).values()) == 250
    assert stored_counts(tenant) == actual_counts(tenant)
    assert activity_counts_drift() == []


def test_orm_creates_updates_and_deletes_move_the_counts(tenant):
    processing_activities_bulk_insert(tenant=tenant, rows=rows(30))
    first = ProcessingActivity.objects.using("write").filter(tenant=tenant, pdpl_category="basic").first()
    ProcessingActivity.objects.using("write").filter(pk=first.pk).update(pdpl_category="sensitive", cross_border_transfer=True)
    ProcessingActivity.objects.using("write").filter(tenant=tenant, legal_basis="contract").delete()
    ProcessingActivity.objects.using("write").create(tenant=tenant, activity_name="Tuyển dụng", pdpl_category="public", data_fields=["cv"])
    assert stored_counts(tenant) == actual_counts(tenant)
    assert activity_counts_drift(tenant_id=tenant.pk) == []


def test_a_scan_chunk_written_twice_is_counted_once(tenant):
    scan_chunk_written_twice(tenant, rows(1_000), first_time=700)
    assert sum(stored_counts(tenant).values()) == 1_000
    assert activity_counts_drift() == []


def test_a_data_scan_written_server_side_is_counted(tenant):
    scan = data_scan_store(tenant=tenant, rows=rows(2_500), chunk_size=1_000)
    assert data_scan_process(scan_id=scan.pk) == "completed"
    assert sum(stored_counts(tenant).values()) == 2_500
    # Deleting the scan sets its activities' data_scan to NULL: an update that moves no count.
    scan.delete()
    assert sum(stored_counts(tenant).values()) == 2_500
    assert activity_counts_drift() == []


def test_a_rolled_back_batch_leaves_no_count(tenant):
    with pytest.raises(RuntimeError), transaction.atomic(using="write"):
        processing_activities_bulk_insert(tenant=tenant, rows=rows(100))
        raise RuntimeError("the caller changes its mind")
    assert stored_counts(tenant) == Counter()


def test_deleting_a_tenant_deletes_its_counts(tenant):
    processing_activities_bulk_insert(tenant=tenant, rows=rows(40))
    Tenant.objects.using("write").filter(pk=tenant.pk).delete()
    assert not ActivityCount.objects.using("write").filter(tenant_id=tenant.pk).exists()
    assert activity_counts_drift() == []


def test_concurrent_writers_into_one_tenant_count_exactly(tenant):
    """Eight connections COPY into the same tenant at once: no count lost, no deadlock."""
    errors: list[BaseException] = []

    def write(batches: int) -> None:
        try:
            for _ in range(batches):
                processing_activities_bulk_insert(tenant=tenant.pk, rows=rows(120))
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            close_old_connections()
            for alias in ("read", "write"):
                connections[alias].close()

    threads = [threading.Thread(target=write, args=(5,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(stored_counts(tenant).values()) == 8 * 5 * 120
    assert activity_counts_drift() == []


def test_the_command_finds_drift_and_rebuild_repairs_it(tenant, capsys):
    processing_activities_bulk_insert(tenant=tenant, rows=rows(60))
    # Rows written with triggers disabled (as by a restore with --disable-triggers) are not counted.
    # Only the owner may disable them; the runtime role may not.
    table = ProcessingActivity._meta.db_table
    with owner_cursor(autocommit=False) as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(
            f"INSERT INTO {table} (id, tenant_id, activity_name, pdpl_category, data_fields, purpose, legal_basis, data_subjects,"
            " recipients, cross_border_transfer, created_at) SELECT gen_random_uuid(), tenant_id, activity_name, pdpl_category,"
            f" data_fields, purpose, legal_basis, data_subjects, recipients, cross_border_transfer, now() FROM {table}"
            " WHERE tenant_id = %s LIMIT 15",
            [tenant.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign key checks first: ALTER waits for none
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    drift = activity_counts_drift(tenant_id=tenant.pk)
    assert sum(row.actual - row.stored for row in drift) == 15

    with pytest.raises(CommandError, match="groups differ"):
        call_command("activity_counts", tenant_id=str(tenant.pk))
    call_command("activity_counts", rebuild=True)
    assert "activity counts match" in capsys.readouterr().out
    assert sum(stored_counts(tenant).values()) == 75
    assert activity_counts_rebuild(tenant_id=tenant.pk) > 0
    assert activity_counts_drift() == []
