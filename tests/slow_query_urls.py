"""Test-only views that run a statement longer than any sane statement_timeout, through the `read` alias.

One is a DRF view (errors leave through `api_exception_handler`), one a plain Django view (errors
leave through `DatabaseUnavailableMiddleware`): a cancelled statement must be the same bilingual
answer on both paths.
"""

from django.db import connections
from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from verisyntra.db.config import READ_ALIAS

RUNAWAY_SECONDS = 30


def run_runaway_query() -> None:
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [RUNAWAY_SECONDS])


class RunawayDashboard(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        run_runaway_query()
        return Response({"finished": True})


def runaway_plain_view(request):
    run_runaway_query()
    return JsonResponse({"finished": True})


def quick_read(request):
    with connections[READ_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        return JsonResponse({"value": cursor.fetchone()[0]})


urlpatterns = [
    path("runaway-api", RunawayDashboard.as_view()),
    path("runaway-plain", runaway_plain_view),
    path("quick-read", quick_read),
]
