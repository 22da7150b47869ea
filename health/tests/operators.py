"""Staff credentials for the tests that open the staff-only operations endpoints.

`/health/connection-pools`, `/health/database` and `/metrics` answer only staff users. Every test
that needs one, in this process or in a server it starts on the same database, takes its
credentials from here, so a change in how API tokens are minted is made in one place.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts.services import api_token_create


def staff_headers(username: str = "operator") -> dict[str, str]:
    """The `Authorization` header of a new staff user (not a superuser, not a member of any tenant)."""
    user = get_user_model().objects.create_user(username, is_staff=True)
    return {"Authorization": f"Token {api_token_create(user=user).key}"}


def member_headers(username: str = "member") -> dict[str, str]:
    """The `Authorization` header of a new user who is not staff."""
    user = get_user_model().objects.create_user(username)
    return {"Authorization": f"Token {api_token_create(user=user).key}"}
