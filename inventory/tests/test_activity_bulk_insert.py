"""`processing_activities_bulk_insert`: the one COPY write path (batch API and data-scan chunks)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from inventory.models import DataScan, ProcessingActivity
from inventory.services import processing_activities_bulk_insert
from inventory.tests.api_support import activities, member_of_new_tenant
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def tenant():
    return member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet").tenant


def rows(count: int):
    return activities_validate(activities(count)).rows


def test_ids_come_back_in_input_order_and_sort_in_that_order(tenant):
    ids = processing_activities_bulk_insert(tenant=tenant, rows=rows(600))
    assert ids == sorted(ids)
    stored = list(ProcessingActivity.objects.filter(tenant=tenant).order_by("created_at", "id").values_list("activity_name", flat=True))
    assert stored == [row["activity_name"] for row in rows(600)]


def test_a_scan_chunk_written_twice_adds_nothing_the_second_time(tenant):
    scan = DataScan.objects.create(tenant=tenant, records_total=1_000)
    first = processing_activities_bulk_insert(tenant=tenant, rows=rows(700), data_scan=scan, first_index=0)
    # A redelivered task writes an overlapping chunk: only records 700..999 are new.
    again = processing_activities_bulk_insert(tenant=tenant, rows=rows(1_000), data_scan=scan, first_index=0)
    assert len(first) == 700 and len(again) == 300
    indexes = sorted(ProcessingActivity.objects.filter(data_scan=scan).values_list("scan_record_index", flat=True))
    assert indexes == list(range(1_000))


def test_record_indexes_may_skip_positions(tenant):
    scan = DataScan.objects.create(tenant=tenant, records_total=10)
    processing_activities_bulk_insert(tenant=tenant, rows=rows(3), data_scan=scan, record_indexes=[2, 5, 9])
    assert sorted(ProcessingActivity.objects.filter(data_scan=scan).values_list("scan_record_index", flat=True)) == [2, 5, 9]


def test_a_scan_insert_without_positions_is_refused(tenant):
    scan = DataScan.objects.create(tenant=tenant, records_total=1)
    with pytest.raises(ValueError):
        processing_activities_bulk_insert(tenant=tenant, rows=rows(1), data_scan=scan)


def test_it_joins_the_callers_transaction_and_rolls_back_with_it(tenant):
    with pytest.raises(RuntimeError), transaction.atomic(using="write"):
        processing_activities_bulk_insert(tenant=tenant, rows=rows(10))
        raise RuntimeError("the caller fails after the insert")
    assert ProcessingActivity.objects.count() == 0


def test_a_row_source_that_fails_midway_leaves_nothing_written(tenant):
    def source():
        yield from rows(1_000)
        raise ValueError("bad record after 1,000 good ones")

    with pytest.raises(DatabaseError):
        processing_activities_bulk_insert(tenant=tenant, rows=source())
    assert ProcessingActivity.objects.count() == 0
