"""The read behind the admin's pool dashboard (its title is `admin.pools.title` in the catalogue).

It shows nothing of its own making: the verdict, each pool's status and advice, and the findings
are `/health/connection-pools`' (`health.selectors.connection_pools_health`, which judges by the
same rules as `pool_report`), so the dashboard, the endpoint and the report cannot disagree; the
pool figures come from `pool_statistics()` through that same read;
the server's view and the leak suspects from `pg_stat_activity` (`server_views`, as `pool_report`
reads them); checkout waits, checkouts and exhaustions from the Prometheus metrics exactly as
`/metrics` serves them (every process's, merged); the sizing advice from `health.sizing`.

Every figure is rendered here, in both languages, into `values` (element key -> text) and the
chart samples into `series` (element key -> number), so the page's template and its refresh script
(`health/static/health/pool_dashboard.js`) only place what this returns.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from health import metrics
from health import status as st
from health.selectors import connection_pools_health, server_address, server_views_cached
from health.sizing import sizing
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.replicas import replica_report
from verisyntra.messages import CATALOGUE, Bilingual, render

# How often the page asks for fresh figures. The server's view is the endpoint's own reading
# (at most one short verisyntra-health session per process every SERVER_VIEW_CACHE_SECONDS, never a
# pooled connection), so the leak suspects listed are the ones its verdict counted.
REFRESH_SECONDS = 3
# The checkout-wait quantiles shown, as Prometheus' histogram_quantile() estimates them.
WAIT_QUANTILES = (0.5, 0.95, 0.99)


def both(text: Bilingual) -> str:
    return f"{text.en} / {text.vi}"


def histogram_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float | None:
    """The `quantile` of a cumulative histogram, interpolated inside its bucket as Prometheus does.

    `buckets` are (upper bound, cumulative count), +Inf last. None without observations; the
    largest finite bound when the quantile falls in the +Inf bucket.
    """
    buckets = sorted(buckets)
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank = quantile * total
    lower, below = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(upper):
                return lower
            if cumulative == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return lower


def pool_metrics() -> dict[str, dict[str, Any]]:
    """Per pool, from the text `/metrics` serves: in use and open (all live processes), checkouts,
    exhaustions, and the checkout-wait quantiles in seconds."""
    payload, _ = metrics.render_metrics()
    figures: dict[str, dict[str, Any]] = {
        alias: {"in_use": 0.0, "open": 0.0, "checkouts": 0.0, "exhausted": 0.0} for alias in POOLED_ALIASES
    }
    buckets: dict[str, list[tuple[float, float]]] = defaultdict(list)
    wanted = {
        "verisyntra_pool_connections_in_use": "in_use",
        "verisyntra_pool_connections_open": "open",
        "verisyntra_pool_checkout_wait_seconds_count": "checkouts",
        "verisyntra_pool_exhausted_total": "exhausted",
    }
    for family in text_string_to_metric_families(payload.decode()):
        for sample in family.samples:
            pool = sample.labels.get("pool")
            if pool not in figures:
                continue
            if sample.name == "verisyntra_pool_checkout_wait_seconds_bucket":
                buckets[pool].append((float(sample.labels["le"]), sample.value))
            elif sample.name in wanted:
                figures[pool][wanted[sample.name]] = sample.value
    for pool, entry in figures.items():
        entry["wait_seconds"] = {q: histogram_quantile(q, buckets[pool]) for q in WAIT_QUANTILES}
    return figures


def _milliseconds(seconds: float | None) -> Bilingual:
    if seconds is None:
        return render("admin.pools.no_checkouts")
    return render("admin.pools.milliseconds", ms=round(seconds * 1000, 2))


def _state_label(state: str) -> Bilingual:
    code = "pg_state." + state.replace(" ", "_").replace("(", "").replace(")", "")
    return render(code) if code in CATALOGUE else Bilingual(state, state)


def pool_dashboard() -> dict[str, Any]:
    """Everything the dashboard shows, JSON-ready: `status` (the endpoint's verdict), `values`,
    `series`, `lists`, and the `aliases` in order."""
    health = connection_pools_health()
    views = server_views_cached(leak_threshold_seconds=float(settings.POOL_LEAK_SUSPECT_SECONDS))
    measured = pool_metrics()
    replicas = {state["alias"]: state for state in replica_report()["read_aliases"]}
    values: dict[str, str] = {
        "status": both(st.status_label(health["status"])),
        "recommendation": f"{health['recommendation']} / {health['recommendation_vi']}",
        "pid": str(health["pid"]),
    }
    series: dict[str, float] = {}
    statuses: dict[str, str] = {"status": health["status"]}
    for alias in POOLED_ALIASES:
        pool = health[f"{alias}_pool"]
        figures = measured[alias]
        view = views[server_address(alias)]
        statuses[f"{alias}.status"] = pool["status"]
        values[f"{alias}.status"] = both(st.status_label(pool["status"]))
        values[f"{alias}.recommendation"] = f"{pool['recommendation']} / {pool['recommendation_vi']}"
        values[f"{alias}.process"] = both(
            render(
                "admin.pools.process_figures",
                checked_out=pool["checked_out"],
                checked_in=pool["checked_in"],
                size=pool["pool_size"],
                overflow=pool["max_overflow"],
                percent=pool["utilization_percent"],
            )
        )
        if view.reachable:
            states = view.pool_connections(alias)
            values[f"{alias}.server"] = both(render("admin.pools.server_total", total=states.pop("total")))
            for language in ("en", "vi"):
                parts = [f"{getattr(_state_label(state), language)} {count}" for state, count in states.items()]
                values[f"{alias}.server_states_{language}"] = ", ".join(parts) or "-"
            values[f"{alias}.server_usage"] = both(
                render(
                    "admin.pools.server_usage",
                    used=view.client_connections,
                    available=view.available_connections,
                    percent=view.usage_percent,
                )
            )
        else:
            values[f"{alias}.server"] = both(render("report.unreachable")) + f" ({view.error})"
            values[f"{alias}.server_states_en"] = values[f"{alias}.server_states_vi"] = "-"
            values[f"{alias}.server_usage"] = "-"
        values[f"{alias}.in_use"] = f"{figures['in_use']:.0f}"
        values[f"{alias}.open"] = f"{figures['open']:.0f}"
        values[f"{alias}.checkouts"] = f"{figures['checkouts']:.0f}"
        values[f"{alias}.exhausted"] = f"{figures['exhausted']:.0f}"
        for quantile, seconds in figures["wait_seconds"].items():
            values[f"{alias}.wait_p{round(quantile * 100)}"] = both(_milliseconds(seconds))
        replica = replicas.get(alias)
        if replica is not None:
            lag = replica["lag_seconds"]
            values[f"{alias}.replica"] = both(render(f"replica_status.{replica['status']}")) + (
                "" if lag is None else " · " + both(render("report.seconds", seconds=lag))
            )
        series[f"{alias}.in_use"] = figures["in_use"]
        series[f"{alias}.checkouts"] = figures["checkouts"]
        series[f"{alias}.exhausted"] = figures["exhausted"]
    leaks = [
        both(
            render(
                "admin.pools.leak_line",
                pid=suspect["pid"],
                app=suspect["application_name"],
                seconds=suspect["idle_in_transaction_seconds"],
                query=suspect["last_query"] or "-",
            )
        )
        for view in views.values()
        for suspect in view.leak_suspects
    ]
    advice = [f"{en} / {vi}" for en, vi in sizing(server_address(WRITE_ALIAS)[0]).advice]
    findings = [f"{both(st.status_label(item['status']))}: {item['en']} / {item['vi']}" for item in health.get("findings", [])]
    return {
        "aliases": list(POOLED_ALIASES),
        "refresh_seconds": REFRESH_SECONDS,
        "statuses": statuses,
        "values": values,
        "series": series,
        "lists": {
            "findings": findings or [both(render("report.findings_none"))],
            "leaks": leaks or [both(render("report.leak_none"))],
            "advice": advice,
        },
    }
