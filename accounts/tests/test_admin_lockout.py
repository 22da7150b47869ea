"""Admin sign-in lockout (django-axes): after the limit even the right password is refused, with a
bilingual 429 page, and no password is hashed while locked out."""

from __future__ import annotations

import io

import pytest
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import Client

from accounts.tests.support import DATABASES, fresh_address
from verisyntra.messages import render

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)

PASSWORD = "đúng-mật-khẩu-7f3a9c"
LIMIT = 10  # the default ADMIN_LOGIN_FAILURE_LIMIT
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_user():
    get_user_model().objects.create_superuser("quantri", "quantri@example.com", PASSWORD)
    return "quantri"


@pytest.fixture
def address():
    address = fresh_address()
    yield address
    reset(ip=address)


@pytest.fixture
def hashings(monkeypatch) -> list[str]:
    """Every PBKDF2 verification and hashing the sign-ins cause."""
    calls: list[str] = []
    verify, encode = PBKDF2PasswordHasher.verify, PBKDF2PasswordHasher.encode

    def counted_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counted_encode(self, password, salt, iterations=None):
        calls.append("encode")
        return encode(self, password, salt, iterations)

    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", counted_verify)
    monkeypatch.setattr(PBKDF2PasswordHasher, "encode", counted_encode)
    return calls


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_after_the_limit_the_right_password_is_refused_with_a_bilingual_429(admin_user, address, hashings):
    client = Client(REMOTE_ADDR=address)
    answers = [sign_in(client, admin_user, f"sai-{n}").status_code for n in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429], "the form again for each failure, the lockout page at the limit"
    assert hashings.count("verify") == LIMIT, "each failure before the lockout checked a password"

    hashings.clear()
    locked = sign_in(client, admin_user, PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) == 15 * 60
    page = locked.content.decode()
    for code in ("auth.lockout.title", "auth.lockout.body", "auth.lockout.advice"):
        text = render(code, minutes=15)
        assert text.en in page and text.vi in page
    assert not signed_in(client), "the right password did not sign in"
    assert hashings == [], "refused before any password hashing"

    # Another address is not locked out.
    elsewhere = Client(REMOTE_ADDR=fresh_address())
    assert sign_in(elsewhere, admin_user, PASSWORD).status_code == 302 and signed_in(elsewhere)

    # An operator lifts the lock (docs/operations.md).
    call_command("axes_reset_ip", address, stdout=io.StringIO())
    assert sign_in(client, admin_user, PASSWORD).status_code == 302 and signed_in(client)


def test_an_unknown_username_counts_and_is_locked_out_too(admin_user, address, hashings):
    client = Client(REMOTE_ADDR=address)
    answers = [sign_in(client, f"khong-co-{n}", "x").status_code for n in range(LIMIT + 2)]
    assert answers[LIMIT - 1 :] == [429, 429, 429]
    hashings.clear()
    assert sign_in(client, admin_user, PASSWORD).status_code == 429 and hashings == []
