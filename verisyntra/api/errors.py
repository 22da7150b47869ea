"""The one place that turns exceptions into responses, in the one error shape.

Every error a client can see is `{"error": ..., "error_vi": ..., "code": ...}` plus optional
detail, with both sentences from the message catalogue (`verisyntra/messages/api.py`) under the
body's `code`. DRF views reach this through `api_exception_handler` (settings
`REST_FRAMEWORK["EXCEPTION_HANDLER"]`), which first lets DRF's own `exception_handler` map
`Http404`, Django's `PermissionDenied` and DRF's exceptions (status, `WWW-Authenticate`,
`Retry-After`, transaction rollback) and then replaces DRF's body by the bilingual one. Everything
else (admin, plain Django views, middleware) arrives through `DatabaseUnavailableMiddleware` and
the JSON 400/403/404/500 handlers that `verisyntra.urls` names.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from verisyntra.api.drain import request_body_discard
from verisyntra.db.pools import PoolExhausted
from verisyntra.messages import LANGUAGES, Bilingual, Language, render, render_in

logger = logging.getLogger(__name__)

# --- The error bodies, declared once: the handler builds every body through these models and the
# OpenAPI schema (verisyntra.api.openapi) documents the same models.


class ErrorBody(BaseModel):
    """The project's single error shape; endpoints may add detail fields (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow", title="Error")

    error: str = Field(description="What went wrong, in English.")
    error_vi: str = Field(description="What went wrong, in Vietnamese (full diacritics).")
    code: str = Field(description="A stable machine-readable code, e.g. `tenant_access_denied`.")


class ItemProblem(BaseModel):
    """One rejected item of a list in a request body."""

    index: int = Field(description="Position of the item in the list (from 0).")
    field: str | None = Field(description='e.g. "pdpl_category", "data_fields[2]"; null for the whole item.')
    code: str
    message: str
    message_vi: str


class ItemErrorsBody(ErrorBody):
    """A 400 about a request body: with `invalid_activities`, every bad item (at most 100 on a data scan)."""

    model_config = ConfigDict(title="BodyError")

    records_failed: int | None = Field(None, description="Items rejected (invalid_activities).")
    errors: list[ItemProblem] | None = Field(None, description="The bad items: index, field and message in both languages.")
    errors_total: int | None = Field(None, description="How many item errors there were when `errors` lists only the first ones.")
    validation_stopped: bool | None = Field(
        None, description="True when validation stopped after 100 bad items: later items were not looked at and may hold more errors."
    )
    min_items: int | None = None
    max_items: int | None = None


class RetryAdviceBody(ErrorBody):
    """A 503 or 504: the database side could not answer; says when to retry, in both languages."""

    model_config = ConfigDict(title="UnavailableError")

    recommendation: str
    recommendation_vi: str
    pool: str | None = Field(None, description="The exhausted pool (pool_exhausted).")


# Codes whose body carries declared detail fields; every other code uses `ErrorBody`.
_BODY_MODELS: dict[str, type[ErrorBody]] = {
    "invalid_activities": ItemErrorsBody,
    "empty_batch": ItemErrorsBody,
    "batch_too_large": ItemErrorsBody,
    "pool_exhausted": RetryAdviceBody,
    "database_unavailable": RetryAdviceBody,
    "query_timeout": RetryAdviceBody,
}


def error_body(code: str, *, params: Mapping[str, Any] | None = None, sentence: str | None = None, **extra: Any) -> dict[str, Any]:
    """The body for `code`: its catalogue sentence in both languages (filled from `extra` and
    `params`) and the `extra` detail fields, built through the code's declared model. `sentence`
    names another catalogue entry to word it with, for a case of the code that knows more."""
    fill = {**extra, **(params or {})}
    en, vi = (render_in(language, sentence or code, **_in_language(fill, language)) for language in LANGUAGES)
    model = _BODY_MODELS.get(code, ErrorBody)
    return model.model_validate({"error": en, "error_vi": vi, "code": code, **extra}).model_dump(mode="json", exclude_unset=True)


def _in_language(params: Mapping[str, Any], language: Language) -> dict[str, Any]:
    # A parameter that is itself a rendered sentence (a `reason`) goes in in the same language.
    return {name: getattr(value, language) if isinstance(value, Bilingual) else value for name, value in params.items()}


class ApiError(exceptions.APIException):
    """A client-visible error: a catalogue code, its status, and detail for the body.

    `extra` keyword arguments become fields of the body and fill the sentence's placeholders;
    `params` fill placeholders only. `ApiError("invalid_cursor")` is a 400.
    """

    def __init__(self, code: str, *, status_code: int = status.HTTP_400_BAD_REQUEST, params: Mapping[str, Any] | None = None, **extra: Any):
        self.status_code = status_code
        self.code = code
        self.params = dict(params or {})
        self.extra = extra
        self._body = error_body(code, params=self.params, **extra)
        super().__init__(detail=self._body["error"], code=code)

    def body(self) -> dict[str, Any]:
        return self._body


# DRF's own exceptions: the catalogue code of each, looked up along the MRO.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "malformed_json",
    exceptions.ValidationError: "invalid_input",
    exceptions.Throttled: "throttled",
}


def retry_advice(seconds: int) -> Bilingual:
    """The `recommendation` of a 503: retry after `seconds` or call an administrator."""
    return render("retry.advice", seconds=seconds)


def pool_exhausted_response_body(exc: PoolExhausted) -> tuple[dict[str, Any], int]:
    """The bilingual exhaustion body with its retry advice, and the Retry-After seconds."""
    retry_after = max(1, math.ceil(exc.timeout or 1))
    advice = retry_advice(retry_after)
    return error_body("pool_exhausted", pool=exc.alias, recommendation=advice.en, recommendation_vi=advice.vi), retry_after


