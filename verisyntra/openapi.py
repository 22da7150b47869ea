"""OpenAPI pieces every API view shares: the one error shape and the standard error responses.

The schema is drf-spectacular's (`/api/schema/`, `/api/docs/`). Views describe their own bodies;
this module describes the body of every 4xx/5xx (`verisyntra.errors.error_body`) once, so the
documented error shape cannot drift from view to view.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorResponse = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(help_text="What went wrong, in English."),
        "error_vi": serializers.CharField(help_text="What went wrong, in Vietnamese (full diacritics)."),
        "code": serializers.CharField(help_text="A stable machine-readable code, e.g. `tenant_access_denied`."),
    },
)

_DESCRIPTIONS = {
    400: "Bad input: malformed `tenant_id` or parameter, malformed JSON, invalid items (see `code`).",
    401: "No token, or an invalid one. Send `Authorization: Token <key>`.",
    403: "The caller is not a member of the tenant `tenant_id` names (the same answer whether or not it exists).",
    404: "Not found.",
    405: "Method not allowed.",
    406: "Only `application/json` responses are available.",
    413: "Request body over DATA_UPLOAD_MAX_MEMORY_SIZE bytes.",
    415: "Content type other than `application/json`.",
    503: "Connection pool exhausted or database unavailable; retry after `Retry-After` seconds.",
    504: "The database statement timed out.",
}


def error_responses(*status_codes: int, **overrides: OpenApiResponse) -> dict[int, OpenApiResponse]:
    """`{status: OpenApiResponse(Error)}` for each code; `overrides` (keyed "400", ...) replace one."""
    responses = {code: OpenApiResponse(ErrorResponse, description=_DESCRIPTIONS.get(code, "")) for code in status_codes}
    for code, response in overrides.items():
        responses[int(code.lstrip("_"))] = response
    return responses


# Every authenticated, tenant-scoped endpoint can answer these.
COMMON_ERROR_STATUSES = (400, 401, 403, 405, 406, 503, 504)
