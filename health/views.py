"""Health endpoints and `/metrics`: open to anyone (no token), and they reveal no tenant data.

Thin views: each calls one selector and renders it.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from health import metrics, selectors
from health import status as health_status
from verisyntra.api.errors import DATABASE_RETRY_AFTER, ErrorBody, error_body
from verisyntra.api.responses import respond


class OpenHealthView(APIView):
    """No authentication: probes and load balancers carry no token, and no tenant data is served."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


# --- Declarations of the bodies ---------------------------------------------------------------


class ConnectionPoolsHealth(BaseModel):
    """This process's pools (`read_pool`, `write_pool`, one per read replica alias) and the overall status."""

    model_config = ConfigDict(extra="allow")

    pid: int = Field(description="The process that answered: pools are per process.")
    scope: str
    status: str = Field(description="healthy, warning or critical.")
    status_vi: str
    recommendation: str
    recommendation_vi: str
    findings: list[dict[str, Any]] = Field(
        description="Server-wide findings (status, code, en, vi), the same rules as `manage.py pool_report`; they count in `status`."
    )
    read_pool: dict[str, Any]
    write_pool: dict[str, Any]


class DatabaseHealth(BaseModel):
    """Every alias answered; `warning` when a replica is down or lagging and its reads went elsewhere."""

    status: str = Field(description="healthy or warning.")
    status_vi: str
    databases: dict[str, dict[str, Any]] = Field(description="Per alias: status, latency_ms, and for read aliases in_recovery and lag.")
    read_replicas: dict[str, Any]


class DatabaseUnhealthy(ErrorBody):
    """An alias the service depends on failed: the error shape plus the per-alias results."""

    status: str = Field(description="unhealthy")
    status_vi: str
    databases: dict[str, dict[str, Any]]
    read_replicas: dict[str, Any]


class Liveness(BaseModel):
    """The process answers requests; nothing else is checked."""

    status: str = Field(description="Always `alive`.")
    pid: int = Field(description="The process that answered.")


class LivenessView(OpenHealthView):
    """GET /health/live: answers from the process alone, with no database, pool or broker work.

    For a load balancer or orchestrator's liveness probe, which must not fail (and restart a
    healthy process) because the database is slow, and must cost nothing when polled often.
    """

    @extend_schema(tags=["health"], responses={200: OpenApiResponse(Liveness, description="The process is alive.")})
    def get(self, request: Request) -> Response:
        return respond(Liveness(status="alive", pid=os.getpid()))


class ConnectionPoolsHealthView(OpenHealthView):
    """GET /health/connection-pools: this process's pools, and the server's view of all of them."""

    @extend_schema(tags=["health"], responses={200: OpenApiResponse(ConnectionPoolsHealth, description="Pools, status and advice.")})
    def get(self, request: Request) -> Response:
        return respond(ConnectionPoolsHealth.model_validate(selectors.connection_pools_health()))


class DatabaseHealthView(OpenHealthView):
    """GET /health/database: `SELECT 1` through each alias; 503 with a bilingual error when one fails."""

    @extend_schema(
        tags=["health"],
        responses={
            200: OpenApiResponse(DatabaseHealth, description="Every alias answered."),
            503: OpenApiResponse(DatabaseUnhealthy, description="An alias the service depends on failed (bilingual error)."),
        },
    )
    def get(self, request: Request) -> Response:
        healthy, databases = selectors.database_health()
        replicas = selectors.read_replicas()
        if healthy:
            # Serving, but a replica is down or lagging (its reads went elsewhere): a warning, not a failure.
            degraded = (
                replicas["fallback_to_primary"]
                or any(not state["healthy"] for state in replicas["read_aliases"])
                or any(r["status"] != "healthy" for r in databases.values())
            )
            overall = health_status.WARNING if degraded else health_status.HEALTHY
            return respond(
                DatabaseHealth(status=overall, status_vi=health_status.STATUS_VI[overall], databases=databases, read_replicas=replicas)
            )
        failing = {alias: result for alias, result in databases.items() if result["status"] != "healthy"}
        first = next(iter(failing.values()))
        body = DatabaseUnhealthy(
            **error_body("database_unhealthy", params={"failing": ", ".join(failing)}),
            # The overall status is the failing aliases' (health.selectors words it in both languages).
            status=first["status"],
            status_vi=first["status_vi"],
            databases=databases,
            read_replicas=replicas,
        )
        return respond(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics in the Prometheus text format, merged over every process in multiprocess mode."""
    payload, content_type = metrics.render_metrics()
    return HttpResponse(payload, content_type=content_type)
