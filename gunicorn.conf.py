"""gunicorn settings: threaded workers, so concurrent requests really share each process's pools.

Variables are read through verisyntra.env, as the Django settings read theirs (the same forms
accepted, the same errors); that module imports no Django, so the master can load this file.
"""

import os
import shutil
import tempfile

from verisyntra.env import env_int, env_str

# WEB_CONCURRENCY processes; scripts/dev starts a second server for the write group with
# --workers $WEB_WRITE_CONCURRENCY (verisyntra/settings.py).
workers = env_int("WEB_CONCURRENCY", 1)
threads = env_int("WEB_THREADS", 8)
worker_class = "gthread"
bind = env_str("BIND", "127.0.0.1:8000")
timeout = env_int("WEB_TIMEOUT", 60)
# A worker is replaced after about WEB_MAX_REQUESTS requests (the jitter keeps workers from
# restarting together), so memory a request left behind (a fragmented heap) is handed back
# instead of growing for the life of the process (https://docs.gunicorn.org/en/stable/settings.html#max-requests).
max_requests = env_int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = env_int("WEB_MAX_REQUESTS_JITTER", 200)
# The restart waits for requests in flight: a 1,000,000-record scan upload takes tens of seconds.
graceful_timeout = env_int("WEB_GRACEFUL_TIMEOUT", 120)
# Behind nginx, never exposed: bind loopback (the default) or a unix socket (`--bind unix:PATH`);
# gthread waits this long for a kept-alive connection's next request, then frees the thread.
keepalive = 5
accesslog = "-"
# Not preloaded: each worker imports the app itself. The pools are fork-safe anyway
# (verisyntra.db.pools), but a preloaded master has nothing it needs a database for.
preload_app = False
# gunicorn 27's control socket defaults to one path per user: several servers on one machine
# (benchmarks, tests) would fight over it. Nothing here uses it.
control_socket_disable = True

# /metrics merges the values of every worker through files in this directory (prometheus-client's
# multiprocess mode), so it must be set before any worker imports prometheus_client. scripts/dev
# shares one directory with the Celery worker (whose scan counters /metrics reports too) and empties
# it before starting; without the variable each server gets a private, fresh directory.
_private_metrics_dir = not env_str("PROMETHEUS_MULTIPROC_DIR")
prometheus_multiproc_dir = env_str("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="verisyntra-prometheus-")
os.makedirs(prometheus_multiproc_dir, exist_ok=True)
# Exported, not only read: the workers' prometheus_client finds the directory in its environment.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = prometheus_multiproc_dir


def on_starting(server):
    """Run the system checks (pool options, capacity) once before the workers start."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("check")


def child_exit(server, worker):
    """A worker exited: its pools are gone, so drop its live gauges (connections in use) from /metrics."""
    # health.metrics names the files (host and pid); Django is set up in this master since on_starting.
    from health.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def on_exit(server):
    if _private_metrics_dir:
        shutil.rmtree(prometheus_multiproc_dir, ignore_errors=True)
