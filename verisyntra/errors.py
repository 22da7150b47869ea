"""The one place that turns exceptions into responses.

Every error a client can see has the same shape: `{"error": ..., "error_vi": ..., "code": ...}`
plus optional detail (per-field validation errors, retry advice). DRF views reach this through
`api_exception_handler`; everything else (admin, plain Django views, middleware) through
`DatabaseUnavailableMiddleware` and the JSON 400/403/404/500 handlers in `verisyntra.urls`.
"""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from verisyntra.db.pools import PoolExhausted

logger = logging.getLogger(__name__)


def error_body(code: str, error: str, error_vi: str, **extra: Any) -> dict[str, Any]:
    """The project's single error shape."""
    return {"error": error, "error_vi": error_vi, "code": code, **extra}


class ApiError(exceptions.APIException):
    """A client-visible error with its bilingual message; raise it from any view or service."""

    def __init__(self, *, status_code: int, code: str, error: str, error_vi: str, **extra: Any):
        self.status_code = status_code
        self.code = code
        self.error = error
        self.error_vi = error_vi
        self.extra = extra
        super().__init__(detail=error, code=code)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.error, self.error_vi, **self.extra)


# DRF's own exceptions, in both languages. Keyed by class; looked up along the MRO.
_DRF_MESSAGES: dict[type[exceptions.APIException], tuple[str, str, str]] = {
    exceptions.NotAuthenticated: (
        "not_authenticated",
        "Authentication credentials were not provided. Send 'Authorization: Token <key>'.",
        "Chưa cung cấp thông tin xác thực. Hãy gửi 'Authorization: Token <khóa>'.",
    ),
    exceptions.AuthenticationFailed: (
        "authentication_failed",
        "Invalid or expired token.",
        "Mã thông báo không hợp lệ hoặc đã hết hạn.",
    ),
    exceptions.PermissionDenied: (
        "permission_denied",
        "You do not have permission to perform this action.",
        "Không có quyền truy cập.",
    ),
    exceptions.NotFound: ("not_found", "Not found.", "Không tìm thấy."),
    exceptions.MethodNotAllowed: (
        "method_not_allowed",
        "Method not allowed.",
        "Phương thức không được phép.",
    ),
    exceptions.NotAcceptable: (
        "not_acceptable",
        "The requested response format is not available.",
        "Không hỗ trợ định dạng phản hồi được yêu cầu.",
    ),
    exceptions.UnsupportedMediaType: (
        "unsupported_media_type",
        "Unsupported content type. Send 'Content-Type: application/json'.",
        "Kiểu nội dung không được hỗ trợ. Hãy gửi 'Content-Type: application/json'.",
    ),
    exceptions.ParseError: (
        "malformed_json",
        "Malformed request body: it is not valid JSON.",
        "Nội dung yêu cầu không hợp lệ: không phải JSON hợp lệ.",
    ),
    exceptions.ValidationError: (
        "invalid_input",
        "Invalid input.",
        "Dữ liệu đầu vào không hợp lệ.",
    ),
    exceptions.Throttled: (
        "throttled",
        "Too many requests.",
        "Quá nhiều yêu cầu.",
    ),
}


def pool_exhausted_response_body(exc: PoolExhausted) -> tuple[dict[str, Any], int]:
    """The design's bilingual exhaustion message, with the retry advice; returns (body, retry_after)."""
    retry_after = max(1, math.ceil(exc.timeout or 1))
    body = error_body(
        "pool_exhausted",
        "Connection pool exhausted - all connections in use",
        "Hết kết nối – tất cả kết nối đang được sử dụng",
        pool=exc.alias,
        recommendation=f"Retry in {retry_after} seconds or contact administrator",
        recommendation_vi=f"Thử lại sau {retry_after} giây hoặc liên hệ quản trị viên",
    )
    return body, retry_after


DATABASE_UNAVAILABLE = (
    "database_unavailable",
    "The database is temporarily unavailable.",
    "Cơ sở dữ liệu tạm thời không khả dụng.",
)
DATABASE_RETRY_AFTER = 5

INTERNAL_ERROR = ("internal_error", "Internal server error.", "Lỗi máy chủ nội bộ.")

QUERY_TIMEOUT = (
    "query_timeout",
    "The database query took too long and was cancelled.",
    "Truy vấn cơ sở dữ liệu vượt quá thời gian cho phép và đã bị hủy.",
)
# SQLSTATE query_canceled: statement_timeout (READ_/WRITE_STATEMENT_TIMEOUT_MS) or pg_cancel_backend().
QUERY_CANCELED_SQLSTATE = "57014"


def is_query_timeout(exc: BaseException) -> bool:
    """PostgreSQL cancelled the statement. psycopg2's QueryCanceled subclasses its OperationalError,
    so Django raises it as `django.db.OperationalError`; only the cause's SQLSTATE tells it apart
    from a lost connection (and retrying at once would only time out again)."""
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "pgcode", None) == QUERY_CANCELED_SQLSTATE


