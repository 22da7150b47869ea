"""Fork safety: a forked child never uses a socket it inherited, and never breaks the parent's."""

from __future__ import annotations

import gc
import json
import os

import pytest
from django.db import connections

from inventory.models import Tenant
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])


def backend_pid(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def run_in_child(body) -> dict:
    """Fork, run `body()` in the child, and return what it reported (a JSON dict) through a pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            report = body()
        except BaseException as exc:  # report, never return into pytest's machinery
            report = {"error": repr(exc)}
        os.write(write_fd, json.dumps(report).encode())
        os.close(write_fd)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.needs_backend_pid
def test_forked_child_opens_its_own_connections_and_parent_keeps_working():
    Tenant.objects.create(name="Before fork")
    # The parent holds a live write connection (checked out) and a pooled read connection.
    connections[WRITE_ALIAS].ensure_connection()
    parent_write_pid = backend_pid(WRITE_ALIAS)
    parent_read_pid = backend_pid(READ_ALIAS)

    def child() -> dict:
        from verisyntra.db import pools

        report = {
            "write_pid": backend_pid(WRITE_ALIAS),
            "read_pid": backend_pid(READ_ALIAS),
            "tenants": Tenant.objects.count(),
        }
        # Finalise everything inherited, as an exiting process would: a psycopg2 connection
        # finalised on an inherited socket sends Terminate and kills the parent's session.
        pools._inherited.clear()
        gc.collect()
        return report

    report = run_in_child(child)
    assert "error" not in report, report
    assert report["tenants"] == 1
    assert report["write_pid"] != parent_write_pid
    assert report["read_pid"] != parent_read_pid
    # The parent's own sessions survived the child and its exit.
    assert backend_pid(WRITE_ALIAS) == parent_write_pid
    assert Tenant.objects.using(WRITE_ALIAS).count() == 1
    assert backend_pid(READ_ALIAS) == parent_read_pid
