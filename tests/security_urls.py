"""Test-only API views behind the project's default authentication (a DRF token), one of which
fails with an unhandled error: the places where a token could leak into a log line or a body."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    def get(self, request):
        return Response({"username": request.user.get_username()})


class Explodes(APIView):
    def get(self, request):
        raise RuntimeError(f"unexpected failure while serving {request.user.get_username()}")


urlpatterns = [
    path("whoami", WhoAmI.as_view()),
    path("explodes", Explodes.as_view()),
    path("", include("verisyntra.urls")),
]
