"""Start and stop the real service for one benchmark configuration: gunicorn (+ nginx, a Celery worker).

The service runs exactly as deployed (`gunicorn.conf.py`, threaded workers; for split
configurations nginx in front of a read and a write group, as scripts/dev runs it), configured
only through the environment variables docs/configuration.md documents (READ_/WRITE_POOL_*,
WEB_CONCURRENCY, WEB_WRITE_CONCURRENCY, WEB_THREADS, DATABASE_URL). The only additions are `benchmarks.wsgi` / `benchmarks.celery_app`,
which record pool checkout waits, and, for the one-pool baseline, `benchmarks.settings_shared`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from benchmarks.dataset import ROOT
from deploy import nginx_conf

VENV_BIN = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin"


@dataclass(frozen=True)
class ServiceConfig:
    """One way to run the service. `shared` means one pool (the write alias) serves reads and writes."""

    name: str
    label: str
    read_pool: tuple[int, int] = (20, 10)
    write_pool: tuple[int, int] = (50, 20)
    shared: bool = False
    web_processes: int = 1
    # > 0: the deployed topology of scripts/dev: nginx in front, `web_processes` gunicorn processes
    # for reads and this many for POST /batch and /data-scans (deploy/nginx.conf.template).
    write_processes: int = 0
    web_threads: int = 80
    write_timeout: int = 10
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, base: dict[str, str], port: int, wait_dir: Path) -> dict[str, str]:
        env = dict(base)
        read_size, read_overflow = self.read_pool
        write_size, write_overflow = self.write_pool
        env.update(
            {
                "BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": str(self.web_processes),
                "WEB_WRITE_CONCURRENCY": str(self.write_processes),
                "WEB_THREADS": str(self.web_threads),
                "READ_POOL_SIZE": str(read_size),
                "READ_POOL_MAX_OVERFLOW": str(read_overflow),
                "READ_POOL_TIMEOUT": "30",
                "WRITE_POOL_SIZE": str(write_size),
                "WRITE_POOL_MAX_OVERFLOW": str(write_overflow),
                "WRITE_POOL_TIMEOUT": str(self.write_timeout),
                "BENCH_WAIT_DIR": str(wait_dir),
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.shared:
            # One pool of read-pool size for everything: the original "before" (20 + 10, 30 s timeout).
            env.update(
                {
                    "DJANGO_SETTINGS_MODULE": "benchmarks.settings_shared",
                    "WRITE_POOL_SIZE": str(read_size),
                    "WRITE_POOL_MAX_OVERFLOW": str(read_overflow),
                    "WRITE_POOL_TIMEOUT": "30",
                }
            )
        env.update(self.extra_env)
        return env


class Service:
    """gunicorn (and optionally a Celery worker) for one configuration; a context manager."""

    def __init__(self, config: ServiceConfig, base_env: dict[str, str], port: int, run_dir: Path, worker: bool):
        self.config = config
        self.port = port
        self.run_dir = run_dir
        self.wait_dir = run_dir / "waits"
        self.wait_dir.mkdir(parents=True, exist_ok=True)
        self.env = config.env(base_env, port, self.wait_dir)
        self.worker = worker
        self.processes: list[subprocess.Popen] = []
        self.names: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_pids(self) -> set[int]:
        return {process.pid for name, process in zip(self.names, self.processes, strict=True) if name != "celery"}

    @property
    def worker_pids(self) -> set[int]:
        return {process.pid for name, process in zip(self.names, self.processes, strict=True) if name == "celery"}

    def _spawn(self, name: str, argv: list[str], **env: str) -> None:
        # The child keeps its own copy of the log's file descriptor; ours can close at once.
        with open(self.run_dir / f"{name}.log", "ab") as log:
            self.processes.append(
                subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
        self.names.append(name)

    def _spawn_web(self) -> None:
        gunicorn = [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "benchmarks.wsgi:application"]
        if not self.config.write_processes:
            self._spawn("gunicorn", gunicorn)
            return
        read_bind, write_bind = f"127.0.0.1:{self.port + 1000}", f"127.0.0.1:{self.port + 2000}"
        self._spawn("gunicorn-read", gunicorn, BIND=read_bind)
        self._spawn("gunicorn-write", [*gunicorn, "--workers", str(self.config.write_processes)], BIND=write_bind)
        conf = nginx_conf.render(self.run_dir / "nginx", f"127.0.0.1:{self.port}", read_bind, write_bind)
        self._spawn("nginx", ["nginx", "-c", str(conf), "-p", str(conf.parent)])

    def __enter__(self) -> Service:
        if self.worker:
            # This benchmark's own Redis database: no task of an earlier configuration may be redelivered here.
            redis.Redis.from_url(self.env["CELERY_BROKER_URL"]).flushdb()
        self._spawn_web()
        if self.worker:
            self._spawn(
                "celery",
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "benchmarks.celery_app",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    self.env.get("CELERY_WORKER_CONCURRENCY", "2"),
                    "--hostname",
                    f"bench-{self.port}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited with {process.returncode}; see {self.run_dir}")
            try:
                httpx.get(self.base_url + "/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"service did not answer on {self.base_url} within {seconds}s")
        if self.worker:
            self._wait_worker_ready(deadline)

    def _wait_worker_ready(self, deadline: float) -> None:
        log = self.run_dir / "celery.log"
        while time.monotonic() < deadline:
            # `celery inspect ping` would start a third interpreter; the worker says "ready" in its log.
            if log.exists() and b"ready" in log.read_bytes():
                return
            if self.processes[self.names.index("celery")].poll() is not None:
                raise RuntimeError(f"celery worker exited; see {log}")
            time.sleep(0.3)
        raise RuntimeError("celery worker did not become ready")

    def __exit__(self, *exc_info) -> None:
        # Quick shutdown (gunicorn SIGINT, celery SIGQUIT): between runs nothing is in flight, and a
        # graceful stop would wait out keep-alive connections for gunicorn's graceful_timeout.
        for name, process in zip(self.names, self.processes, strict=True):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGQUIT if name in ("celery", "nginx") else signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        self.names.clear()
