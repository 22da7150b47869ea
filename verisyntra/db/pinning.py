"""Pinning reads to the primary: `use_primary()` and the pin-after-write request middleware.

State lives in `contextvars`, so a pin holds for the thread or asyncio task that set it and
never leaks into a concurrent request served by another thread of the same process.
"""

from __future__ import annotations

import contextvars
from contextlib import ContextDecorator
from dataclasses import dataclass


@dataclass
class RequestPin:
    """Per-request state: set once the request has written, so later reads see the write."""

    wrote: bool = False


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
    return pin is not None and pin.wrote


def note_write() -> None:
    """Called by the router for every write: pins the rest of the current request, if any."""
    pin = _request_pin.get()
    if pin is not None:
        pin.wrote = True


class PinPrimaryAfterWriteMiddleware:
    """After a request's first write, route the rest of that request's reads to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_pin.set(RequestPin())
        try:
            return self.get_response(request)
        finally:
            _request_pin.reset(token)
