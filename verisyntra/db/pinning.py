"""Pinning reads to the primary: `use_primary()` and the pin-after-write request middleware.

State lives in `contextvars`, so a pin holds for the thread or asyncio task that set it and
never leaks into a concurrent request served by another thread of the same process.

Read-your-writes across requests: a replica may be up to REPLICA_MAX_LAG_SECONDS behind (more,
and it serves no reads), so after a request that wrote, the middleware gives the client a signed
cookie that pins its requests to the primary for PRIMARY_PIN_SECONDS. Clients that drop cookies
get the per-request pin only.

API clients rarely keep cookies (and the cookie is `Secure` behind HTTPS), so for a caller that
authenticates with an `Authorization` header the pin is also kept server-side, in the Django
cache (Redis, shared by every web process), and by WAL position rather than by time: after a
request of that caller wrote, the middleware reads the primary's WAL position (after the commit)
and stores it under a digest of the caller's credentials. The caller's later requests, in any
process, read from a replica only once the replica monitor has seen that replica replay past the
position, and from the primary until then; so they return to the replicas as soon as the
replicas have the write, however long or short the lag.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import math
from collections.abc import Callable
from contextlib import ContextDecorator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

PIN_COOKIE = "verisyntra_primary_pin"
_PIN_SALT = "verisyntra.db.pinning.primary-pin"
_POSITION_KEY_PREFIX = "ryw-lsn:"
# Stored when the commit position cannot be read: past any real position, so the caller reads from
# the primary until the entry expires, as a time-based pin would.
UNKNOWN_POSITION = 2**64 - 1


@dataclass
class RequestPin:
    """Per-request state: set once the request has written, so later reads see the write.

    `pinned` is set when the client wrote recently (the pin cookie); `read_alias` is the replica
    the router picked for this request, so all its reads see one consistent replica.
    """

    wrote: bool = False
    pinned: bool = False
    read_alias: str | None = None
    # The caller's last write position (read-your-writes by WAL position): replicas behind it serve no reads.
    min_lsn: int | None = None


_force_primary: contextvars.ContextVar[int] = contextvars.ContextVar("verisyntra_force_primary", default=0)
_request_pin: contextvars.ContextVar[RequestPin | None] = contextvars.ContextVar("verisyntra_request_pin", default=None)


class use_primary(ContextDecorator):  # noqa: N801 - reads like a statement: `with use_primary():`
    """Send every query in this scope, reads included, to the write alias (the primary).

    Usable as `with use_primary():` and as `@use_primary()`. Nesting is allowed.
    """

    def __init__(self) -> None:
        self._token: contextvars.Token[int] | None = None

    def _recreate_cm(self) -> use_primary:
        # A decorated function may run in several threads at once: give each call its own token.
        return use_primary()

    def __enter__(self) -> use_primary:
        self._token = _force_primary.set(_force_primary.get() + 1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._token is not None
        _force_primary.reset(self._token)
        self._token = None


def primary_forced() -> bool:
    """True inside `use_primary()` or once the current request has written."""
    if _force_primary.get():
        return True
    pin = _request_pin.get()
    return pin is not None and (pin.wrote or pin.pinned)


def current_request_pin() -> RequestPin | None:
    """The current request's pin state, or None outside a request (shell, Celery task)."""
    return _request_pin.get()


def note_write() -> None:
    """Pins the rest of the current request (and, with replicas, the client's next requests) to the primary.

    The router calls it for every ORM write; code that writes around the ORM (COPY, raw SQL on
    `connections["write"]`) must call it too, or its client may read a replica that lacks the rows.
    """
    pin = _request_pin.get()
    if pin is not None:
        pin.wrote = True


def pin_cookie_value() -> str:
    """A signed, timestamped token: the client wrote now."""
    return signing.TimestampSigner(salt=_PIN_SALT).sign("primary")


def pin_cookie_valid(value: str | None, max_age: float) -> bool:
    """True for a cookie this service signed less than `max_age` seconds ago (the client cannot extend it)."""
    if not value or max_age <= 0:
        return False
    try:
        signing.TimestampSigner(salt=_PIN_SALT).unsign(value, max_age=timedelta(seconds=max_age))
    except signing.BadSignature:  # also SignatureExpired
        return False
    return True


