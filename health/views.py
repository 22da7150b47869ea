"""Health endpoints and `/metrics`: open to anyone (no token), and they reveal no tenant data.

Thin views: each calls one selector and renders it.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from health import metrics, selectors
from verisyntra.errors import DATABASE_RETRY_AFTER, error_body


class OpenHealthView(APIView):
    """No authentication: probes and load balancers carry no token, and no tenant data is served."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class ConnectionPoolsHealthView(OpenHealthView):
    """GET /health/connection-pools: this process's pools, and the server's view of all of them."""

    @extend_schema(tags=["health"], responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Pools, status and advice.")})
    def get(self, request):
        return Response(selectors.connection_pools_health())


class DatabaseHealthView(OpenHealthView):
    """GET /health/database: `SELECT 1` through each alias; 503 with a bilingual error when one fails."""

    @extend_schema(
        tags=["health"],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Every alias answered."),
            503: OpenApiResponse(OpenApiTypes.OBJECT, description="An alias the service depends on failed (bilingual error)."),
        },
    )
    def get(self, request):
        healthy, databases = selectors.database_health()
        replicas = selectors.read_replicas()
        if healthy:
            # Serving, but a replica is down or lagging (its reads went elsewhere): a warning, not a failure.
            degraded = (
                replicas["fallback_to_primary"]
                or any(not state["healthy"] for state in replicas["read_aliases"])
                or any(r["status"] != "healthy" for r in databases.values())
            )
            status_en, status_vi = ("warning", "Cảnh báo") if degraded else ("healthy", "Khỏe mạnh")
            return Response({"status": status_en, "status_vi": status_vi, "databases": databases, "read_replicas": replicas})
        failing = ", ".join(alias for alias, result in databases.items() if result["status"] != "healthy")
        body = error_body(
            "database_unhealthy",
            f"Database check failed for: {failing}.",
            f"Kiểm tra cơ sở dữ liệu thất bại: {failing}.",
            status="unhealthy",
            status_vi="Không khỏe mạnh",
            databases=databases,
            read_replicas=replicas,
        )
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def metrics_view(request):
    """GET /metrics in the Prometheus text format, merged over every process in multiprocess mode."""
    payload, content_type = metrics.render_metrics()
    return HttpResponse(payload, content_type=content_type)
