"""Schemathesis over the whole published schema, deeper than CI's run: every default run fuzzes
every operation with a member's token and full conformance checks
(verisyntra/tests/test_api_schemathesis.py, 25 examples each); this one sends more examples per
operation (60), with and without a token, and asks only that no answer is a 5xx.

Slow (`scripts/test-slow`): bounded by examples per operation, derandomised so a failure repeats.
"""

from __future__ import annotations

import os

import pytest
import redis
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from inventory.tests.api_support import member_of_new_tenant

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["read", "write"])]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def member():
    yield member_of_new_tenant("Công ty Lược Đồ", "luocdo")
    # Scans the run submitted were enqueued on this run's broker database; no worker should get them.
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("as_member", [True, False], ids=["member", "no-token"])
def test_no_generated_request_to_any_operation_gets_a_5xx(case, member, as_member):
    headers = {}
    if as_member:
        headers["Authorization"] = f"Token {member.token}"
        if case.query is not None and "tenant_id" in case.query and case.query["tenant_id"] is not None:
            case.query = {**case.query, "tenant_id": str(member.tenant.pk)}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
