"""Catalogue entries: Resource budgets: bounded validation, streamed scan bodies, bounded responses."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
