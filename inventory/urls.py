"""URLs of the inventory app."""

from django.urls import path

from inventory.batch_views import ProcessingActivityBatchView

urlpatterns: list = [
    path("batch/processing-activities", ProcessingActivityBatchView.as_view(), name="batch-processing-activities"),
]
