"""`processing_activities_bulk_insert`: the batch API's COPY write path (data scans: test_data_scan_chunk_write.py)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import ProcessingActivity
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


def test_every_record_column_is_stored_as_sent(tenant):
    sent = rows(30)
    sent[3] = {**sent[3], "retention_months": None, "data_subjects": [], "recipients": []}
    processing_activities_bulk_insert(tenant=tenant, rows=sent)
    stored = list(ProcessingActivity.objects.filter(tenant=tenant).order_by("created_at", "id").values(*ACTIVITY_RECORD_FIELDS))
    assert stored == [{name: row[name] for name in ACTIVITY_RECORD_FIELDS} for row in sent]


def test_text_that_needs_copy_escaping_is_stored_as_sent(tenant):
    awkward = 'tab\there, new\nline, back\\slash, "quoted", {braces}, NULL, carriage\rreturn'
    sent = [{**rows(1)[0], "activity_name": awkward, "purpose": awkward, "data_fields": [awkward, "NULL", ""]}]
    processing_activities_bulk_insert(tenant=tenant, rows=sent)
    stored = ProcessingActivity.objects.get(tenant=tenant)
    assert (stored.activity_name, stored.purpose, stored.data_fields) == (awkward, awkward, [awkward, "NULL", ""])


def test_batch_rows_belong_to_no_scan(tenant):
    processing_activities_bulk_insert(tenant=tenant, rows=rows(5))
    assert set(ProcessingActivity.objects.filter(tenant=tenant).values_list("data_scan_id", "scan_record_index")) == {(None, None)}


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
