"""`manage.py create_tenant NAME [--user USERNAME] [--json]`: a tenant, a member and an API token.

The token is printed this once: the database keeps only its digest (accounts.models). Each run
issues a new one; `manage.py revoke_token PREFIX` retires one that is no longer wanted.
"""

from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from inventory.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant, a user who is a member of it, and a new API token for that user (printed once)."

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
        tenant, user, issued = tenant_create(name=name, username=username, reuse_existing=get_or_create)
        expires = issued.token.expires_at.isoformat() if issued.token.expires_at else None
        if json:
            self.stdout.write(
                _json_line(
                    tenant_id=str(tenant.pk),
                    username=user.get_username(),
                    token=issued.key,
                    token_prefix=issued.prefix,
                    token_expires_at=expires,
                )
            )
            return
        self.stdout.write(f"Tenant:   {tenant.name} ({tenant.pk})")
        self.stdout.write(f"User:     {user.get_username()}")
        self.stdout.write(f"Token:    {issued.key}")
        self.stdout.write(f"          id {issued.prefix}, expires {expires or 'never'}; shown this once, keep it safe")


def _json_line(**fields: str | None) -> str:
    return jsonlib.dumps(fields, ensure_ascii=False)
