"""The audit trail's one writer, `audit_record`, and the actors it records.

Every write through the API, a scan, the admin or a command calls `audit_record` inside the
transaction of the write it records, on the write alias: the row commits with the write or rolls
back with it, and under row-level security it is inserted under the same tenant as the write. It
costs one INSERT per write, whatever the write's size: a 10,000-record batch is one row with its
count and its first AUDIT_OBJECT_IDS_MAX ids.

Who acted is an `AuditActor`, built once where the write enters: `audit_actor_of_request` in a
view or the admin, `AuditActor(source=...)` in a task or command. A scan's worker has no request:
its rows name the user who started the scan (`audit_actor_of_start`, read from the scan's first
audit row).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import connections
from rest_framework.throttling import BaseThrottle

from audit.models import AuditAction, AuditEvent, AuditSource
from verisyntra.db.config import WRITE_ALIAS

# Ids kept on one row: enough to find a small write's objects one by one. A batch's rows all share
# the `created_at` of its one COPY statement, so its first id finds the rest.
AUDIT_OBJECT_IDS_MAX = 100
TOKEN_PREFIX_MAX = 32
# How far before a scan's `created_at` (the web process's clock) its first audit row (the
# database's clock) is looked for: generous for clock skew, small enough to bound the index range.
START_LOOKUP_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class AuditActor:
    """Who made a write and through what: a user (id and username), the token's public prefix, the client's address."""

    source: AuditSource
    user_id: int | None = None
    username: str = ""
    token_prefix: str | None = None
    client_address: str | None = None

    def acting_as(self, source: AuditSource) -> AuditActor:
        """The same person, through another carrier (a scan's worker finishing what they started)."""
        return replace(self, source=source, client_address=None)


# Writes made by code that names no person: management commands, a shell, fixtures.
COMMAND_ACTOR = AuditActor(source=AuditSource.COMMAND)
BEAT_ACTOR = AuditActor(source=AuditSource.BEAT)


def client_address(request: Any) -> str | None:
    """The client's IP address as DRF's throttles see it (REST_FRAMEWORK NUM_PROXIES decides whether
    X-Forwarded-For is trusted); the connection's own address when that is not one address."""
    for candidate in (BaseThrottle().get_ident(request), request.META.get("REMOTE_ADDR")):
        try:
            return str(ipaddress.ip_address(str(candidate).strip()))
        except ValueError:
            continue
    return None


def audit_actor_of_request(request: Any, *, source: AuditSource = AuditSource.API) -> AuditActor:
    """The authenticated user of a DRF or Django request, the public prefix of its API token (tokens
    that have one expose `prefix`), and the client's address."""
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    prefix = getattr(getattr(request, "auth", None), "prefix", None)
    return AuditActor(
        source=source,
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        token_prefix=str(prefix)[:TOKEN_PREFIX_MAX] if prefix else None,
        client_address=client_address(request),
    )


def audit_record(
    *,
    actor: AuditActor,
    tenant_id: uuid.UUID | str | None,
    action: AuditAction,
    object_type: str,
    object_ids: Sequence[Any] = (),
    object_count: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Insert the audit row of a write, inside that write's transaction on the write alias.

    `object_ids` may be every id the write touched (the first AUDIT_OBJECT_IDS_MAX are kept);
    `object_count` defaults to how many were given. `details` must stay small and free of personal
    data values and secrets: counts, flags, field names.

    Raises RuntimeError outside a transaction on the write alias: a row committed on its own could
    outlive a write that rolled back, or be missing for one that committed.
    """
    if not connections[WRITE_ALIAS].in_atomic_block:
        raise RuntimeError("audit_record() must run inside the transaction.atomic(using='write') of the write it records")
    return AuditEvent.objects.create(
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        actor_token_prefix=actor.token_prefix,
        tenant_id=tenant_id,
        source=actor.source,
        action=action,
        object_type=object_type,
        object_ids=[str(value) for value in object_ids[:AUDIT_OBJECT_IDS_MAX]],
        object_count=len(object_ids) if object_count is None else object_count,
        client_address=actor.client_address,
        details=dict(details or {}),
    )


def audit_actor_of_start(
    *, tenant_id: uuid.UUID | str, object_type: str, object_id: Any, since: datetime, source: AuditSource
) -> AuditActor:
    """Who started the object (a data scan): the actor of its first audit row, now acting through `source`.

    `since` is when the object was created; rows from START_LOOKUP_MARGIN before it are looked at,
    through the (tenant, occurred_at) index. An object with no audit row (created before the trail
    existed) gets an actor that names no person.
    """
    first = (
        AuditEvent.objects.filter(
            tenant_id=tenant_id, occurred_at__gte=since - START_LOOKUP_MARGIN, object_type=object_type, object_ids__0=str(object_id)
        )
        .order_by("occurred_at")
        .only("actor_user_id", "actor_username", "actor_token_prefix", "source")
        .first()
    )
    if first is None:
        return AuditActor(source=source)
    return AuditActor(
        source=AuditSource(first.source), user_id=first.actor_user_id, username=first.actor_username, token_prefix=first.actor_token_prefix
    ).acting_as(source)
