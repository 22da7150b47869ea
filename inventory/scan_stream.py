"""Data-scan request bodies read incrementally: a JSON object or NDJSON, one item at a time.

A scan may hold DATA_SCAN_MAX_RECORDS (1,000,000) records, about 500 MB of JSON. Parsed whole,
100,000 records held 2.1 GB in the web process; read here, the process holds one block of the
body and one chunk of items at a time, whatever the scan's size.

- `application/json`: `{"tenant_id": ..., "activities": [...]}`. The object's keys are walked
  with the standard library's C decoder (`json.JSONDecoder.raw_decode`), one value at a time;
  each activity is decoded alone. If `activities` comes before `tenant_id` (and the query names
  no tenant), the items are spooled to a temporary file until the tenant is known, so nothing is
  validated or stored for a tenant not yet checked.
- `application/x-ndjson`: one activity per line (https://github.com/ndjson/ndjson-spec); the tenant
  is in the query string.

The stream is never read past DATA_SCAN_MAX_BODY_BYTES (a 413).
"""

from __future__ import annotations

import codecs
import io
import json
import re
import tempfile
import uuid
from collections.abc import Iterator
from typing import IO, Any

from rest_framework.exceptions import ParseError

from inventory.validation import MAX_BATCH_ITEMS, MAX_FAILED_ITEMS, MIN_BATCH_ITEMS, ValidationResult, activities_validate
from verisyntra.api.errors import ApiError, request_too_large

