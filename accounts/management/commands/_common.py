"""Shared by the token commands: find a token by prefix, print an issued one."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from accounts.models import ApiToken
from accounts.services import IssuedToken
from verisyntra.db.config import WRITE_ALIAS


def token_by_prefix(prefix: str) -> ApiToken:
    # The primary: a token issued a moment ago must be found, whatever a replica has replayed.
    token = ApiToken.objects.using(WRITE_ALIAS).select_related("user", "tenant").filter(prefix=prefix.strip()).first()
    if token is None:
        raise CommandError(f"No API token with prefix {prefix!r} (the part before the dot).")
    return token


def issued_json(issued: IssuedToken, **extra: str | None) -> str:
    token = issued.token
    fields = {
        "token": issued.key,
        "prefix": token.prefix,
        "username": token.user.get_username(),
        "tenant_id": str(token.tenant_id) if token.tenant_id else None,
        "name": token.name,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        **extra,
    }
    return json.dumps(fields, ensure_ascii=False)


def issued_lines(issued: IssuedToken) -> list[str]:
    token = issued.token
    return [
        f"Token:    {issued.key}",
        f"Id:       {token.prefix}",
        f"User:     {token.user.get_username()}",
        f"Tenant:   {token.tenant_id or 'every tenant the user is a member of'}",
        f"Expires:  {token.expires_at.isoformat() if token.expires_at else 'never'}",
        "Shown this once: only its digest is stored.",
    ]
