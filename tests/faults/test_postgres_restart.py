"""PostgreSQL crashes and comes back while batch writers and dashboard readers run.

The private cluster is stopped with `pg_ctl -m immediate` (a crash: no checkpoint, WAL recovery on
start), kept down, and started again. Requests in flight and during the outage must fail with a
bilingual 503 and Retry-After, never a 500 or a hang; the pools (pre-ping) must recover without a
service restart; soon after the server is back every request must succeed; every batch that was
answered 201 must be in the database complete, and no batch may be there in part.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import PORTS, REDIS_PORT
from tests.faults.load import LoadRun, save_figures, tally, unexpected_tracebacks
from tests.faults.servers import Gunicorn, service_environment

pytestmark = pytest.mark.slow

WARM_UP = 4.0
DOWN = 3.0
AFTER = 10.0
RECOVERY_LIMIT = 5.0  # seconds from the server's return to the last failed request
ANSWER_LIMIT = 12.0  # seconds: no request may hang (connect timeout 2 s, pool timeouts 5 s)
BATCH_SIZE = 20
FIELDS = "activity_name, pdpl_category, data_fields, purpose, legal_basis, retention_months, tenant_id::text"


def test_postgres_crash_under_load_costs_only_polite_503s_and_loses_nothing_acknowledged(private_postgres, fault_database, fault_tenants):
    tenant = fault_tenants[0]
    env = service_environment(
        database_url=fault_database,
        broker_url=f"redis://127.0.0.1:{REDIS_PORT}/7",
        WEB_CONCURRENCY=2,
        WEB_THREADS=8,
        DATABASE_CONNECT_TIMEOUT=2,
        READ_POOL_SIZE=4,
        READ_POOL_MAX_OVERFLOW=2,
        READ_POOL_TIMEOUT=5,
        WRITE_POOL_SIZE=4,
        WRITE_POOL_MAX_OVERFLOW=2,
        WRITE_POOL_TIMEOUT=5,
    )
    with Gunicorn(port=PORTS["restart"], env=env) as web:
        run = LoadRun(web.base_url, tenant["token"], tenant["tenant_id"], writers=3, readers=3, batch_size=BATCH_SIZE, pause=0.02)
        run.start()
        time.sleep(WARM_UP)
        fault_began, back_up = private_postgres.restart(down_seconds=DOWN, mode="immediate")
        time.sleep(AFTER)
        run.stop()
        log = web.run_log()

    outcomes = run.outcomes
    failures = [o for o in outcomes if not o.ok]
    late_failures = [o for o in failures if o.started >= back_up]
    recovery = max((o.finished for o in late_failures), default=back_up) - back_up
    rows = rows_of_run(private_postgres, fault_database, run.run_id)
    accepted = [o for o in outcomes if o.kind == "batch" and o.status == 201]
    refused = [o for o in outcomes if o.kind == "batch" and o.status != 201]
    partial = [o for o in outcomes if o.kind == "batch" and 0 < sum(n in rows for n in o.names) < len(o.names)]
    missing = [n for o in accepted for n in o.names if n not in rows]
    refused_but_written = [o for o in refused if all(n in rows for n in o.names)]
    save_figures(
        "postgres_restart",
        {
            "requests": len(outcomes),
            "answers": tally(outcomes),
            "before_crash": tally([o for o in outcomes if o.finished < fault_began]),
            "fault_seconds_stop_to_ready": round(back_up - fault_began, 2),
            "after_return": tally([o for o in outcomes if o.started >= back_up]),
            "seconds_from_return_to_last_error": round(recovery, 2),
            "slowest_answer_seconds": round(max(o.elapsed for o in outcomes), 2),
            "batches_acknowledged": len(accepted),
            "rows_expected": len(accepted) * BATCH_SIZE,
            "rows_found_of_acknowledged": len(accepted) * BATCH_SIZE - len(missing),
            "batches_partially_written": len(partial),
            "batches_refused_but_committed": len(refused_but_written),
            "server_log_tracebacks": log.count("Traceback"),
            "server_log_tracebacks_unexpected": len(unexpected_tracebacks(log)),
        },
    )

    assert len([o for o in outcomes if o.finished < fault_began and o.ok]) > 10, "no load before the crash"
    assert [o for o in outcomes if o.finished < fault_began and not o.ok] == [], "errors before the fault"
    assert failures, "the crash caused no failed request: the fault was not injected"
    for outcome in failures:
        assert outcome.status == 503, outcome
        assert outcome.code in {"database_unavailable", "pool_exhausted"} and outcome.bilingual, outcome
        assert outcome.retry_after, outcome
    assert max(o.elapsed for o in outcomes) < ANSWER_LIMIT
    assert recovery <= RECOVERY_LIMIT, f"errors went on {recovery:.1f}s after the server returned"
    assert sum(1 for o in outcomes if o.started >= back_up + RECOVERY_LIMIT and o.ok) > 10, "no load after recovery"
    assert missing == [], f"{len(missing)} acknowledged rows are missing"
    assert partial == [], f"{len(partial)} batches were written in part"
    assert_rows_complete(rows, accepted, tenant["tenant_id"])
    assert unexpected_tracebacks(log) == []
    assert tenant["token"] not in log


def rows_of_run(server, database_url: str, run_id: str) -> dict[str, tuple]:
    connection = server.connect(database_url.rsplit("/", 1)[1])
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {FIELDS} FROM inventory_processingactivity WHERE activity_name LIKE %s", [f"{run_id}-%"])
            found = cursor.fetchall()
    finally:
        connection.close()
    rows = {row[0]: row for row in found}
    assert len(rows) == len(found), "an activity was written twice"
    return rows


def assert_rows_complete(rows: dict[str, tuple], accepted, tenant_id: str) -> None:
    for outcome in accepted:
        for name in outcome.names:
            assert rows[name] == (
                name,
                "basic",
                ["ho_ten", "so_dien_thoai", "địa_chỉ"],
                "Quản lý khách hàng – kiểm thử khôi phục",
                "contract",
                24,
                tenant_id,
            )
