"""Reads of the accounts app: the token a client presents, if it is one of ours and still usable."""

from __future__ import annotations

import hmac
import re

from django.utils import timezone

from accounts.models import PREFIX_LENGTH, ApiToken
from accounts.services import token_digest
from verisyntra.db.pinning import use_primary
from verisyntra.db.replicas import replicas_in_use

# `<prefix>.<secret>`: 12 hex digits, a dot, token_urlsafe(32).
_TOKEN = re.compile(rf"(?P<prefix>[0-9a-f]{{{PREFIX_LENGTH}}})\.[A-Za-z0-9_-]{{43}}")
# A key of the DRF tokens this service used before (40 hex digits), converted by the migration
# accounts.0002 with its first 12 digits as prefix: its clients keep working until it expires.
_LEGACY_KEY = re.compile(r"[0-9a-f]{40}")


def token_prefix(key: str) -> str | None:
    """The public prefix of a well-formed token, else None (nothing to look up)."""
    match = _TOKEN.fullmatch(key)
    if match:
        return match["prefix"]
    if _LEGACY_KEY.fullmatch(key):
        return key[:PREFIX_LENGTH]
    return None


def _by_prefix(prefix: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(prefix=prefix).first()


def api_token_for_key(key: str) -> ApiToken | None:
    """The usable token whose plaintext is `key`, or None (unknown, wrong secret, revoked or expired)."""
    prefix = token_prefix(key)
    if prefix is None:
        return None
    token = _by_prefix(prefix)
    if token is None and replicas_in_use():
        # A token issued a moment ago may not have reached the replica yet.
        with use_primary():
            token = _by_prefix(prefix)
    if token is None or not hmac.compare_digest(token.digest, token_digest(key)):
        return None
    return token if token.is_usable(timezone.now()) else None
