"""Test-only probes that read through the `read` pool, mounted next to the real URLs."""

from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import Tenant
from verisyntra.urls import urlpatterns as project_urlpatterns


class ReadThroughDrf(APIView):
    """An API endpoint (DRF, so errors leave through `api_exception_handler`)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"tenants": Tenant.objects.count()})


def read_through_plain_django(request):
    """A plain Django view (errors leave through `DatabaseUnavailableMiddleware`)."""
    return JsonResponse({"tenants": Tenant.objects.count()})


urlpatterns = [
    path("probe/read-drf", ReadThroughDrf.as_view()),
    path("probe/read-plain", read_through_plain_django),
    *project_urlpatterns,
]
