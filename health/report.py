"""`manage.py pool_report`: what the pools look like from the server, as data and as plain text.

The report runs in its own process, whose pools say nothing about the service's; so it shows the
configured pools (`pool_statistics()` answers from the configuration before any connection) and
the server's view of every process's connections, grouped by each pool's `application_name`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

from health import status as st
from health.selectors import application_name, server_address, server_views
from health.sizing import sizing
from verisyntra.checks import process_count
from verisyntra.db.config import POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.pools import pool_statistics
from verisyntra.db.replicas import replica_report


def _finding(status: str, en: str, vi: str) -> dict:
    return {"status": status, "en": en, "vi": vi}


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
                    f"PostgreSQL at {where} is unreachable: {view.error}",
                    f"Không kết nối được PostgreSQL tại {where}: {view.error}",
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
                    f"{where} has {view.client_connections} of {view.available_connections} usable connections "
                    f"in use ({view.usage_percent}%).",
                    f"{where} đang dùng {view.client_connections} trên {view.available_connections} kết nối khả dụng "
                    f"({view.usage_percent}%).",
                )
            )
        if headroom < 0:
            findings.append(
                _finding(
                    st.WARNING,
                    f"At full load the pools of {process_count()} processes can open {need} connections on {where}, "
                    f"{-headroom} more than its {view.available_connections} usable (max_connections {view.max_connections} "
                    f"- {view.superuser_reserved_connections} reserved): new connections would then fail.",
                    f"Khi đầy tải, pool của {process_count()} tiến trình có thể mở {need} kết nối tới {where}, "
                    f"nhiều hơn {-headroom} so với {view.available_connections} kết nối khả dụng (max_connections "
                    f"{view.max_connections} - {view.superuser_reserved_connections} dành riêng): khi đó kết nối mới sẽ thất bại.",
                )
            )
        for suspect in view.leak_suspects:
            leak_suspects.append({"host": view.host, "port": view.port, **suspect})
    if leak_suspects:
        findings.append(
            _finding(
                st.WARNING,
                f"{len(leak_suspects)} connection(s) idle in transaction for {leak_threshold_seconds:g} s or more: "
                "probable leaks (a transaction begun and never ended); they hold locks and block VACUUM.",
                f"{len(leak_suspects)} kết nối ở trạng thái idle in transaction từ {leak_threshold_seconds:g} giây trở lên: "
                "nghi rò rỉ (giao dịch mở mà không kết thúc); chúng giữ khóa và cản VACUUM.",
            )
        )

    write_host = server_address(WRITE_ALIAS)[0]
    guidance = sizing(write_host)
    if guidance.write_far_above:
        findings.append(
            _finding(
                st.WARNING,
                f"The write pools can run {guidance.write_usable_total} connections at once, far above the "
                f"~{guidance.rule_connections} of the core-count rule: the surplus queues inside PostgreSQL (see Sizing).",
                f"Các pool ghi có thể chạy {guidance.write_usable_total} kết nối cùng lúc, vượt xa khoảng "
                f"{guidance.rule_connections} theo quy tắc số lõi: phần dư xếp hàng bên trong PostgreSQL (xem Định cỡ).",
            )
        )

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
                _finding(
                    st.WARNING,
                    f"Read replica {where} does not answer: {state['error']}; its reads go to the other replicas or the primary.",
                    f"Bản sao chỉ đọc {where} không phản hồi: {state['error']}; truy vấn đọc chuyển sang bản sao khác hoặc máy chủ chính.",
                )
            )
        elif state["status"] == "lagging":
            lag = state["lag_seconds"]
            findings.append(
                _finding(
                    st.WARNING,
                    f"Read replica {where} lags {lag:.1f} s behind the primary (limit {limit:g} s): "
                    "it serves no reads until it catches up.",
                    f"Bản sao chỉ đọc {where} chậm {lag:.1f} giây so với máy chủ chính (giới hạn {limit:g} giây): "
                    "không phục vụ truy vấn đọc cho đến khi bắt kịp.",
                )
            )
    if replicas["fallback_to_primary"]:
        findings.append(
            _finding(
                st.WARNING,
                "No read replica is fit: every read is served by the primary, through the write pool.",
                "Không có bản sao chỉ đọc nào sẵn sàng: mọi truy vấn đọc đang do máy chủ chính phục vụ, qua pool ghi.",
            )
        )
    return findings


_LABELS = {
    "title": ("VeriSyntra connection pools", "Các pool kết nối VeriSyntra"),
    "status": ("Status", "Trạng thái"),
    "processes": ("Processes", "Tiến trình"),
    "processes_line": (
        "{web} web x {threads} threads, {workers} Celery worker(s)",
        "{web} web x {threads} luồng, {workers} Celery worker",
    ),
    "pools": ("Configured pools (per process)", "Các pool đã cấu hình (mỗi tiến trình)"),
    "pool_line": (
        "{alias:<6} size {pool_size} + overflow {max_overflow} = {capacity}, timeout {timeout:g} s, recycle {recycle} s"
        "  -> {host}:{port}/{database}",
        "{alias:<6} kích thước {pool_size} + dự phòng {max_overflow} = {capacity}, chờ tối đa {timeout:g} giây, "
        "làm mới {recycle} giây  -> {host}:{port}/{database}",
    ),
    "live": ("Live server connections (all processes)", "Kết nối đang mở trên máy chủ (mọi tiến trình)"),
    "live_line": ("{alias:<6} ({app}): {total} total  {states}", "{alias:<6} ({app}): tổng {total}  {states}"),
    "unreachable": ("unreachable", "không kết nối được"),
    "headroom": ("Headroom against max_connections", "Dư địa so với max_connections"),
    "server_line": (
        "{host}:{port} ({aliases}): max_connections {max_connections} - {reserved} reserved = {available} usable; "
        "{used} in use ({usage}%), {free} free now",
        "{host}:{port} ({aliases}): max_connections {max_connections} - {reserved} dành riêng = {available} khả dụng; "
        "đang dùng {used} ({usage}%), còn trống {free}",
    ),
    "need_line": (
        "  configured pools at full load: {need} ({processes} processes x pools) -> headroom {headroom}",
        "  các pool khi đầy tải: {need} ({processes} tiến trình x pool) -> dư địa {headroom}",
    ),
    "leaks": (
        "Idle in transaction for {threshold:g} s or more (leak suspects)",
        "Idle in transaction từ {threshold:g} giây trở lên (nghi rò rỉ)",
    ),
    "leak_none": ("none", "không có"),
    "leak_line": (
        "pid {pid} {application_name}: idle in transaction {idle} s (transaction {xact} s), blocking {blocking} "
        "session(s), last query started {started}: {query}",
        "pid {pid} {application_name}: idle in transaction {idle} giây (giao dịch {xact} giây), đang chặn {blocking} "
        "phiên, truy vấn cuối bắt đầu lúc {started}: {query}",
    ),
    "replicas": ("Read replicas (reads served by: {served})", "Bản sao chỉ đọc (truy vấn đọc do: {served})"),
    "replica_line": ("{alias:<6} {host}:{port}: {status}, lag {lag}", "{alias:<6} {host}:{port}: {status}, độ trễ {lag}"),
    "sizing": ("Sizing", "Định cỡ"),
    "findings": ("Findings", "Phát hiện"),
    "findings_none": ("nothing to report", "không có vấn đề"),
}


def render_text(report: dict, lang: str = "en") -> str:
    """The report for a terminal, in English (`en`) or Vietnamese (`vi`)."""
    i = 1 if lang == "vi" else 0

    def label(key: str, **values) -> str:
        return _LABELS[key][i].format(**values)

    status = report["status_vi"] if i else report["status"].upper()
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
        states = ", ".join(f"{state} {count}" for state, count in connections.items() if state != "total")
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
            "  "
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
                idle=suspect["idle_in_transaction_seconds"],
                blocking=suspect["blocking_sessions"],
                xact=suspect["transaction_seconds"],
                started=suspect["last_query_start"],
                query=" ".join((suspect["last_query"] or "").split()),
            )
        )
    replicas = report["read_replicas"]
    if replicas["replicas_configured"]:
        served = {"replicas": ("replicas", "các bản sao"), "primary": ("the primary", "máy chủ chính")}[replicas["reads_served_by"]][i]
        lines += ["", label("replicas", served=served)]
        for state in replicas["read_aliases"]:
            lag = "-" if state["lag_seconds"] is None else f"{state['lag_seconds']:.1f} s"
            lines.append("  " + label("replica_line", lag=lag, **{k: state[k] for k in ("alias", "host", "port", "status")}))
    lines += ["", label("sizing")]
    for advice in report["sizing"]["advice"]:
        lines.append("  - " + (advice["vi"] if i else advice["en"]))
    lines += ["", label("findings")]
    if not report["findings"]:
        lines.append("  " + label("findings_none"))
    for finding in report["findings"]:
        marker = st.STATUS_VI[finding["status"]] if i else finding["status"].upper()
        lines.append(f"  [{marker}] " + (finding["vi"] if i else finding["en"]))
    return "\n".join(lines) + "\n"
