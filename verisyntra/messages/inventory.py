"""Catalogue entries: Inventory: processing-activity validation, data scans, and the labels of categories, legal bases and scan statuses."""

from verisyntra.messages import Message

MESSAGES: dict[str, Message] = {}
