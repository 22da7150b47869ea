"""The pool dashboard in the admin: a page for operators and the JSON its script refreshes from.

It lives with the health app because it shows the health app's reads (`health.dashboard`), and in
the admin because that is where operators already sign in: both views go through
`admin.site.admin_view`, so only active staff see them, and an anonymous visitor is sent to the
admin's sign-in page. The admin's index links here (verisyntra/templates/admin/index.html).
Both views are thin: one read, rendered.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from health.dashboard import WAIT_QUANTILES, pool_dashboard
from verisyntra.messages import render as message

# What each pool's table shows, row by row: (catalogue code of the label, key in the read's `values`).
POOL_ROWS = [
    ("admin.column.status", "status"),
    ("admin.pools.row.recommendation", "recommendation"),
    ("admin.pools.row.process", "process"),
    ("admin.pools.row.server", "server"),
    ("admin.pools.row.server_states", "server_states"),
    ("admin.pools.row.server_usage", "server_usage"),
    ("admin.pools.row.in_use", "in_use"),
    ("admin.pools.row.open", "open"),
    ("admin.pools.row.checkouts", "checkouts"),
    ("admin.pools.row.exhausted", "exhausted"),
    *((f"admin.pools.row.wait_p{round(q * 100)}", f"wait_p{round(q * 100)}") for q in WAIT_QUANTILES),
    ("admin.pools.row.replica", "replica"),
]
CHARTS = [("in_use", "admin.pools.chart.in_use"), ("checkouts", "admin.pools.chart.checkouts")]


def _pools(data: dict) -> list[dict]:
    """Each alias's rows (label, element key, text) for the template; the server's states in both languages."""
    values = data["values"]
    pools = []
    for alias in data["aliases"]:
        rows = []
        for code, name in POOL_ROWS:
            key = f"{alias}.{name}"
            keys = [f"{key}_en", f"{key}_vi"] if name == "server_states" else [key]
            if all(k in values for k in keys):
                row = {"label": message(code), "cells": [(k, values[k]) for k in keys]}
                if name == "status":
                    row.update(status=data["statuses"][key], status_key=key)
                rows.append(row)
        charts = [{"key": f"{alias}.{name}", "label": message(code)} for name, code in CHARTS]
        pools.append({"alias": alias, "title": message("admin.pools.pool", alias=alias), "rows": rows, "charts": charts})
    return pools


@never_cache
@require_safe
def pool_dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard page: every figure rendered on the server; the static script refreshes them."""
    data = pool_dashboard()
    context = {
        **admin.site.each_context(request),
        "title": message("admin.pools.title").en,
        "heading": message("admin.pools.title"),
        "intro": message("admin.pools.intro", seconds=data["refresh_seconds"]),
        "verdict_label": message("admin.pools.verdict"),
        "verdict_rules": message("admin.pools.verdict_rules"),
        "scope": message("admin.pools.scope", pid=data["values"]["pid"]),
        "findings_heading": message("report.findings"),
        "leaks_heading": message("admin.pools.leaks"),
        "advice_heading": message("admin.pools.advice"),
        "updated_label": message("admin.pools.updated"),
        "json_link": message("admin.pools.json"),
        "data": data,
        "pools": _pools(data),
    }
    return render(request, "admin/health/pool_dashboard.html", context)


@never_cache
@require_safe
def pool_dashboard_data(request: HttpRequest) -> JsonResponse:
    """The same figures as JSON, for the page's refresh (and for anyone who wants them)."""
    return JsonResponse(pool_dashboard(), json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("", admin.site.admin_view(pool_dashboard_view), name="admin-connection-pools"),
    path("data", admin.site.admin_view(pool_dashboard_data), name="admin-connection-pools-data"),
]
