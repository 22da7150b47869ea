"""Catalogue entries: Health: the pool and database health endpoints, `pool_report` and the sizing advice."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
