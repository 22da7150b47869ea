"""Hostile input against the write endpoints: whatever a client sends, the answer is a clear
bilingual 4xx or a success, never a 5xx; a refused request writes nothing; what is accepted is
stored exactly as sent (SQL-looking text verbatim, every Vietnamese letter unchanged).

Property-based (hypothesis) for the batch validation; hand-written cases for the classic attacks.
"""

from __future__ import annotations

import functools
import json
import os
import unicodedata

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from inventory.models import DataScan, ProcessingActivity
from inventory.services import tenant_create
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

BATCH = "/batch/processing-activities"
LIST = "/analytics/processing-activities"
SCANS = "/data-scans"
CLIENT_ERRORS = {400, 401, 403, 404, 405, 413, 415}


@pytest.fixture
def tenant_api():
    tenant, _, token = tenant_create(name="Công ty Thù Địch", username="hostile")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return tenant, client


def rows(tenant) -> int:
    return ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant=tenant).count()


def post_raw(client, tenant, body: bytes | str, path: str = BATCH, **params):
    query = "&".join(f"{k}={v}" for k, v in {"tenant_id": tenant.pk, **params}.items())
    return client.generic("POST", f"{path}?{query}" if path == BATCH else path, body, content_type="application/json")


def assert_client_error(response, *statuses: int) -> dict:
    assert response.status_code in (statuses or CLIENT_ERRORS), (response.status_code, response.content[:500])
    body = response.json()
    assert body["error"] and body["error_vi"] and body["code"], body
    return body


