"""Catalogue entries: the pages people open in a browser (the front page, the admin's extra pages)."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
