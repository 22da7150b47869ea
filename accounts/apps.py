"""API tokens (hashed, expiring, revocable, optionally scoped to one tenant), request throttling and
the admin sign-in lockout."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "API access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import checks, schema  # noqa: F401  (register the system checks and the OpenAPI scheme)
