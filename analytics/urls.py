"""URLs of the analytics app (mounted at /analytics/)."""

from django.urls import path

from analytics.views import ComplianceSummaryView, ProcessingActivityListView

urlpatterns = [
    path("compliance-summary", ComplianceSummaryView.as_view(), name="analytics-compliance-summary"),
    path("processing-activities", ProcessingActivityListView.as_view(), name="analytics-processing-activities"),
]
