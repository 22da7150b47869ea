"""Test-only views for the replica tests: write a tenant, read it back, say which server answered."""

from django.db import connections
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_POST

from inventory.models import Tenant
from verisyntra.db.config import POOLED_ALIASES


@require_POST
def tenant_create(request):
    tenant = Tenant.objects.create(name=request.POST.get("name", "Replica test"))
    return JsonResponse({"id": tenant.pk})


def tenant_read(request, pk):
    """Reads the tenant twice through the router and reports each query's alias and the server that served it."""
    used: list[str] = []

    def record(execute, sql, params, many, context):
        used.append(context["connection"].alias)
        return execute(sql, params, many, context)

    wrappers = [connections[alias].execute_wrapper(record) for alias in POOLED_ALIASES]
    for wrapper in wrappers:
        wrapper.__enter__()
    try:
        found = Tenant.objects.filter(pk=pk).exists()
        Tenant.objects.count()
    finally:
        for wrapper in reversed(wrappers):
            wrapper.__exit__(None, None, None)
    # Introspection of the connection that served the read, not routing: hence the explicit alias.
    with connections[used[0]].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port(), pg_backend_pid()")
        in_recovery, port, pid = cursor.fetchone()
    return JsonResponse({"found": found, "aliases": used, "in_recovery": in_recovery, "port": port, "pid": pid})


urlpatterns = [
    path("tenants", tenant_create),
    path("tenants/<uuid:pk>", tenant_read),
    path("", include("verisyntra.urls")),  # the real API, health endpoints included
]
