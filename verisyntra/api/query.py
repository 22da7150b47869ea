"""Query parameters, declared once as a pydantic model per endpoint: the model validates the
query string (`parse_query`) and, passed to `@extend_schema(parameters=[Model])`, documents it.

Every query model starts from `TenantQuery`: the `tenant_id` parameter the API scopes every
request by. Its mistakes have their own codes (`tenant_id_required`, `invalid_tenant_id`) and are
reported before anything else, so that the tenant check (403) comes before any other parameter
is judged; every other parameter's mistake is `invalid_parameter`, naming the parameter.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any, TypeVar

from django.http import QueryDict
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from verisyntra.api.errors import ApiError
from verisyntra.messages import Bilingual, render

TENANT_PARAM = "tenant_id"

Query = TypeVar("Query", bound="TenantQuery")


class TenantQuery(BaseModel):
    """The parameter every tenant-scoped endpoint takes; endpoint query models extend it."""

    # Unknown parameters are ignored, as HTTP APIs conventionally do (caches add their own).
    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: uuid.UUID = Field(description="The tenant (UUID); the caller must be a member of it.")


def parse_tenant_id(raw: Any) -> uuid.UUID:
    """A tenant id from client input (query string or body), or the bilingual 400."""
    if raw in (None, ""):
        raise ApiError("tenant_id_required")
    try:
        return uuid.UUID(str(raw))
    except (ValueError, AttributeError, TypeError):
        raise ApiError("invalid_tenant_id") from None


def _query_values(query: QueryDict) -> dict[str, str]:
    # An empty value means "not given" (`?cursor=&limit=`), as a form left blank would send it.
    return {name: value for name, value in query.items() if isinstance(value, str) and value != ""}


def _parameter_of(error: ErrorDetails, model: type[BaseModel]) -> str:
    if error["loc"]:
        return str(error["loc"][0])
    # A check across parameters (a model validator) names its parameter in the error's context.
    return str((error.get("ctx") or {}).get("parameter") or next(iter(model.model_fields)))


def _reason(error: ErrorDetails, model: type[BaseModel], parameter: str) -> Bilingual:
    """Why the value is refused, read from the parameter's declaration."""
    context = error.get("ctx") or {}
    if "reason" in context:
        return render(str(context["reason"]))
    declared = _property_schema(model, parameter)
    if "enum" in declared:
        return render("parameter.choices", choices=", ".join(str(choice) for choice in declared["enum"]))
    if "minimum" in declared and "maximum" in declared:
        return render("parameter.range", minimum=declared["minimum"], maximum=declared["maximum"])
    return render("parameter.invalid")


@functools.cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()
    return schema


def _property_schema(model: type[BaseModel], parameter: str) -> dict[str, Any]:
    schema = _schema_of(model)
    prop: dict[str, Any] = schema.get("properties", {}).get(parameter, {})
    for variant in [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]:
        ref = variant.get("$ref", "")
        target: dict[str, Any] = schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], variant) if ref else variant
        if "enum" in target or "minimum" in target:
            return target
    return prop


def cross_parameter_error(parameter: str, reason: str) -> PydanticCustomError:
    """For a model validator: `parameter` is refused because of another one; `reason` is a catalogue code."""
    return PydanticCustomError("parameter_conflict", "{reason}", {"parameter": parameter, "reason": reason})


def parse_query(query: QueryDict, model: type[Query]) -> Query:
    """The request's query string validated by `model`, or a bilingual 400.

    `tenant_id` is checked first with its own codes (call it after the tenant check when the
    endpoint wants the 403 before a parameter's 400); any other refused parameter is a 400
    `invalid_parameter` with `parameter` naming it and the reason taken from its declaration.
    """
    values = _query_values(query)
    parse_tenant_id(values.get(TENANT_PARAM))
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        parameter = _parameter_of(error, model)
        raise ApiError("invalid_parameter", parameter=parameter, params={"reason": _reason(error, model, parameter)}) from None
