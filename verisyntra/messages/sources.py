"""Catalogue entries: Data sources and discovery scans: registration, guarded connections, classification, schedules."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