def caller_key(request: HttpRequest) -> str | None:
    """The cache key of the caller's write position: a digest of its `Authorization` header, or None without one.

    The header is known before the view runs (DRF authenticates inside the view), and a digest keeps
    the credentials themselves out of the cache. Positions are stored only for authenticated callers.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    return _POSITION_KEY_PREFIX + hashlib.sha256(header.encode("utf-8", "surrogateescape")).hexdigest()


def position_ttl_seconds() -> int:
    """How long a caller's write position is kept.

    A replica that may be missing more than REPLICA_MAX_LAG_SECONDS of commits serves no reads, and
    the monitor notices within REPLICA_CHECK_SECONDS, so past that every replica serving reads has
    the write; kept at least PRIMARY_PIN_SECONDS, the cookie's span.
    """
    bound = settings.REPLICA_MAX_LAG_SECONDS + 2 * settings.REPLICA_CHECK_SECONDS
    return max(1, math.ceil(max(bound, settings.PRIMARY_PIN_SECONDS)))


def caller_write_position(key: str) -> int | None:
    """The caller's last stored write position; UNKNOWN_POSITION (read from the primary) when the cache fails."""
    try:
        value = cache.get(key)
    except Exception as exc:  # the cache client raises its own errors; the safe answer is the primary
        logger.warning("read-your-writes cache unavailable, reading from the primary: %s", exc)
        return UNKNOWN_POSITION
    return value if isinstance(value, int) else None


def current_write_position() -> int:
    """The primary's WAL position now, read on the write connection after the request's commits.

    pg_current_wal_insert_lsn() rather than pg_current_wal_lsn(): it is never behind the end of a
    commit record, even with synchronous_commit off (where the write position may trail it).
    """
    from verisyntra.db.config import WRITE_ALIAS
    from verisyntra.db.replicas import lsn_to_int

    try:
        with connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            row = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("cannot read the primary's WAL position, pinning the caller by time: %s", exc)
        return UNKNOWN_POSITION
    return lsn_to_int(row[0]) if row else UNKNOWN_POSITION


def remember_write_position(key: str, position: int) -> None:
    """Store `position` for the caller unless a later one is stored (two processes may race)."""
    ttl = position_ttl_seconds()
    try:
        # get-compare-set, then check: a concurrent request that stored a lower position after our
        # read is overwritten on the second round (the cache API offers no atomic maximum).
        for _ in range(3):
            stored = cache.get(key)
            if isinstance(stored, int) and stored >= position:
                return
            cache.set(key, position, timeout=ttl)
    except Exception as exc:  # a cache outage must not fail a request whose write has committed
        logger.warning("read-your-writes cache unavailable, position not stored: %s", exc)


def _authenticated(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and bool(user.is_authenticated)


class PinPrimaryAfterWriteMiddleware:
    """After a request's first write, route the rest of that request's reads to the primary;
    with replicas in use, also the client's next requests: for PRIMARY_PIN_SECONDS (cookie), and
    for an authenticated API caller until the replicas have replayed its write (cache)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        seconds = settings.PRIMARY_PIN_SECONDS
        pin = RequestPin(pinned=pin_cookie_valid(request.COOKIES.get(PIN_COOKIE), seconds))
        key = caller_key(request) if self.replicas_in_use() else None
        if key is not None:
            pin.min_lsn = caller_write_position(key)
        token = _request_pin.set(pin)
        try:
            response = self.get_response(request)
        finally:
            _request_pin.reset(token)
        if not pin.wrote or not self.replicas_in_use():
            return response
        if key is not None and _authenticated(request):
            remember_write_position(key, current_write_position())
        if seconds > 0:
            response.set_cookie(
                PIN_COOKIE,
                pin_cookie_value(),
                max_age=timedelta(seconds=seconds),
                httponly=True,
                samesite="Lax",
                secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
            )
        return response

    @staticmethod
    def replicas_in_use() -> bool:
        # Without a replica every read already sees every commit: no cookie to carry around.
        from verisyntra.db.replicas import replicas_in_use

        return replicas_in_use()
