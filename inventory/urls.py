"""URLs of the inventory app."""

from django.urls import path

from inventory.batch_views import ProcessingActivityBatchView
from inventory.scan_views import DataScanCollectionView, DataScanDetailView
from inventory.source_views import DataSourceActivityView, DataSourceCollectionView, DataSourceDetailView, DataSourceScanView

urlpatterns: list = [
    path("batch/processing-activities", ProcessingActivityBatchView.as_view(), name="batch-processing-activities"),
    path("data-scans", DataScanCollectionView.as_view(), name="data-scans"),
    path("data-scans/<uuid:scan_id>", DataScanDetailView.as_view(), name="data-scan-detail"),
    path("data-sources", DataSourceCollectionView.as_view(), name="data-sources"),
    path("data-sources/<uuid:source_id>", DataSourceDetailView.as_view(), name="data-source-detail"),
    path("data-sources/<uuid:source_id>/scans", DataSourceScanView.as_view(), name="data-source-scans"),
    path("data-sources/<uuid:source_id>/activities", DataSourceActivityView.as_view(), name="data-source-activities"),
]
