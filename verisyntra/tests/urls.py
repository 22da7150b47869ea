"""A test-only view for the pin-after-write middleware: read, write, read, and report the aliases used."""

from django.db import connections
from django.http import JsonResponse
from django.urls import path

from inventory.models import Tenant
from verisyntra.db.config import POOLED_ALIASES


def read_write_read(request):
    used: list[str] = []

    def record(execute, sql, params, many, context):
        used.append(context["connection"].alias)
        return execute(sql, params, many, context)

    with connections[POOLED_ALIASES[0]].execute_wrapper(record), connections[POOLED_ALIASES[1]].execute_wrapper(record):
        Tenant.objects.count()
        if request.GET.get("write"):
            Tenant.objects.create(name="Pinned by middleware")
        Tenant.objects.count()
    return JsonResponse({"aliases": used})


urlpatterns = [path("read-write-read", read_write_read)]
