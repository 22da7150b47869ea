"""Helpers for the accounts tests: clients from addresses of their own, and changed rates."""

from __future__ import annotations

import itertools
import random

from django.conf import settings
from rest_framework.test import APIClient

from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

DATABASES = [READ_ALIAS, WRITE_ALIAS]
SUMMARY = "/analytics/compliance-summary?tenant_id={}"

# Throttle and lockout state lives in the tests' Redis database for the whole run; each test takes
# client addresses nobody else uses (TEST-NET-3 and benchmarking ranges), so none inherits another's.
_addresses = itertools.count(random.randrange(0, 5000))


def fresh_address() -> str:
    n = next(_addresses)
    return f"198.19.{n // 250 % 250}.{n % 250 + 1}"


def api_client(token: str | None = None, address: str | None = None) -> APIClient:
    client = APIClient(REMOTE_ADDR=address or fresh_address())
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def with_rates(django_settings, **rates: str) -> None:
    """Override throttle rates (scope=rate) for one test through pytest-django's `settings` fixture."""
    current = settings.REST_FRAMEWORK
    django_settings.REST_FRAMEWORK = {**current, "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], **rates}}
