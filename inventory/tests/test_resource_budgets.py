"""Resource budgets of the write APIs: bounded error bodies whatever the input, streamed data-scan
bodies (JSON and NDJSON) staged chunk by chunk, the tenant checked before the body is read.

Each test describes a way one member token could take the service down before these budgets.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.test import Client

from inventory import tenancy
from inventory.models import DataScan, DataScanChunk
from inventory.scan_views import validated_chunks
from inventory.tests.scan_support import activities, activity, tenant_client

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

ERROR_BODY_BUDGET = 256 * 1024


def hostile_items(count: int, elements: int = 1_000) -> list[dict]:
    """Items whose three lists each hold `elements` invalid elements (numbers, not strings)."""
    bad = list(range(elements))
    return [
        {"activity_name": f"a{i}", "pdpl_category": "basic", "data_fields": bad, "data_subjects": bad, "recipients": bad}
        for i in range(count)
    ]


def nothing_stored() -> bool:
    return not DataScan.objects.using("write").exists() and not DataScanChunk.objects.using("write").exists()


def test_a_batch_of_400_items_with_3000_bad_elements_each_answers_a_small_bounded_400():
    tenant, client = tenant_client("Khuếch đại lỗi", "khuechdai")
    response = client.post(f"/batch/processing-activities?tenant_id={tenant.pk}", {"activities": hostile_items(400)}, format="json")
    assert response.status_code == 400, response.content[:500]
    assert len(response.content) <= ERROR_BODY_BUDGET, f"{len(response.content):,} bytes"
    body = response.json()
    assert body["code"] == "invalid_activities" and body["error_vi"]
    assert len(body["errors"]) <= 100 and body["records_failed"] == 100 and body["validation_stopped"] is True
    # One error per list, not per element: each item names its three lists' first bad element.
    assert {e["field"] for e in body["errors"] if e["index"] == 0} == {"data_fields[0]", "data_subjects[0]", "recipients[0]"}


def test_skip_mode_counts_every_rejected_item_but_lists_at_most_100_errors():
    tenant, client = tenant_client("Bỏ qua", "boqua")
    items = [*hostile_items(300, elements=50), *activities(5)]
    response = client.post(f"/batch/processing-activities?tenant_id={tenant.pk}&on_error=skip", {"activities": items}, format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["records_created"] == 5 and body["records_failed"] == 300
    assert len(body["errors"]) == 100 and len(response.content) <= ERROR_BODY_BUDGET


def test_an_item_with_thousands_of_long_unknown_keys_answers_a_bounded_400():
    tenant, client = tenant_client("Khóa lạ", "khoala")
    item = activity(0, **{f"k{i}" + "x" * 5_000: 1 for i in range(1_000)})  # 5 MB of key names
    response = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": [item]}, format="json")
    assert response.status_code == 400 and len(response.content) <= ERROR_BODY_BUDGET, len(response.content)
    body = response.json()
    assert body["errors_total"] == 1_000 and len(body["errors"]) == 100
    assert all(len(e["field"]) <= 210 for e in body["errors"])
    assert nothing_stored()


def test_a_scan_of_hostile_items_answers_a_bounded_400_and_stores_nothing():
    tenant, client = tenant_client("Quét độc", "quetdoc")
    response = client.post("/data-scans", {"tenant_id": str(tenant.pk), "activities": hostile_items(400)}, format="json")
    assert response.status_code == 400 and len(response.content) <= ERROR_BODY_BUDGET, len(response.content)
    body = response.json()
    assert body["records_failed"] == 100 and body["validation_stopped"] is True and len(body["errors"]) <= 100
    assert nothing_stored()


def ndjson(items: list[dict]) -> bytes:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode()


def test_an_ndjson_scan_is_staged_in_chunks_with_every_record_in_order(settings):
    settings.DATA_SCAN_CHUNK_SIZE = 40
    tenant, client = tenant_client("Dòng JSON", "dongjson")
    response = client.post(f"/data-scans?tenant_id={tenant.pk}", data=ndjson(activities(100)), content_type="application/x-ndjson")
    assert response.status_code == 202, response.content
    scan = DataScan.objects.using("write").get(pk=response.json()["scan_id"])
    assert scan.records_total == 100 and scan.tenant_id == tenant.pk
    chunks = list(DataScanChunk.objects.using("write").filter(data_scan=scan).order_by("chunk_index"))
    assert [(c.first_record_index, c.record_count) for c in chunks] == [(0, 40), (40, 40), (80, 20)]
    assert [r["activity_name"] for c in chunks for r in c.records] == [a["activity_name"] for a in activities(100)]


def test_an_ndjson_scan_needs_the_tenant_in_the_query_string():
    tenant, client = tenant_client("Thiếu tenant", "thieutenant")
    response = client.post("/data-scans", data=ndjson(activities(2)), content_type="application/x-ndjson")
    assert response.status_code == 400 and response.json()["code"] == "tenant_id_required"


def test_a_malformed_ndjson_line_is_a_400_naming_it_and_nothing_is_stored():
    tenant, client = tenant_client("Dòng hỏng", "donghong")
    body = ndjson(activities(3)) + b"{not json\n"
    response = client.post(f"/data-scans?tenant_id={tenant.pk}", data=body, content_type="application/x-ndjson")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
    assert "line 4" in response.json()["details"]
    assert nothing_stored()


@pytest.mark.parametrize("media_type", ["application/json", "application/x-ndjson"])
def test_a_scan_invalid_after_staged_chunks_rolls_them_all_back(settings, media_type):
    settings.DATA_SCAN_CHUNK_SIZE = 10
    tenant, client = tenant_client("Sai giữa chừng", "saigiuachung")
    records = activities(95)
    records[87] = activity(87, pdpl_category="Category 9: Unknown")  # after eight staged chunks
    if media_type == "application/json":
        data = json.dumps({"tenant_id": str(tenant.pk), "activities": records}).encode()
    else:
        data = ndjson(records)
    response = client.post(f"/data-scans?tenant_id={tenant.pk}", data=data, content_type=media_type)
    assert response.status_code == 400, response.content
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(87, "pdpl_category")]
    assert nothing_stored()


def test_validated_chunks_are_yielded_while_the_body_is_still_being_read():
    consumed = []

    def items():
        for i, item in enumerate(activities(35)):
            consumed.append(i)
            yield item

    chunks = validated_chunks(items(), chunk_size=10, max_records=100, bytes_read=lambda: 0)
    first = next(chunks)
    assert len(first) == 10 and len(consumed) == 10, "the first chunk comes before the eleventh item is read"
    assert [len(c) for c in chunks] == [10, 10, 5]


def test_a_chunk_also_ends_at_its_byte_budget():
    read = [0]

    def items():
        for item in activities(30):
            read[0] += 1_000
            yield item

    chunks = validated_chunks(items(), chunk_size=10_000, max_records=100, bytes_read=lambda: read[0], chunk_max_bytes=5_000)
    assert [len(c) for c in chunks] == [5] * 6


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes made on demand, counting what the server reads of it."""

    def __init__(self, size: int, prefix: bytes = b""):
        self.size = size
        self.prefix = prefix
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        start = self.read_bytes
        self.read_bytes += n
        head = self.prefix[start : start + n]
        return head + b" " * (n - len(head))

    def readline(self, *args) -> bytes:  # noqa: ARG002 - never used for these bodies
        return self.read(-1)