NDJSON_MEDIA_TYPE = "application/x-ndjson"
READ_BLOCK_BYTES = 1 << 20
# One activity holds at most about 0.8 MB of text (inventory.validation's limits); escaped as
# \uXXXX that is about 5 MB. A value still unfinished past this many characters is refused
# rather than buffered without end.
MAX_VALUE_CHARS = 8 << 20
# Keys other than tenant_id and activities are ignored, as before; their values may not be large.
MAX_OTHER_VALUE_CHARS = 64 << 10
SCAN_EXAMPLE = '{"tenant_id": "...", "activities": [...]}'
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# NaN and Infinity are not JSON (RFC 8259); Python's decoder accepts them unless told otherwise.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class _TextBuffer:
    """The body as text, decoded from UTF-8 block by block; `pos` is the parse position in `text`."""

    def __init__(self, stream: IO[bytes] | None, limit: int):
        self.stream = stream
        self.limit = limit
        self.bytes_read = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.text = ""
        self.pos = 0
        self.eof = stream is None

    def fill(self) -> bool:
        """Read one more block (dropping what is parsed); False at the end of the body."""
        if self.eof:
            return False
        assert self.stream is not None
        block = self.stream.read(READ_BLOCK_BYTES)
        self.bytes_read += len(block)
        if self.bytes_read > self.limit:
            raise request_too_large(self.limit)
        try:
            decoded = self.decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc.reason}") from None
        self.text = self.text[self.pos :] + decoded
        self.pos = 0
        if not block:
            self.eof = True
        return bool(block) or bool(decoded)

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the body)."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]  # matches the empty string
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise ParseError(f"JSON parse error - expected {char!r} at byte {self.bytes_read - len(self.text) + self.pos}")
        self.pos += 1

    def value(self, max_chars: int = MAX_VALUE_CHARS) -> tuple[Any, str]:
        """The next JSON value and its text; reads more of the body while the value is unfinished."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > max_chars or not self.fill():
                    raise ParseError(f"JSON parse error - {exc.msg}") from None
                continue
            except (ValueError, RecursionError) as exc:  # NaN/Infinity; nesting too deep
                raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None
            # A number cut by the block's end ("12" of "123") decodes: make sure the body goes on.
            if end == len(self.text) and not self.eof and self.fill():
                continue
            text = self.text[self.pos : end]
            self.pos = end
            return value, text


class ScanBody:
    """A data-scan request body, read only when asked: the tenant id in it, then its items.

    Built by the parser without reading a byte, so the view checks a query-string tenant (400/403)
    before the body is read at all.
    """

    def __init__(self, stream: IO[bytes] | None, *, media_type: str, limit: int, body_tenant: bool = True):
        self.media_type = media_type
        # False: a `tenant_id` key is ignored like any other (the batch API's body has none of its own).
        self.body_tenant = body_tenant
        self.buffer = _TextBuffer(stream, limit)
        self._opened = False
        self._closed = False
        self._members = 0
        self._tenant_id: Any = None
        self._tenant_seen = False
        self._activities_seen = False
        self._spool: IO[str] | None = None

    @property
    def is_ndjson(self) -> bool:
        return self.media_type == NDJSON_MEDIA_TYPE

    @property
    def bytes_read(self) -> int:
        return self.buffer.bytes_read

    def tenant_id(self) -> Any:
        """The body's `tenant_id` (None if it has none), read up to that key only.

        Activities met before it are spooled, not validated: they are parsed after the tenant check.
        """
        if self.is_ndjson:
            return None
        self._open()
        while not self._tenant_seen and not self._closed:
            key = self._next_key()
            if key == "activities":
                self._spool = tempfile.SpooledTemporaryFile(max_size=READ_BLOCK_BYTES, mode="w+", encoding="utf-8")  # noqa: SIM115 - closed by _spooled_items
                for _, text in self._array_values():
                    # Literal line breaks in a JSON text are whitespace (inside strings they are escaped).
                    self._spool.write(text.replace("\n", " ").replace("\r", " ") + "\n")
            elif key is not None:
                self._other_value(key)
        return self._tenant_id

    def items(self, *, tenant_id: uuid.UUID) -> Iterator[Any]:
        """Every activity of the body, in order, parsed one at a time. `tenant_id` is the checked
        tenant; a `tenant_id` in the body must name the same one."""
        if self.is_ndjson:
            yield from self._ndjson_items()
            return
        self._open()
        self._check_tenant(tenant_id)
        if self._spool is not None:
            yield from self._spooled_items()
        while not self._closed:
            key = self._next_key()
            if key == "activities":
                for value, _ in self._array_values():
                    yield value
            elif key is not None:
                self._other_value(key)
                self._check_tenant(tenant_id)
        if not self._activities_seen:
            raise ApiError("invalid_body", params={"example": SCAN_EXAMPLE})

    def _check_tenant(self, tenant_id: uuid.UUID) -> None:
        if self._tenant_seen and _as_uuid(self._tenant_id) != tenant_id:
            raise ApiError("scan_tenant_mismatch")

    def _open(self) -> None:
        if self._opened:
            return
        self._opened = True
        first = self.buffer.peek()
        if first == "{":
            self.buffer.pos += 1
            return
        if first == "":
            raise ParseError("The request body is empty.")
        self.buffer.value()  # malformed: malformed_json; well-formed but not an object: invalid_body
        raise ApiError("invalid_body", params={"example": SCAN_EXAMPLE})

    def _next_key(self) -> str | None:
        """The next key of the top-level object, its colon consumed; None (and the end checked) once it closes."""
        buffer = self.buffer
        if buffer.peek() == "}":
            buffer.pos += 1
            self._closed = True
            if buffer.peek() != "":
                raise ParseError("JSON parse error - extra data after the object")
            return None
        if self._members:
            buffer.expect(",")
        key, _ = buffer.value()
        if not isinstance(key, str):
            raise ParseError("JSON parse error - object keys must be strings")
        buffer.expect(":")
        self._members += 1
        return key

    def _other_value(self, key: str) -> None:
        value, _ = self.buffer.value(MAX_OTHER_VALUE_CHARS)
        if key == "tenant_id" and self.body_tenant:
            if self._tenant_seen and value != self._tenant_id:
                raise ApiError("scan_tenant_mismatch")
            self._tenant_id, self._tenant_seen = value, True

    def _array_values(self) -> Iterator[tuple[Any, str]]:
        """The `activities` array's items, each with its JSON text."""
        buffer = self.buffer
        if self._activities_seen or buffer.peek() != "[":
            # Twice, or not a list: the body is not the documented shape.
            raise ApiError("invalid_body", params={"example": SCAN_EXAMPLE})
        self._activities_seen = True
        buffer.pos += 1
        if buffer.peek() == "]":
            buffer.pos += 1
            return
        while True:
            yield buffer.value()
            if buffer.peek() == ",":
                buffer.pos += 1
                continue
            buffer.expect("]")
            return

    def _spooled_items(self) -> Iterator[Any]:
        assert self._spool is not None
        spool, self._spool = self._spool, None
        with spool:
            spool.seek(0)
            for line in spool:
                yield _DECODER.decode(line)

    def _ndjson_items(self) -> Iterator[Any]:
        """One item per non-blank line; a line that is not one JSON value is a 400 naming its number."""
        buffer = self.buffer
        number = 0
        while True:
            newline = buffer.text.find("\n", buffer.pos)
            if newline < 0:
                if len(buffer.text) - buffer.pos > MAX_VALUE_CHARS:
                    raise ParseError(f"JSON parse error - line {number + 1} is too long")
                if buffer.fill():
                    continue
                newline = len(buffer.text)
                if newline == buffer.pos:
                    return
            line = buffer.text[buffer.pos : newline]
            buffer.pos = newline + 1
            number += 1
            if not line.strip():
                continue
            try:
                yield _DECODER.decode(line)
            except (ValueError, RecursionError):
                raise ParseError(f"JSON parse error - line {number} is not one JSON value") from None


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def body_items_validate(body: bytes, *, block_items: int = 500) -> ValidationResult | None:
    """The errors of a JSON `{"activities": [...]}` body, found while parsing it a block at a time.

    For the batch API's refusal: once MAX_FAILED_ITEMS items have failed, the answer is known and
    the rest of the body is neither parsed nor held as objects (a 25 MB body of bad items cost
    0.4 s and about 300 MB parsed whole). None when no item failed or the body has another problem
    (shape, size, syntax), which the caller's full parse then names.
    """
    if _SURROGATE_ESCAPE.search(body):
        # The full parse refuses an unpaired surrogate as malformed JSON, Python's decoder lets it
        # through: leave such a body to the full parse so the answer stays the same.
        return None
    parsed = ScanBody(io.BytesIO(body), media_type="application/json", limit=len(body), body_tenant=False)
    errors = ValidationResult()
    block: list[Any] = []
    count = 0
    try:
        for item in parsed.items(tenant_id=uuid.UUID(int=0)):
            block.append(item)
            count += 1
            if len(block) == block_items:
                errors.merge_errors(activities_validate(block, first_index=count - len(block), failed_before=errors.records_failed))
                block = []
                if errors.records_failed >= MAX_FAILED_ITEMS:
                    errors.stopped_early = True
                    return errors
        if block:
            errors.merge_errors(activities_validate(block, first_index=count - len(block), failed_before=errors.records_failed))
    except (ApiError, ParseError):
        return None
    if errors.ok or not MIN_BATCH_ITEMS <= count <= MAX_BATCH_ITEMS:
        return None
    return errors
