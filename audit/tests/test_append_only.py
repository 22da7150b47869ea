"""The trail cannot be rewritten: UPDATE, DELETE and TRUNCATE of `audit_event` are refused by PostgreSQL.

Raw SQL and the ORM alike, on the test database; and the migration's trigger SQL itself on a
database that is not a test database, where TRUNCATE is refused too (the test runner's own
TRUNCATE between tests is the one exception, and only in `test_` databases).
"""

from __future__ import annotations

import importlib
import uuid
from types import SimpleNamespace

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import ProgrammingError, connections, transaction
from django.test import RequestFactory

from audit.models import AuditEvent, AuditSource
from audit.services import COMMAND_ACTOR, audit_actor_of_request, audit_record
from inventory.tests.api_support import member_of_new_tenant
from verisyntra.db.config import MIGRATION_ALIAS
from verisyntra.tests.owner import owner_cursor

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

MIGRATION = importlib.import_module("audit.migrations.0001_initial")


@pytest.fixture
def tenant():
    return member_of_new_tenant("Công ty Sổ Cái", f"socai{uuid.uuid4().hex[:8]}").tenant


def raw(sql: str, params=()) -> None:
    with transaction.atomic(using="write"), connections["write"].cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor_username = 'someone else'",
        "UPDATE audit_event SET object_count = 0 WHERE tenant_id = %s",
        "DELETE FROM audit_event WHERE tenant_id = %s",
        "DELETE FROM audit_event WHERE false",
    ],
)
def test_raw_updates_and_deletes_are_refused(tenant, statement):
    before = list(AuditEvent.objects.using("write").filter(tenant=tenant).values())
    assert before, "tenant_create wrote the tenant's first row"
    params = [str(tenant.pk)] if "%s" in statement else []
    # The runtime role holds no UPDATE or DELETE privilege on the trail at all.
    with pytest.raises(ProgrammingError, match="permission denied for table audit_event"):
        raw(statement, params)
    # The owner does, and the trigger refuses it still.
    with pytest.raises(psycopg2.errors.RaiseException, match=r"audit_event is append-only: (UPDATE|DELETE) refused"):
        with owner_cursor() as cursor:
            cursor.execute(statement, params)
    assert list(AuditEvent.objects.using("write").filter(tenant=tenant).values()) == before


def test_orm_updates_deletes_and_saves_are_refused(tenant):
    event = AuditEvent.objects.using("write").get(tenant=tenant)
    with pytest.raises(ProgrammingError, match="permission denied"):
        AuditEvent.objects.filter(pk=event.pk).update(object_count=99)
    with pytest.raises(ProgrammingError, match="permission denied"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.actor_username = "rewritten"
    with pytest.raises(ProgrammingError, match="permission denied"):
        event.save(using="write")
    assert AuditEvent.objects.using("write").get(pk=event.pk).actor_username != "rewritten"


def test_outside_test_databases_truncate_is_refused_too():
    """The migration's trigger SQL, run on a scratch database whose name does not start with test_."""
    db = settings.DATABASES[MIGRATION_ALIAS]  # the owner, who may create databases; the runtime role may not
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db.get("PASSWORD") or None}
    name = f"audit_trigger_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        scratch = psycopg2.connect(dbname=name, **params)
        scratch.autocommit = True
        with scratch.cursor() as cursor:
            cursor.execute("CREATE TABLE audit_event (id int PRIMARY KEY, action text)")
            cursor.execute(MIGRATION.APPEND_ONLY)
            cursor.execute("INSERT INTO audit_event VALUES (1, 'tenant.create')")
            for statement in ("TRUNCATE audit_event", "UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
                with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                    cursor.execute(statement)
            cursor.execute("SELECT count(*) FROM audit_event")
            assert cursor.fetchone() == (1,)
        scratch.close()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_a_row_is_only_written_inside_the_write_transaction(tenant):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=COMMAND_ACTOR, tenant_id=tenant.pk, action="tenant.create", object_type="tenant", object_ids=[tenant.pk])


def test_the_actor_of_a_request_names_the_user_the_token_prefix_and_the_client():
    user = get_user_model().objects.create_user("kiemtoanvien")
    request = RequestFactory().post("/batch/processing-activities", REMOTE_ADDR="10.1.2.3")
    request.user, request.auth = user, SimpleNamespace(prefix="vs_3fa9c2")  # a hashed token's public prefix
    actor = audit_actor_of_request(request)
    assert (actor.source, actor.user_id, actor.username, actor.token_prefix, actor.client_address) == (
        AuditSource.API,
        user.pk,
        "kiemtoanvien",
        "vs_3fa9c2",
        "10.1.2.3",
    )
    plain_token = RequestFactory().post("/admin/", REMOTE_ADDR="not an address")
    plain_token.user, plain_token.auth = user, SimpleNamespace(key="secret")  # a token without a prefix
    actor = audit_actor_of_request(plain_token, source=AuditSource.ADMIN)
    assert (actor.source, actor.token_prefix, actor.client_address) == (AuditSource.ADMIN, None, None)
