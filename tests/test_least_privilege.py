"""Least privilege in the database: the runtime role, row-level security and the pools.

The pools connect as the runtime role (DATABASE_URL); the tables belong to the owner
(MIGRATION_DATABASE_URL), whose `migrate` grants the runtime role its privileges and puts a tenant
policy on every tenant-owned table (verisyntra.db.security). These tests attack that as a SQL
injection would: raw SQL on the pooled connections, with and without a tenant in scope.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg2.extensions
import pytest
from django.conf import settings
from django.db import ProgrammingError, connections, transaction
from django.test import override_settings

from health.tests.conftest import rebuilt_pool
from inventory.models import DataScanChunk, ProcessingActivity
from inventory.scan_services import data_scan_store
from inventory.source_services import data_source_create
from inventory.tests.api_support import Member, activities, member_of_new_tenant, post_batch
from verisyntra.checks import runtime_role_check
from verisyntra.db.config import MIGRATION_ALIAS, POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pooler import pooler_in_front
from verisyntra.db.security import CHILD_MODELS, DIRECTORY_TABLES, POLICY_NAME, child_policy, sync_database_security, tenant_tables
from verisyntra.db.tenant_scope import acting_for, no_tenant
from verisyntra.tests.owner import owner_cursor

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])

ROOT = Path(__file__).resolve().parent.parent
ACTIVITIES = "inventory_processingactivity"


def protected_tables() -> list[str]:
    """Every table the policies must cover: those with a tenant_id (but the directory) and the child tables."""
    with owner_cursor() as cursor:
        tables = tenant_tables(cursor)
    return tables + [child_policy(label, field)[0] for label, field in CHILD_MODELS.items()]


def count(alias: str, table: str, where: str = "", params: list | None = None) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} {where}", params or [])
        return cursor.fetchone()[0]


def tenant_with_rows(name: str, username: str) -> Member:
    """A tenant with a row in every tenant-owned table, written the way the service writes them."""
    member = member_of_new_tenant(name, username)
    answer = post_batch(member.client(), member.tenant.pk, {"activities": activities(3)}, query="")
    assert answer.status_code == 201, answer.content
    keyed = member.client().post(
        f"/batch/processing-activities?tenant_id={member.tenant.pk}",
        {"activities": activities(1)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"key-{uuid.uuid4()}",
    )
    assert keyed.status_code == 201, keyed.content
    with acting_for(member.tenant.pk):
        data_scan_store(tenant=member.tenant, rows=[])
        scan = data_scan_store(tenant=member.tenant, rows=[{"activity_name": "x"}], chunk_size=1)
        assert DataScanChunk.objects.using(WRITE_ALIAS).filter(data_scan=scan).exists()
        data_source_create(tenant=member.tenant, name=f"Nguồn {username}", kind="postgresql", dsn="postgresql://u:p@127.0.0.1:5432/crm")
    return member


@pytest.fixture
def two_tenants() -> tuple[Member, Member]:
    return tenant_with_rows("Công ty A", "rls-a"), tenant_with_rows("Công ty B", "rls-b")


def test_the_pools_connect_as_a_role_that_is_no_superuser_has_no_bypassrls_and_owns_nothing():
    for alias in POOLED_ALIASES:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT current_user, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )
            role, superuser, bypass, createdb, createrole = cursor.fetchone()
            # Its own temporary tables aside (the batch's staging table): they live and die with its session.
            cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole AND relpersistence <> 't'")
            owned = cursor.fetchone()[0]
        assert (superuser, bypass, createdb, createrole, owned) == (False, False, False, False, 0), (alias, role)
    with owner_cursor() as cursor:
        cursor.execute(
            "SELECT current_user, count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        owner, tables = cursor.fetchone()
    assert owner != role and tables > 10, "the owner is another role, and owns the tables"


def test_every_table_with_a_tenant_id_has_row_level_security_and_the_tenant_policy():
    tables = protected_tables()
    assert {ACTIVITIES, "inventory_activitycount", "inventory_datascan", "inventory_datascanchunk", "audit_event"} <= set(tables)
    with owner_cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s WHERE c.relrowsecurity",
            [POLICY_NAME],
        )
        covered = {name for (name,) in cursor.fetchall()}
    assert set(tables) <= covered, f"tables without the tenant policy: {set(tables) - covered}"
    assert not DIRECTORY_TABLES & covered, "memberships and tokens are read before any tenant is known"


def test_with_no_tenant_in_scope_the_runtime_role_sees_no_row_of_any_tenant_table(two_tenants):
    tables = protected_tables()
    everywhere = {table: count(WRITE_ALIAS, table) for table in tables}
    assert all(everywhere.values()), f"every table must hold rows for the test to mean anything: {everywhere}"
    with no_tenant():
        for alias in (WRITE_ALIAS, READ_ALIAS):
            seen = {table: count(alias, table) for table in tables}
            assert seen == dict.fromkeys(tables, 0), alias


def test_acting_for_tenant_a_raw_sql_can_neither_read_nor_write_tenant_b(two_tenants):
    a, b = two_tenants
    b_rows = count(WRITE_ALIAS, ACTIVITIES, "WHERE tenant_id = %s", [b.tenant.pk])
    assert b_rows == 4
    with acting_for(a.tenant.pk):
        # What an injection into one of A's queries would try.
        assert count(WRITE_ALIAS, ACTIVITIES) == 4, "A sees its own rows"
        assert count(READ_ALIAS, ACTIVITIES, "WHERE tenant_id = %s", [b.tenant.pk]) == 0
        with connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute(f"UPDATE {ACTIVITIES} SET purpose = 'stolen' WHERE tenant_id = %s", [b.tenant.pk])
            assert cursor.rowcount == 0
            cursor.execute(f"DELETE FROM {ACTIVITIES} WHERE tenant_id = %s", [b.tenant.pk])
            assert cursor.rowcount == 0
    with acting_for(b.tenant.pk):
        assert count(WRITE_ALIAS, ACTIVITIES) == b_rows, "B's rows are all still there"


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {ACTIVITIES} SET tenant_id = %(b)s WHERE tenant_id = %(a)s",
        # A copy of one of A's rows, given to B.
        f"INSERT INTO {ACTIVITIES} SELECT (jsonb_populate_record(NULL::{ACTIVITIES},"
        f" to_jsonb(x) || jsonb_build_object('id', gen_random_uuid(), 'tenant_id', %(b)s::text))).* FROM {ACTIVITIES} x LIMIT 1",
        "INSERT INTO inventory_datascan (scan_id, tenant_id, status, progress_percent, records_total, records_processed, error, error_vi,"
        " celery_task_id) VALUES (gen_random_uuid(), %(b)s, 'pending', 0, 0, 0, '', '', '')",
    ],
    ids=["move-a-row-to-b", "insert-into-b", "insert-scan-into-b"],
)
def test_acting_for_tenant_a_writes_into_tenant_b_are_refused(two_tenants, statement):
    a, b = two_tenants
    before = count(WRITE_ALIAS, ACTIVITIES, "WHERE tenant_id = %s", [b.tenant.pk])
    with acting_for(a.tenant.pk), pytest.raises(ProgrammingError, match="row-level security"):
        with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute(statement, {"a": a.tenant.pk, "b": b.tenant.pk})
    assert count(WRITE_ALIAS, ACTIVITIES, "WHERE tenant_id = %s", [b.tenant.pk]) == before


def test_a_session_level_tenant_set_by_an_injection_does_not_reach_the_next_query(two_tenants):
    _a, b = two_tenants
    with no_tenant(), connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', %s, false), set_config('app.all_tenants', 'on', false)", [str(b.tenant.pk)])
        assert count(WRITE_ALIAS, ACTIVITIES) == 0, "every statement sets the scope again for its own transaction"
    connections[WRITE_ALIAS].close()  # back to the pool, and out again: the next checkout is the same session
    with no_tenant():
        assert count(WRITE_ALIAS, ACTIVITIES) == 0


@pytest.mark.parametrize("alias", [WRITE_ALIAS, READ_ALIAS])
def test_a_pool_of_one_connection_alternating_between_tenants_never_carries_one_into_the_other(two_tenants, alias):
    a, b = two_tenants
    own_ids = {
        member.tenant.pk: {
            str(pk) for pk in ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant=member.tenant).values_list("pk", flat=True)
        }
        for member in (a, b)
    }
    with rebuilt_pool(alias, POOL_SIZE=1, MAX_OVERFLOW=0):
        pids = set()
        for round_number in range(10):
            for member, other in ((a, b), (b, a)):
                listing = member.client().get(f"/analytics/processing-activities?tenant_id={member.tenant.pk}&limit=100")
                assert listing.status_code == 200, listing.content
                assert {row["id"] for row in listing.json()["activities"]} == own_ids[member.tenant.pk], round_number
                # Between requests, the same pooled connection with no tenant: nothing.
                with no_tenant():
                    assert count(alias, ACTIVITIES, "WHERE tenant_id IN (%s, %s)", [member.tenant.pk, other.tenant.pk]) == 0
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pids.add(cursor.fetchone()[0])
                connections[alias].close()
        if pooler_in_front(alias) is None:
            assert len(pids) == 1, "one pooled connection served every request"


def session_scope(alias: str) -> tuple[str | None, str | None]:
    """The scope settings of `alias`'s connection outside any transaction (a plain cursor: no prefix)."""
    with connections[alias].cursor() as wrapper, wrapper.connection.cursor(cursor_factory=psycopg2.extensions.cursor) as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true), current_setting('app.all_tenants', true)")
        return cursor.fetchone()


