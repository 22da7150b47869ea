"""`manage.py create_tenant`: a tenant, a member and a working API token."""

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_digest
from inventory.models import Tenant, TenantMembership

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def summary_status(token: str, tenant_id: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(f"/analytics/compliance-summary?tenant_id={tenant_id}").status_code


def test_json_output_is_exactly_one_object_with_tenant_user_and_token():
    output = run("Công ty Cổ phần Đại Việt", "--user", "daiviet", "--json")
    assert output.count("\n") == 1
    data = json.loads(output)
    assert set(data) == {"tenant_id", "username", "token", "token_prefix", "token_expires_at"}
    tenant = Tenant.objects.get(pk=data["tenant_id"])
    assert tenant.name == "Công ty Cổ phần Đại Việt"
    assert TenantMembership.objects.filter(tenant=tenant, user__username="daiviet").exists()
    # Stored as a digest under its public prefix, never as the token itself.
    stored = ApiToken.objects.get(prefix=data["token_prefix"])
    assert stored.user.username == "daiviet" and data["token"].startswith(stored.prefix + ".")
    assert stored.digest == token_digest(data["token"]) and data["token"] not in stored.digest
    assert summary_status(data["token"], data["tenant_id"]) == 200


def test_a_user_may_belong_to_several_tenants_and_each_run_issues_a_new_token():
    first = json.loads(run("First", "--user", "shared", "--json"))
    second = json.loads(run("Second", "--user", "shared", "--json"))
    assert first["tenant_id"] != second["tenant_id"]
    # The first token cannot be shown again (only its digest is kept): the second run issues another.
    assert first["token"] != second["token"]
    assert TenantMembership.objects.filter(user__username="shared").count() == 2
    # Each acts for every tenant of its user.
    assert {summary_status(first["token"], second["tenant_id"]), summary_status(second["token"], first["tenant_id"])} == {200}


def test_get_or_create_reuses_the_users_tenant_of_that_name():
    first = json.loads(run("Demo", "--user", "demo", "--json", "--get-or-create"))
    again = json.loads(run("Demo", "--user", "demo", "--json", "--get-or-create"))
    assert first["tenant_id"] == again["tenant_id"] and first["username"] == again["username"]
    assert Tenant.objects.filter(name="Demo").count() == 1
    assert summary_status(first["token"], first["tenant_id"]) == summary_status(again["token"], again["tenant_id"]) == 200


def test_text_output_shows_the_token_once_with_its_id_and_expiry():
    output = run("Công ty Văn Bản", "--user", "vanban")
    token = next(line.split()[-1] for line in output.splitlines() if line.startswith("Token:"))
    prefix = token.split(".")[0]
    assert output.count(token) == 1 and f"id {prefix}, expires 20" in output


def test_default_username_is_derived_from_the_name():
    data = json.loads(run("Acme Corp", "--json"))
    assert data["username"] == "acme-corp-admin"
