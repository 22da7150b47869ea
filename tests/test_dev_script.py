"""`scripts/dev` as a person runs it, and the README's next command (`benchmarks.live_scan`).

One real instance (nginx, both gunicorn groups, a Celery worker and beat) runs on free ports with a
directory and a database of its own (`test_<name>_dev`), on the tests' broker. It must print one
"ready at" line once everything answers, log in one time zone, and survive a second `scripts/dev`
started by mistake on its port or directory: the second one refuses and leaves the running
instance's metrics files, and so its /metrics, alone.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import packages_distributions
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

from verisyntra.db.config import POOLED_ALIASES

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 240  # a fresh database is migrated first


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>~! ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def modules_of_dev_requirements() -> list[str]:
    """Top-level modules installed only by requirements-dev.txt (httpx, pytest, yaml, ...)."""
    dev_only = requirement_names(ROOT / "requirements-dev.txt") - requirement_names(ROOT / "requirements.txt")
    return sorted(
        module
        for module, distributions in packages_distributions().items()
        if distributions and all(d.lower().replace("_", "-") in dev_only for d in distributions)
    )


def test_live_scan_helper_runs_with_the_runtime_requirements_alone():
    # The README shows `python -m benchmarks.live_scan` right after `scripts/dev`, which installs requirements.txt only.
    blocked = modules_of_dev_requirements()
    assert "httpx" in blocked and "yaml" in blocked  # the probe itself works
    program = (
        "import runpy, sys\n"
        f"sys.modules.update(dict.fromkeys({blocked!r}))\n"  # None in sys.modules: `import x` raises ImportError
        "sys.argv = ['live_scan', '--help']\n"
        "runpy.run_module('benchmarks.live_scan', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--tenant-id" in result.stdout


# --- One running instance --------------------------------------------------------------------------


def free_port_triple() -> int:
    """A port P with P, P+1 and P+2 free (nginx, the read group, the write group)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 2 < 65536 and all(port_is_free(base + offset) for offset in range(3)):
            return base
    raise RuntimeError("no three consecutive free ports")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def dev_database_url(variable: str = "DATABASE_URL") -> str:
    """The tests' own database for the dev instance, as the URL in `variable` (runtime role or owner) names it."""
    base = urlsplit(os.environ.get("DATABASE_URL") or "postgresql://verisyntra_app@127.0.0.1:5432/verisyntra")
    url = urlsplit(os.environ.get(variable) or urlunsplit(base))
    name = base.path.lstrip("/") or "verisyntra"
    return urlunsplit(url._replace(path=f"/test_{name}_dev"))


def drop_database(url: str) -> None:
    parts = urlsplit(url)
    conn = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres", password=parts.password, dbname="postgres"
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parts.path.lstrip("/"))))
    conn.close()


@dataclass
class DevInstance:
    port: int
    directory: Path
    environment: dict[str, str]
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def another(self, **overrides: str) -> subprocess.CompletedProcess:
        """A second scripts/dev, started by mistake with these variables changed."""
        return subprocess.run(["scripts/dev"], cwd=ROOT, env={**self.environment, **overrides}, capture_output=True, text=True, timeout=120)


def read_lines(process: subprocess.Popen, into: list[str]) -> None:
    for line in process.stdout:
        into.append(line.rstrip("\n"))


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    port = free_port_triple()
    directory = tmp_path_factory.mktemp("dev")
    environment = {
        **os.environ,
        "PORT": str(port),
        "DEV_DIR": str(directory),
        "DATABASE_URL": dev_database_url(),
        # The same database for the owner (scripts/lib.sh creates it owned by the owner) and the admin.
        "MIGRATION_DATABASE_URL": dev_database_url("MIGRATION_DATABASE_URL"),
        "DATABASE_ADMIN_URL": dev_database_url("DATABASE_ADMIN_URL"),
        # The tests' broker (conftest.py switched CELERY_BROKER_URL to it), so the dev worker takes no one else's task.
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment.pop("TZ", None)
    process = subprocess.Popen(
        ["scripts/dev"], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    instance = DevInstance(port=port, directory=directory, environment=environment, process=process)
    threading.Thread(target=read_lines, args=(process, instance.lines), daemon=True).start()
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not any("ready at" in line for line in instance.lines):
            assert process.poll() is None, "scripts/dev stopped:\n" + "\n".join(instance.lines[-40:])
            assert time.monotonic() < deadline, "no ready line:\n" + "\n".join(instance.lines[-40:])
            time.sleep(0.2)
        yield instance
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # scripts/dev stops its processes on TERM, as on Ctrl-C
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        from verisyntra.celery import app

        app.control.purge()  # beat's sweeps, sent to the tests' broker
        drop_database(environment["DATABASE_ADMIN_URL"])


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def operator_token(dev: DevInstance) -> str:
    """The staff token scripts/dev printed for the health details and /metrics."""
    return next(re.match(r"Operator token: (\S+)", line).group(1) for line in dev.lines if line.startswith("Operator token: "))


def test_the_staff_only_pages_answer_the_printed_operator_token_and_no_one_else(dev):
    token = operator_token(dev)
    for path in ("/health/connection-pools", "/health/database", "/metrics"):
        assert get(dev.url(path), token)[0] == 200, path
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            get(dev.url(path))
        assert anonymous.value.code == 401, path


def test_one_ready_line_once_nginx_both_web_groups_the_worker_and_beat_answer(dev):
    ready = [i for i, line in enumerate(dev.lines) if "ready at" in line]
    assert [dev.lines[i] for i in ready] == [f"==> ready at http://127.0.0.1:{dev.port}"]

    def first(pattern: str) -> int:
        return next(i for i, line in enumerate(dev.lines) if re.search(pattern, line))

    # Printed after each process said it was up, not merely after they were started.
    for pattern in (rf"Listening at: http://127.0.0.1:{dev.port + 1}", rf"Listening at: http://127.0.0.1:{dev.port + 2}"):
        assert first(pattern) < ready[0]
    assert first(rf"dev-{dev.port}@\S+ ready\.") < ready[0]
    assert first(r"beat: Starting") < ready[0]
    assert get(dev.url("/health/ready"))[0] == 200


def test_every_log_line_is_in_the_services_time_zone(dev):
    expected = datetime.now(ZoneInfo(settings.TIME_ZONE)).strftime("%z")
    gunicorn = re.findall(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ([+-]\d{4})\]", "\n".join(dev.lines), flags=re.MULTILINE)
    access = re.findall(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d ([+-]\d{4})\]", "\n".join(dev.lines))
    assert gunicorn and access
    assert set(gunicorn) | set(access) == {expected}
    # Celery writes no offset: its clock must read the same zone's time.
    now = datetime.now(UTC)
    zone = ZoneInfo(settings.TIME_ZONE)
    stamps = re.findall(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+: ", "\n".join(dev.lines), flags=re.MULTILINE)
    assert stamps
    for stamp in stamps:
        logged = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
        assert abs(logged - now) < timedelta(minutes=15), f"Celery logged {stamp}, not {settings.TIME_ZONE} time"


def metric_total(body: str, name: str) -> float:
    return sum(float(value) for value in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", body, flags=re.MULTILINE))


def test_a_second_dev_on_the_same_port_or_directory_refuses_and_leaves_the_running_one_alone(dev):
    metrics_dir = dev.directory / "prometheus"
    files_before = {path.name for path in metrics_dir.glob("*.db")}
    assert files_before

    same_everything = dev.another()
    same_directory = dev.another(PORT=str(free_port_triple()))
    same_port = dev.another(DEV_DIR=str(dev.directory.parent / "dev-second"))
    for second in (same_everything, same_directory):
        assert second.returncode != 0
        assert f"another scripts/dev is running with {dev.directory}" in second.stderr
        assert "it was left alone" in second.stderr
    assert same_port.returncode != 0 and f"port {dev.port} is in use" in same_port.stderr

    assert {path.name for path in metrics_dir.glob("*.db")} >= files_before
    # And /metrics still moves: a health check checks connections out of both pools.
    checkouts, token = "verisyntra_pool_checkout_wait_seconds_count", operator_token(dev)
    before = metric_total(get(dev.url("/metrics"), token)[1], checkouts)
    assert get(dev.url("/health/ready"))[0] == 200
    assert metric_total(get(dev.url("/metrics"), token)[1], checkouts) > before
    assert dev.process.poll() is None


def test_metrics_behind_nginx_count_the_write_groups_checkouts_too(dev):
    # nginx sends /metrics to the read group; the write group writes its files into the same directory.
    checkouts, token = "verisyntra_pool_checkout_wait_seconds_count", operator_token(dev)
    before = metric_total(get(dev.url("/metrics"), token)[1], checkouts)
    assert get(f"http://127.0.0.1:{dev.port + 2}/health/ready")[0] == 200  # the write group, directly
    assert metric_total(get(dev.url("/metrics"), token)[1], checkouts) >= before + len(POOLED_ALIASES)
