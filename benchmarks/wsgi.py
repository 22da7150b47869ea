"""The service's own WSGI application, plus the checkout-wait recorder (`benchmarks.recorder`).

`gunicorn -c gunicorn.conf.py benchmarks.wsgi:application` serves exactly what
`verisyntra.wsgi:application` serves; the wrapper only tags each request's pool checkouts with
its role (dashboard or writer) so the benchmark can report connection waits per workload.
"""

from __future__ import annotations

from benchmarks import recorder
from verisyntra.wsgi import application as service_application

recorder.install()


def application(environ, start_response):
    token = recorder.role.set(recorder.role_for_path(environ.get("PATH_INFO", "")))
    try:
        return service_application(environ, start_response)
    finally:
        recorder.role.reset(token)
