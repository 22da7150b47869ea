"""Throwaway servers for fault injection: a private PostgreSQL cluster, a private Redis, the service.

Restarting the machine's PostgreSQL or Redis would break every other test run on it, so these
classes start their own servers on other ports under a git-ignored directory (`var/faults/`),
break them on purpose, and only ever signal the processes they started, by pid.

    with PrivatePostgres(port=5440) as pg, PrivateRedis(port=6390) as redis:
        env = service_environment(database_url=pg.url("test_x"), broker_url=redis.url(7))
        with Gunicorn(port=8701, env=env) as web:
            ...
            pg.restart(down_seconds=2)   # the fault
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
FAULTS_DIR = Path(os.environ.get("FAULTS_DIR", ROOT / "var" / "faults"))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = Path(sys.executable)
VENV_BIN = PYTHON.parent


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll `predicate` until it holds; return the seconds it took, or fail naming `what`."""
    started = time.monotonic()
    while True:
        try:
            if predicate():
                return time.monotonic() - started
        except Exception:  # the thing we wait for may raise until it is up
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s")
        time.sleep(interval)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_recorded_process(pidfile: Path, expected_name: str) -> None:
    """Stop a server a previous, aborted run of ours left behind (recorded in our own pidfile)."""
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (ValueError, OSError):
        pidfile.unlink(missing_ok=True)
        return
    if expected_name in cmdline:
        os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _pid_alive(pid), 10, f"leftover {expected_name} (pid {pid}) gone")
    pidfile.unlink(missing_ok=True)


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own (initdb), which tests may crash and restart at will.

    Runs as the `postgres` user when we are root (PostgreSQL refuses to run as root). Durability is
    PostgreSQL's default (`synchronous_commit = on`): a commit is acknowledged only once it is in the
    WAL, so an immediate shutdown (a crash) must lose nothing acknowledged. Only `fsync` is off, which
    matters for an operating-system crash, not for a server process crash.
    """

    def __init__(self, port: int = 5440, data_dir: Path | None = None, max_connections: int = 300):
        self.port = port
        self.data_dir = data_dir or FAULTS_DIR / f"pg-{port}"
        self.log_file = self.data_dir.parent / f"pg-{port}.log"
        self.max_connections = max_connections

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()

    def _as_postgres(self, *argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=timeout)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        self.log_file.touch()
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            shutil.chown(self.log_file, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# tests/faults/servers.py: a private, throwaway cluster on loopback only\n"
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                f"max_connections = {self.max_connections}\nfsync = off\nshared_buffers = 64MB\n"
            )

    def is_running(self) -> bool:
        return self._as_postgres("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self) -> float:
        """Start the cluster (initialising it on first use); return the seconds until it accepts connections."""
        self.init()
        started = time.monotonic()
        if not self.is_running():
            if port_open(self.port):
                raise RuntimeError(f"port {self.port} is taken by a server that is not ours ({self.data_dir})")
            self._as_postgres("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "start")
        wait_until(self.accepts_connections, 60, f"private PostgreSQL on {self.port} accepting connections")
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> None:
        """`fast`: clean shutdown, sessions are cut; `immediate`: a crash, WAL recovery on the next start."""
        if self.is_running():
            self._as_postgres("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, down_seconds: float = 1.0, mode: str = "immediate") -> tuple[float, float]:
        """Take the server down for `down_seconds`, bring it back.

        Returns (fault_began, back_up) in time.monotonic(): from the moment the stop was asked for
        (sessions may be cut from then on) to the moment the server accepts connections again.
        """
        fault_began = time.monotonic()
        self.stop(mode=mode)
        time.sleep(down_seconds)
        self.start()
        return fault_began, time.monotonic()

    def accepts_connections(self) -> bool:
        try:
            psycopg2.connect(self.dsn("postgres"), connect_timeout=2).close()
            return True
        except psycopg2.OperationalError:
            return False

    def dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str):
        connection = psycopg2.connect(self.dsn(dbname), connect_timeout=5)
        connection.autocommit = True
        return connection

    def recreate_database(self, name: str) -> None:
        # The service under test refuses non-test databases in tests; keep the same discipline here.
        assert name.startswith("test_"), f"private databases must be named test_*, got {name!r}"
        connection = self.connect("postgres")  # not `with connection`: that opens a transaction block
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            connection.close()

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop(mode="fast")


class ServiceProcess:
    """A child process in its own session, so it and its children (gunicorn workers, celery
    pool processes) can be signalled together through its process group, and never anything else."""

    name = "process"

    def __init__(self, argv: list[str], env: Mapping[str, str], log_file: Path, pidfile: Path):
        self.argv = argv
        self.env = dict(env)
        self.log_file = log_file
        self.pidfile = pidfile
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        _stop_recorded_process(self.pidfile, Path(self.argv[0]).name)
        self._run_log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._log = open(self.log_file, "ab")  # noqa: SIM115 - kept open for the child, closed in stop()
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pidfile.write_text(str(self.process.pid))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        # Children that outlived their parent (a SIGKILLed master's workers) are in the same group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        self.pidfile.unlink(missing_ok=True)
        self.process = None

    def log_text(self) -> str:
        """The whole log file, earlier runs included."""
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def run_log(self) -> str:
        """What this process wrote since it was last started."""
        if not self.log_file.exists():
            return ""
        return self.log_file.read_bytes()[getattr(self, "_run_log_start", 0) :].decode(errors="replace")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class PrivateRedis(ServiceProcess):
    """A redis-server of our own: `stop()` is the broker outage, `start()` its return (same port)."""

    name = "redis"

    def __init__(self, port: int = 6390, appendonly: bool = False):
        self.port = port
        directory = FAULTS_DIR / f"redis-{port}"
        directory.mkdir(parents=True, exist_ok=True)
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--dir",
            str(directory),
        ]
        super().__init__(argv, os.environ, FAULTS_DIR / f"redis-{port}.log", FAULTS_DIR / f"redis-{port}.pid")

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        super().start()
        wait_until(lambda: port_open(self.port), 15, f"private Redis on {self.port}")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class Gunicorn(ServiceProcess):
    """The service as production runs it (gunicorn.conf.py: gthread workers), on a port of ours."""

    name = "gunicorn"

    # Access log lines the tests can parse: method, path, status, and the server-side time in microseconds.
    ACCESS_LOG_FORMAT = "access %(m)s %(U)s %(s)s %(D)s"

    def __init__(self, port: int, env: Mapping[str, str]):
        self.port = port
        argv = [
            str(VENV_BIN / "gunicorn"),
            "verisyntra.wsgi:application",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logformat",
            self.ACCESS_LOG_FORMAT,
        ]
        super().__init__(argv, env, FAULTS_DIR / f"gunicorn-{port}.log", FAULTS_DIR / f"gunicorn-{port}.pid")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken")
        super().start()
        wait_until(self._answers, 60, f"gunicorn on {self.port} answering")

    def server_times(self, since: int = 0) -> list[tuple[str, str, int, float]]:
        """(method, path, status, seconds) of each request in the access log, from byte offset `since`."""
        entries = []
        text = self.log_file.read_bytes()[since:].decode(errors="replace") if self.log_file.exists() else ""
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 5 and parts[0] == "access":
                entries.append((parts[1], parts[2], int(parts[3]), int(parts[4]) / 1e6))
        return entries

    def log_size(self) -> int:
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def access_settled(self, since: int, requests: int, timeout: float = 10.0) -> int:
        """Wait until the access log holds `requests` lines after byte offset `since` (gunicorn writes
        a line after the response has gone, so a client can be ahead of the log), then return the
        log's size: an offset that the next requests' lines come after."""
        wait_until(lambda: len(self.server_times(since=since)) >= requests, timeout, f"{requests} access log lines")
        return self.log_size()

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
        httpx.get(self.base_url + "/__ready__", timeout=2)
        return True


class CeleryWorker(ServiceProcess):
    """A Celery worker process (prefork) against the broker and database in `env`."""

    name = "celery"

    def __init__(self, env: Mapping[str, str], name: str = "faults", concurrency: int = 1, queues: str | None = None):
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "verisyntra",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        if queues:
            argv += ["--queues", queues]
        super().__init__(argv, env, FAULTS_DIR / f"celery-{name}.log", FAULTS_DIR / f"celery-{name}.pid")


def service_environment(*, database_url: str, broker_url: str, **overrides: str | int) -> dict[str, str]:
    """The environment for a service process pointed at private servers (nothing inherited that could
    point it elsewhere: no READ_DATABASE_URL, no DEBUG, no test database name)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "READ_DATABASE_URL",
            "DEBUG",
            "TEST_DATABASE_NAME",
            "DJANGO_SETTINGS_MODULE",
            "PYTEST_CURRENT_TEST",
        }
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_SETTINGS_MODULE": "verisyntra.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # One gunicorn serves everything here (no nginx split): the capacity checks count it alone.
            "WEB_WRITE_CONCURRENCY": "0",
        }
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    """Run `manage.py` in a subprocess with `env`; return its stdout, or fail with its output."""
    result = subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout
