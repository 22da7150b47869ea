"""A full pool inside a Celery task is audited too, with the task's name, by a real worker process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from health.tests.worker_tasks import exhaust_read_pool
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    """A prefork Celery worker (one child) on this run's test database and its own queue, with a one-connection read pool."""
    db = settings.DATABASES[WRITE_ALIAS]
    assert db["NAME"].startswith("test_")
    queue = f"health-audit-{os.getpid()}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "READ_DATABASE_URL": "",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "READ_POOL_SIZE": "1",
        "READ_POOL_MAX_OVERFLOW": "0",
        "READ_POOL_TIMEOUT": "1",
        "POOL_AUDIT_LOG": str(tmp_path / "audit.log"),
    }
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "verisyntra",
        "worker",
        "-I",
        "health.tests.worker_tasks",
        "-Q",
        queue,
        "-c",
        "1",
        "--pool",
        "prefork",
        "--hostname",
        f"{queue}@%h",
        "--loglevel",
        "INFO",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]
    with open(log, "w") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)
        yield queue, tmp_path / "audit.log"
    finally:
        process.send_signal(signal.SIGQUIT)  # cold shutdown: the test is over, nothing to finish
        process.wait(30)


def test_exhaustion_inside_a_task_is_audited_with_the_task_name(worker):
    queue, audit_log = worker
    tenant_id = str(uuid.uuid4())
    result = exhaust_read_pool.apply_async(kwargs={"tenant_id": tenant_id}, queue=queue)
    assert result.get(timeout=60) == "exhausted"
    [line] = audit_log.read_text().splitlines()
    record = json.loads(line)
    assert record["pool"] == READ_ALIAS
    assert (record["pool_size"], record["max_overflow"]) == (1, 0)
    assert record["task"] == "health.tests.exhaust_read_pool"
    assert record["tenant_id"] == tenant_id
    assert record["path"] is None and record["method"] is None
