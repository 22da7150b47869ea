"""Render a pool benchmark's results: `results.md` (tables, target checks) and the PNG charts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The figures promised when the pools were first sized: before (one shared pool) and after the split into
# the original configuration (read 20+10, write 50+20), as latency, pool wait and timeouts per workload.
# They are printed beside the measured ones so each claim is checked.
DESIGN_BEFORE = {
    "dashboards-10": ("500 ms", "200 ms avg", "0%"),
    "writers-5": ("15 s", "5 s avg", "15% timeout"),
    "mixed": ("2 s dashboard", "8 s", "30% timeout"),
}
DESIGN_AFTER = {
    "dashboards-10": ("150 ms", "<10 ms", "0%"),
    "writers-5": ("12 s", "<100 ms", "0%"),
    "mixed": ("150 ms dashboard", "<50 ms", "0%"),
}


def _runs(report: dict) -> list[dict]:
    return report.get("runs", [])


def find(report: dict, config: str, workload: str) -> dict | None:
    for run in _runs(report):
        if run["config"] == config and run["workload"]["name"] == workload:
            return run
    return None


def sweep(report: dict, config: str) -> list[dict]:
    runs = [r for r in _runs(report) if r["config"] == config and r["workload"]["name"].startswith("sweep-")]
    return sorted(runs, key=lambda r: r["workload"]["writers"])


def configs(report: dict) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for run in _runs(report):
        seen.setdefault(run["config"], run["config_label"])
    return list(seen.items())


def _dash(run: dict | None, key: str = "p95"):
    if not run or not run.get("dashboard"):
        return None
    return run["dashboard"]["latency_ms"][key]


def _failures(part: dict | None) -> str:
    if not part:
        return "-"
    total = part["requests"] or 1
    bad = sum(part["failures"].values())
    if not bad:
        return "0%"
    return f"{100 * bad / total:.0f}% ({', '.join(f'{k}: {v}' for k, v in part['failures'].items())})"


def _waits(run: dict | None, role: str) -> str:
    if not run:
        return "-"
    items = [f"{key.split('/')[1]} {v['p50']}/{v['p95']}" for key, v in run["pool_waits"].items() if key.startswith(role + "/")]
    return "; ".join(items) or "-"


def _fmt(value, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def targets(report: dict, recommended: str, baseline: str) -> list[tuple[str, str, bool | None]]:
    """(target, evidence, met) for the issue's targets, from this run alone."""
    checks: list[tuple[str, str, bool | None]] = []
    for name in ("sweep-2",) + tuple(
        r["workload"]["name"] for r in _runs(report) if r["config"] == recommended and r["workload"]["name"].startswith("mixed")
    ):
        run = find(report, recommended, name)
        if not run:
            continue
        dash = run["dashboard"]
        timeouts = dash["timeouts"] + (run["writers"] or {}).get("timeouts", 0)
        failures = sum(dash["failures"].values()) + sum((run["writers"] or {}).get("failures", {}).values())
        p95 = dash["latency_ms"]["p95"]
        checks.append(
            (
                f"mixed 5 readers + 2 writers ({name}), {recommended}: zero timeouts, dashboard p95 < 100 ms",
                f"timeouts {timeouts}, other failures {failures - timeouts}, p95 {p95} ms",
                timeouts == 0 and p95 is not None and p95 < 100,
            )
        )
    rec0, rec30, shared30 = find(report, recommended, "sweep-0"), find(report, recommended, "sweep-30"), find(report, baseline, "sweep-30")
    if rec0 and rec30:
        ratio = _dash(rec30) / _dash(rec0)
        checks.append(
            (
                f"30 writers, {recommended}: dashboard p95 <= 3x its no-writer value",
                f"{_dash(rec30)} ms vs {_dash(rec0)} ms = {ratio:.2f}x",
                ratio <= 3,
            )
        )
    if rec30 and shared30:
        ratio = _dash(shared30) / _dash(rec30)
        checks.append(
            (
                f"30 writers: {recommended} dashboard p95 >= 3x lower than one shared pool ({baseline})",
                f"{baseline} {_dash(shared30)} ms / {recommended} {_dash(rec30)} ms = {ratio:.2f}x",
                ratio >= 3,
            )
        )
    writer_runs = [r for r in _runs(report) if r.get("writers") and r["workload"]["writer_kind"] == "batch"]
    if rec30 and writer_runs:
        best = max(writer_runs, key=lambda r: r["writers"]["rows_per_s"])
        share = rec30["writers"]["rows_per_s"] / best["writers"]["rows_per_s"]
        checks.append(
            (
                f"30 writers, {recommended}: at least half the best write throughput seen",
                f"{rec30['writers']['rows_per_s']} rows/s vs best {best['writers']['rows_per_s']} rows/s "
                f"({best['config']}, {best['workload']['name']}) = {100 * share:.0f}%",
                share >= 0.5,
            )
        )
    return checks


