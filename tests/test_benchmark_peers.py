"""The pool-peers report: medians and spreads over the rounds, and the files a run writes."""

from __future__ import annotations

import json

from benchmarks import pool_peers


def run(config: str, round_number: int, *, read_p95: float, rows_per_s: int, batch_s: float, connections: int) -> dict:
    latency = {"p50": read_p95 / 2, "p95": read_p95}
    return {
        "config": config,
        "label": f"{config} label",
        "round": round_number,
        "mixed": {
            "reads": {"latency_ms": latency, "requests_per_s": 50.0, "timeouts": 0, "failures": {}},
            "summary": {"latency_ms": latency},
            "list": {"latency_ms": latency},
            "writers": {
                "latency_ms": {"p50": 400.0, "p95": 600.0},
                "rows_per_s": rows_per_s,
                "failures": {"503": 1} if round_number == 2 else {},
            },
            "server_connections": {"max": connections},
            "cpu_cores": {"machine": 1.9},
            "service_cpu_ms_per_request": 14.0,
        },
        "batch_10k": {
            "median_s": batch_s,
            "rows_per_s": int(10_000 / batch_s),
            "failures": {},
            "server_connections": {"max": connections},
            "service_cpu_ms_per_batch": 400.0,
        },
    }


def report() -> dict:
    runs = [
        run("ours", 1, read_p95=250.0, rows_per_s=6_000, batch_s=0.30, connections=22),
        run("ours", 2, read_p95=230.0, rows_per_s=7_000, batch_s=0.35, connections=22),
        run("ours", 3, read_p95=300.0, rows_per_s=6_500, batch_s=0.28, connections=21),
        run("ours+pgbouncer", 1, read_p95=240.0, rows_per_s=6_800, batch_s=0.40, connections=14),
        run("ours+pgbouncer", 2, read_p95=220.0, rows_per_s=6_900, batch_s=0.36, connections=13),
        run("ours+pgbouncer", 3, read_p95=260.0, rows_per_s=7_100, batch_s=0.38, connections=14),
    ]
    return {
        "machine": {"cpu": "test cpu", "cores": 2, "postgresql": "15", "load_average_at_start": [0.1, 0.1, 0.1]},
        "commit": "abc",
        "started_at": 1_796_180_000.0,
        "rounds": 3,
        "args": {"duration": "10.0", "warmup": "2.0", "batch_repeats": "3"},
        "runs": runs,
        "table": pool_peers.aggregate(runs),
    }


def test_aggregate_gives_each_configuration_its_median_and_spread_over_the_rounds():
    table = report()["table"]
    assert list(table) == ["ours", "ours+pgbouncer"]
    assert table["ours"]["read_p95_ms"] == {"median": 250.0, "min": 230.0, "max": 300.0, "values": [250.0, 230.0, 300.0]}
    assert table["ours+pgbouncer"]["server_connections_mixed"]["median"] == 14
    assert table["ours+pgbouncer"]["server_connections_mixed"]["min"] == 13
    assert table["ours"]["errors"]["values"] == [0, 1, 0]  # round 2's 503 counts as an error
    assert table["ours"]["rounds"] == 3


def test_write_report_writes_the_tables_the_chart_and_the_raw_results(tmp_path):
    data = report()
    text = pool_peers.write_report(data, tmp_path)
    chart = (tmp_path / pool_peers.CHART).read_bytes()
    assert chart.startswith(b"\x89PNG\r\n\x1a\n") and len(chart) > 10_000
    peers_md = (tmp_path / "peers.md").read_text()
    assert peers_md.startswith(pool_peers.PEERS_MD_HEADER) and text in peers_md
    assert f"]({pool_peers.CHART})" in peers_md
    assert "| ours: ours label | 125.0 (115.0-150.0) | 250.0 (230.0-300.0) |" in peers_md
    assert json.loads((tmp_path / "peers.json").read_text())["table"]["ours"]["batch_10k_s"]["median"] == 0.3


def test_from_json_redraws_an_earlier_run_without_measuring(tmp_path):
    source = tmp_path / "earlier.json"
    source.write_text(json.dumps(report()))
    out = tmp_path / "out"
    assert pool_peers.main(["--from-json", str(source), "--out", str(out)]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["peers.json", "peers.md", "peers.png"]
