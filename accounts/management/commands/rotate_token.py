"""`manage.py rotate_token PREFIX [--grace-hours H] [--json]`: a new token now; the old one expires after the grace period."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._common import issued_json, issued_lines, token_by_prefix
from accounts.services import TokenNotRotatable, api_token_rotate


class Command(BaseCommand):
    help = (
        "Replace an API token: a new one for the same user, tenant and name is printed this once, and the old "
        "one keeps working for the grace period (default API_TOKEN_ROTATION_GRACE_HOURS), so clients switch without a gap."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="The prefix of the token to replace.")
        parser.add_argument("--grace-hours", type=float, help="Hours the old token keeps working; 0: it stops now.")
        parser.add_argument("--json", action="store_true", help="Print exactly one JSON object on stdout.")

    def handle(self, *args, prefix: str, grace_hours: float | None, json: bool, **options):
        if grace_hours is not None and grace_hours < 0:
            raise CommandError("--grace-hours must be 0 or more.")
        old = token_by_prefix(prefix)
        try:
            issued = api_token_rotate(token=old, grace_hours=grace_hours)
        except TokenNotRotatable:
            raise CommandError(f"{old.prefix} is revoked or already replaced: issue a new token with create_token.") from None
        old_expires = old.expires_at.isoformat() if old.expires_at else None
        if json:
            self.stdout.write(issued_json(issued, replaces=old.prefix, replaced_expires_at=old_expires))
            return
        for line in issued_lines(issued):
            self.stdout.write(line)
        self.stdout.write(f"Replaces: {old.prefix}, which keeps working until {old_expires}")
