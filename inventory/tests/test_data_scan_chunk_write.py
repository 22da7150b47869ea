"""`data_scan_chunk_write`: the one write path of data-scan rows (PostgreSQL expands a stored chunk)."""

from __future__ import annotations

import pytest

from inventory.activity_counts import activity_counts_drift
from inventory.activity_fields import ACTIVITY_RECORD_FIELDS
from inventory.models import ProcessingActivity
from inventory.scan_services import data_scan_chunk_write, data_scan_store
from inventory.tests.api_support import activities, member_of_new_tenant
from inventory.tests.scan_support import scan_chunk_written_twice
from inventory.validation import activities_validate

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def tenant():
    return member_of_new_tenant("Công ty Cổ phần Hải Đăng", "haidang").tenant


def rows(count: int):
    return activities_validate(activities(count)).rows


def test_a_chunk_written_twice_adds_nothing_the_second_time(tenant):
    # A redelivered task writes an overlapping chunk: only records 700..999 are new.
    scan = scan_chunk_written_twice(tenant, rows(1_000), first_time=700)
    indexes = sorted(ProcessingActivity.objects.using("write").filter(data_scan=scan).values_list("scan_record_index", flat=True))
    assert indexes == list(range(1_000))
    assert activity_counts_drift() == []


def test_every_record_column_is_stored_as_sent(tenant):
    sent = rows(30)
    sent[3] = {**sent[3], "retention_months": None, "data_subjects": [], "recipients": []}
    scan = data_scan_store(tenant=tenant, rows=sent, chunk_size=7)
    while data_scan_chunk_write(scan=scan) is not None:
        pass
    stored = ProcessingActivity.objects.using("write").filter(data_scan=scan).order_by("scan_record_index")
    assert list(stored.values(*ACTIVITY_RECORD_FIELDS)) == [{name: row[name] for name in ACTIVITY_RECORD_FIELDS} for row in sent]
    assert list(stored.values_list("tenant_id", flat=True)) == [tenant.pk] * 30


def test_a_scan_lists_in_record_order_by_created_at_then_id(tenant):
    scan = data_scan_store(tenant=tenant, rows=rows(2_500), chunk_size=1_000)
    while data_scan_chunk_write(scan=scan) is not None:
        pass
    listed = ProcessingActivity.objects.using("write").filter(data_scan=scan).order_by("created_at", "id")
    ids = [str(value) for value in listed.values_list("id", flat=True)]
    assert list(listed.values_list("scan_record_index", flat=True)) == list(range(2_500))
    assert ids == sorted(ids)
    assert {value[14] for value in ids} == {"7"}, "UUID version 7 ids (verisyntra.ids)"
