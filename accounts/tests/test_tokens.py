"""API tokens: nothing readable is stored, and expiry, revocation, rotation and tenant scope hold."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke, api_token_rotate, token_use_persist
from accounts.tests.support import DATABASES, SUMMARY, api_client
from inventory.models import TenantMembership
from inventory.services import tenant_create
from inventory.tests.api_support import assert_bilingual_error
from verisyntra.db.config import WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=DATABASES)


def summary(token: str, tenant_id) -> int:
    return api_client(token).get(SUMMARY.format(tenant_id)).status_code


def rows_containing(needle: str) -> dict[str, int]:
    """Every text-like column (text, varchar, char, json, jsonb) of every table in the database: the rows containing `needle`."""
    found: dict[str, int] = {}
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_schema, c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
              AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
            """
        )
        columns = cursor.fetchall()
        for schema, table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE strpos("{column}"::text, %s) > 0',  # noqa: S608  (names from the catalogue)
                [needle],
            )
            count = cursor.fetchone()[0]
            if count:
                found[f"{table}.{column}"] = count
    return found


def test_no_readable_token_anywhere_in_the_database_after_create_tenant():
    out = io.StringIO()
    call_command("create_tenant", "Công ty Không Lộ Khóa", "--user", "khongloikhoa", "--json", stdout=out)
    data = json.loads(out.getvalue())
    token = data["token"]
    prefix, secret = token.split(".")
    assert summary(token, data["tenant_id"]) == 200, "the printed token works"
    # The scan itself finds what is there: the tenant's name and the token's public prefix.
    assert rows_containing("Công ty Không Lộ Khóa")
    assert rows_containing(prefix) == {"accounts_apitoken.prefix": 1}
    assert rows_containing(token) == {} and rows_containing(secret) == {}
    assert rows_containing(secret[:16]) == {}, "not even part of the secret"


def test_expired_and_revoked_tokens_get_the_same_401_as_an_unknown_one():
    tenant, user, issued = tenant_create(name="Công ty Hết Hạn", username="hethan")
    assert summary(issued.key, tenant.pk) == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = api_client(issued.key).get(SUMMARY.format(tenant.pk))
    assert_bilingual_error(expired, 401, "authentication_failed")

    second = api_token_create(user=user)
    assert summary(second.key, tenant.pk) == 200
    assert api_token_revoke(token=second.token) and not api_token_revoke(token=second.token)
    revoked = api_client(second.key).get(SUMMARY.format(tenant.pk))
    unknown = api_client(second.token.prefix + "." + "A" * 43).get(SUMMARY.format(tenant.pk))
    assert revoked.json() == unknown.json() == expired.json()
    assert revoked.status_code == unknown.status_code == 401


def test_a_token_with_a_wrong_secret_under_a_real_prefix_is_refused():
    tenant, _, issued = tenant_create(name="Công ty Sai Bí Mật", username="saibimat")
    prefix, secret = issued.key.split(".")
    forged = prefix + "." + ("B" if secret[0] != "B" else "C") + secret[1:]
    assert summary(forged, tenant.pk) == 401 and summary(issued.key, tenant.pk) == 200


def test_rotation_issues_a_working_token_and_the_old_one_works_only_for_the_grace_period():
    tenant, _, issued = tenant_create(name="Công ty Xoay Vòng", username="xoayvong")
    new = api_token_rotate(token=issued.token, grace_hours=1)
    old = ApiToken.objects.get(pk=issued.token.pk)
    assert old.replaced_by_id == new.token.pk and new.key != issued.key
    assert timezone.now() + dt.timedelta(minutes=59) < old.expires_at <= timezone.now() + dt.timedelta(hours=1)
    assert summary(issued.key, tenant.pk) == summary(new.key, tenant.pk) == 200, "both work during the grace period"
    with pytest.raises(services.TokenNotRotatable):
        api_token_rotate(token=old)  # rotated once: rotate its replacement instead

    newer = api_token_rotate(token=new.token, grace_hours=0)
    assert summary(new.key, tenant.pk) == 401, "no grace: the replaced token stops at once"
    assert summary(newer.key, tenant.pk) == 200


def test_a_tenant_scoped_token_acts_for_its_tenant_only():
    home, user, _ = tenant_create(name="Công ty Chính", username="phamvi")
    other, _, _ = tenant_create(name="Chi nhánh Khác", username="phamvi")  # the same user is a member of both
    scoped = api_token_create(user=user, tenant=home)
    unscoped = api_token_create(user=user)
    assert summary(scoped.key, home.pk) == 200
    refused = api_client(scoped.key).get(SUMMARY.format(other.pk))
    assert_bilingual_error(refused, 403, "tenant_access_denied")
    # The same answer as for a tenant the user does not belong to at all.
    assert refused.json() == api_client(unscoped.key).get(SUMMARY.format(tenant_create(name="Lạ", username="la")[0].pk)).json()
    assert summary(unscoped.key, other.pk) == 200
    # The body's tenant of a data scan is held to the scope too.
    posted = api_client(scoped.key).post("/data-scans", {"tenant_id": str(other.pk), "activities": [{}]}, format="json")
    assert_bilingual_error(posted, 403, "tenant_access_denied")


def test_a_request_writes_nothing_to_note_a_tokens_use_and_beat_records_it(query_log):
    tenant, _, issued = tenant_create(name="Công ty Lần Dùng", username="landung")
    services._noted.clear()
    query_log.clear()
    assert summary(issued.key, tenant.pk) == 200
    assert {alias for alias, _, _ in query_log.entries} == {"read"}, "a read stays on the read pool"
    assert not any(sql.lstrip().upper().startswith("UPDATE") for _, _, sql in query_log.entries)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is None

    assert token_use_persist() == 1
    used = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert used is not None and timezone.now() - used < dt.timedelta(seconds=30)
    assert token_use_persist() == 0, "nothing new to record"


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_create_revoke_and_rotate_commands():
    home, user, _ = tenant_create(name="Công ty Lệnh", username="lenh")
    created = json.loads(run("create_token", "--user", "lenh", "--tenant", str(home.pk), "--name", "CI", "--expires-days", "7", "--json"))
    assert created["tenant_id"] == str(home.pk) and created["name"] == "CI"
    expires = dt.datetime.fromisoformat(created["expires_at"])
    assert dt.timedelta(days=6, hours=23) < expires - timezone.now() <= dt.timedelta(days=7)
    assert summary(created["token"], home.pk) == 200

    rotated = json.loads(run("rotate_token", created["prefix"], "--grace-hours", "0", "--json"))
    assert rotated["replaces"] == created["prefix"] and rotated["tenant_id"] == str(home.pk)
    assert summary(created["token"], home.pk) == 401 and summary(rotated["token"], home.pk) == 200

    assert "Revoked" in run("revoke_token", rotated["prefix"])
    assert summary(rotated["token"], home.pk) == 401
    assert "already revoked" in run("revoke_token", rotated["prefix"])

    never = json.loads(run("create_token", "--user", "lenh", "--expires-days", "0", "--json"))
    assert never["expires_at"] is None and summary(never["token"], home.pk) == 200


def test_create_token_refuses_a_tenant_the_user_is_not_a_member_of():
    tenant_create(name="Công ty Của Tôi", username="cuatoi")
    theirs, _, _ = tenant_create(name="Công ty Của Người Khác", username="nguoikhac")
    assert not TenantMembership.objects.filter(tenant=theirs, user__username="cuatoi").exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a member"):
        run("create_token", "--user", "cuatoi", "--tenant", str(theirs.pk))
    with pytest.raises(CommandError, match="No user"):
        run("create_token", "--user", "nobody-at-all")
