"""The OpenAPI schema comes from the same pydantic models the views validate and render with.

drf-spectacular (`/api/schema/`, `/api/docs/`) accepts pydantic models wherever it takes a
serializer (`@extend_schema(request=..., responses=..., parameters=[QueryModel])`, see
`drf_spectacular.contrib.pydantic`). Its built-in extension copies pydantic's JSON Schema
2020-12 as it is; the schema it publishes is OpenAPI 3.0.3, which has no `null` type and no
`const`. `OpenApi30PydanticExtension` (a higher priority, so it wins) rewrites pydantic's output
into OpenAPI 3.0: an optional field with a `None` default is simply not required, a field that
can be null is `nullable: true`. This module also declares the standard error responses once.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.pydantic import PydanticExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from pydantic import BaseModel
from pydantic.json_schema import model_json_schema

from verisyntra.api.errors import ErrorBody, RetryAdviceBody

REF_TEMPLATE = "#/components/schemas/{model}"


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def openapi_30(schema: Any, *, optional: bool = False) -> Any:
    """`schema` (pydantic's JSON Schema) as an OpenAPI 3.0 schema object; `optional`: a property
    that may be left out and defaults to None, so null never needs to be sent."""
    if isinstance(schema, list):
        return [openapi_30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {key: value for key, value in schema.items() if key != "title"}
    variants = schema.get("anyOf")
    if isinstance(variants, list) and any(_is_null(v) for v in variants):
        rest = [v for v in variants if not _is_null(v)]
        del schema["anyOf"]
        if len(rest) == 1:
            inner = rest[0]
            schema = {**({"allOf": [inner]} if "$ref" in inner else inner), **schema}
        else:
            schema["anyOf"] = rest
        if optional and schema.get("default") is None:
            schema.pop("default", None)
        else:
            schema["nullable"] = True
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    converted: dict[str, Any] = {}
    required = set(schema.get("required", ()))
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            converted[key] = {name: openapi_30(prop, optional=name not in required) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not"):
            converted[key] = openapi_30(value)
        else:
            converted[key] = value
    return converted


class OpenApi30PydanticExtension(PydanticExtension):  # type: ignore[no-untyped-call]  # drf-spectacular's registry hook is untyped
    """drf-spectacular's pydantic support, publishing OpenAPI 3.0 rather than JSON Schema 2020-12."""

    priority = 1

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = model_json_schema(self.target, ref_template=REF_TEMPLATE, mode="serialization")
        for name, sub_schema in schema.pop("$defs", {}).items():
            component = ResolvedComponent(  # type: ignore[no-untyped-call]  # untyped in drf-spectacular
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=openapi_30(sub_schema)
            )
            auto_schema.registry.register_on_missing(component)
        result: dict[str, Any] = openapi_30(schema)
        return result


_DESCRIPTIONS = {
    400: "Bad input: a missing or malformed `tenant_id`, an invalid query parameter or cursor, malformed JSON (see `code`).",
    401: "No token, or an invalid one. Send `Authorization: Token <key>`.",
    403: "The caller is not a member of the tenant `tenant_id` names (the same answer whether or not it exists).",
    404: "Not found.",
    405: "Method not allowed.",
    406: "Only `application/json` responses are available.",
    411: "A body sent without `Content-Length` (chunked) where the whole body is checked before it is read.",
    413: "Request body over its size limit (`max_bytes`).",
    415: "Content type other than `application/json`.",
    503: "Connection pool exhausted or database unavailable; retry after `Retry-After` seconds.",
    504: "The database statement timed out.",
}

# The body each status is documented with; 503 and 504 carry retry advice.
_BODIES: dict[int, type[BaseModel]] = {503: RetryAdviceBody, 504: RetryAdviceBody}


def error_responses(*status_codes: int, **overrides: OpenApiResponse) -> dict[int, OpenApiResponse]:
    """`{status: OpenApiResponse(<error body>)}` for each status; `overrides` (keyed "400", ...) replace one."""
    responses = {code: OpenApiResponse(_BODIES.get(code, ErrorBody), description=_DESCRIPTIONS.get(code, "")) for code in status_codes}
    for code, response in overrides.items():
        responses[int(code.lstrip("_"))] = response
    return responses


# Every authenticated, tenant-scoped endpoint can answer these.
COMMON_ERROR_STATUSES = (400, 401, 403, 405, 406, 503, 504)
