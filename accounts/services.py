"""Writes of the accounts app: issue, revoke and rotate API tokens, and record their use.

HackSoft style: `<thing>_<verb>`, keyword-only, typed. Every function that issues a token returns
an `IssuedToken`, the only object that ever holds the plaintext.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import PREFIX_LENGTH, ApiToken
from verisyntra.db.config import WRITE_ALIAS

logger = logging.getLogger(__name__)

SECRET_BYTES = 32
# How often a process notes a token's use in the cache, and how often beat copies it to the table.
USE_RECORD_SECONDS = 60
_USE_KEY_PREFIX = "api-token-used:"
# Kept long enough to outlive any pause of beat; a lost note only makes last_used_at older.
_USE_KEY_TTL_SECONDS = 7 * 24 * 3600


class TokenNotRotatable(Exception):
    """A revoked token, or one already replaced, cannot be rotated."""


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the row, and `key`, the plaintext the client sends (shown once, never stored)."""

    token: ApiToken
    key: str

    @property
    def prefix(self) -> str:
        return self.token.prefix


def token_digest(key: str) -> str:
    """What the table keeps of a token: the hex SHA-256 of the whole string the client sends."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def default_expiry(now: dt.datetime, days: int | None = None) -> dt.datetime | None:
    """`now` plus `days` (API_TOKEN_TTL_DAYS when None); None when the span is 0: never expires."""
    days = settings.API_TOKEN_TTL_DAYS if days is None else days
    return now + dt.timedelta(days=days) if days > 0 else None


def api_token_create(*, user, tenant=None, name: str = "", expires_in_days: int | None = None) -> IssuedToken:
    """Issue a token for `user` (acting for `tenant` only, when given); the plaintext is in the result only."""
    now = timezone.now()
    for _ in range(5):
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        key = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
        try:
            # A savepoint, so that a prefix collision (1 in 2**48 per pair) leaves an outer transaction usable.
            with transaction.atomic(using=WRITE_ALIAS):
                token = ApiToken.objects.create(
                    user=user,
                    tenant=tenant,
                    name=name,
                    prefix=prefix,
                    digest=token_digest(key),
                    created_at=now,
                    expires_at=default_expiry(now, expires_in_days),
                )
        except IntegrityError:
            continue
        return IssuedToken(token=token, key=key)
    raise RuntimeError("could not find a free token prefix in 5 tries")


def api_token_revoke(*, token: ApiToken) -> bool:
    """Revoke `token` at once; False if it was revoked already."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(updated)


def api_token_rotate(*, token: ApiToken, grace_hours: float | None = None) -> IssuedToken:
    """A new token for the same user, tenant and name; the old one keeps working for `grace_hours`
    (API_TOKEN_ROTATION_GRACE_HOURS when None; 0: it stops now), so clients can switch without a gap."""
    grace = settings.API_TOKEN_ROTATION_GRACE_HOURS if grace_hours is None else grace_hours
    with transaction.atomic(using=WRITE_ALIAS):
        old = ApiToken.objects.select_for_update().get(pk=token.pk)
        if old.revoked_at is not None or old.replaced_by_id is not None:
            raise TokenNotRotatable(old.prefix)
        issued = api_token_create(user=old.user, tenant=old.tenant, name=old.name)
        grace_ends = timezone.now() + dt.timedelta(hours=max(0.0, grace))
        old.replaced_by = issued.token
        old.expires_at = grace_ends if old.expires_at is None else min(old.expires_at, grace_ends)
        old.save(update_fields=["replaced_by", "expires_at"])
    token.refresh_from_db(fields=["replaced_by", "expires_at"])
    return issued


# --- Last use ----------------------------------------------------------------------------------
# A request must not write to the database to say it used a token: API reads stay on the read pool
# (and on replicas), and a write would pin the caller to the primary. Each process notes a token's
# use in the shared cache at most once a minute; beat copies the notes to `last_used_at`.
_noted: dict[int, float] = {}


def _use_key(token_id: int) -> str:
    return f"{_USE_KEY_PREFIX}{token_id}"


def token_use_note(token: ApiToken) -> None:
    """Note that `token` was used now, at most once a minute per process; a cache failure is only logged."""
    now = time.monotonic()
    if now - _noted.get(token.pk, -USE_RECORD_SECONDS) < USE_RECORD_SECONDS:
        return
    if len(_noted) > 100_000:  # bounded memory whatever the number of tokens
        _noted.clear()
    _noted[token.pk] = now
    try:
        cache.set(_use_key(token.pk), timezone.now().timestamp(), timeout=_USE_KEY_TTL_SECONDS)
    except Exception as exc:  # the cache client raises its own errors; a lost note is harmless
        logger.warning("could not note an API token's use in the cache: %s", exc)


def token_use_persist() -> int:
    """Copy the cache's notes of use to `last_used_at` of the tokens still usable; how many changed."""
    now = timezone.now()
    tokens = dict(
        ApiToken.objects.using(WRITE_ALIAS).filter(revoked_at__isnull=True).exclude(expires_at__lte=now).values_list("pk", "last_used_at")
    )
    if not tokens:
        return 0
    notes = cache.get_many([_use_key(pk) for pk in tokens])
    changed = 0
    for pk, last_used in tokens.items():
        stamp = notes.get(_use_key(pk))
        if stamp is None:
            continue
        used_at = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
        if last_used is None or used_at > last_used:
            changed += ApiToken.objects.filter(pk=pk).update(last_used_at=used_at)
    return changed
