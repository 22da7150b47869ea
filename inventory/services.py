"""Writes of the inventory app (HackSoft style: `<thing>_<verb>`, keyword-only, typed)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from inventory.models import Tenant, TenantMembership
from verisyntra.db.config import WRITE_ALIAS


def tenant_create(*, name: str, username: str, reuse_existing: bool = False) -> tuple[Tenant, object, Token]:
    """Create a tenant, make `username` (created if new) a member of it, and return its API token.

    With `reuse_existing`, a tenant of that name the user already belongs to is returned instead.
    """
    User = get_user_model()
    # One transaction on the primary: a tenant never exists without its first member.
    with transaction.atomic(using=WRITE_ALIAS):
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        tenant = Tenant.objects.filter(name=name, memberships__user=user).first() if reuse_existing else None
        if tenant is None:
            tenant = Tenant.objects.create(name=name)
            TenantMembership.objects.create(tenant=tenant, user=user)
        token, _ = Token.objects.get_or_create(user=user)
    return tenant, user, token