def design_table(report: dict, baseline: str, design: str, recommended: str) -> list[str]:
    """The originally promised Before / After figures (DESIGN_BEFORE / DESIGN_AFTER) next to ours, one row per workload.

    `design` is the configuration name of the original configuration's run (read 20+10, write 50+20), as in results.json.
    """
    labels = dict(configs(report))
    out = [
        f"| workload | promised before (1 pool) | ours: {labels.get(baseline, baseline)} | promised after (read 20 / write 50)"
        f" | ours: {labels.get(design, design)} | ours: {labels.get(recommended, recommended)} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (
        ("dashboards-10", "10 concurrent dashboards"),
        ("s-5", "5 concurrent writers"),
        ("mixed", "mixed: 5 dashboards + 2 writers"),
    ):
        cells = []
        for config in (baseline, design, recommended):
            run = next(
                (
                    r
                    for r in _runs(report)
                    if r["config"] == config
                    and (
                        r["workload"]["name"] == key
                        or (key != "dashboards-10" and key in r["workload"]["name"] and not r["workload"]["name"].startswith("sweep"))
                    )
                ),
                None,
            )
            cells.append(_cell(run))
        design_key = {"s-5": "writers-5", "mixed": "mixed"}.get(key, key)
        b, a = DESIGN_BEFORE[design_key], DESIGN_AFTER[design_key]
        out.append(f"| {label} | {b[0]}, wait {b[1]}, {b[2]} | {cells[0]} | {a[0]}, wait {a[1]}, {a[2]} | {cells[1]} | {cells[2]} |")
    return out


