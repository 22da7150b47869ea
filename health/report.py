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
from health.selectors import application_name, server_address, server_views
from health.sizing import sizing
from verisyntra.checks import process_count
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.pools import pool_statistics
from verisyntra.db.replicas import replica_report
from verisyntra.messages import CATALOGUE, Language, format_number, render, render_in


def _finding(status: str, code: str, **params) -> dict:
    text = render(code, **params)
    return {"status": status, "en": text.en, "vi": text.vi}


def build_pool_report(leak_threshold_seconds: float) -> dict:
    """The whole report as a JSON-ready dict; `status` is the worst of its findings."""
    views = server_views(leak_threshold_seconds=leak_threshold_seconds)
    findings: list[dict] = []
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
    # Reads are routed around a replica that is down: losing one is a warning, losing the primary is critical.
    replicas = replica_report()
    replica_aliases = {state["alias"] for state in replicas["read_aliases"] if state["status"] != "primary"}
    for view in views.values():
        entry = {"aliases": view.aliases, **view.as_dict()}
        where = f"{view.host}:{view.port}"
        if not view.reachable:
            findings.append(
                _finding(
                    st.WARNING if set(view.aliases) <= replica_aliases else st.CRITICAL,
                    "finding.server_unreachable",
                    where=where,
                    error=view.error,
                )
            )
            servers.append(entry)
            continue
        need = view.configured_need()
        headroom = view.available_connections - need
        entry.update(
            configured_need=need,
            headroom_at_full_load=headroom,
            free_now=view.available_connections - view.client_connections,
            other_connections=view.client_connections - sum(view.pool_connections(a)["total"] for a in view.aliases),
        )
        servers.append(entry)
        usage = st.server_usage_status(view.usage_percent)
        if usage != st.HEALTHY:
            findings.append(
                _finding(
                    usage,
                    "finding.server_usage",
                    where=where,
                    used=view.client_connections,
                    available=view.available_connections,
                    usage=view.usage_percent,
                )
            )
        if headroom < 0:
            findings.append(
                _finding(
                    st.WARNING,
                    "finding.headroom_negative",
                    processes=process_count(),
                    need=need,
                    where=where,
                    missing=-headroom,
                    available=view.available_connections,
                    max_connections=view.max_connections,
                    reserved=view.superuser_reserved_connections,
                )
            )
        for suspect in view.leak_suspects:
            leak_suspects.append({"host": view.host, "port": view.port, **suspect})
    if leak_suspects:
        findings.append(_finding(st.WARNING, "finding.leak_suspects", count=len(leak_suspects), threshold=leak_threshold_seconds))

    write_host = server_address(WRITE_ALIAS)[0]
    guidance = sizing(write_host)
    if guidance.write_far_above:
        findings.append(_finding(st.WARNING, "finding.write_far_above", usable=guidance.write_usable_total, rule=guidance.rule_connections))

    findings.extend(_replica_findings(replicas))

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
    }


def _replica_findings(replicas: dict) -> list[dict]:
    """A replica that serves no reads, and reads that all fell back to the primary, are warnings."""
    findings = []
    limit = replicas["max_lag_seconds"]
    for state in replicas["read_aliases"]:
        where = f"{state['alias']} ({state['host']}:{state['port']})"
        if state["status"] == "down":
            findings.append(
                _finding(st.WARNING, "finding.replica_down", where=where, error=state["error"]),
            )
        elif state["status"] == "lagging":
            findings.append(_finding(st.WARNING, "finding.replica_lagging", where=where, lag=state["lag_seconds"], limit=limit))
    if replicas["fallback_to_primary"]:
        findings.append(_finding(st.WARNING, "finding.reads_on_primary"))
    return findings


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
    lines = [f"{label('title')} - {report['generated_at']}", f"{label('status')}: {status}", ""]
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
    for finding in report["findings"]:
        marker = st.STATUS_VI[finding["status"]] if vi else finding["status"].upper()
        lines.append(f"  [{marker}] " + finding[lang])
    return "\n".join(lines) + "\n"
