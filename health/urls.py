"""URLs of the health app (mounted at /health/; /metrics is mounted at the root by verisyntra.urls)."""

from django.urls import path

from health.views import ConnectionPoolsHealthView, DatabaseHealthView, LivenessView, ReadinessView

urlpatterns = [
    path("live", LivenessView.as_view(), name="health-live"),
    path("ready", ReadinessView.as_view(), name="health-ready"),
    path("connection-pools", ConnectionPoolsHealthView.as_view(), name="health-connection-pools"),
    path("database", DatabaseHealthView.as_view(), name="health-database"),
]
