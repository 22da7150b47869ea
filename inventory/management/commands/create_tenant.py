"""`manage.py create_tenant NAME [--user USERNAME] [--json]`: a tenant, a member and an API token."""

from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from inventory.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant, a user who is a member of it, and a DRF API token for that user."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The tenant's name.")
        parser.add_argument("--user", dest="username", help="Username of the member (created if new). Default: <slug>-admin.")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object on stdout.")
        parser.add_argument(
            "--get-or-create",
            action="store_true",
            help="Reuse the user's tenant of this name if there is one (for repeatable demo set-ups).",
        )

    def handle(self, *args, name: str, username: str | None, json: bool, get_or_create: bool, **options):
        name = name.strip()
        if not name:
            raise CommandError("NAME must not be empty.")
        username = username or f"{slugify(name) or 'tenant'}-admin"
        tenant, user, token = tenant_create(name=name, username=username, reuse_existing=get_or_create)
        if json:
            self.stdout.write(_json_line(tenant_id=str(tenant.pk), username=user.get_username(), token=token.key))
            return
        self.stdout.write(f"Tenant:   {tenant.name} ({tenant.pk})")
        self.stdout.write(f"User:     {user.get_username()}")
        self.stdout.write(f"Token:    {token.key}")


def _json_line(**fields: str) -> str:
    return jsonlib.dumps(fields, ensure_ascii=False)