@pytest.mark.parametrize("alias", [WRITE_ALIAS, READ_ALIAS])
def test_statements_that_take_no_prefix_outside_a_transaction_see_their_tenant_and_leave_no_scope(two_tenants, alias):
    """A server-side cursor (Django's .iterator()) and COPY in autocommit run in a transaction of their own."""
    a, b = two_tenants
    own = ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant=a.tenant).count()
    assert connections[alias].get_autocommit()
    with acting_for(a.tenant.pk):
        copied = io.StringIO()
        with connections[alias].cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY (SELECT tenant_id FROM {ACTIVITIES}) TO STDOUT", copied)
        assert copied.getvalue().split() == [str(a.tenant.pk)] * own
        if not connections[alias].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
            streamed = list(ProcessingActivity.objects.using(alias).values_list("tenant_id", flat=True).iterator(chunk_size=2))
            assert streamed == [a.tenant.pk] * own
    if pooler_in_front(alias) is None:
        # Behind a transaction-mode pooler the next statement may run on any server connection,
        # one the injection test above may have given a session-level scope on purpose.
        assert session_scope(alias) in {(None, None), ("", "")}, "nothing of the tenant stays on the connection"


def test_the_application_filter_still_narrows_every_api_query_to_the_tenant(two_tenants, query_log):
    a, _b = two_tenants
    client = a.client()
    query_log.clear()
    for path in ("/analytics/processing-activities", "/analytics/compliance-summary"):
        assert client.get(f"{path}?tenant_id={a.tenant.pk}").status_code == 200
    tenant_queries = [sql for _alias, _pid, sql in query_log.entries if "inventory_processingactivity" in sql or "activitycount" in sql]
    assert tenant_queries, "the endpoints read the tenant tables"
    assert all('"tenant_id" = ' in sql for sql in tenant_queries), tenant_queries


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        (f"TRUNCATE {ACTIVITIES}", "permission denied"),
        ("CREATE TABLE stolen (x text)", "permission denied"),
        (f"ALTER TABLE {ACTIVITIES} DISABLE ROW LEVEL SECURITY", "must be owner"),
        (f"DROP POLICY {POLICY_NAME} ON {ACTIVITIES}", "must be owner"),
        ("COPY (SELECT 1) TO PROGRAM 'id'", "pg_execute_server_program"),
        ("SET ROLE verisyntra_owner", "permission denied"),
        ("UPDATE audit_event SET action = action", "permission denied"),
        ("DELETE FROM audit_event", "permission denied"),
        ("DELETE FROM django_migrations", "permission denied"),
    ],
)
def test_the_runtime_role_cannot_escalate(statement, refusal):
    with pytest.raises(ProgrammingError, match=refusal):
        with transaction.atomic(using=WRITE_ALIAS), connections[WRITE_ALIAS].cursor() as cursor:
            cursor.execute(statement)


