"""Throttling: guessing tokens is cut off within a bounded number of attempts, before any lookup;
rate limits answer the one error shape with Retry-After; the client address cannot be spoofed."""

from __future__ import annotations

import secrets
import time

import pytest
from django.core.cache import cache

from accounts import throttling
from accounts.tests.support import DATABASES, SUMMARY, api_client, fresh_address, with_rates
from inventory.services import tenant_create
from inventory.tests.api_support import assert_bilingual_error

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)

LIMIT = 20  # the default API_THROTTLE_AUTH_FAILURE_RATE, 20/min


def guess(address: str, tenant_id, **headers) -> int:
    return api_client(secrets.token_hex(20), address).get(SUMMARY.format(tenant_id), **headers).status_code


def assert_throttled(response) -> dict:
    body = assert_bilingual_error(response, 429, "throttled")
    wait = int(response["Retry-After"])
    assert body["retry_after_seconds"] == wait and 1 <= wait <= 60
    assert f"retry in {wait} second" in body["error"] and f"thử lại sau {wait} giây" in body["error_vi"]
    return body


def test_guessing_2000_tokens_is_refused_after_the_limit_and_before_any_lookup(query_log):
    tenant, _, issued = tenant_create(name="Công ty Đoán Mò", username="doanmo")
    attacker = fresh_address()
    started = time.monotonic()
    answers = [guess(attacker, tenant.pk) for _ in range(2000)]
    elapsed = time.monotonic() - started
    assert answers[:LIMIT] == [401] * LIMIT, "the first guesses are ordinary 401s"
    assert set(answers[LIMIT:]) == {429}, "every guess after the limit is refused"
    # Refused before the token is looked up: no query at all, even with a valid token.
    query_log.clear()
    blocked = api_client(issued.key, attacker).get(SUMMARY.format(tenant.pk))
    assert_throttled(blocked)
    assert query_log.entries == []
    # Another client is not affected.
    assert api_client(issued.key).get(SUMMARY.format(tenant.pk)).status_code == 200
    assert elapsed < 60, f"2,000 guesses took {elapsed:.1f} s"


def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(settings):
    tenant, _, _ = tenant_create(name="Công ty Giả Mạo", username="giamao")
    attacker = fresh_address()
    # No trusted proxy (the default): the header is ignored, whatever it says.
    answers = [guess(attacker, tenant.pk, HTTP_X_FORWARDED_FOR=fresh_address()) for _ in range(LIMIT + 1)]
    assert answers[-1] == 429 and answers.count(401) == LIMIT

    # Behind one trusted proxy the address is the one it appended (the last), never the client's own entries.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    behind, proxy = fresh_address(), fresh_address()
    answers = [guess(proxy, tenant.pk, HTTP_X_FORWARDED_FOR=f"{fresh_address()}, {behind}") for _ in range(LIMIT + 1)]
    assert answers[-1] == 429 and answers.count(401) == LIMIT
    assert guess(proxy, tenant.pk, HTTP_X_FORWARDED_FOR=fresh_address()) == 401, "another client behind the same proxy"


def test_the_wait_runs_from_the_first_failure_then_guessing_starts_again(settings):
    with_rates(settings, auth_failure="3/s")
    tenant, _, issued = tenant_create(name="Công ty Chờ", username="cho")
    attacker = fresh_address()
    assert [guess(attacker, tenant.pk) for _ in range(4)] == [401, 401, 401, 429]
    time.sleep(1.2)
    assert api_client(issued.key, attacker).get(SUMMARY.format(tenant.pk)).status_code == 200


@pytest.mark.urls("accounts.tests.urls")
def test_user_and_anonymous_rates_answer_429_with_retry_after(settings):
    with_rates(settings, user="3/min", anon="2/min")
    tenant, _, issued = tenant_create(name="Công ty Giới Hạn", username="gioihan")
    client = api_client(issued.key)
    assert [client.get(SUMMARY.format(tenant.pk)).status_code for _ in range(3)] == [200, 200, 200]
    assert_throttled(client.get(SUMMARY.format(tenant.pk)))
    # Counted per user, whichever address and token: another client of the same user is over too.
    assert api_client(issued.key).get(SUMMARY.format(tenant.pk)).status_code == 429

    # Anonymous: per address, on the open endpoints.
    anonymous = api_client()
    assert [anonymous.get("/open").status_code for _ in range(2)] == [200, 200]
    assert_throttled(anonymous.get("/open"))
    assert api_client().get("/open").status_code == 200, "another address has its own count"


def test_a_cache_outage_lets_requests_through(settings, monkeypatch):
    with_rates(settings, user="1/min", auth_failure="1/min")
    tenant, _, issued = tenant_create(name="Công ty Mất Bộ Đệm", username="matbodem")

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("incr", "add", "get_many", "set", "touch"):
        monkeypatch.setattr(cache, name, down)
    address = fresh_address()
    assert [guess(address, tenant.pk) for _ in range(3)] == [401, 401, 401]
    client = api_client(issued.key)
    assert [client.get(SUMMARY.format(tenant.pk)).status_code for _ in range(3)] == [200, 200, 200]


def test_rates_parse_and_a_bad_one_fails_the_system_check(settings):
    assert throttling.parse_rate("20/min") == (20, 60) and throttling.parse_rate("5/s") == (5, 1)
    assert throttling.parse_rate("off") is None and throttling.parse_rate(None) is None
    for bad in ("20", "x/min", "0/min", "20/fortnight"):
        with pytest.raises(ValueError):
            throttling.parse_rate(bad)
    from accounts.checks import throttle_rates_check

    assert throttle_rates_check() == []
    with_rates(settings, auth_failure="twenty a minute")
    [error] = throttle_rates_check()
    assert error.id == "accounts.E001" and "API_THROTTLE_AUTH_FAILURE_RATE" in error.msg
