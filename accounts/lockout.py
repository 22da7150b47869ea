"""The admin sign-in lockout page (django-axes' AXES_LOCKOUT_CALLABLE).

A locked-out client gets 429 with `Retry-After` and a page in English and Vietnamese from the
message catalogue, in place of the admin's sign-in form. The page is the same whether the password
was right or wrong, so it tells a guesser nothing.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from verisyntra.messages import render as message


def cool_off_seconds() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds()))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """429, the bilingual lockout page and `Retry-After`: the whole cool-off, since each refused
    attempt starts it again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT, axes' default)."""
    seconds = cool_off_seconds()
    context = {
        "title": message("auth.lockout.title"),
        "body": message("auth.lockout.body", minutes=math.ceil(seconds / 60)),
        "advice": message("auth.lockout.advice"),
        "admin_url": reverse("admin:index"),
    }
    response = render(request, "accounts/lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
