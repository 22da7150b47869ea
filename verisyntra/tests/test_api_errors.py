"""The one exception handler: DRF maps Django's exceptions first, the body is always the bilingual shape.

A view that calls `get_object_or_404` or raises Django's `PermissionDenied` must answer 404 / 403
in `{"error", "error_vi", "code"}`, not a 500; outside DRF the JSON handlers answer the same.
"""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.tests.api_support import assert_bilingual_error
from verisyntra.api.errors import ApiError, error_body
from verisyntra.api.pagination import PageQuery
from verisyntra.api.query import parse_query

pytestmark = [pytest.mark.urls("verisyntra.tests.api_error_urls"), pytest.mark.django_db(databases=["read", "write"])]


@pytest.mark.parametrize("path", ["/drf/missing", "/plain/missing", "/no/such/page"])
def test_http404_is_a_bilingual_404_not_found(path):
    assert_bilingual_error(Client().get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/drf/forbidden", "/plain/forbidden"])
def test_djangos_permission_denied_is_a_bilingual_403(path):
    assert_bilingual_error(Client().get(path), 403, "permission_denied")


def test_throttling_is_a_bilingual_429_with_retry_after_rounded_up():
    response = Client().get("/drf/throttled")
    body = assert_bilingual_error(response, 429, "throttled")
    assert response["Retry-After"] == "3" and body["retry_after_seconds"] == 3


def test_an_api_error_renders_its_catalogue_sentence_with_its_detail_fields():
    error = ApiError("batch_too_large", params={"count": 10_001}, min_items=1, max_items=10_000)
    body = error.body()
    assert error.status_code == 400 and body["code"] == "batch_too_large"
    assert (body["min_items"], body["max_items"]) == (1, 10_000)
    assert "10,001" in body["error"] and "10.001" in body["error_vi"], "numbers follow each language's convention"
    assert "count" not in body, "params fill the sentence only"


def test_an_unknown_code_fails_at_once_rather_than_answering_without_a_sentence():
    with pytest.raises(KeyError):
        error_body("no_such_code")


def test_query_parameters_are_refused_with_the_parameter_named_and_the_declared_range():
    from django.http import QueryDict

    class Query(PageQuery):
        limit: int = 10

    with pytest.raises(ApiError) as refused:
        parse_query(QueryDict("tenant_id=00000000-0000-0000-0000-000000000001&skip=-4"), Query)
    body = refused.value.body()
    assert (body["code"], body["parameter"]) == ("invalid_parameter", "skip")
    assert "0 to 2,147,483,647" in body["error"] and "0 đến 2.147.483.647" in body["error_vi"]
