"""The Celery app (`celery -A verisyntra worker|beat`), configured from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")

app = Celery("verisyntra")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_unsafe_runtime_role(**kwargs) -> None:
    """Outside DEBUG, a worker or beat never runs as a role row-level security does not hold (verisyntra.E002).

    SystemExit, not the check's exception: Celery logs and swallows any Exception a signal handler
    raises, and the process would go on consuming tasks.
    """
    from django.core.management.base import SystemCheckError

    from verisyntra.checks import refuse_unsafe_runtime_role

    try:
        refuse_unsafe_runtime_role()
    except SystemCheckError as refused:
        raise SystemExit(f"Refusing to start: {refused}") from refused


# task id -> the scopes its runs replaced (a list: an eager retry runs the task again inside itself).
_replaced_scopes: dict[str, list] = {}


@task_prerun.connect
def start_with_no_tenant(task_id: str, **kwargs) -> None:
    """Each task starts with no tenant: it acts for one only once it says so (inventory.tenancy)."""
    from verisyntra.db.tenant_scope import enter_no_tenant

    _replaced_scopes.setdefault(task_id, []).append(enter_no_tenant())


@task_postrun.connect
def restore_tenant_scope(task_id: str, **kwargs) -> None:
    """And leaves its thread in the scope it found: none in a worker, the caller's for `Task.apply()`."""
    from verisyntra.db.tenant_scope import leave

    replaced = _replaced_scopes.get(task_id)
    if replaced:
        leave(replaced.pop())
    if not replaced:
        _replaced_scopes.pop(task_id, None)
