"""URL map: the service's endpoints (batch, analytics, data scans, health) plus admin and the OpenAPI docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from health.views import MetricsView
from verisyntra.pages import front_page, health_index

urlpatterns = [
    path("", front_page, name="front-page"),
    # The admin's pool dashboard (staff only, health/admin.py), before the admin's own catch-all.
    path("admin/connection-pools/", include("health.admin")),
    path("admin/", admin.site.urls),
    path("", include("inventory.urls")),
    path("analytics/", include("analytics.urls")),
    path("health/", health_index, name="health-index"),
    path("health/", include("health.urls")),
    path("metrics", MetricsView.as_view(), name="metrics"),
    # OpenAPI 3 (drf-spectacular): open without a token, like the docs it feeds.
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, not inline, so the
    # page runs under a Content-Security-Policy that allows scripts from this service only.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="openapi-schema"), name="openapi-docs"),
]

handler400 = "verisyntra.api.errors.bad_request"
handler403 = "verisyntra.api.errors.permission_denied"
handler404 = "verisyntra.api.errors.page_not_found"
handler500 = "verisyntra.api.errors.server_error"
