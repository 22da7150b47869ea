"""Catalogue entries: The Django admin: actions, columns and notices."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
