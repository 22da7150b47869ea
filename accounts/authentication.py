"""DRF authentication by API token: `Authorization: Token <token>`, as clients already send it.

The header's form is unchanged from DRF's TokenAuthentication, so existing clients keep working;
what changed is behind it (accounts.models): only a digest is stored, tokens expire, can be
revoked and rotated, and may act for one tenant only (`request.auth` is the ApiToken, whose
`tenant_id` the tenancy layer checks). A client that keeps failing is refused before its token is
looked up (accounts.throttling.FailedAuthenticationThrottle).
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.models import ApiToken
from accounts.selectors import api_token_for_key
from accounts.services import token_use_note
from accounts.throttling import FailedAuthenticationThrottle

KEYWORD = "Token"


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <token>`; unknown, expired and revoked tokens are all the same 401."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # no token: other authentication, or the view's own 401
        throttle = FailedAuthenticationThrottle(request)
        throttle.refuse_if_blocked()
        token = self._token(parts)
        if token is None or not token.user.is_active:
            throttle.record_failure()
            raise AuthenticationFailed()
        token_use_note(token)
        return token.user, token

    @staticmethod
    def _token(parts: list[bytes]) -> ApiToken | None:
        if len(parts) != 2:
            return None
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        return api_token_for_key(key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return KEYWORD