def test_granting_again_changes_nothing_and_fails_on_nothing():
    with owner_cursor() as cursor:
        first = sync_database_security(cursor)
        cursor.execute("SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1")
        privileges = cursor.fetchall()
        second = sync_database_security(cursor)
        cursor.execute("SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1")
        assert (second, cursor.fetchall()) == (first, privileges)
    assert first["runtime_roles"] == [settings.DATABASES[WRITE_ALIAS]["USER"]]


@contextmanager
def pools_connecting_as(user: str):
    saved = {alias: settings.DATABASES[alias]["USER"] for alias in POOLED_ALIASES}
    for alias in POOLED_ALIASES:
        settings.DATABASES[alias]["USER"] = user
    try:
        yield
    finally:
        for alias, value in saved.items():
            settings.DATABASES[alias]["USER"] = value


def test_the_system_check_refuses_a_superuser_and_the_owner_and_warns_under_debug():
    assert runtime_role_check() == [], "the runtime role passes"
    if pooler_in_front(WRITE_ALIAS) is not None:
        pytest.skip("the pooler's user list holds the runtime role only; the refusals are shown on the direct server")
    owner = settings.DATABASES[MIGRATION_ALIAS]["USER"]
    with pools_connecting_as("postgres"):
        [message] = runtime_role_check()
        assert (message.id, message.level >= 40) == ("verisyntra.E002", True)
        assert "superuser" in message.msg and "BYPASSRLS" in message.msg
        with override_settings(DEBUG=True):
            [warning] = runtime_role_check()
            assert (warning.id, warning.is_serious()) == ("verisyntra.E002", False)
    with pools_connecting_as(owner):
        [message] = runtime_role_check()
        assert message.id == "verisyntra.E002" and "owns" in message.msg


