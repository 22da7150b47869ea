"""The service's Celery app, plus the checkout-wait recorder in every worker child process.

`celery -A benchmarks.celery_app worker` runs the same tasks as `celery -A verisyntra worker`.
"""

from __future__ import annotations

from celery.signals import worker_process_init

from benchmarks import recorder
from verisyntra.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _record_checkouts(**_kwargs) -> None:
    recorder.role.set("scan")
    recorder.install()
