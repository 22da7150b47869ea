"""A Content-Security-Policy on every response, so pages load scripts only from this service.

The API docs page is where people paste an API token ("Authorize"); the admin is where staff sign
in. Under this policy neither runs a script, nor sends a request, to any other origin: a compromised
or hijacked third-party asset cannot read what is typed there. Django 5.2 has no CSP of its own
(it arrives in Django 6.0), and one header needs no dependency. The policy is the setting
`CONTENT_SECURITY_POLICY` (verisyntra/settings.py); see the CSP Level 3 specification (W3C) for
the directives.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """Adds `settings.CONTENT_SECURITY_POLICY` to each response that has no policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        return response
