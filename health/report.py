"""`manage.py pool_report`: what the pools look like from the server, as data and as plain text.

The report runs in its own process, whose pools say nothing about the service's; so it shows the
configured pools (`pool_statistics()` answers from the configuration before any connection) and
the server's view of every process's connections, grouped by each pool's `application_name`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.conf import settings

from health import status as st
from health.selectors import application_name, finding, server_address, server_findings, server_views
from health.sizing import sizing
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.pools import pool_statistics
from verisyntra.db.replicas import replica_report
from verisyntra.messages import CATALOGUE, Language, format_number, render_in


def build_pool_report(leak_threshold_seconds: float) -> dict:
    """The whole report as a JSON-ready dict; `status` is the worst of its findings, `advice` does not count."""
    views = server_views(leak_threshold_seconds=leak_threshold_seconds)
    pools = []
    for alias in POOLED_ALIASES:
        stats = pool_statistics(alias)
        view = views[server_address(alias)]
        pools.append(
            {
                "alias": alias,
                "application_name": application_name(alias),
                "host": view.host,
                "port": view.port,
                "database": settings.DATABASES[alias].get("NAME"),
                "pool_size": stats.pool_size,
                "max_overflow": stats.max_overflow,
                "capacity_per_process": stats.capacity,
                "timeout": stats.timeout,
                "recycle": stats.recycle,
                "server_connections": view.pool_connections(alias) if view.reachable else None,
            }
        )

    servers = []
    leak_suspects = []
    replicas = replica_report()
    for view in views.values():
        entry = {"aliases": view.aliases, **view.as_dict()}
        if view.reachable:
            need = view.configured_need()
            entry.update(
                configured_need=need,
                headroom_at_full_load=view.available_connections - need,
                free_now=view.available_connections - view.client_connections,
                other_connections=view.client_connections - sum(view.pool_connections(a)["total"] for a in view.aliases),
            )
            leak_suspects += [{"host": view.host, "port": view.port, **suspect} for suspect in view.leak_suspects]
        servers.append(entry)
    # The verdict: the same rules, from the same function, as GET /health/connection-pools.
    findings = server_findings(views, replicas)

    write_host = server_address(WRITE_ALIAS)[0]
    guidance = sizing(write_host)
    # Sizing is advice about the configuration, not the pools' health: it does not change the status,
    # or the stock configuration (write 50+20 per process) would warn here while the endpoint says healthy.
    advice = []
    if guidance.write_far_above:
        advice.append(finding(st.WARNING, "finding.write_far_above", usable=guidance.write_usable_total, rule=guidance.rule_connections))

    overall = st.worst(*(f["status"] for f in findings))
    return {
        "status": overall,
        "status_vi": st.STATUS_VI[overall],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "processes": {
            "web": settings.WEB_PROCESSES,
            "web_read": settings.WEB_CONCURRENCY,
            "web_write": settings.WEB_WRITE_CONCURRENCY,
            "web_threads": settings.WEB_THREADS,
            "celery_workers": settings.CELERY_WORKER_CONCURRENCY,
        },
        "pools": pools,
        "servers": servers,
        "leak_threshold_seconds": leak_threshold_seconds,
        "leak_suspects": leak_suspects,
        "sizing": guidance.as_dict(),
        "read_replicas": replicas,
        "findings": findings,
        "advice": advice,
    }


def _known(group: str, value: str, language: Language) -> str:
    """A PostgreSQL or replica state in `language` (catalogue `<group>.<state>`); a state added later shows as named."""
    code = group + "." + re.sub(r"\W+", "_", value).strip("_")
    return render_in(language, code) if code in CATALOGUE else value


def render_text(report: dict, lang: Language = "en") -> str:
    """The report for a terminal, in English (`en`) or Vietnamese (`vi`)."""
    vi = lang == "vi"

    def label(key: str, **values) -> str:
        return render_in(lang, f"report.{key}", **values)

    status = report["status_vi"] if vi else report["status"].upper()
    lines = [f"{label('title')} - {report['generated_at']}", f"{label('status')}: {status}", label("status_rules"), ""]
    p = report["processes"]
    lines += [f"{label('processes')}: " + label("processes_line", web=p["web"], threads=p["web_threads"], workers=p["celery_workers"]), ""]
    lines.append(label("pools"))
    for pool in report["pools"]:
        lines.append("  " + label("pool_line", capacity=pool["capacity_per_process"], **pool))
    lines += ["", label("live")]
    for pool in report["pools"]:
        connections = pool["server_connections"]
        if connections is None:
            lines.append(f"  {pool['alias']:<6} ({pool['application_name']}): {label('unreachable')}")
            continue
        states = ", ".join(
            f"{_known('pg_state', state, lang)} {format_number(count, lang)}" for state, count in connections.items() if state != "total"
        )
        lines.append(
            "  " + label("live_line", alias=pool["alias"], app=pool["application_name"], total=connections["total"], states=states)
        )
    if any(server.get("pooler") for server in report["servers"]):
        lines.append("  " + label("pooler_live_note"))
    lines += ["", label("headroom")]
    for server in report["servers"]:
        aliases = "+".join(server["aliases"])
        if not server["reachable"]:
            lines.append(f"  {server['host']}:{server['port']} ({aliases}): {label('unreachable')} - {server['error']}")
            continue
        lines.append(
            "  "
            + label(
                "server_line",
                host=server["host"],
                port=server["port"],
                aliases=aliases,
                max_connections=server["max_connections"],
                reserved=server["superuser_reserved_connections"],
                available=server["available_connections"],
                used=server["client_connections"],
                usage=server["usage_percent"],
                free=server["free_now"],
            )
        )
        lines.append(
            "    "
            + label(
                "need_line",
                need=server["configured_need"],
                processes=p["web"] + p["celery_workers"],
                headroom=server["headroom_at_full_load"],
            )
        )
        pooler = server.get("pooler")
        if pooler:
            lines.append(
                "    "
                + label(
                    "pooler_line",
                    version=(pooler["version"] or "").replace("PgBouncer ", ""),
                    source=_known("pooler_source", pooler["source"], lang),
                    mode=_known("pooler_mode", pooler["pool_mode"] or "?", lang),
                    clients=pooler["configured_client_need"],
                    max_client=pooler["max_client_conn"] if pooler["max_client_conn"] is not None else "?",
                    per_pool=pooler["server_connections_per_pool"] if pooler["server_connections_per_pool"] is not None else "?",
                    servers=sum(pool["servers_total"] for pool in pooler["pools"]),
                    waiting=sum(pool["clients_waiting"] for pool in pooler["pools"]),
                )
            )
    lines += ["", label("leaks", threshold=report["leak_threshold_seconds"])]
    if not report["leak_suspects"]:
        lines.append("  " + label("leak_none"))
    for suspect in report["leak_suspects"]:
        lines.append(
            "  "
            + label(
                "leak_line",
                pid=suspect["pid"],
                application_name=suspect["application_name"] or "-",
                state=_known("pg_state", suspect["state"], lang),
                idle=suspect["idle_in_transaction_seconds"],
                blocking=suspect["blocking_sessions"],
                # A transaction is at least as old as the time it has sat idle.
                xact=suspect["transaction_seconds"]
                if suspect["transaction_seconds"] is not None
                else suspect["idle_in_transaction_seconds"],
                started=suspect["last_query_start"],
                query=" ".join((suspect["last_query"] or "").split()),
            )
        )
    replicas = report["read_replicas"]
    if replicas["replicas_configured"]:
        lines += ["", label("replicas", served=label(f"served.{replicas['reads_served_by']}"))]
        for state in replicas["read_aliases"]:
            lag = "-" if state["lag_seconds"] is None else label("seconds", seconds=state["lag_seconds"])
            status_text = _known("replica_status", state["status"], lang)
            lines.append(
                "  " + label("replica_line", alias=state["alias"], host=state["host"], port=state["port"], status=status_text, lag=lag)
            )
    lines += ["", label("sizing")]
    for advice in report["sizing"]["advice"]:
        lines.append("  - " + advice[lang])
    lines += ["", label("findings")]
    if not report["findings"]:
        lines.append("  " + label("findings_none"))
    for item in report["findings"]:
        marker = st.STATUS_VI[item["status"]] if vi else item["status"].upper()
        lines.append(f"  [{marker}] " + item[lang])
    if report["advice"]:
        lines += ["", label("advice")]
        lines += ["  - " + item[lang] for item in report["advice"]]
    return "\n".join(lines) + "\n"
