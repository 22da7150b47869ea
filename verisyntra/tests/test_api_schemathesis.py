"""A bounded schemathesis run over EVERY operation the application publishes in `/api/schema/`.

Schemathesis reads the schema from the application itself and throws generated requests at each
operation (batch, analytics summary and list, data scans list, detail and submission, the health
endpoints), valid and deliberately invalid ones. Whatever it sends, the API must answer without a
5xx, with a status code the schema documents, the content type it documents, and a body that
matches the documented schema (the error shapes included). Derandomised and capped per
operation, so the run repeats exactly and stays well under a minute.
"""

from __future__ import annotations

import pytest
import redis
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from inventory.tests.api_support import member_of_new_tenant

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXPECTED_OPERATIONS = {
    "POST /batch/processing-activities",
    "GET /analytics/compliance-summary",
    "GET /analytics/processing-activities",
    "GET /data-scans",
    "POST /data-scans",
    "GET /data-scans/{scan_id}",
    "POST /data-sources",
    "GET /data-sources",
    "GET /data-sources/{source_id}",
    "PATCH /data-sources/{source_id}",
    "DELETE /data-sources/{source_id}",
    "POST /data-sources/{source_id}/scans",
    "GET /data-sources/{source_id}/activities",
    "DELETE /data-scans/{scan_id}",
    "GET /health/connection-pools",
    "GET /health/live",
    "GET /health/ready",
    "GET /health/database",
    "GET /metrics",
}

# Loaded at collection from the application itself (no server, no database: the schema view
# needs neither), so what is tested is exactly what /api/schema/ publishes.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def member():
    yield member_of_new_tenant("Công ty Lược Đồ Đầy Đủ", "luocdodaydu")
    # Scans the run submitted went to this run's broker database; no worker should ever get them.
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()


def test_the_schema_publishes_every_operation_of_the_api():
    published = {f"{operation.method.upper()} {operation.path}" for operation in (result.ok() for result in schema.get_all_operations())}
    assert published >= EXPECTED_OPERATIONS, EXPECTED_OPERATIONS - published


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_generated_requests_to_every_operation_get_documented_answers_and_never_a_5xx(case, member):
    # As a member of the tenant named, so generated bodies and parameters reach the validation and
    # the database instead of stopping at 403 (refusals for other tenants, missing and malformed
    # tenant ids are specified in the API tests).
    if case.query is not None and "tenant_id" in case.query:
        case.query = {**case.query, "tenant_id": str(member.tenant.pk)}
    if case.operation.path == "/data-scans" and case.method.upper() == "POST" and isinstance(case.body, dict):
        case.body = {**case.body, "tenant_id": str(member.tenant.pk)}
    case.call_and_validate(headers={"Authorization": f"Token {member.token}"}, checks=CHECKS)
