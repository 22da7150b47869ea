"""A bounded schemathesis run over the published OpenAPI schema (batch and analytics operations).

Schemathesis reads `/api/schema/` from the application itself and throws generated requests at
each operation, valid and deliberately invalid ones. Whatever it sends, the API must answer without
a 5xx, with a status code the schema documents, the content type it documents, and a body that
matches the documented schema (the error shape included). The run is derandomised and capped at a
few dozen examples per operation, so it is repeatable and fits in CI (well under a minute).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from inventory.tests.api_support import member_of_new_tenant

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def member():
    return member_of_new_tenant("Công ty Cổ phần Đại Việt", "daiviet")


# Loaded at collection from the application itself (no server, no database: the schema view
# needs neither), so what is tested is exactly what /api/schema/ publishes.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.include(path_regex=r"^/(batch|analytics)/").parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_generated_requests_get_documented_answers_and_never_a_5xx(case, member):
    # Authenticated as a member of the tenant named, so generated bodies and parameters reach the
    # validation and the database instead of stopping at 403 (refusals for other tenants, missing
    # and malformed tenant ids are specified in the API tests).
    case.query = {**(case.query or {}), "tenant_id": str(member.tenant.pk)}
    case.call_and_validate(headers={"Authorization": f"Token {member.token}"}, checks=CHECKS)