HUNDRED_MB = 100 * 1024 * 1024


def snapshot_reads_at_tenant_check(monkeypatch, body: CountingBody) -> list[int]:
    """How much of `body` had been read each time the tenant was checked."""
    snapshots: list[int] = []
    check = tenancy.tenant_for_user

    def counted(user, tenant_id):
        snapshots.append(body.read_bytes)
        return check(user, tenant_id)

    monkeypatch.setattr(tenancy, "tenant_for_user", counted)
    return snapshots


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/data-scans?tenant_id={tenant}", "application/json"),
        ("/data-scans?tenant_id={tenant}", "application/x-ndjson"),
        ("/batch/processing-activities?tenant_id={tenant}", "application/json"),
    ],
)
def test_a_tenant_outside_the_callers_is_refused_before_a_byte_of_a_100_mb_body_is_read(path, media_type, monkeypatch):
    _, client = tenant_client("Người ngoài", "nguoingoai")
    other = uuid.uuid4()
    body = CountingBody(HUNDRED_MB)
    read_at_tenant_check = snapshot_reads_at_tenant_check(monkeypatch, body)
    response = client.generic(
        "POST",
        path.format(tenant=other),
        data=b"",
        content_type=media_type,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(HUNDRED_MB), "CONTENT_TYPE": media_type},
    )
    assert response.status_code == 403 and response.json()["code"] == "tenant_access_denied"
    assert read_at_tenant_check == [0]
    # Then the rest is read and dropped (never held), so the kept-alive connection can carry the
    # next request: gunicorn would close it, and nginx answer the next POST on it 502.
    assert body.read_bytes == HUNDRED_MB


def test_a_body_tenant_outside_the_callers_is_refused_before_its_activities_are_read(monkeypatch):
    _, client = tenant_client("Người ngoài 2", "nguoingoai2")
    prefix = json.dumps({"tenant_id": str(uuid.uuid4())}).encode()[:-1] + b', "activities": ['
    body = CountingBody(HUNDRED_MB, prefix=prefix)
    read_at_tenant_check = snapshot_reads_at_tenant_check(monkeypatch, body)
    response = client.generic(
        "POST",
        "/data-scans",
        data=b"",
        content_type="application/json",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(HUNDRED_MB), "CONTENT_TYPE": "application/json"},
    )
    assert response.status_code == 403
    assert read_at_tenant_check[0] <= 1024 * 1024, f"{read_at_tenant_check[0]:,} bytes read before the tenant check"


def test_a_chunked_scan_body_without_content_length_is_read_not_taken_as_empty():
    tenant, client = tenant_client("Chia khúc", "chiakhuc")
    data = json.dumps({"tenant_id": str(tenant.pk), "activities": activities(3)}).encode()
    response = Client().generic(
        "POST",
        "/data-scans",
        data=b"",
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": "", "CONTENT_TYPE": "application/json"},
    )
    assert response.status_code == 202, response.content
    assert response.json()["records_total"] == 3


def test_a_chunked_batch_body_is_a_411_not_an_empty_body():
    tenant, client = tenant_client("Khúc lô", "khuclo")
    data = json.dumps({"activities": activities(2)}).encode()
    response = Client().generic(
        "POST",
        f"/batch/processing-activities?tenant_id={tenant.pk}",
        data=b"",
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": "", "CONTENT_TYPE": "application/json"},
    )
    assert response.status_code == 411 and response.json()["code"] == "length_required" and response.json()["error_vi"]


def test_the_scan_limit_is_a_million_records():
    from django.conf import settings

    assert settings.DATA_SCAN_MAX_RECORDS == 1_000_000
