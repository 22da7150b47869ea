"""gunicorn settings: threaded workers, so concurrent requests really share each process's pools."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
bind = os.environ.get("BIND", "127.0.0.1:8000")
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
accesslog = "-"
# Not preloaded: each worker imports the app itself. The pools are fork-safe anyway
# (verisyntra.db.pools), but a preloaded master has nothing it needs a database for.
preload_app = False
# gunicorn 27's control socket defaults to one path per user: several servers on one machine
# (benchmarks, tests) would fight over it. Nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Run the system checks (pool options, capacity) once before the workers start."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("check")
