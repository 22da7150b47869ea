"""Celery tasks of the inventory app: thin wrappers that load by id and call a service.

`process_data_scan` carries only the scan id; the records are in PostgreSQL (DataScanChunk).
It is idempotent (see inventory.scan_services), which is what makes `acks_late` with
`reject_on_worker_lost` (settings) safe: a task whose worker died is simply run again.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from inventory.scan_services import DataScanFailed, data_scan_fail, data_scan_liveness, data_scan_process, data_scans_sweep
from inventory.source_services import data_sources_dispatch_due
from inventory.tenancy import acting_for_scan_tenant
from verisyntra.api.idempotency import idempotency_keys_delete_expired
from verisyntra.db.pools import PoolExhausted
from verisyntra.messages import render

logger = logging.getLogger(__name__)

# Worth another attempt: the database went away or was too busy to hand out a connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, PoolExhausted)


class DataScanTask(Task):
    """Ends the scan `failed`, in both languages, when the task gives up."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        scan_id = args[0] if args else kwargs.get("scan_id")
        if isinstance(exc, DataScanFailed):
            error, error_vi = exc.error, exc.error_vi
        else:
            if isinstance(exc, TRANSIENT_ERRORS):
                text = render("scan.database_unavailable", attempts=self.request.retries + 1, error_class=exc.__class__.__name__)
            else:
                text = render("scan.unexpected_error", error_class=exc.__class__.__name__)
            error, error_vi = text.en, text.vi
        try:
            with acting_for_scan_tenant(scan_id):
                data_scan_fail(scan_id=scan_id, error=error, error_vi=error_vi)
        except Exception:  # the database may still be down: the sweep finds the scan stalled later
            logger.exception("could not mark data scan %s failed", scan_id)


@shared_task(
    bind=True,
    base=DataScanTask,
    name="inventory.process_data_scan",
    acks_late=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=settings.DATA_SCAN_MAX_RETRIES,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def process_data_scan(self, scan_id: str) -> dict:
    """Write a data scan's stored records as processing activities, reporting PROGRESS per chunk.

    The whole run holds the scan's liveness lock, so the sweep leaves the scan alone while this
    worker lives, however slow, and dispatches it again as soon as the worker is gone.
    """
    with acting_for_scan_tenant(scan_id), data_scan_liveness(scan_id=scan_id):
        status = data_scan_process(
            scan_id=scan_id,
            on_progress=lambda progress: self.update_state(state="PROGRESS", meta=progress.as_meta()),
        )
    return {"scan_id": scan_id, "status": str(status)}


@shared_task(name="inventory.sweep_data_scans")
def sweep_data_scans() -> list[str]:
    """Beat: dispatch scans whose enqueue was lost, and processing scans whose worker is gone."""
    return data_scans_sweep()


@shared_task(name="inventory.dispatch_data_sources")
def dispatch_data_sources() -> list[str]:
    """Beat: start a discovery scan of every data source whose cron schedule is due (fair across tenants)."""
    return data_sources_dispatch_due()


@shared_task(name="inventory.delete_expired_idempotency_keys")
def delete_expired_idempotency_keys() -> int:
    """Beat: delete Idempotency-Keys past IDEMPOTENCY_KEY_TTL_SECONDS (they already answer nothing)."""
    return idempotency_keys_delete_expired()
