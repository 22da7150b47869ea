"""Request throttling in the shared cache (Redis), and the client address it is keyed on.

Three limits, rates in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (settings from the environment):

- `anon` and `user`: DRF throttle classes, per client address for requests without a user and per
  user otherwise. Counted in fixed windows with one atomic counter per client (DRF's own
  SimpleRateThrottle keeps a list of every request's timestamp and rewrites it whole on each
  request: at 10,000 requests a minute that is ~100 KB read and written per request).
- `auth_failure`: failed token authentications per client address. Unlike the others it is
  checked before the token is looked up (`ApiTokenAuthentication` calls it), so once a client has
  failed N times, everything it sends is answered 429 without touching the database, until the
  window that began at its first failure ends.

Every limit answers DRF's `Throttled`, which the error handler turns into the bilingual 429 with
`Retry-After`. When the cache does not answer, requests are let through (logged): a Redis outage
must not take the API down with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
OFF = "off"


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """`"20/min"` -> (20, 60); None or "off" -> None (no limit). Periods: s, min, hour, day (first letter counts)."""
    if rate is None or rate.strip().lower() == OFF:
        return None
    count, _, period = rate.partition("/")
    seconds = _PERIODS.get(period.strip()[:1].lower())
    if seconds is None or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"a rate is 'N/s', 'N/min', 'N/hour', 'N/day' or 'off', not {rate!r}")
    return int(count), seconds


def rate_of(scope: str) -> tuple[int, int] | None:
    return parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(scope))


def client_address(request: HttpRequest | Request) -> str:
    """The client's address: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front (nginx
    appends the address it saw to X-Forwarded-For), the entry the outermost trusted proxy added.

    Entries to the left of it are whatever the client sent and are never used. A value that is not
    an IP address (a misconfigured proxy count) is kept as a digest, so it stays one bounded key.
    """
    meta = request.META
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    proxies = api_settings.NUM_PROXIES or 0
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(proxies, len(hops))]
    else:
        address = meta.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "unparsed-" + hashlib.sha256(address.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _count_hit(key: str, window_seconds: int) -> int | None:
    """Add one to the counter `key` (created for `window_seconds`); its new value, or None when the cache fails."""
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # no counter yet (or it just expired)
            if cache.add(key, 1, timeout=window_seconds):
                return 1
            count = cache.incr(key)
        if count == 1:
            # The counter expired between the backend's existence check and its INCR, which then
            # created it without an expiry: give it one, or the client would stay limited for ever.
            cache.touch(key, timeout=window_seconds)
        return count
    except Exception as exc:  # the cache client raises its own errors
        logger.warning("throttle counter unavailable, request let through: %s", exc)
        return None


class WindowRateThrottle(BaseThrottle):
    """A limit of N requests per client per fixed window, one atomic cache counter per window."""

    scope = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def client_key(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: object) -> bool:
        rate = rate_of(self.scope)
        client = self.client_key(request)
        if rate is None or client is None:
            return True
        limit, seconds = rate
        now = time.time()
        window = int(now // seconds)
        count = _count_hit(f"throttle:{self.scope}:{client}:{window}", seconds + 1)
        if count is None or count <= limit:
            return True
        self._wait = (window + 1) * seconds - now
        return False

    def wait(self) -> float | None:
        return self._wait


class AnonRateThrottle(WindowRateThrottle):
    """Requests without an authenticated user (the open endpoints), per client address."""

    scope = "anon"

    def client_key(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        return None if user is not None and user.is_authenticated else client_address(request)


class UserRateThrottle(WindowRateThrottle):
    """Requests of an authenticated user, all their tokens together."""

    scope = "user"

    def client_key(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        return f"user-{user.pk}" if user is not None and user.is_authenticated else None


class FailedAuthenticationThrottle:
    """N failed token authentications per client address, counted from its first failure; then every
    token it sends is refused (429) until that window ends, before the token is looked up."""

    scope = "auth_failure"

    def __init__(self, request: HttpRequest | Request) -> None:
        self.client = client_address(request)
        self._count_key = f"throttle:{self.scope}:{self.client}"
        self._since_key = f"throttle:{self.scope}:{self.client}:since"

    def refuse_if_blocked(self) -> None:
        """Raise `Throttled` (with the wait) when this client has used up its failures."""
        rate = rate_of(self.scope)
        if rate is None:
            return
        limit, seconds = rate
        try:
            state = cache.get_many([self._count_key, self._since_key])
        except Exception as exc:
            logger.warning("failed-authentication throttle unavailable, request let through: %s", exc)
            return
        if (state.get(self._count_key) or 0) < limit:
            return
        since = state.get(self._since_key)
        wait = seconds - (time.time() - since) if isinstance(since, float) else seconds
        raise Throttled(wait=max(1, math.ceil(wait)))

    def record_failure(self) -> None:
        rate = rate_of(self.scope)
        if rate is None:
            return
        limit, seconds = rate
        count = _count_hit(self._count_key, seconds)
        if count == limit:
            logger.warning("client %s refused token authentication after %d failures (for up to %d s)", self.client, count, seconds)
        if count == 1:
            try:
                cache.set(self._since_key, time.time(), timeout=seconds)
            except Exception as exc:
                logger.warning("failed-authentication throttle unavailable: %s", exc)
