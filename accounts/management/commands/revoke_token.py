"""`manage.py revoke_token PREFIX`: the token stops working at once (the row stays, as the record)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.management.commands._common import token_by_prefix
from accounts.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke an API token, named by its prefix (the part before the dot); it stops working at once."

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="The token's prefix, as the admin and create_token show it.")

    def handle(self, *args, prefix: str, **options):
        token = token_by_prefix(prefix)
        if api_token_revoke(token=token):
            self.stdout.write(f"Revoked {token.prefix} ({token.user.get_username()}) at {token.revoked_at.isoformat()}")
        else:
            self.stdout.write(f"{token.prefix} was already revoked at {token.revoked_at.isoformat()}")
