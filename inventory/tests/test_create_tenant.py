"""`manage.py create_tenant`: a tenant, a member and a working API token."""

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from inventory.models import Tenant, TenantMembership

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_exactly_one_object_with_tenant_user_and_token():
    output = run("Công ty Cổ phần Đại Việt", "--user", "daiviet", "--json")
    assert output.count("\n") == 1
    data = json.loads(output)
    assert set(data) == {"tenant_id", "username", "token"}
    tenant = Tenant.objects.get(pk=data["tenant_id"])
    assert tenant.name == "Công ty Cổ phần Đại Việt"
    assert TenantMembership.objects.filter(tenant=tenant, user__username="daiviet").exists()
    assert Token.objects.get(key=data["token"]).user.username == "daiviet"


def test_a_user_may_belong_to_several_tenants():
    first = json.loads(run("First", "--user", "shared", "--json"))
    second = json.loads(run("Second", "--user", "shared", "--json"))
    assert first["tenant_id"] != second["tenant_id"]
    assert first["token"] == second["token"]
    assert TenantMembership.objects.filter(user__username="shared").count() == 2


def test_get_or_create_reuses_the_users_tenant_of_that_name():
    first = json.loads(run("Demo", "--user", "demo", "--json", "--get-or-create"))
    again = json.loads(run("Demo", "--user", "demo", "--json", "--get-or-create"))
    assert first == again
    assert Tenant.objects.filter(name="Demo").count() == 1


def test_default_username_is_derived_from_the_name():
    data = json.loads(run("Acme Corp", "--json"))
    assert data["username"] == "acme-corp-admin"
