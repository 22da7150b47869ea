"""The benchmark database: created and migrated once, a fixed dashboard tenant, writer tenants, resets.

Fair runs need every configuration to read the same table. The dashboard tenant's 100,000
activities are written by one COPY when the database is new and never touched again; writers
write only into their own tenants, whose rows (and scans) are deleted before every run, followed
by VACUUM ANALYZE so the dashboard's index-only scan sees an all-visible table each time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from benchmarks import samples
from inventory.activity_fields import ACTIVITY_RECORD_FIELDS

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD_ROWS = 100_000
DASHBOARD_TENANT = "bench-dashboard"
WRITER_TENANTS = 8
BENCH_USER = "bench"

CATEGORIES = ["sensitive", "basic", "basic", "basic", "public"]
LEGAL_BASES = ["consent", "contract", "legal_obligation", "vital_interest", "public_interest", "legitimate_interest"]
FIELDS = ["ho_ten", "dia_chi", "so_dien_thoai", "email", "ngay_sinh", "so_cccd", "tai_khoan_ngan_hang"]


@dataclass(frozen=True)
class Tenants:
    token: str
    dashboard: str
    writers: tuple[str, ...]


def connect(database_url: str, dbname: str | None = None):
    url = urlsplit(database_url)
    connection = psycopg2.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=dbname or url.path.lstrip("/"),
    )
    connection.autocommit = True
    return connection


# The service runs as it is deployed: its pools as the runtime role (under row-level security), its
# migrations as the tables' owner (docs/configuration.md, Database roles). The benchmarks' own
# connections (loading, counting, resets) keep the BENCH_* URL's user, a superuser, which sees
# every tenant's rows.
RUNTIME_ROLE = "verisyntra_app"
OWNER_ROLE = "verisyntra_owner"


def with_user(database_url: str, user: str) -> str:
    url = urlsplit(database_url)
    host = url.hostname or "127.0.0.1"
    return url._replace(netloc=f"{user}@{host}" + (f":{url.port}" if url.port else "")).geturl()


def service_env(env: dict[str, str]) -> dict[str, str]:
    """`env` with DATABASE_URL (a BENCH_* URL) turned into the runtime role's and the owner's URLs."""
    database_url = env["DATABASE_URL"]
    user = urlsplit(database_url).username
    if user in (RUNTIME_ROLE, OWNER_ROLE):
        return dict(env)
    return {**env, "DATABASE_URL": with_user(database_url, RUNTIME_ROLE), "MIGRATION_DATABASE_URL": with_user(database_url, OWNER_ROLE)}


def ensure_database(database_url: str) -> None:
    """The bench_* database, owned by the owner role (both roles created when missing)."""
    name = urlsplit(database_url).path.lstrip("/")
    if not name.startswith("bench_"):
        sys.exit(f"REFUSING: the benchmark database must be named bench_*, got {name!r}")
    # Not `with connect(...)`: psycopg2 2.9 opens a transaction block there even in autocommit
    # mode, and CREATE DATABASE refuses to run inside one.
    admin = connect(database_url, "postgres")
    try:
        with admin.cursor() as cursor:
            for role, attributes in ((OWNER_ROLE, "LOGIN CREATEDB"), (RUNTIME_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS")):
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL(f"CREATE ROLE {{}} {attributes}").format(sql.Identifier(role)))
            cursor.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name])
            row = cursor.fetchone()
            if row is not None and row[0] != OWNER_ROLE:
                # Made before the two roles: benchmark data is made again rather than handed over.
                cursor.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                row = None
            if row is None:
                cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
    finally:
        admin.close()


# One interpreter for migrate and every `create_tenant` (each manage.py start costs seconds here).
_SETUP_SCRIPT = """
import io, json, sys
import django
django.setup()
from django.core.management import call_command
from verisyntra.db.tenant_scope import enter_all_tenants
enter_all_tenants()  # as manage.py does: operations code acts for all tenants
call_command("migrate", interactive=False, verbosity=0)
out = []
for name in sys.argv[2:]:
    buffer = io.StringIO()
    call_command("create_tenant", name, username=sys.argv[1], get_or_create=True, json=True, stdout=buffer)
    out.append(json.loads(buffer.getvalue()))
