"""The migration from DRF's plaintext tokens: each old key keeps working, as a digest, and the
`authtoken_token` table is gone."""

from __future__ import annotations

import binascii
import os

import pytest
from django.core.management import call_command
from django.db import connections

from accounts.models import ApiToken
from accounts.tests.support import DATABASES, SUMMARY, api_client
from accounts.tests.test_tokens import rows_containing
from inventory.services import tenant_create
from verisyntra.db.config import MIGRATION_ALIAS, WRITE_ALIAS
from verisyntra.tests.owner import owner_cursor

pytestmark = pytest.mark.django_db(transaction=True, databases=[*DATABASES, MIGRATION_ALIAS])  # migrate runs as the owner


def authtoken_table_exists() -> bool:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token') IS NOT NULL")
        return cursor.fetchone()[0]


def test_old_drf_keys_are_converted_to_digests_and_their_table_dropped():
    tenant, user, _ = tenant_create(name="Công ty Khóa Cũ", username="khoacu")
    old_key = binascii.hexlify(os.urandom(20)).decode()  # how rest_framework.authtoken made its keys
    with owner_cursor() as cursor:  # the owner made it then, as every table (the runtime role creates none)
        # The table as rest_framework.authtoken's migrations left it.
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL,"
            " user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, user.pk])
    assert api_client(old_key).get(SUMMARY.format(tenant.pk)).status_code == 401, "not a token of ours yet"

    call_command("migrate", "accounts", "0001", verbosity=0)
    call_command("migrate", "accounts", verbosity=0)

    assert not authtoken_table_exists()
    converted = ApiToken.objects.get(prefix=old_key[:12])
    assert converted.user_id == user.pk and converted.expires_at is not None
    assert api_client(old_key).get(SUMMARY.format(tenant.pk)).status_code == 200, "the client keeps working"
    assert rows_containing(old_key) == {} and rows_containing(old_key[12:]) == {}
