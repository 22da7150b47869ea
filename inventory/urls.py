"""URLs of the inventory app."""

from django.urls import path

from inventory.batch_views import ProcessingActivityBatchView
from inventory.scan_views import DataScanCollectionView, DataScanDetailView

urlpatterns: list = [
    path("batch/processing-activities", ProcessingActivityBatchView.as_view(), name="batch-processing-activities"),
    path("data-scans", DataScanCollectionView.as_view(), name="data-scans"),
    path("data-scans/<uuid:scan_id>", DataScanDetailView.as_view(), name="data-scan-detail"),
]
