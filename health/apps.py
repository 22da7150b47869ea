"""Pool and database health: health endpoints, metrics and `manage.py pool_report`."""

import os

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        # Touches no database (a connection made before the test databases exist would keep the
        # real database in its pool, and the tests would run against it): observers only, and
        # series initialised from settings.
        from celery.signals import task_postrun, task_prerun, worker_process_shutdown

        from health import audit, metrics, status
        from verisyntra.db import pools

        if metrics.record_checkout in pools.checkout_observers:  # ready() ran already
            return
        pools.checkout_observers.append(metrics.record_checkout)
        pools.checkin_observers.append(metrics.record_checkin)
        pools.exhaustion_observers.extend([metrics.record_exhaustion, status.note_exhaustion, audit.audit_pool_exhausted])
        metrics.initialise_series()

        # A Celery prefork child that exits takes its pools along; drop its live gauges.
        # (gunicorn workers: the child_exit hook in gunicorn.conf.py.)
        worker_process_shutdown.connect(lambda **kwargs: metrics.mark_process_dead(os.getpid()), weak=False)
        # An exhaustion inside a task is audited with the task's name.
        task_prerun.connect(audit.task_started, weak=False)
        task_postrun.connect(audit.task_finished, weak=False)
