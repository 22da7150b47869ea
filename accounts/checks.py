"""System checks of the accounts app: a malformed throttle rate stops the start, not every request."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from rest_framework.settings import api_settings

from accounts.throttling import parse_rate

RATE_VARIABLES = {"anon": "API_THROTTLE_ANON_RATE", "user": "API_THROTTLE_USER_RATE", "auth_failure": "API_THROTTLE_AUTH_FAILURE_RATE"}


@register(Tags.security)
def throttle_rates_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    rates = api_settings.DEFAULT_THROTTLE_RATES
    for scope, variable in RATE_VARIABLES.items():
        try:
            parse_rate(rates.get(scope))
        except ValueError as exc:
            errors.append(Error(f"{variable}: {exc}", hint="For example 20/min, 10000/hour or off.", id="accounts.E001"))
    return errors
