"""Health endpoints and `/metrics`, in two kinds, and none reveals tenant data.

- Open, for probes and load balancers that carry no token: `/health/live` (the process answers)
  and `/health/ready` (the database answers through the pools). They say yes or no and nothing
  else: no host, port, process id or pool configuration.
- For staff only: `/health/connection-pools`, `/health/database` and `/metrics` show the database
  servers, their limits, the pools' configuration and the process ids behind the service, which
  help an attacker as much as an operator. Anonymous callers get 401, other users 403.

Thin views: each calls one selector and renders it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import connections
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from health import metrics, selectors
from health import status as health_status
from verisyntra.api.errors import DATABASE_RETRY_AFTER, ApiError, ErrorBody, RetryAdviceBody, error_body, retry_advice
from verisyntra.api.openapi import error_responses
from verisyntra.api.responses import respond
from verisyntra.db.config import POOLED_ALIASES, READ_ALIASES
from verisyntra.db.pinning import use_primary
from verisyntra.db.pools import pool_statistics


class OpenHealthView(APIView):
    """No authentication: probes and load balancers carry no token, and these answer yes or no only.

    Not throttled either: behind the proxy every anonymous caller may share one address, and a
    flood from anyone must not turn a probe into a 429 that takes this node out of service.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class IsStaff(BasePermission):
    """The user is staff (`is_staff`), however it authenticated."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_staff)


class StaffOperationsView(APIView):
    """Staff only: the API's token authentication, or the admin's login for a browser.

    The authentication classes are the API's own (whatever kind of token they accept), plus
    Django's session, so a staff member signed in to the admin can open these pages from the front
    page. Only GET is served, so the session's CSRF check never applies.
    """

    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]
    permission_classes = [IsStaff]

    def perform_authentication(self, request: Request) -> None:
        # Operators open these views when a read pool ran out, and a credential lookup waiting
        # for a read connection would fail with everything else: then it goes to the primary,
        # whose pool the read group hardly uses. Otherwise the router decides as for any request
        # (so the views still answer staff with the primary down). Either way the connection goes
        # back to its pool at once, so the figures these views report never count this request.
        route: AbstractContextManager[object] = use_primary() if any(_pool_full(alias) for alias in READ_ALIASES) else nullcontext()
        held_before = {alias for alias in POOLED_ALIASES if connections[alias].connection is not None}
        try:
            with route:
                request.user  # noqa: B018 - DRF authenticates on first access
        finally:
            for alias in set(POOLED_ALIASES) - held_before:
                connections[alias].close()

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> None:
        if request.authenticators and not request.successful_authenticator:
            raise NotAuthenticated()
        raise ApiError("staff_required", status_code=status.HTTP_403_FORBIDDEN)


def _pool_full(alias: str) -> bool:
    """Every connection of this process's pool for `alias` is checked out: a checkout would wait."""
    stats = pool_statistics(alias)
    return stats.exists and stats.checked_out >= stats.capacity


# The 401 and 403 every staff view can answer, documented once.
STAFF_ERROR_RESPONSES = error_responses(
    401,
    _403=OpenApiResponse(ErrorBody, description="Authenticated, but not a staff user (`staff_required`)."),
)


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


class Readiness(BaseModel):
    """The database answers through the pools: this process can serve requests."""

    status: str = Field(description="Always `ready`.")
    status_vi: str


class LivenessView(OpenHealthView):
    """GET /health/live: answers from the process alone, with no database, pool or broker work.

    For a load balancer or orchestrator's liveness probe, which must not fail (and restart a
    healthy process) because the database is slow, and must cost nothing when polled often.
    """

    @extend_schema(tags=["health"], responses={200: OpenApiResponse(Liveness, description="The process is alive.")})
    def get(self, request: Request) -> Response:
        return respond(Liveness(status="alive"))


class ReadinessView(OpenHealthView):
    """GET /health/ready: `SELECT 1` through the write pool and the read pool, and only the verdict.

    For a load balancer or orchestrator's readiness probe: 200 while this process can reach the
    database through its pools, 503 with `Retry-After` otherwise. The same checks as
    `/health/database` (a full pool fails at once instead of waiting for a connection; a replica
    that fails does not count, its reads go elsewhere), without the details, which are for staff.
    """

    @extend_schema(
        tags=["health"],
        responses={
            200: OpenApiResponse(Readiness, description="The database answers through the pools."),
            503: OpenApiResponse(RetryAdviceBody, description="Not ready (`not_ready`): retry after `Retry-After` seconds."),
        },
    )
    def get(self, request: Request) -> Response:
        ready, _details = selectors.database_health()
        if ready:
            return respond(Readiness(status="ready", status_vi=health_status.STATUS_VI[health_status.READY]))
        advice = retry_advice(DATABASE_RETRY_AFTER)
        body = error_body("not_ready", recommendation=advice.en, recommendation_vi=advice.vi)
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


class ConnectionPoolsHealthView(StaffOperationsView):
    """GET /health/connection-pools: this process's pools, and the server's view of all of them."""

    @extend_schema(
        tags=["health"],
        responses={200: OpenApiResponse(ConnectionPoolsHealth, description="Pools, status and advice."), **STAFF_ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        return respond(ConnectionPoolsHealth.model_validate(selectors.connection_pools_health()))


class DatabaseHealthView(StaffOperationsView):
    """GET /health/database: `SELECT 1` through each alias; 503 with a bilingual error when one fails."""

    @extend_schema(
        tags=["health"],
        responses={
            200: OpenApiResponse(DatabaseHealth, description="Every alias answered."),
            503: OpenApiResponse(DatabaseUnhealthy, description="An alias the service depends on failed (bilingual error)."),
            **STAFF_ERROR_RESPONSES,
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


class ErrorsInJson(BaseContentNegotiation):
    """Whatever the client accepts: Prometheus asks for its text formats, and an error is still the JSON error shape."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class MetricsView(StaffOperationsView):
    """GET /metrics in the Prometheus text format, merged over every process in multiprocess mode."""

    content_negotiation_class = ErrorsInJson

    @extend_schema(
        tags=["health"],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text exposition format."),
            **STAFF_ERROR_RESPONSES,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        payload, content_type = metrics.render_metrics()
        return HttpResponse(payload, content_type=content_type)
