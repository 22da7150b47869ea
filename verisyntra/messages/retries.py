"""Catalogue entries: Idempotent retries: the Idempotency-Key header and its answers."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
