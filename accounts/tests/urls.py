"""Test-only URLs: an open JSON view (no token needed), where the anonymous rate applies."""

from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class OpenView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"open": True})


urlpatterns = [
    path("open", OpenView.as_view()),
    path("", include("verisyntra.urls")),
]
