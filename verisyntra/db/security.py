"""The runtime role's privileges and the tenant policies, made by every `migrate`.

Two roles (docs/configuration.md, "Database roles"): the owner (`MIGRATION_DATABASE_URL`) owns the
tables and runs migrations; the runtime role (`DATABASE_URL`, `READ_DATABASE_URL(S)`) is what the
pools connect as. After each `migrate` (Django's `post_migrate` signal), as the owner:

- the runtime role gets exactly what the service does with rows: SELECT, INSERT, UPDATE and DELETE
  on the tables, and the sequences; never TRUNCATE, REFERENCES or TRIGGER, nor DDL (it owns nothing);
- the audit trail (`audit_event`) is append-only for it: no UPDATE or DELETE;
- `django_migrations` is read-only for it;
- every table with a `tenant_id` column gets row-level security with a policy that shows and
  accepts only the rows of the transaction's tenant (`verisyntra.db.tenant_scope`), or every row
  while the transaction acts for all tenants; tables keyed through a parent (a scan's chunks)
  follow their parent. The directory tables that authentication reads before any tenant is known
  (memberships, API tokens) are left out on purpose: the application filters them by user.

It runs again on every `migrate`, so a table added later is covered on the migration that adds it;
`tests/test_least_privilege.py` fails if one is not. The owner is not subject to the policies
(no FORCE ROW LEVEL SECURITY): migrations that move data see every row, as they must.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections

from verisyntra.db.tenant_scope import ALL_TENANTS_SETTING, TENANT_SETTING

POLICY_NAME = "tenant_isolation"
AUDIT_TABLE = "audit_event"
MIGRATIONS_TABLE = "django_migrations"
# Read while authenticating, before any tenant is known; filtered by user in the application.
DIRECTORY_TABLES = frozenset({"inventory_tenantmembership", "accounts_apitoken"})
# Models without a tenant_id of their own, keyed through their parent: model -> its foreign key to the parent.
CHILD_MODELS = {"inventory.DataScanChunk": "data_scan"}

# The policy's test: the row's tenant is the transaction's, or the transaction acts for all.
# current_setting(..., true) is NULL when never set and '' once reset; NULLIF makes both "no tenant".
TENANT_MATCHES = (
    f"(tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid OR current_setting('{ALL_TENANTS_SETTING}', true) = 'on')"
)


def runtime_roles(owner: str) -> list[str]:
    """The roles the pools connect as (each pooled alias's USER), without the owner itself."""
    from verisyntra.db.config import POOLED_ALIASES

    users = {settings.DATABASES[alias].get("USER") for alias in POOLED_ALIASES}
    return sorted(user for user in users if user and user != owner)


def quote_ident(cursor: Any, name: str) -> str:
    cursor.execute("SELECT quote_ident(%s)", [name])
    return str(cursor.fetchone()[0])


def tenant_tables(cursor: Any) -> list[str]:
    """The tables of the current schema with a tenant_id column, but the directory tables."""
    cursor.execute(
        """
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
        ORDER BY 1
        """
    )
    return [name for (name,) in cursor.fetchall() if name not in DIRECTORY_TABLES]


def sync_database_security(cursor: Any) -> dict[str, Any]:
    """Grant the runtime roles their privileges and put the tenant policies in place (idempotent).

    `cursor` is the owner's. Returns what it covered, for the command's log and the tests.
    """
    cursor.execute("SELECT current_user")
    owner = cursor.fetchone()[0]
    roles = [quote_ident(cursor, role) for role in runtime_roles(owner)]
    cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [runtime_roles(owner)])
    existing = {name for (name,) in cursor.fetchall()}
    missing = sorted(set(runtime_roles(owner)) - existing)
    if missing:
        raise RuntimeError(f"the runtime role(s) {missing} named in DATABASE_URL / READ_DATABASE_URL(S) do not exist: create them first")
    if roles:
        grantees = ", ".join(roles)
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {grantees}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {grantees}")
        cursor.execute(f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {grantees}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantees}")
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [AUDIT_TABLE])
        if cursor.fetchone()[0]:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {AUDIT_TABLE} FROM {grantees}")
        cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON {MIGRATIONS_TABLE} FROM {grantees}")
    covered = []
    for table in tenant_tables(cursor):
        _policy(cursor, table, TENANT_MATCHES)
        covered.append(table)
    for label, field_name in CHILD_MODELS.items():
        table, using = child_policy(label, field_name)
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if cursor.fetchone()[0]:
            _policy(cursor, table, using)
            covered.append(table)
    return {"owner": owner, "runtime_roles": runtime_roles(owner), "tables": covered}


def child_policy(label: str, field_name: str) -> tuple[str, str]:
    """(table, policy test) for a model keyed through its parent: the parent row must be visible.

    The parent's own policy applies inside the EXISTS, so the child follows the parent's tenant.
    """
    from django.apps import apps

    field = apps.get_model(label)._meta.get_field(field_name)
    parent = field.related_model._meta
    test = f"EXISTS (SELECT 1 FROM {parent.db_table} parent WHERE parent.{parent.pk.column} = {field.column})"
    return field.model._meta.db_table, test


def _policy(cursor: Any, table: str, using: str) -> None:
    # Made again each time, so a changed rule reaches every database on its next migrate.
    cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
    cursor.execute(f"CREATE POLICY {POLICY_NAME} ON {table} USING ({using}) WITH CHECK ({using})")


def database_security_after_migrate(sender: Any, using: str = "", plan: Any = None, **kwargs: Any) -> None:
    """`post_migrate` receiver: once per `migrate` (Django sends it per app with models; this acts on the last).

    `flush` sends it too, without a plan: nothing changed in the schema then, so nothing is done.
    """
    from django.apps import apps

    from verisyntra.db.config import migration_alias

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if plan is None or not with_models or sender is not with_models[-1]:
        return
    with connections[using or migration_alias()].cursor() as cursor:
        sync_database_security(cursor)


def runtime_role_problems(alias: str) -> list[str]:
    """Why the role `alias` connects as must not serve requests: superuser, BYPASSRLS, or owner of a table.

    On a throwaway connection, never the pool: a pool made this early would keep the real
    database's parameters when the tests rename it.
    """
    from verisyntra.db.direct import direct_connection

    conn = direct_connection(alias, application_name="verisyntra-check")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                """
                SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p')
                          AND c.relnamespace = current_schema()::regnamespace)
                FROM pg_roles r WHERE r.rolname = current_user
                """
            )
            row = cursor.fetchone()
            assert row is not None, "current_user is always a role"
            name, is_super, bypass, owned = row
    finally:
        conn.close()
    problems = []
    if is_super:
        problems.append(f"{name} is a superuser")
    if bypass:
        problems.append(f"{name} has BYPASSRLS")
    if owned:
        problems.append(f"{name} owns {owned} table(s) (a table's owner is not subject to row-level security)")
    return problems