print(json.dumps(out))
"""


def migrate_and_create_tenants(env: dict[str, str], names: list[str]) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", _SETUP_SCRIPT, BENCH_USER, *names],
        cwd=ROOT,
        env=service_env(env),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(env: dict[str, str]) -> Tenants:
    """Create, migrate and seed the benchmark database if needed; return the tenants and the token."""
    database_url = env["DATABASE_URL"]
    ensure_database(database_url)
    created = migrate_and_create_tenants(env, [DASHBOARD_TENANT, *(f"bench-writer-{i}" for i in range(WRITER_TENANTS))])
    tenants = Tenants(
        token=created[0]["token"],
        dashboard=created[0]["tenant_id"],
        writers=tuple(item["tenant_id"] for item in created[1:]),
    )
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_processingactivity WHERE tenant_id = %s", [tenants.dashboard])
        (count,) = cursor.fetchone()
        if count != DASHBOARD_ROWS:
            cursor.execute("DELETE FROM inventory_processingactivity WHERE tenant_id = %s", [tenants.dashboard])
            cursor.copy_expert(COPY_SQL, dashboard_rows_csv(tenants.dashboard, DASHBOARD_ROWS))
    connection.close()
    reset(database_url, tenants)
    return tenants


COPY_COLUMNS = ("id", "tenant_id", *ACTIVITY_RECORD_FIELDS, "created_at")
COPY_SQL = f"COPY inventory_processingactivity ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"


def dashboard_rows_csv(tenant_id: str, rows: int) -> io.StringIO:
    """`rows` realistic activities as CSV, from a fixed seed: every fresh database holds the same data.

    The random draws keep their order (fields, id, category, basis, transfer, retention), so the
    rows are the ones earlier runs measured.
    """
    rng = random.Random(20251107)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i in range(rows):
        fields = rng.sample(FIELDS, rng.randint(1, 4))
        row = {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "tenant_id": tenant_id,
            "activity_name": samples.DASHBOARD["activity_name"].format(i=i),
            "pdpl_category": rng.choice(CATEGORIES),
            "data_fields": "{" + ",".join(fields) + "}",
            "purpose": samples.DASHBOARD["purpose"],
            "legal_basis": rng.choice(LEGAL_BASES),
            "data_subjects": "{khach_hang}",
            "recipients": "{}",
            "cross_border_transfer": "t" if rng.random() < 0.2 else "f",
            "retention_months": rng.choice([12, 24, 60]),
            "created_at": f"2025-11-{1 + i % 28:02d} 08:00:00+07",
        }
        writer.writerow([row[column] for column in COPY_COLUMNS])
    buffer.seek(0)
    return buffer


def reset(database_url: str, tenants: Tenants) -> dict[str, int]:
    """Delete everything the writers wrote; the dashboard tenant's rows stay as they are."""
    connection = connect(database_url)
    with connection.cursor() as cursor:
        # Chunks and activities point at scans (foreign keys without ON DELETE): delete them first.
        cursor.execute("DELETE FROM inventory_datascanchunk")
        cursor.execute("DELETE FROM inventory_processingactivity WHERE tenant_id <> %s", [tenants.dashboard])
        deleted = cursor.rowcount
        cursor.execute("DELETE FROM inventory_datascan")
        cursor.execute("TRUNCATE django_celery_results_taskresult")
        cursor.execute("VACUUM ANALYZE inventory_processingactivity")
        cursor.execute("VACUUM ANALYZE inventory_datascan")
        cursor.execute("VACUUM ANALYZE inventory_datascanchunk")
        cursor.execute("SELECT count(*) FROM inventory_processingactivity WHERE tenant_id = %s", [tenants.dashboard])
        (dashboard_rows,) = cursor.fetchone()
    connection.close()
    if dashboard_rows != DASHBOARD_ROWS:
        raise RuntimeError(f"dashboard tenant has {dashboard_rows} rows, expected {DASHBOARD_ROWS}")
    return {"deleted_writer_rows": deleted, "dashboard_rows": dashboard_rows}


def rows_written(database_url: str, tenants: Tenants, window: tuple[float, float]) -> int:
    """Rows the writers' tenants gained inside the window, by their `created_at` (the COPY statement's start).

    Counted in the database, so batches and scans (whose rows a worker writes chunk by chunk) are
    measured the same way, whatever the client saw.
    """
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inventory_processingactivity WHERE tenant_id = ANY(%s::uuid[])"
            " AND created_at >= to_timestamp(%s) AND created_at < to_timestamp(%s)",
            [list(tenants.writers), window[0], window[1]],
        )
        (count,) = cursor.fetchone()
    connection.close()
    return count


def bench_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    # Never the development database or its broker, whatever the shell exported: BENCH_* only.
    env["DATABASE_URL"] = env.get("BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/bench_verisyntra"
    env.pop("READ_DATABASE_URL", None)
    env.pop("READ_DATABASE_URLS", None)
    env["CELERY_BROKER_URL"] = env.get("BENCH_CELERY_BROKER_URL") or "redis://127.0.0.1:6379/6"
    env["DJANGO_SETTINGS_MODULE"] = "verisyntra.settings"
    return env
