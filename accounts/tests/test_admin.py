"""The API tokens' admin: metadata only, never a digest or a usable token; Revoke and Rotate."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from accounts.tests.support import DATABASES, SUMMARY, api_client
from inventory.services import tenant_create

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)

CHANGELIST = reverse("admin:accounts_apitoken_changelist")
TOKEN = re.compile(r"[0-9a-f]{12}\.[A-Za-z0-9_-]{43}")


@pytest.fixture
def tokens():
    home, user, first = tenant_create(name="Công ty Quản Trị Mã", username="quantrima")
    scoped = api_token_create(user=user, tenant=home, name="máy chủ báo cáo")
    return home, first, scoped


def secrets_of(issued) -> list[str]:
    return [issued.key, issued.key.split(".")[1], issued.token.digest]


def test_the_list_and_the_page_show_prefixes_and_metadata_never_a_digest_or_secret(admin_client, tokens):
    home, first, scoped = tokens
    listing = admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[scoped.token.pk])).content.decode()
    for html in (listing, page):
        assert scoped.prefix in html and "Công ty Quản Trị Mã" in html and "máy chủ báo cáo" in html
        for secret in secrets_of(first) + secrets_of(scoped):
            assert secret not in html
    assert first.prefix in listing
    assert "valid / còn hiệu lực" in listing
    # Nothing to add or edit: tokens come from the commands, and only the actions change them.
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    assert admin_client.post(reverse("admin:accounts_apitoken_change", args=[scoped.token.pk]), {"name": "x"}).status_code == 403


def test_rotate_shows_the_new_token_once_and_revoke_stops_a_token(admin_client, tokens):
    home, first, scoped = tokens
    answer = admin_client.post(CHANGELIST, {"action": "rotate_tokens", "_selected_action": [scoped.token.pk]})
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    html = answer.content.decode()
    [new_key] = TOKEN.findall(html)
    assert api_client(new_key).get(SUMMARY.format(home.pk)).status_code == 200
    assert api_client(scoped.key).get(SUMMARY.format(home.pk)).status_code == 200, "the old one works during the grace period"
    assert ApiToken.objects.get(pk=scoped.token.pk).replaced_by.prefix == new_key.split(".")[0]
    assert new_key not in admin_client.get(CHANGELIST).content.decode(), "shown that once only"

    revoked = admin_client.post(CHANGELIST, {"action": "revoke_tokens", "_selected_action": [first.token.pk]}, follow=True)
    assert "1 token revoked" in revoked.content.decode()
    assert api_client(first.key).get(SUMMARY.format(home.pk)).status_code == 401
    again = admin_client.post(CHANGELIST, {"action": "rotate_tokens", "_selected_action": [first.token.pk]}, follow=True)
    assert "1 revoked or already replaced token was left alone" in again.content.decode()