DATABASE_RETRY_AFTER = 5

# SQLSTATE query_canceled: statement_timeout (READ_/WRITE_STATEMENT_TIMEOUT_MS) or pg_cancel_backend().
QUERY_CANCELED_SQLSTATE = "57014"


def is_query_timeout(exc: BaseException) -> bool:
    """PostgreSQL cancelled the statement. psycopg2's QueryCanceled subclasses its OperationalError,
    so Django raises it as `django.db.OperationalError`; only the cause's SQLSTATE tells it apart
    from a lost connection (and retrying at once would only time out again)."""
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "pgcode", None) == QUERY_CANCELED_SQLSTATE


def service_unavailable(exc: BaseException) -> tuple[dict[str, Any], int, dict[str, str]] | None:
    """Pool exhaustion, cancelled statements and lost database connections as (body, status, headers), else None."""
    if isinstance(exc, PoolExhausted):
        body, retry_after = pool_exhausted_response_body(exc)
        return body, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(retry_after)}
    if is_query_timeout(exc):
        logger.warning("database statement cancelled (statement_timeout)")
        advice = render("query_timeout.advice")
        # 504: the service's upstream, the database, gave no answer in time. No Retry-After: the same
        # request retried at once would most likely be cancelled again.
        body = error_body("query_timeout", recommendation=advice.en, recommendation_vi=advice.vi)
        return body, status.HTTP_504_GATEWAY_TIMEOUT, {}
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        advice = retry_advice(DATABASE_RETRY_AFTER)
        body = error_body("database_unavailable", recommendation=advice.en, recommendation_vi=advice.vi)
        return body, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(DATABASE_RETRY_AFTER)}
    return None


def request_too_large_body(limit: int | None = None) -> dict[str, Any]:
    """The bilingual 413 for a body over `limit` bytes (default DATA_UPLOAD_MAX_MEMORY_SIZE), naming it."""
    return request_too_large(limit).body()


def request_too_large(limit: int | None = None) -> ApiError:
    """The 413 as an exception, for views that enforce a body limit of their own."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
    return ApiError(
        "request_too_large",
        status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        params={"max_mb": round(limit / (1024 * 1024), 2)},
        max_bytes=limit,
    )


def _drf_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return exc.body()
    code = next((_DRF_CODES[cls] for cls in type(exc).__mro__ if cls in _DRF_CODES), "internal_error")
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["details"] = exc.detail
    elif isinstance(exc, exceptions.ParseError) and exc.detail != exceptions.ParseError.default_detail:
        extra["details"] = str(exc.detail)
    elif isinstance(exc, exceptions.Throttled) and getattr(exc, "wait", None) is not None:
        extra["retry_after_seconds"] = math.ceil(exc.wait)  # type: ignore[attr-defined]  # set in Throttled.__init__, missing from the stubs
        return error_body(code, sentence="throttled.wait", **extra)
    return error_body(code, **extra)


def _as_api_exception(exc: BaseException) -> exceptions.APIException | None:
    """The DRF exception DRF's own handler turns `exc` into (Http404 -> NotFound, Django's
    PermissionDenied -> DRF's), or None when DRF would not handle it."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    return exc if isinstance(exc, exceptions.APIException) else None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every 4xx/5xx of the API leaves through here."""
    # An error may come before the body was read (a refused tenant, a scan's 100th bad item).
    request_body_discard(context.get("request"))
    unavailable = service_unavailable(exc)
    if unavailable is not None:
        body, status_code, headers = unavailable
        return Response(body, status=status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when the body is read (DRF's parsers and `request.body` alike); a
        # client must learn the limit, not see a 500.
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = drf_exception_handler(exc, context)
    api_exception = _as_api_exception(exc)
    if response is not None and api_exception is not None:
        response.data = _drf_body(api_exception)
        wait = getattr(api_exception, "wait", None)
        if wait:
            # DRF rounds the wait down; a client retrying that early would be refused again.
            response["Retry-After"] = str(math.ceil(wait))
        return response
    view = context.get("view")
    if isinstance(exc, DatabaseError):
        logger.exception("database error in %s", view.__class__.__name__)
    else:
        logger.exception("unhandled error in %s", view.__class__.__name__)
    return Response(error_body("internal_error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _json(body: dict[str, Any], status_code: int, headers: Mapping[str, str] | None = None) -> JsonResponse:
    return JsonResponse(body, status=status_code, headers=headers, json_dumps_params={"ensure_ascii": False})


def _service_unavailable_response(exc: BaseException) -> JsonResponse | None:
    unavailable = service_unavailable(exc)
    if unavailable is None:
        return None
    body, status_code, headers = unavailable
    return _json(body, status_code, headers)


class DatabaseUnavailableMiddleware:
    """Outside DRF (admin, plain views), a full pool or a lost database is a 503 too.

    Exceptions raised by other middleware never reach `process_exception`; Django hands them
    to `server_error` below, which maps them the same way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return _service_unavailable_response(exc)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's handler400 for views outside DRF."""
    return _json(error_body("bad_request"), 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's handler403 for views outside DRF."""
    return _json(error_body("permission_denied"), 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's handler404 for views outside DRF."""
    return _json(error_body("not_found"), 404)


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's handler500: a database outage is still a 503, anything else a bilingual 500."""
    # Django calls handler500 inside its `except` block, so the exception is still at hand.
    exc = sys.exc_info()[1]
    unavailable = _service_unavailable_response(exc) if exc is not None else None
    return unavailable or _json(error_body("internal_error"), 500)
