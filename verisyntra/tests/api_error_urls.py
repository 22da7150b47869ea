"""Test-only views that fail the ways a future view might: Django's `Http404` (as
`get_object_or_404` raises it), Django's `PermissionDenied`, DRF's throttling, in DRF views and
in a plain Django view, so the tests can check that each is answered in the one error shape."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import include, path
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from verisyntra.urls import handler400, handler403, handler404, handler500  # noqa: F401  (Django reads them from the URLconf)


class OpenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class MissingObject(OpenView):
    def get(self, request: Request) -> Response:
        get_object_or_404(get_user_model(), pk=-1)
        return Response({})


class Forbidden(OpenView):
    def get(self, request: Request) -> Response:
        raise PermissionDenied("staff only")


class TooFast(OpenView):
    def get(self, request: Request) -> Response:
        raise Throttled(wait=2.2)


def plain_missing_object(request: HttpRequest) -> HttpResponse:
    get_object_or_404(get_user_model(), pk=-1)
    return HttpResponse()


def plain_forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [
    path("drf/missing", MissingObject.as_view()),
    path("drf/forbidden", Forbidden.as_view()),
    path("drf/throttled", TooFast.as_view()),
    path("plain/missing", plain_missing_object),
    path("plain/forbidden", plain_forbidden),
    path("", include("verisyntra.urls")),
]