def _openapi_nullable(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema understands it (a type that also allows null)."""
    if isinstance(node, list):
        return [_openapi_nullable(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: _openapi_nullable(value) for key, value in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    return node


@functools.cache
def documented_batch_response(status_code: int) -> jsonschema.Validator:
    """A validator for the batch endpoint's response body at `status_code`, from the published schema."""
    openapi = _openapi_nullable(SchemaGenerator().get_schema(request=None, public=True))
    schema = openapi["paths"][BATCH]["post"]["responses"][str(status_code)]["content"]["application/json"]["schema"]
    return jsonschema.Draft4Validator({**schema, "components": openapi["components"]})


def assert_documented(response) -> None:
    errors = [error.message for error in documented_batch_response(response.status_code).iter_errors(response.json())]
    assert errors == [], (response.status_code, errors[:3])


def valid_activity(name: str = "Quản lý nhân sự", **overrides) -> dict:
    return {"activity_name": name, "pdpl_category": "basic", "data_fields": ["ho_ten"], **overrides}


# --- properties ----------------------------------------------------------------------------------

# Any code point, lone surrogates included (sent as JSON \\u escapes; PostgreSQL cannot store them).
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


def field(plausible):
    """Mostly a value of the right kind, sometimes anything JSON can hold."""
    return st.one_of(plausible, plausible, json_values)


names = st.text(max_size=300)
item = st.fixed_dictionaries(
    {
        "activity_name": field(names),
        "pdpl_category": field(
            st.sampled_from(["basic", "sensitive", "public", "Category 2: Basic Personal Data", "Category 9", "", "BASIC"])
        ),
        "data_fields": field(st.lists(names, max_size=4)),
    },
    optional={
        "purpose": field(any_text),
        "legal_basis": field(st.sampled_from(["consent", "contract", "legal_obligation", "", "because"])),
        "data_subjects": field(st.lists(names, max_size=3)),
        "recipients": field(st.lists(names, max_size=3)),
        "cross_border_transfer": field(st.booleans()),
        "retention_months": field(st.integers(min_value=-10, max_value=2**40)),
        "tenant_id": st.uuids().map(str),  # an attempt to write into another tenant
        "id": st.uuids().map(str),
    },
)
batches = st.lists(st.one_of(item, item, item, json_values), max_size=6)
# 60 examples per property in the default run (CI); HYPOTHESIS_MAX_EXAMPLES=2000 for a long hunt.
hypothesis_settings = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@hypothesis_settings
@given(activities=batches, skip_invalid=st.booleans())
def test_any_batch_is_a_success_or_a_bilingual_400_and_a_refused_batch_writes_nothing(tenant_api, activities, skip_invalid):
    tenant, client = tenant_api
    before = rows(tenant)
    params = {"on_error": "skip"} if skip_invalid else {}
    response = post_raw(client, tenant, json.dumps({"activities": activities}), **params)
    after = rows(tenant)
    assert_documented(response)  # whatever the answer, it is the one the OpenAPI schema promises
    if response.status_code == 201:
        body = response.json()
        assert after - before == body["records_created"] == len(body["created_ids"])
        assert body["records_created"] + body["records_failed"] == len(activities)
        if not skip_invalid:
            assert body["records_failed"] == 0
        stored = dict(ProcessingActivity.objects.using(WRITE_ALIAS).filter(pk__in=body["created_ids"]).values_list("pk", "tenant_id"))
        assert set(stored.values()) <= {tenant.pk}, "an item's own tenant_id was obeyed"
    else:
        assert_client_error(response, 400)
        assert after == before


@hypothesis_settings
@given(body=st.one_of(json_values.map(json.dumps), st.binary(max_size=200)))
def test_any_body_at_all_is_never_a_5xx(tenant_api, body):
    tenant, client = tenant_api
    before = rows(tenant)
    response = post_raw(client, tenant, body)
    assert response.status_code < 500, response.content[:300]
    assert_documented(response)
    if response.status_code != 201:
        assert_client_error(response)
        assert rows(tenant) == before


# --- the classic attacks ---------------------------------------------------------------------------


def test_oversized_body_is_a_bilingual_413_and_writes_nothing(tenant_api, settings):
    tenant, client = tenant_api
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    body = json.dumps({"activities": [valid_activity(f"Hoạt động {i}") for i in range(2_000)]})
    assert len(body) > 50_000
    assert_client_error(post_raw(client, tenant, body), 413)
    assert rows(tenant) == 0


def test_oversized_scan_body_is_a_bilingual_413_and_stores_nothing(tenant_api, settings):
    tenant, client = tenant_api
    settings.DATA_SCAN_MAX_BODY_BYTES = 50_000
    body = json.dumps({"tenant_id": str(tenant.pk), "activities": [valid_activity(f"Hoạt động {i}") for i in range(2_000)]})
    assert_client_error(post_raw(client, tenant, body, path=SCANS), 413)
    assert DataScan.objects.using(WRITE_ALIAS).count() == 0


def test_deeply_nested_json_is_a_bilingual_400_not_a_crash(tenant_api):
    tenant, client = tenant_api
    for path in (BATCH, SCANS):
        for depth in (1_000, 100_000):
            nested = "[" * depth + "]" * depth
            item = f'{{"activity_name": "x", "pdpl_category": "basic", "data_fields": {nested}}}'
            body = f'{{"tenant_id": "{tenant.pk}", "activities": [{item}]}}'
            assert_client_error(post_raw(client, tenant, body, path=path), 400)
    assert rows(tenant) == 0 and DataScan.objects.using(WRITE_ALIAS).count() == 0


def test_huge_strings_are_refused_per_field_and_write_nothing(tenant_api):
    tenant, client = tenant_api
    huge = "Đ" * 1_000_000
    body = json.dumps(
        {
            "activities": [
                valid_activity("ok"),
                valid_activity(huge),
                valid_activity("ok", purpose=huge),
                valid_activity("ok", data_fields=[huge]),
            ]
        }
    )
    response = post_raw(client, tenant, body)
    error = assert_client_error(response, 400)
    assert {(e["index"], e["field"].split("[")[0]) for e in error["errors"]} == {(1, "activity_name"), (2, "purpose"), (3, "data_fields")}
    assert len(response.content) < 100_000, "the refusal echoes the huge value back"
    assert rows(tenant) == 0


def test_nul_characters_are_refused_not_a_database_error(tenant_api):
    tenant, client = tenant_api
    for value in ("tên\x00ẩn", "\x00"):
        for activity in (valid_activity(value), valid_activity("ok", purpose=value), valid_activity("ok", data_fields=[value])):
            assert_client_error(post_raw(client, tenant, json.dumps({"activities": [activity]})), 400)
    assert rows(tenant) == 0


def stored_through_the_api(client, tenant) -> list[dict]:
    response = client.get(LIST, {"tenant_id": str(tenant.pk), "limit": 1000})
    assert response.status_code == 200
    return response.json()["activities"]


def test_other_control_characters_inside_text_are_stored_verbatim(tenant_api):
    tenant, client = tenant_api
    controls = "".join(chr(c) for c in [*range(1, 32), 127, 0x85, 0x2028, 0x2029, 0x200B, 0xFEFF, 0x202E])
    value = f"đầu{controls}cuối"
    response = post_raw(client, tenant, json.dumps({"activities": [valid_activity(value, purpose=value, data_fields=[value])]}))
    assert response.status_code == 201, response.content
    [stored] = stored_through_the_api(client, tenant)
    assert stored["activity_name"] == stored["purpose"] == stored["data_fields"][0] == value


SQL_LOOKING = [
    "'); DROP TABLE inventory_processingactivity; --",
    "1' OR '1'='1",
    "Robert'); DELETE FROM inventory_tenant WHERE ('1'='1",
    "$$; SELECT pg_sleep(30); $$",
    "\\'; COPY inventory_tenant TO PROGRAM 'id'; --",
    "%s %(name)s {0} ${jndi:ldap://x}",
    "E'\\x27' || chr(39) || ';",
]


def test_sql_looking_strings_are_stored_verbatim_and_never_executed(tenant_api):
    tenant, client = tenant_api
    other, _, _ = tenant_create(name="Công ty Bên Cạnh", username="neighbour")
    activities = [valid_activity(text, purpose=text, data_fields=[text], recipients=[text]) for text in SQL_LOOKING]
    response = post_raw(client, tenant, json.dumps({"activities": activities}))
    assert response.status_code == 201, response.content
    stored = {a["activity_name"]: a for a in stored_through_the_api(client, tenant)}
    for text in SQL_LOOKING:
        assert stored[text]["purpose"] == text and stored[text]["data_fields"] == [text] and stored[text]["recipients"] == [text]
    assert rows(tenant) == len(SQL_LOOKING)
    assert other.__class__.objects.using(WRITE_ALIAS).filter(pk=other.pk).exists()


def test_sql_looking_tenant_ids_are_a_bilingual_400(tenant_api):
    tenant, client = tenant_api
    for raw in ("' OR '1'='1", "1; DROP TABLE inventory_tenant", "00000000-0000-0000-0000-00000000000g", "%00", "../../etc/passwd"):
        for response in (
            client.get(LIST, {"tenant_id": raw}),
            client.post(f"{BATCH}?tenant_id={raw}", {"activities": [valid_activity()]}, format="json"),
        ):
            assert assert_client_error(response, 400)["code"] == "invalid_tenant_id"
    assert rows(tenant) == 0


def every_vietnamese_letter() -> str:
    """Every vowel with every tone (none, huyền, sắc, hỏi, ngã, nặng), both cases, and đ/Đ, in NFC."""
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = [unicodedata.normalize("NFC", vowel + tone) for vowel in "aăâeêioôơuưy" for tone in tones]
    letters += [letter.upper() for letter in letters]
    return "".join(letters) + "đĐ"


def test_every_vietnamese_letter_round_trips_unchanged_in_nfc_and_nfd(tenant_api):
    tenant, client = tenant_api
    letters = every_vietnamese_letter()
    assert len(letters) == 146 and all(unicodedata.is_normalized("NFC", ch) for ch in letters)
    decomposed = unicodedata.normalize("NFD", letters)
    assert decomposed != letters
    # Names and list items hold at most 255 code points; decomposed, the 146 letters are 327.
    short_decomposed = unicodedata.normalize("NFD", letters[:70])
    activities = [
        valid_activity(
            letters, purpose=decomposed, data_fields=list(letters), data_subjects=["chủ thể dữ liệu"], recipients=[short_decomposed]
        ),
        valid_activity(short_decomposed, purpose=letters, data_fields=list(decomposed)),
    ]
    response = post_raw(client, tenant, json.dumps({"activities": activities}, ensure_ascii=False).encode())
    assert response.status_code == 201, response.content
    stored = {a["activity_name"]: a for a in stored_through_the_api(client, tenant)}
    assert stored[letters]["purpose"] == decomposed and stored[letters]["data_fields"] == list(letters)
    assert stored[letters]["recipients"] == [short_decomposed] and stored[letters]["data_subjects"] == ["chủ thể dữ liệu"]
    assert stored[short_decomposed]["purpose"] == letters and stored[short_decomposed]["data_fields"] == list(decomposed)
    in_database = set(ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant=tenant).values_list("activity_name", flat=True))
    assert in_database == {letters, short_decomposed}
