"""A test-only Celery task, loaded by the worker the audit test starts (`celery worker -I`)."""

from __future__ import annotations

import threading

from django.db import connections

from inventory.models import Tenant
from verisyntra.celery import app
from verisyntra.db.config import READ_ALIAS
from verisyntra.db.pools import PoolExhausted


@app.task(name="health.tests.exhaust_read_pool")
def exhaust_read_pool(tenant_id: str | None = None) -> str:
    """Hold the only read connection in another thread, then read: the pool (size 1, no overflow) is exhausted."""
    held, release = threading.Event(), threading.Event()

    def hold():
        connections[READ_ALIAS].ensure_connection()
        held.set()
        release.wait(30)
        connections[READ_ALIAS].close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        Tenant.objects.count()
        return "not exhausted"
    except PoolExhausted:
        return "exhausted"
    finally:
        release.set()
        holder.join(10)
