"""Catalogue entries: API errors: request and input, tenancy and authentication, pagination, database and pools."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
