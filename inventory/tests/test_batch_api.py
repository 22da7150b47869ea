"""`POST /batch/processing-activities`: 1 to 10,000 activities, tenant-safe, bilingual, all or nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from inventory.models import ProcessingActivity
from inventory.tests.api_support import (
    VIETNAMESE_LETTERS,
    activities,
    activity,
    assert_bilingual_error,
    member_of_new_tenant,
    post_batch,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet")


@pytest.fixture
def outsider():
    """A member of another tenant, with a valid token of their own."""
    return member_of_new_tenant("Công ty TNHH Sao Mai", "saomai")


def written() -> int:
    return ProcessingActivity.objects.count()


# --- Success --------------------------------------------------------------------------------


def test_the_designs_example_with_an_english_category_label_is_created(member):
    body = {
        "activities": [
            {
                "activity_name": "Customer Data Processing",
                "pdpl_category": "Category 2: Basic Personal Data",
                "data_fields": ["ho_ten", "dia_chi", "so_dien_thoai"],
            }
        ]
    }
    response = post_batch(member.client(), member.tenant.pk, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["success"] is True
    assert data["success_vi"] == "Thành công"
    assert data["records_created"] == 1
    assert data["records_failed"] == 0
    assert data["execution_time_seconds"] >= 0
    assert data["message"].startswith("Created 1 record in ")
    assert data["message_vi"].startswith("Đã tạo 1 bản ghi")
    assert data["errors"] == []
    row = ProcessingActivity.objects.get(pk=data["created_ids"][0])
    assert row.tenant_id == member.tenant.pk
    assert row.pdpl_category == "basic"
    assert row.data_fields == ["ho_ten", "dia_chi", "so_dien_thoai"]
    assert (row.purpose, row.legal_basis, row.data_subjects, row.recipients) == ("", "", [], [])
    assert (row.cross_border_transfer, row.retention_months, row.data_scan_id) == (False, None, None)


def test_ten_thousand_activities_round_trip_in_the_order_sent(member):
    items = activities(10_000)
    response = post_batch(member.client(), member.tenant.pk, {"activities": items})
    assert response.status_code == 201, response.content[:500]
    data = response.json()
    assert data["records_created"] == 10_000
    ids = data["created_ids"]
    assert len(ids) == len(set(ids)) == 10_000
    assert ProcessingActivity.objects.filter(tenant=member.tenant).count() == 10_000
    # The stable listing order (created_at, id) is the order the items were sent in.
    in_order = ProcessingActivity.objects.filter(tenant=member.tenant).order_by("created_at", "id")
    listed = [str(pk) for pk in in_order.values_list("pk", flat=True)]
    assert listed == ids
    sample = ProcessingActivity.objects.get(pk=ids[7_777])
    expected = activity(7_777)
    assert sample.activity_name == expected["activity_name"]
    assert sample.pdpl_category == "sensitive"  # 7777 % 3 == 1
    assert sample.legal_basis == "contract"  # 7777 % 4 == 1
    assert sample.data_subjects == ["khách hàng"]
    assert sample.retention_months == expected["retention_months"]


def test_text_with_tabs_newlines_quotes_and_backslashes_is_stored_exactly(member):
    tricky = activity(
        0,
        activity_name='Tab\there, "quoted" and back\\slash',
        purpose="Line one\nline two\r\nend \\N",
        data_fields=["a,b", "{braces}", '"q"', "back\\slash", "NULL", "tab\tin"],
        recipients=["Đối tác, Hà Nội"],
    )
    response = post_batch(member.client(), member.tenant.pk, {"activities": [tricky, activity(1)]})
    assert response.status_code == 201, response.content
    row = ProcessingActivity.objects.get(pk=response.json()["created_ids"][0])
    assert row.activity_name == tricky["activity_name"]
    assert row.purpose == tricky["purpose"]
    assert row.data_fields == tricky["data_fields"]
    assert row.recipients == tricky["recipients"]


def test_labels_and_codes_are_accepted_in_any_letter_case(member):
    items = [
        activity(0, pdpl_category="SENSITIVE", legal_basis="Legal obligation"),
        activity(1, pdpl_category="category 1: sensitive personal data", legal_basis=None),
        activity(2, pdpl_category="Loại 3: Dữ liệu Công khai", legal_basis="CONSENT"),
    ]
    response = post_batch(member.client(), member.tenant.pk, {"activities": items})
    assert response.status_code == 201, response.content
    rows = ProcessingActivity.objects.in_bulk(response.json()["created_ids"], field_name="pk")
    stored = [(rows[uuid.UUID(pk)].pdpl_category, rows[uuid.UUID(pk)].legal_basis) for pk in response.json()["created_ids"]]
    assert stored == [("sensitive", "legal_obligation"), ("sensitive", ""), ("public", "consent")]


# --- All or nothing, and on_error=skip --------------------------------------------------------


def test_one_bad_item_rejects_the_whole_batch_and_every_bad_item_is_listed(member):
    items = activities(1_200)
    items[3]["data_fields"] = []
    items[700]["pdpl_category"] = "Category 9: Secret"  # after the first validation block
    items[1_199] = {"activity_name": "x", "pdpl_category": "basic", "data_fields": ["a"], "unknown": 1}
    response = post_batch(member.client(), member.tenant.pk, {"activities": items})
    body = assert_bilingual_error(response, 400, "invalid_activities")
    assert body["records_failed"] == 3
    by_index = {(e["index"], e["field"]) for e in body["errors"]}
    assert by_index == {(3, "data_fields"), (700, "pdpl_category"), (1_199, "unknown")}
    for error in body["errors"]:
        assert error["message"] and VIETNAMESE_LETTERS & set(error["message_vi"]), error
    assert written() == 0


def test_a_bad_label_found_after_rows_were_already_streamed_still_writes_nothing(member):
    # Types are fine, so the body takes the one-pass path and COPY starts; the unknown category in
    # the third validation block aborts it, and the transaction takes the streamed rows back.
    items = activities(1_600)
    items[1_234]["pdpl_category"] = "Category 4: Secret Data"
    body = assert_bilingual_error(post_batch(member.client(), member.tenant.pk, {"activities": items}), 400, "invalid_activities")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1_234, "pdpl_category")]
    assert written() == 0


def test_on_error_skip_writes_the_valid_items_and_reports_the_rejected_ones(member):
    items = activities(10)
    items[2]["retention_months"] = -1
    items[5] = "not an object"
    items[8]["activity_name"] = "   "
    response = post_batch(member.client(), member.tenant.pk, {"activities": items}, query="on_error=skip")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["records_created"] == 7
    assert data["records_failed"] == 3
    assert [(e["index"], e["field"]) for e in data["errors"]] == [(2, "retention_months"), (5, None), (8, "activity_name")]
    assert "3 rejected" in data["message"] and "3 bản ghi bị từ chối" in data["message_vi"]
    names = set(ProcessingActivity.objects.values_list("activity_name", flat=True))
    assert names == {activity(i)["activity_name"] for i in (0, 1, 3, 4, 6, 7, 9)}


def test_on_error_skip_with_no_valid_item_is_a_400_and_writes_nothing(member):
    response = post_batch(member.client(), member.tenant.pk, {"activities": [{"activity_name": "x"}]}, query="on_error=skip")
    body = assert_bilingual_error(response, 400, "invalid_activities")
    assert {e["field"] for e in body["errors"]} == {"pdpl_category", "data_fields"}
    assert written() == 0


# --- Bad input: status, bilingual body, nothing written -------------------------------------


BAD_BODIES = [
    pytest.param({"activities": []}, 400, "empty_batch", id="empty-list"),
    pytest.param({"activities": [activity(0)] * 10_001}, 400, "batch_too_large", id="10001-items"),
    pytest.param(b'{"activities": [', 400, "malformed_json", id="malformed-json"),
    pytest.param(b"", 400, "malformed_json", id="empty-body"),
    pytest.param(b'{"activities": [{"activity_name": "\\ud800"}]}', 400, "malformed_json", id="unpaired-surrogate"),
    pytest.param(b'{"activities": [NaN]}', 400, "malformed_json", id="nan"),
    pytest.param(b"\xff\xfe", 400, "malformed_json", id="not-utf8"),
    pytest.param([activity(0)], 400, "invalid_body", id="bare-list"),
    pytest.param({"activity": [activity(0)]}, 400, "invalid_body", id="no-activities-key"),
    pytest.param({"activities": activity(0)}, 400, "invalid_body", id="activities-not-a-list"),
    pytest.param({"activities": [activity(0, activity_name="NUL\u0000inside")]}, 400, "invalid_activities", id="nul-character"),
    pytest.param({"activities": [activity(0, purpose="NUL\u0000in purpose")]}, 400, "invalid_activities", id="nul-in-purpose"),
    pytest.param({"activities": [activity(0, data_fields=["ho_ten", " \t "])]}, 400, "invalid_activities", id="blank-data-field"),
    pytest.param({"activities": [activity(0, retention_months=2.5)]}, 400, "invalid_activities", id="fractional-months"),
    pytest.param({"activities": [activity(0, data_fields=["x" * 256])]}, 400, "invalid_activities", id="field-too-long"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
def test_bad_bodies_get_a_bilingual_4xx_and_write_nothing(member, body, status, code):
    assert_bilingual_error(post_batch(member.client(), member.tenant.pk, body), status, code)
    assert written() == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_content_type_other_than_json_is_a_bilingual_415(member, content_type):
    response = post_batch(member.client(), member.tenant.pk, json.dumps({"activities": [activity(0)]}), content_type=content_type)
    assert_bilingual_error(response, 415, "unsupported_media_type")
    assert written() == 0


def test_json_with_a_charset_parameter_is_accepted(member):
    response = post_batch(member.client(), member.tenant.pk, {"activities": [activity(0)]}, content_type="application/json; charset=utf-8")
    assert response.status_code == 201


def test_a_body_over_the_upload_limit_is_a_bilingual_413(member):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000):
        response = post_batch(member.client(), member.tenant.pk, {"activities": activities(20)})
    body = assert_bilingual_error(response, 413, "request_too_large")
    assert body["max_bytes"] == 1_000
    assert written() == 0


def test_the_default_upload_limit_lets_ten_thousand_long_records_through():
    from django.conf import settings

    # Ten thousand records with every field filled and long texts: well over Django's 2.5 MB default.
    size = len(json.dumps({"activities": [activity(i, purpose="p" * 300) for i in range(10_000)]}).encode())
    assert size > 2.5 * 1024 * 1024
    assert 2 * size <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_an_unknown_on_error_mode_is_a_400(member):
    response = post_batch(member.client(), member.tenant.pk, {"activities": [activity(0)]}, query="on_error=ignore")
    body = assert_bilingual_error(response, 400, "invalid_parameter")
    assert body["parameter"] == "on_error" and "abort, skip" in body["error"]
    assert written() == 0


# --- Who may write ----------------------------------------------------------------------------


def test_no_token_is_a_bilingual_401_and_writes_nothing(member):
    response = post_batch(APIClient(), member.tenant.pk, {"activities": [activity(0)]})
    assert_bilingual_error(response, 401, "not_authenticated")
    assert written() == 0


def test_a_bad_token_is_a_bilingual_401_and_writes_nothing(member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert_bilingual_error(post_batch(client, member.tenant.pk, {"activities": [activity(0)]}), 401, "authentication_failed")
    assert written() == 0


def test_writing_into_another_tenant_is_a_403_and_writes_nothing_anywhere(member, outsider):
    response = post_batch(outsider.client(), member.tenant.pk, {"activities": [activity(0)]})
    assert_bilingual_error(response, 403, "tenant_access_denied")
    assert written() == 0


def test_a_tenant_that_does_not_exist_gets_the_same_403(member):
    response = post_batch(member.client(), uuid.uuid4(), {"activities": [activity(0)]})
    assert_bilingual_error(response, 403, "tenant_access_denied")
    assert written() == 0


@pytest.mark.parametrize(("tenant_id", "code"), [("not-a-uuid", "invalid_tenant_id"), ("", "tenant_id_required")])
def test_a_malformed_or_missing_tenant_id_is_a_400(member, tenant_id, code):
    assert_bilingual_error(post_batch(member.client(), tenant_id, {"activities": [activity(0)]}), 400, code)
    assert written() == 0


def test_the_tenant_is_checked_before_the_body_is_even_parsed(outsider, member):
    # A stranger learns nothing about the body rules of a tenant they cannot write to.
    response = post_batch(outsider.client(), member.tenant.pk, b"not json")
    assert_bilingual_error(response, 403, "tenant_access_denied")


def test_batch_hands_its_read_connection_back_before_taking_a_write_one(member):
    """A writer must not hold a read connection while it queues for the write pool (pool-sizing benchmark)."""
    from django.db import connections

    from verisyntra.db import pools

    # The test client keeps connections open across requests: start from empty pools' view.
    for alias in ("read", "write"):
        connections[alias].close()
    read_in_use_at_write_checkout: list[int] = []

    def observe(alias: str, waited: float) -> None:
        if alias == "write":
            read_in_use_at_write_checkout.append(pools.pool_statistics("read").checked_out)

    pools.checkout_observers.append(observe)
    try:
        response = post_batch(APIClient(HTTP_AUTHORIZATION=f"Token {member.token}"), member.tenant.pk, {"activities": activities(3)})
    finally:
        pools.checkout_observers.remove(observe)
    assert response.status_code == 201, response.content[:300]
    assert read_in_use_at_write_checkout, "the batch never checked out a write connection"
    assert read_in_use_at_write_checkout[0] == 0
