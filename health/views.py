"""Health endpoints and `/metrics`: open to anyone (no token), and they reveal no tenant data.

Thin views: each calls one selector and renders it.
"""

from __future__ import annotations

from django.http import HttpResponse
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

    def get(self, request):
        return Response(selectors.connection_pools_health())


class DatabaseHealthView(OpenHealthView):
    """GET /health/database: `SELECT 1` through each alias; 503 with a bilingual error when one fails."""

    def get(self, request):
        healthy, databases = selectors.database_health()
        if healthy:
            return Response({"status": "healthy", "status_vi": "Khỏe mạnh", "databases": databases})
        failing = ", ".join(alias for alias, result in databases.items() if result["status"] != "healthy")
        body = error_body(
            "database_unhealthy",
            f"Database check failed for: {failing}.",
            f"Kiểm tra cơ sở dữ liệu thất bại: {failing}.",
            status="unhealthy",
            status_vi="Không khỏe mạnh",
            databases=databases,
        )
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})


def metrics_view(request):
    """GET /metrics in the Prometheus text format, merged over every process in multiprocess mode."""
    payload, content_type = metrics.render_metrics()
    return HttpResponse(payload, content_type=content_type)
