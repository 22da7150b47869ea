"""`benchmarks.scale`'s logic apart from timing: the loaded history, the ratios and the verdicts."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from benchmarks import scale
from benchmarks.dataset import COPY_COLUMNS
from inventory.models import ActivityCount, ProcessingActivity, Tenant
from verisyntra.tests.owner import owner_cursor

LATENCY = scale.Figure("latency_ms", "a latency", "ms")
RATE = scale.Figure("rate", "a rate", "rows/s", higher_is_better=True)


@pytest.fixture(scope="module")
def tails():
    return scale.record_tails(scale.sample_records(40))


def test_plan_gives_the_big_tenant_half_and_spreads_the_rest_evenly():
    plan = scale.LoadPlan(rows=100_003)
    quotas = plan.quotas()
    assert len(quotas) == scale.TENANTS
    assert sum(quotas) == 100_003
    assert quotas[0] == 50_002
    assert max(quotas[1:]) - min(quotas[1:]) <= 1
    assert min(quotas[1:]) == 50


def test_plan_batches_add_up_to_each_tenants_quota_in_batches_of_at_most_fifty():
    plan = scale.LoadPlan(rows=20_000, tenants=7)
    rows_per_tenant: Counter[int] = Counter()
    for tenant, size in plan.batches():
        assert 0 < size <= scale.LOAD_BATCH_ROWS
        rows_per_tenant[tenant] += size
    assert [rows_per_tenant[tenant] for tenant in range(7)] == plan.quotas()


def test_plan_spreads_the_big_tenants_batches_over_the_whole_history():
    batches = scale.LoadPlan(rows=20_000, tenants=7).batches()
    big_positions = [position for position, (tenant, _) in enumerate(batches) if tenant == 0]
    # Half the rows, so about every other batch; never all of them at one end.
    assert big_positions[0] < len(batches) * 0.05
    assert big_positions[-1] > len(batches) * 0.95


def test_one_tenant_plan_holds_every_row():
    assert scale.LoadPlan(rows=1_234, tenants=1).quotas() == [1_234]


def _lines(plan, tenant_ids, tails, **kwargs) -> list[list[str]]:
    return [line.split("\t") for block in scale.history_lines(plan, tenant_ids, tails, **kwargs) for line in block.splitlines()]


def test_history_writes_every_planned_row_once_in_key_order(tails):
    plan = scale.LoadPlan(rows=3_001, tenants=10)
    tenant_ids = [f"00000000-0000-4000-8000-{index:012d}" for index in range(10)]
    rows = _lines(plan, tenant_ids, tails, block_rows=500)
    assert all(len(row) == len(COPY_COLUMNS) for row in rows)
    assert len(rows) == 3_001
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids)
    created = COPY_COLUMNS.index("created_at")
    keys = [(dt.datetime.fromisoformat(row[created]), row[0]) for row in rows]
    assert keys == sorted(keys)
    per_tenant = Counter(row[1] for row in rows)
    assert [per_tenant[tenant_id] for tenant_id in tenant_ids] == plan.quotas()


def test_histories_with_different_starts_share_no_id(tails):
    plan = scale.LoadPlan(rows=500, tenants=1)
    tenant = ["00000000-0000-4000-8000-000000000001"]
    first = {row[0] for row in _lines(plan, tenant, tails)}
    later = {row[0] for row in _lines(plan, tenant, tails, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))}
    assert not first & later


@pytest.mark.django_db(transaction=True, databases=["read", "write"])
def test_history_loads_by_copy_with_counts_and_values_the_service_reads(tails):
    tenants = [Tenant.objects.create(name=f"scale-test-{index}") for index in range(4)]
    plan = scale.LoadPlan(rows=1_000, tenants=4)
    blocks = scale.history_lines(plan, [str(tenant.pk) for tenant in tenants], tails, block_rows=128)
    # As benchmarks.scale loads: a role above row-level security (PostgreSQL refuses COPY FROM under it), here the owner.
    with owner_cursor(autocommit=False) as cursor:
        source = scale.CopySource(blocks)
        cursor.copy_expert(f"COPY {scale.TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN", source)
    assert source.lines == 1_000
    for tenant, quota in zip(tenants, plan.quotas(), strict=True):
        assert ProcessingActivity.objects.using("write").filter(tenant=tenant).count() == quota
        # The rollup the compliance summary reads counted the COPY too.
        assert sum(ActivityCount.objects.using("write").filter(tenant=tenant).values_list("activities", flat=True)) == quota
    first = ProcessingActivity.objects.using("write").filter(tenant=tenants[0]).order_by("created_at", "id").first()
    sample = scale.sample_records(1)[0]
    assert first.purpose == sample["purpose"]
    assert first.data_subjects == sample["data_subjects"]


def test_copy_statements_split_the_stream_without_losing_a_block():
    blocks = iter(["a\nb\n", "c\n", "d\ne\nf\n", "g\n"])
    statements = [list(statement) for statement in scale.copy_statements(blocks, rows_per_statement=3)]
    assert statements == [["a\nb\n", "c\n"], ["d\ne\nf\n"], ["g\n"]]


@pytest.mark.parametrize(
    ("figure", "smallest", "largest", "ratio", "verdict"),
    [
        (LATENCY, 10.0, 14.0, 1.4, "met"),
        (LATENCY, 10.0, 15.0, 1.5, "met"),
        (LATENCY, 10.0, 16.0, 1.6, "missed"),
        (LATENCY, 10.0, 5.0, 0.5, "met"),
        (RATE, 30_000.0, 15_000.0, 2.0, "missed"),
        (RATE, 30_000.0, 40_000.0, 0.75, "met"),
    ],
)
def test_cost_ratio_and_verdict(figure, smallest, largest, ratio, verdict):
    assert scale.cost_ratio(figure, smallest, largest) == pytest.approx(ratio)
    assert scale.verdict(scale.cost_ratio(figure, smallest, largest)) == verdict


def test_cost_ratio_from_a_zero_cost():
    assert scale.cost_ratio(LATENCY, 0.0, 0.0) == 1.0
    assert scale.cost_ratio(LATENCY, 0.0, 1.0) == float("inf")
    assert scale.verdict(float("inf")) == "missed"


def test_percentile_is_nearest_rank():
    values = [float(value) for value in range(100, 0, -1)]
    assert scale.percentile(values, 95) == 95.0
    assert scale.percentile(values, 50) == 50.0
    assert scale.percentile([3.0], 95) == 3.0


def test_ratios_compare_the_largest_size_with_the_smallest_by_number_not_by_text():
    results = {
        "sizes": {
            "100000": {"figures": {"latency_ms": 30.0, "rate": 10_000.0}},
            "20000": {"figures": {"latency_ms": 10.0, "rate": 40_000.0}},
            "50000": {"figures": {"latency_ms": 99.0, "rate": 1.0}},
        }
    }
    assert scale.ratios(results, (LATENCY, RATE)) == {
        "latency_ms": {"ratio": 3.0, "verdict": "missed"},
        "rate": {"ratio": 4.0, "verdict": "missed"},
    }


def test_median_run_is_the_middle_run_with_its_details():
    runs = [{"seconds": 0.9, "index_scans": "1"}, {"seconds": 0.1, "index_scans": "0"}, {"seconds": 0.4, "index_scans": "1"}]
    assert scale.median_run(runs) == {"seconds": 0.4, "index_scans": "1"}
    assert scale.median_run(runs[:1]) == runs[0]


def test_churn_figure_is_judged_against_the_target_like_the_others():
    def size(churn_ms: float) -> dict:
        return {"figures": {"vacuum_churn_ms_per_1k": churn_ms}}

    results = {"sizes": {"100000": size(14.7), "10000000": size(4.1)}}
    assert scale.ratios(results)["vacuum_churn_ms_per_1k"] == {"ratio": 0.28, "verdict": "met"}
    results["sizes"]["10000000"] = size(30.0)
    assert scale.ratios(results)["vacuum_churn_ms_per_1k"]["verdict"] == "missed"
