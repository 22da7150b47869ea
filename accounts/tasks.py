"""Celery tasks of the accounts app: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from accounts.services import token_use_persist


@shared_task(name="accounts.persist_token_use", ignore_result=True)
def persist_token_use() -> int:
    """Copy the requests' notes of token use from the cache to `ApiToken.last_used_at` (beat, every minute)."""
    return token_use_persist()
