"""Shared by the audit tests: the trail's rows as the primary has them."""

from __future__ import annotations

from audit.models import AuditEvent


def events(tenant, *actions: str) -> list[AuditEvent]:
    """The tenant's audit rows (of `actions`, if given), oldest first, read from the primary."""
    rows = AuditEvent.objects.using("write").filter(tenant=tenant).order_by("occurred_at", "id")
    if actions:
        rows = rows.filter(action__in=actions)
    return list(rows)


def the_event(tenant, action: str) -> AuditEvent:
    """The tenant's one audit row of `action`; fails if there is none or more than one."""
    found = events(tenant, action)
    assert len(found) == 1, [(event.action, event.object_count) for event in events(tenant)]
    return found[0]


def write_events(tenant) -> list[AuditEvent]:
    """The tenant's rows other than its creation (every test tenant has that one)."""
    return [event for event in events(tenant) if event.action != "tenant.create"]
