"""Responses rendered through their declaration: the same pydantic model the schema documents."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from rest_framework import status as http_status
from rest_framework.response import Response


def respond(body: BaseModel, *, status: int = http_status.HTTP_200_OK, headers: Mapping[str, str] | None = None) -> Response:
    """`body` as JSON. Fields left unset (optional ones with no value) are left out, as documented."""
    return Response(body.model_dump(mode="json", exclude_unset=True), status=status, headers=headers)
