"""URL map: the design's endpoints (batch, analytics, data scans, health) plus admin and the OpenAPI docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from health.views import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("inventory.urls")),
    path("analytics/", include("analytics.urls")),
    path("health/", include("health.urls")),
    path("metrics", metrics_view, name="metrics"),
    # OpenAPI 3 (drf-spectacular): open without a token, like the docs it feeds.
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="openapi-docs"),
]

handler400 = "verisyntra.api.errors.bad_request"
handler403 = "verisyntra.api.errors.permission_denied"
handler404 = "verisyntra.api.errors.page_not_found"
handler500 = "verisyntra.api.errors.server_error"
