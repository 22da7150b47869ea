"""Pinning reads to the primary: `use_primary()` and the pin-after-write request middleware.

State lives in `contextvars`, so a pin holds for the thread or asyncio task that set it and
never leaks into a concurrent request served by another thread of the same process.

Read-your-writes across requests: a replica may be up to REPLICA_MAX_LAG_SECONDS behind (more,
and it serves no reads), so after a request that wrote, the middleware gives the client a signed
cookie that pins its requests to the primary for PRIMARY_PIN_SECONDS. Clients that drop cookies
get the per-request pin only.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from contextlib import ContextDecorator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase

PIN_COOKIE = "verisyntra_primary_pin"
_PIN_SALT = "verisyntra.db.pinning.primary-pin"


@dataclass
class RequestPin:
    """Per-request state: set once the request has written, so later reads see the write.

    `pinned` is set when the client wrote recently (the pin cookie); `read_alias` is the replica
    the router picked for this request, so all its reads see one consistent replica.
    """

    wrote: bool = False
    pinned: bool = False
    read_alias: str | None = None


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


class PinPrimaryAfterWriteMiddleware:
    """After a request's first write, route the rest of that request's reads to the primary;
    with replicas in use, also the client's next requests for PRIMARY_PIN_SECONDS (cookie)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        seconds = settings.PRIMARY_PIN_SECONDS
        pin = RequestPin(pinned=pin_cookie_valid(request.COOKIES.get(PIN_COOKIE), seconds))
        token = _request_pin.set(pin)
        try:
            response = self.get_response(request)
        finally:
            _request_pin.reset(token)
        if pin.wrote and seconds > 0 and self.replicas_in_use():
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