def _service_unavailable(exc: Exception) -> tuple[dict[str, Any], int, dict[str, str]] | None:
    """Map pool exhaustion, cancelled statements and lost database connections to (body, status, headers), else None."""
    if isinstance(exc, PoolExhausted):
        body, retry_after = pool_exhausted_response_body(exc)
        return body, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(retry_after)}
    if is_query_timeout(exc):
        logger.warning("database statement cancelled (statement_timeout)")
        code, error, error_vi = QUERY_TIMEOUT
        body = error_body(
            code,
            error,
            error_vi,
            recommendation="Narrow the request (a smaller page or fewer records) or retry later",
            recommendation_vi="Hãy thu hẹp yêu cầu (trang nhỏ hơn hoặc ít bản ghi hơn) hoặc thử lại sau",
        )
        # 504: the service's upstream, the database, gave no answer in time. No Retry-After: the same
        # request retried at once would most likely be cancelled again.
        return body, status.HTTP_504_GATEWAY_TIMEOUT, {}
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        code, error, error_vi = DATABASE_UNAVAILABLE
        body = error_body(
            code,
            error,
            error_vi,
            recommendation=f"Retry in {DATABASE_RETRY_AFTER} seconds or contact administrator",
            recommendation_vi=f"Thử lại sau {DATABASE_RETRY_AFTER} giây hoặc liên hệ quản trị viên",
        )
        return body, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(DATABASE_RETRY_AFTER)}
    return None


def request_too_large_body(limit: int | None = None) -> dict[str, Any]:
    """The bilingual 413 for a body over `limit` bytes (default DATA_UPLOAD_MAX_MEMORY_SIZE), naming it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
    limit_mb = f"{limit / (1024 * 1024):g}"
    return error_body(
        "request_too_large",
        f"Request body too large: the limit is {limit} bytes ({limit_mb} MB).",
        f"Nội dung yêu cầu quá lớn: giới hạn là {limit} byte ({limit_mb} MB).",
        max_bytes=limit,
    )


def _drf_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return exc.body()
    for cls in type(exc).__mro__:
        if cls in _DRF_MESSAGES:
            code, error, error_vi = _DRF_MESSAGES[cls]
            break
    else:
        code, error, error_vi = (exc.default_code, str(exc.detail), str(exc.detail))
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["details"] = exc.detail
    elif isinstance(exc, exceptions.ParseError) and exc.detail != exceptions.ParseError.default_detail:
        extra["details"] = str(exc.detail)
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after_seconds"] = math.ceil(exc.wait)
    return error_body(code, error, error_vi, **extra)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every 4xx/5xx from the API leaves through here."""
    unavailable = _service_unavailable(exc)
    if unavailable is not None:
        body, status_code, headers = unavailable
        return Response(body, status=status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        # Django raises it when the body is read (DRF's parsers and `request.body` alike); a
        # client must learn the limit, not see a 500.
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(exc.wait))
        return Response(_drf_body(exc), status=exc.status_code, headers=headers)
    if isinstance(exc, DatabaseError):
        logger.exception("database error in %s", context.get("view").__class__.__name__)
    else:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    code, error, error_vi = INTERNAL_ERROR
    return Response(error_body(code, error, error_vi), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


class DatabaseUnavailableMiddleware:
    """Outside DRF (admin, plain views), a full pool or a lost database is a 503 too.

    Exceptions raised by other middleware never reach `process_exception`; Django hands them
    to `server_error` below, which maps them the same way.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if isinstance(exc, (PoolExhausted, OperationalError, InterfaceError)):
            return self._respond(exc)
        return None

    @staticmethod
    def _respond(exc: Exception) -> JsonResponse:
        body, status_code, headers = _service_unavailable(exc)  # type: ignore[misc]
        return JsonResponse(body, status=status_code, headers=headers, json_dumps_params={"ensure_ascii": False})


def json_error_response(status_code: int, code: str, error: str, error_vi: str) -> JsonResponse:
    return JsonResponse(error_body(code, error, error_vi), status=status_code, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception=None):
    return json_error_response(400, "bad_request", "Bad request.", "Yêu cầu không hợp lệ.")


def permission_denied(request, exception=None):
    return json_error_response(403, "permission_denied", "You do not have permission to perform this action.", "Không có quyền truy cập.")


def page_not_found(request, exception=None):
    return json_error_response(404, "not_found", "Not found.", "Không tìm thấy.")


def server_error(request):
    # Django calls handler500 inside its `except` block, so the exception is still at hand.
    exc = sys.exc_info()[1]
    if isinstance(exc, (PoolExhausted, OperationalError, InterfaceError)):
        return DatabaseUnavailableMiddleware._respond(exc)
    code, error, error_vi = INTERNAL_ERROR
    return json_error_response(500, code, error, error_vi)
