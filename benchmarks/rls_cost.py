"""What row-level security costs: the 10,000-record batch and the compliance summary, RLS on and off.

    .venv/bin/python -m benchmarks.rls_cost              # database bench_verisyntra_rls, made when missing
    .venv/bin/python -m benchmarks.rls_cost --rounds 9

In-process, through the whole Django stack (middleware, token authentication, the tenancy layer,
the views) with Django's test client, so HTTP's noise does not hide a few percent. The pools
connect as the runtime role, as deployed. The table holds the measured tenant's 100,000
activities beside 900,000 of nine other tenants, so the policy has other tenants' rows to keep out.

Three arms take turns round by round on the same tables (each arm in each place of the order in
turn): `rls on`, as shipped; `rls off`, the superuser turns row-level security off on every tenant
table (`ALTER TABLE ... DISABLE ROW LEVEL SECURITY`) and the code is the same, so the difference is
the policies' own cost; `before rls`, off as well and the batch's COPY goes straight into the table,
as before row-level security (PostgreSQL refuses COPY FROM under RLS, so the shipped batch copies
into a temporary stage and inserts from it). Each round posts one 10,000-record batch (its rows
deleted and the table vacuumed after it) and asks for the summary `--summaries` times (p50, p95).
BENCH_DATABASE_URL overrides the database (its name must start with `bench_`; its user a superuser).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import dataset
from benchmarks.batch import SUMMARY_TENANT_ROWS, activity, percentile

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_verisyntra_rls"
BATCH = 10_000
OTHER_TENANTS = 9
# "rls on": as shipped. "rls off": the policies disabled, the same code. "before rls": the policies
# disabled and the batch's COPY straight into the table, as the service wrote before row-level
# security (PostgreSQL refuses that COPY under RLS, hence the shipped temporary stage).
ARMS = ("rls on", "rls off", "before rls")


def setup(database_url: str) -> None:
    dataset.ensure_database(database_url)
    env = dataset.service_env({**os.environ, "DATABASE_URL": database_url})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "MIGRATION_DATABASE_URL": env["MIGRATION_DATABASE_URL"],
            "DJANGO_SETTINGS_MODULE": "verisyntra.settings",
            "ALLOWED_HOSTS": "localhost",
            "SECURE_SSL_REDIRECT": "false",
            "CELERY_BROKER_URL": os.environ.get("BENCH_CELERY_BROKER_URL") or "redis://127.0.0.1:6379/5",
        }
    )
    for name in ("READ_DATABASE_URL", "READ_DATABASE_URLS", "CACHE_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def tenants(admin) -> tuple[str, str]:
    """The measured tenant (100,000 rows) and its token; nine others with 100,000 rows each."""
    from inventory.services import tenant_create
    from verisyntra.db.tenant_scope import all_tenants

    with all_tenants():
        measured, _user, token = tenant_create(name="bench-rls-measured", username="bench-rls", reuse_existing=True)
        others = [tenant_create(name=f"bench-rls-other-{i}", username="bench-rls", reuse_existing=True)[0] for i in range(OTHER_TENANTS)]
    with admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_processingactivity WHERE tenant_id = %s", [measured.pk])
        if cursor.fetchone()[0] < SUMMARY_TENANT_ROWS:
            load(measured.pk)
            cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'inventory_processingactivity'")
            columns = [name for (name,) in cursor.fetchall() if name not in ("id", "tenant_id")]
            listed = ", ".join(columns)
            for other in others:
                cursor.execute(
                    f"INSERT INTO inventory_processingactivity (id, tenant_id, {listed}) "
                    f"SELECT gen_random_uuid(), %s, {listed} FROM inventory_processingactivity WHERE tenant_id = %s",
                    [other.pk, measured.pk],
                )
        cursor.execute("VACUUM ANALYZE")
    return str(measured.pk), token.key


def load(tenant_id) -> None:
    from inventory.services import processing_activities_bulk_insert
    from inventory.validation import activities_validate
    from verisyntra.db.tenant_scope import acting_for

    with acting_for(tenant_id):
        for start in range(0, SUMMARY_TENANT_ROWS, 10_000):
            rows = activities_validate([activity(start + i) for i in range(10_000)]).rows
            processing_activities_bulk_insert(tenant=tenant_id, rows=rows)


def set_rls(admin, on: bool) -> None:
    from verisyntra.db.security import CHILD_MODELS, child_policy, tenant_tables

    with admin.cursor() as cursor:
        tables = tenant_tables(cursor) + [child_policy(label, field)[0] for label, field in CHILD_MODELS.items()]
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} ROW LEVEL SECURITY")


def copy_rows_straight(cursor, table: str, columns: str, stream) -> None:
    """The batch's COPY before row-level security: into the table itself, no stage."""
    from django.db import connections

    with connections["write"].wrap_database_errors:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", stream, size=65536)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="Measured rounds per arm (after one warm-up round each).")
    parser.add_argument("--summaries", type=int, default=60, help="Summary requests per round.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    setup(database_url)
    from django.test import Client

    admin = dataset.connect(database_url)  # the superuser: loads, resets and toggles, sees every row
    tenant_id, token = tenants(admin)
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {token}")
    body = json.dumps({"activities": [activity(i) for i in range(BATCH)]})
    summary_url = f"/analytics/compliance-summary?tenant_id={tenant_id}"
    batch_url = f"/batch/processing-activities?tenant_id={tenant_id}"
    figures: dict[str, dict[str, list[float]]] = {arm: {"batch": [], "summary": []} for arm in ARMS}

    from inventory import services

    shipped_copy = services._copy_rows

    def one_round(arm: str, keep: bool) -> None:
        set_rls(admin, arm == "rls on")
        services._copy_rows = copy_rows_straight if arm == "before rls" else shipped_copy
        started = time.perf_counter()
        try:
            response = client.post(batch_url, body, content_type="application/json")
        finally:
            services._copy_rows = shipped_copy
        batch_seconds = time.perf_counter() - started
        assert response.status_code == 201, response.content[:500]
        assert response.json()["records_created"] == BATCH
        created = response.json()["created_ids"]
        summaries = []
        for _ in range(args.summaries):
            started = time.perf_counter()
            response = client.get(summary_url)
            summaries.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:500]
        assert response.json()["total_activities"] == SUMMARY_TENANT_ROWS + BATCH, "RLS must not hide the tenant's own rows"
        with admin.cursor() as cursor:  # every round starts from the same table
            cursor.execute("DELETE FROM inventory_processingactivity WHERE id = ANY(%s::uuid[])", [created])
            cursor.execute("VACUUM ANALYZE inventory_processingactivity")
        if keep:
            figures[arm]["batch"].append(batch_seconds)
            figures[arm]["summary"].extend(summaries)

    try:
        for arm in ARMS:
            one_round(arm, keep=False)  # warm-up: imports, pools, caches
        for n in range(args.rounds):
            for arm in ARMS[n % len(ARMS) :] + ARMS[: n % len(ARMS)]:  # each arm takes each place in turn
                one_round(arm, keep=True)
    finally:
        set_rls(admin, True)
        admin.close()

    result = {
        arm: {
            "batch_median_ms": round(statistics.median(values["batch"]) * 1000, 1),
            "summary_p50_ms": round(percentile(values["summary"], 50) * 1000, 2),
            "summary_p95_ms": round(percentile(values["summary"], 95) * 1000, 2),
            "batches": len(values["batch"]),
            "summaries": len(values["summary"]),
        }
        for arm, values in figures.items()
    }
    on = result["rls on"]
    print(f"{'arm':<11} {'10k batch median':>17} {'summary p50':>12} {'summary p95':>12}")
    for arm, row in result.items():
        print(f"{arm:<11} {row['batch_median_ms']:>14.1f} ms {row['summary_p50_ms']:>9.2f} ms {row['summary_p95_ms']:>9.2f} ms")
    for baseline in ARMS[1:]:
        other = result[baseline]
        ratios = [on[key] / other[key] for key in ("batch_median_ms", "summary_p50_ms", "summary_p95_ms")]
        result[f"rls on / {baseline}"] = dict(
            zip(("batch_median", "summary_p50", "summary_p95"), [round(r, 3) for r in ratios], strict=True)
        )
        print(f"{'on / ' + baseline:<11} {ratios[0]:>17.3f} {ratios[1]:>12.3f} {ratios[2]:>12.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
