"""Catalogue entries: personal-data types found by discovery, and why a column was classified so."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