def markdown(report: dict, recommended: str, baseline: str, design: str) -> str:
    m = report["machine"]
    started = dt.datetime.fromtimestamp(report["started_at"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    minutes = (report["finished_at"] - report["started_at"]) / 60
    out = [
        "# Pool sizing under concurrent load: measured results",
        "",
        "Generated by `python -m benchmarks.pools` (see docs/benchmarks.md for the reading). Do not edit by hand.",
        "",
        f"- Run: {started}, {minutes:.1f} min; arguments {report['args'].get('quick') == 'True' and 'quick' or 'full'}"
        f" (warm-up {report['args'].get('warmup')} s, window {report['args'].get('duration')} s per run)",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}; PostgreSQL {m['postgresql']};"
        f" load average at start {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])},"
        f" at end {', '.join(f'{x:.1f}' for x in report.get('load_average_at_end', []))}"
        " (the machine is shared: other processes ran during the run).",
        "- Latencies are end to end at the client (ms); `wait` is the pool checkout time p50/p95 (ms) recorded by the"
        " pool instrumentation, per pool, for dashboard requests and for writer requests (it includes the pre-ping).",
        "",
    ]
    if _runs(report):
        out += ["## The three original workloads: promised and measured", ""]
        out += design_table(report, baseline, design, recommended)
        out += ["", f"Recommended configuration in this run: `{recommended}`.", ""]
        out += ["## Concurrent writers at a fixed dashboard load (5 readers)", ""]
        out += [
            "| configuration | writers | dashboard p50 / p95 / p99 ms | dashboard failures | dashboard wait p50/p95"
            " | writer rows/s | writer failures | writer wait p50/p95 |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for config, label in configs(report):
            for run in sweep(report, config):
                lat = run["dashboard"]["latency_ms"]
                writers = run["writers"]
                out.append(
                    f"| {label} | {run['workload']['writers']} | {_fmt(lat['p50'])} / {_fmt(lat['p95'])} / {_fmt(lat['p99'])} | "
                    f"{_failures(run['dashboard'])} | {_waits(run, 'dashboard')} | "
                    f"{writers['rows_per_s'] if writers else '-'} | {_failures(writers)} | {_waits(run, 'writer')} |"
                )
        out += ["", "## Targets", "", "| target | this run | met |", "| --- | --- | --- |"]
        for target, evidence, met in targets(report, recommended, baseline):
            out.append(f"| {target} | {evidence} | {'yes' if met else 'NO'} |")
        out.append("")
    cost = report.get("connection_cost")
    if cost:
        ip, http = cost["in_process"], cost["http"]
        out += [
            "## Pooled connection vs a new connection per request",
            "",
            "| measurement | pooled mean / p50 / p95 ms | new connection mean / p50 / p95 ms | saved (mean) |",
            "| --- | --- | --- | --- |",
            f"| take a connection, `SELECT 1`, give it back (in one process, {ip['pooled']['iterations']} times each) | "
            f"{ip['pooled']['mean']} / {ip['pooled']['p50']} / {ip['pooled']['p95']} | "
            f"{ip['new_connection']['mean']} / {ip['new_connection']['p50']} / {ip['new_connection']['p95']}"
            f" | {ip['saved_percent_of_mean']}% |",
        ]
        if http.get("pooled") and http.get("new_connection"):
            p, n = http["pooled"]["latency_ms"], http["new_connection"]["latency_ms"]
            out.append(
                f"| dashboard request over HTTP, 5 concurrent clients | {p['mean']} / {p['p50']} / {p['p95']} | "
                f"{n['mean']} / {n['p50']} / {n['p95']} | {http.get('saved_percent_of_mean')}% |"
            )
        out.append("")
    batch = report.get("batch")
    if batch:
        out += ["## Batch inserts (`python -m benchmarks.batch`)", "", "```", batch["output"].strip(), "```", ""]
    out += ["## Charts", ""]
    for name, title in CHARTS:
        out.append(f"![{title}]({name})")
    return "\n".join(out) + "\n"


def _cell(run: dict | None) -> str:
    if not run:
        return "not run"
    parts = []
    if run.get("dashboard"):
        lat = run["dashboard"]["latency_ms"]
        parts.append(f"dashboard p50 {_fmt(lat['p50'])} / p95 {_fmt(lat['p95'])} ms, wait {_waits(run, 'dashboard')}")
    if run.get("writers"):
        w = run["writers"]
        kind = run["workload"]["writer_kind"]
        parts.append(
            f"{kind} p50 {_fmt(w['latency_ms']['p50'])} ms ({run['workload']['batch_rows']} rows), {w['rows_per_s']} rows/s, "
            f"wait {_waits(run, 'writer') if kind == 'batch' else _waits(run, 'scan')}"
        )
    failures = sum(run["dashboard"]["failures"].values()) if run.get("dashboard") else 0
    failures += sum(run["writers"]["failures"].values()) if run.get("writers") else 0
    parts.append(f"{failures} failures")
    return "; ".join(parts)


CHARTS = [
    ("dashboard-p95-vs-writers.png", "Dashboard p95 against concurrent writers"),
    ("frontier.png", "Dashboard p95 against writer throughput, 30 writers"),
    ("mixed-latency.png", "Dashboard latency distribution, 5 readers + 2 writers"),
]


def charts(report: dict, out: Path, recommended: str, baseline: str, design: str) -> None:
    if not _runs(report):
        return
    # A colour per configuration (more than the default cycle's ten) and the legend beside the plot.
    fig, ax = plt.subplots(figsize=(12, 5.5))
    palette = plt.get_cmap("tab20").colors
    for number, (config, label) in enumerate(configs(report)):
        runs = [r for r in sweep(report, config) if _dash(r) is not None]
        if runs:
            style = "-o" if config in (baseline, design, recommended) else "--."
            width = 2.5 if config == recommended else 1.2
            colour = palette[(2 * number) % 20 + (number * 2 >= 20)]
            xs, ys = [r["workload"]["writers"] for r in runs], [_dash(r) for r in runs]
            ax.plot(xs, ys, style, label=label, color=colour, linewidth=width)
    ax.set_xlabel("concurrent writers (2,000-row batches)")
    ax.set_ylabel("dashboard p95 (ms, log scale)")
    ax.set_yscale("log")
    ax.set_title("Dashboard p95 with 5 readers, by number of writers")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(out / CHARTS[0][0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    for writers, marker in ((30, "o"), (60, "s")):
        points = [
            (r["writers"]["rows_per_s"], _dash(r), r["config"])
            for r in _runs(report)
            if r["workload"]["name"] == f"sweep-{writers}" and r.get("writers") and _dash(r) is not None
        ]
        if not points:
            continue
        ax.scatter([p[0] for p in points], [p[1] for p in points], marker=marker, label=f"{writers} writers")
        for x, y, name in points:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("writer throughput (rows/s)")
    ax.set_ylabel("dashboard p95 (ms, log scale)")
    ax.set_yscale("log")
    ax.set_title("Frontier: dashboard p95 against write throughput (lower right is better)")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / CHARTS[1][0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    colours = {baseline: "tab:blue", design: "tab:orange", recommended: "tab:green"}
    for run in _runs(report):
        # The three configurations the promised figures compare; the rest are in results.json.
        if run["config"] not in colours:
            continue
        if run["workload"]["readers"] == 5 and run["workload"]["writers"] == 2 and run.get("dashboard_latencies_ms"):
            values = run["dashboard_latencies_ms"]
            ys = [(i + 1) / len(values) for i in range(len(values))]
            style = "-" if run["workload"]["name"].startswith("sweep") else "--"
            kind = "2 batch writers" if style == "-" else "2 scans"
            ax.plot(values, ys, style, color=colours[run["config"]], label=f"{run['config_label']}, {kind}")
    ax.set_xscale("log")
    ax.set_xlabel("dashboard latency (ms, log scale)")
    ax.set_ylabel("fraction of requests at or below")
    ax.axvline(100, color="grey", linestyle=":", linewidth=1)
    ax.set_title("Mixed load (5 readers + 2 writers): dashboard latency distribution")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / CHARTS[2][0], dpi=110)
    plt.close(fig)


BLOCK_BEGIN = "<!-- pool-sizing:results:begin (written by python -m benchmarks.pools) -->"
BLOCK_END = "<!-- pool-sizing:results:end -->"


def summary_block(report: dict, recommended: str, baseline: str, design: str, folder: str) -> str:
    """The measured part of docs/benchmarks.md's section: the key tables of this run."""
    m = report["machine"]
    started = dt.datetime.fromtimestamp(report["started_at"], dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run of {started} on {m['cpu']} ({m['cores']} cores), PostgreSQL {m['postgresql'].split()[0]}, load average at start "
        f"{m['load_average_at_start'][0]:.1f} (shared machine). Every figure, per run: [{folder}/results.md]({folder}/results.md).",
        "",
        "The figures promised for one shared pool and for the original configuration (read 20+10, write 50+20), and ours"
        " (client-side latency; `wait` = pool checkout p50/p95 ms per pool):",
        "",
        *design_table(report, baseline, design, recommended),
        "",
        "Dashboard p95 (ms) with 5 readers and N concurrent writers of 2,000-row batches:",
        "",
        "| configuration | dashboard p95, 0 writers | p95, 2 writers | p95, 30 writers | p95, 60 writers"
        " | writer rows/s at 30 | failures at 30 / 60 (dashboard + writer) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for config, label in configs(report):
        by_writers = {r["workload"]["writers"]: r for r in sweep(report, config)}
        if 30 not in by_writers:
            continue

        def failures(run):
            if not run:
                return "-"
            return str(sum(run["dashboard"]["failures"].values()) + sum((run["writers"] or {}).get("failures", {}).values()))

        r30 = by_writers.get(30)
        lines.append(
            f"| {label} | {_fmt(_dash(by_writers.get(0)))} | {_fmt(_dash(by_writers.get(2)))} | {_fmt(_dash(r30))}"
            f" | {_fmt(_dash(by_writers.get(60)))} | {r30['writers']['rows_per_s'] if r30 and r30['writers'] else '-'}"
            f" | {failures(r30)} / {failures(by_writers.get(60))} |"
        )
    lines += ["", "| target | this run | met |", "| --- | --- | --- |"]
    for target, evidence, met in targets(report, recommended, baseline):
        lines.append(f"| {target} | {evidence} | {'yes' if met else 'NO'} |")
    cost = report.get("connection_cost")
    if cost:
        ip, http = cost["in_process"], cost["http"]
        lines += [
            "",
            f"Connection cost: taking a pooled connection, `SELECT 1`, giving it back: mean {ip['pooled']['mean']} ms;"
            f" a new connection each time: {ip['new_connection']['mean']} ms ({ip['saved_percent_of_mean']}% saved)."
            + (
                f" A dashboard request end to end: {http['pooled']['latency_ms']['mean']} ms pooled vs"
                f" {http['new_connection']['latency_ms']['mean']} ms unpooled ({http.get('saved_percent_of_mean')}% saved)."
                if http.get("pooled") and http.get("new_connection")
                else ""
            ),
        ]
    lines += [""] + [f"![{title}]({folder}/{name})" for name, title in CHARTS]
    return "\n".join(lines)


def update_document(document: Path, block: str) -> bool:
    """Replace the measured block of `document` between the markers; False when the markers are missing."""
    if not document.exists():
        return False
    text = document.read_text(encoding="utf-8")
    if BLOCK_BEGIN not in text or BLOCK_END not in text:
        return False
    head, rest = text.split(BLOCK_BEGIN, 1)
    _, tail = rest.split(BLOCK_END, 1)
    document.write_text(f"{head}{BLOCK_BEGIN}\n{block}\n{BLOCK_END}{tail}", encoding="utf-8")
    return True


def write(report: dict, out: Path, recommended: str, baseline: str, design: str, document: Path | None = None) -> None:
    charts(report, out, recommended, baseline, design)
    (out / "results.md").write_text(markdown(report, recommended, baseline, design), encoding="utf-8")
    if document is not None:
        folder = out.relative_to(document.parent).as_posix()
        update_document(document, summary_block(report, recommended, baseline, design, folder))


if __name__ == "__main__":
    import sys

    # Imported under other names: this module's DESIGN_AFTER is the promised figures, not a configuration name.
    from benchmarks import pools

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else pools.OUT
    document = pools.OUT.parent / "benchmarks.md" if folder.resolve() == pools.OUT.resolve() else None
    report = json.loads((folder / "results.json").read_text())
    write(report, folder, pools.RECOMMENDED_NAME, pools.BASELINE, pools.DESIGN_AFTER, document)
