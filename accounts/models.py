"""API tokens, stored so that nobody can read a usable one back.

A token is `<prefix>.<secret>`: the prefix (12 hex digits) is a public id, shown in the admin, the
commands and logs; the secret (43 characters, 256 random bits) is never stored. The row keeps the
SHA-256 of the whole token: a high-entropy secret needs no slow hash (nothing to brute-force), and
a copy of the database gives no token that works. The plaintext exists once, in what
`accounts.services.api_token_create` returns.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX_LENGTH = 12


class ApiToken(models.Model):
    """One API credential of a user; with `tenant` set it acts for that tenant only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    # Empty: the token acts for every tenant its user is a member of (membership is still checked).
    tenant = models.ForeignKey("inventory.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    # Hex SHA-256 of the whole token as the client sends it.
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Null: never expires (API_TOKEN_TTL_DAYS=0).
    expires_at = models.DateTimeField(null=True, blank=True)
    # Kept by the beat task `accounts.persist_token_use` from what requests note in the cache, at most once a minute.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Rotation: the token that took this one's place; this one works until its expires_at (the grace period).
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces")

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Never the secret: this is what admin logs and messages show.
        return f"{self.prefix} ({self.name})" if self.name else self.prefix

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        """Not revoked and not expired at `now`."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