def service_environment(user: str) -> dict[str, str]:
    """The service's environment with its pools pointed at `user`, DEBUG off."""
    database = settings.DATABASES[WRITE_ALIAS]
    url = f"postgresql://{user}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    environ = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "READ_DATABASE_URL", "READ_DATABASE_URLS"}}
    return {**environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "localhost"}


@pytest.mark.parametrize("user", ["postgres", "runtime"])
def test_manage_py_check_the_web_and_the_celery_worker_refuse_to_start_as_a_superuser(user):
    if pooler_in_front(WRITE_ALIAS) is not None:
        pytest.skip("the pooler's user list holds the runtime role only; the refusal is shown on the direct server")
    role = settings.DATABASES[WRITE_ALIAS]["USER"] if user == "runtime" else user
    environ = service_environment(role)
    python = sys.executable
    starts = {
        "check": [python, "manage.py", "check"],
        "web": [python, "-c", "import verisyntra.wsgi"],
        "worker": [python, "-m", "celery", "-A", "verisyntra", "worker", "--pool=solo", "--concurrency=1", "-Q", f"none-{uuid.uuid4()}"],
    }
    for name, command in starts.items():
        if name == "worker" and user == "runtime":
            continue  # a worker allowed to start would run until stopped
        result = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        if user == "postgres":
            assert result.returncode != 0 and "verisyntra.E002" in output and "superuser" in output, (name, output[-2000:])
        else:
            assert result.returncode == 0 and "E002" not in output, (name, output[-2000:])


def test_migrate_without_the_owners_url_refuses_and_says_what_to_set():
    environ = service_environment(settings.DATABASES[WRITE_ALIAS]["USER"])
    environ.pop("MIGRATION_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "manage.py", "migrate"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "MIGRATION_DATABASE_URL is not set" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
