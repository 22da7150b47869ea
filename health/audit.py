"""The pool-exhaustion audit log: one JSON line per event on the `verisyntra.audit.pool` logger.

Operators route and tail that logger on its own (settings LOGGING: `POOL_AUDIT_LOG` names a file,
otherwise standard error), so each line is the JSON object alone, with no log-format prefix.

An exhaustion is raised deep in the pool layer, where there is no request. The request's path
and tenant reach it through one mechanism: `AuditRequestContextMiddleware` puts them in a
`contextvars.ContextVar` for the request's duration (per thread under gunicorn's gthread workers,
per task under asyncio), and the exhaustion observer reads it in the same thread. Celery tasks
use the same variable, set from the `task_prerun` / `task_postrun` signals, with the task's name.

The tenant is the `tenant_id` the request asked for, when it is a well-formed UUID. It is not
yet verified: a full pool usually fails the first query of a request, the token lookup, before
the tenant check in `inventory.tenancy` ran. In a task, the tenant is its `tenant_id` argument
when it has one (a data scan passes only its scan id). Elsewhere (a command) everything is null.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from verisyntra.db.pools import PoolExhausted

AUDIT_LOGGER_NAME = "verisyntra.audit.pool"
audit_logger = logging.getLogger(AUDIT_LOGGER_NAME)


@dataclass(frozen=True)
class AuditRequestContext:
    """What the audit log knows of the work in progress: a request (path, method) or a task."""

    path: str | None
    method: str | None
    tenant_id: str | None
    task: str | None = None


_request_context: contextvars.ContextVar[AuditRequestContext | None] = contextvars.ContextVar(
    "verisyntra_audit_request_context", default=None
)


def requested_tenant_id(raw: str | None) -> str | None:
    """The request's `tenant_id` parameter when it is a UUID; anything else is not logged."""
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


class AuditRequestContextMiddleware:
    """Makes the current request's path and requested tenant visible to the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_context.set(
            AuditRequestContext(
                path=request.path,
                method=request.method,
                tenant_id=requested_tenant_id(request.GET.get("tenant_id")),
            )
        )
        try:
            return self.get_response(request)
        finally:
            _request_context.reset(token)


def task_started(task=None, kwargs=None, **_signal) -> None:
    """Celery `task_prerun`: the task's name (and tenant argument, if any) for the audit log."""
    raw_tenant = (kwargs or {}).get("tenant_id")
    _request_context.set(
        AuditRequestContext(
            path=None,
            method=None,
            tenant_id=requested_tenant_id(str(raw_tenant)) if raw_tenant else None,
            task=getattr(task, "name", None),
        )
    )


def task_finished(**_signal) -> None:
    """Celery `task_postrun`: the worker process goes back to having no context."""
    _request_context.set(None)


def pool_exhaustion_record(exc: PoolExhausted) -> dict:
    """The audit record for one exhaustion, with the current request's context when there is one."""
    context = _request_context.get()
    return {
        "event": "pool_exhausted",
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "pool": exc.alias,
        "pool_size": exc.pool_size,
        "max_overflow": exc.max_overflow,
        "timeout_seconds": exc.timeout,
        "waited_seconds": round(exc.waited, 3),
        "method": context.method if context else None,
        "path": context.path if context else None,
        "task": context.task if context else None,
        "tenant_id": context.tenant_id if context else None,
    }


def audit_pool_exhausted(exc: PoolExhausted) -> None:
    """The exhaustion observer: write the event as one JSON line."""
    audit_logger.warning(json.dumps(pool_exhaustion_record(exc), ensure_ascii=False))
