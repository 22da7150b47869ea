"""`manage.py create_token --user U [--tenant T] [--name N] [--expires-days D] [--json]`: a new API token, printed once."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._common import issued_json, issued_lines
from accounts.services import api_token_create
from inventory.models import Tenant, TenantMembership
from verisyntra.db.config import WRITE_ALIAS


class Command(BaseCommand):
    help = "Issue a new API token for an existing user, optionally for one tenant only; the token is printed this once."

    def add_arguments(self, parser):
        parser.add_argument("--user", dest="username", required=True, help="Username of the token's holder (must exist).")
        parser.add_argument("--tenant", help="Tenant id (UUID): the token acts for this tenant only; the user must be a member.")
        parser.add_argument("--name", default="", help="A label for operators (who holds it, what for).")
        parser.add_argument("--expires-days", type=int, help="Days until it expires; 0: never. Default: API_TOKEN_TTL_DAYS.")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object on stdout.")

    def handle(self, *args, username: str, tenant: str | None, name: str, expires_days: int | None, json: bool, **options):
        if expires_days is not None and expires_days < 0:
            raise CommandError("--expires-days must be 0 (never) or more.")
        user = get_user_model().objects.using(WRITE_ALIAS).filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        scope = None
        if tenant is not None:
            try:
                tenant_id = uuid.UUID(tenant)
            except ValueError:
                raise CommandError("--tenant must be a tenant id (UUID).") from None
            scope = Tenant.objects.using(WRITE_ALIAS).filter(pk=tenant_id).first()
            if scope is None or not TenantMembership.objects.using(WRITE_ALIAS).filter(tenant=scope, user=user).exists():
                raise CommandError(f"{username!r} is not a member of tenant {tenant}: the token could do nothing there.")
        issued = api_token_create(user=user, tenant=scope, name=name[:100], expires_in_days=expires_days)
        if json:
            self.stdout.write(issued_json(issued))
            return
        for line in issued_lines(issued):
            self.stdout.write(line)
