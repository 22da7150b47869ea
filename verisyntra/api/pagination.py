"""The one paginator of every list: `skip`/`limit` or a signed keyset cursor, one page shape.

A list is ordered by (a timestamp, a UUID), ascending or descending. A page is `limit` rows
after `skip` rows, or after the row a cursor names; `next_cursor` names the last row of the
page when more rows follow, else it is null. Cursor pages cost the same however deep (an index
range scan on the row comparison), where OFFSET reads every row it skips.

Cursors are opaque to clients and signed with the project's SECRET_KEY under a salt per list
(django.core.signing), so a client can neither forge nor edit one, nor use one list's cursor on
another. Anything that is not a cursor this list issued (bad base64, a bad signature, a valid
signature over something else, a date that does not exist such as 2026-13-45, an offset out of
range, an id that is not a UUID) is a 400 `invalid_cursor`, never a 500.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL
from pydantic import BaseModel, Field, model_validator

from verisyntra.api.errors import ApiError
from verisyntra.api.query import TenantQuery, cross_parameter_error

# OFFSET is a bigint in PostgreSQL; anything past int32 is a client bug, and deep pages want the cursor.
MAX_SKIP = 2_147_483_647
# A cursor's time must fall in these years: every row this service stores does, and converting
# an aware time near year 1 or 9999 to UTC overflows Python's datetime.
CURSOR_YEARS = range(1970, 9999)

# A page also stops early, with a `next_cursor`, once its rows hold about this many bytes, so no
# list response grows past PAGE_MAX_BYTES plus one row (an activity holds at most about 0.8 MB):
# 1,000 maximum-size activities were 782 MB of JSON in one response. Rows are fetched in batches
# sized by what is left of the budget, so the database never sends what the page will not hold.
PAGE_MAX_BYTES = 4 * 1024 * 1024
FIRST_FETCH_ROWS = 100

Row = TypeVar("Row", bound=Model | dict[str, Any])
M = TypeVar("M", bound=Model)


class PageQuery(TenantQuery):
    """`skip` and `cursor`; each list's query model adds its `limit` (default and maximum differ)."""

    skip: int = Field(0, ge=0, le=MAX_SKIP, description=f"Rows to skip, 0 to {MAX_SKIP}. Default 0. Not with `cursor`.")
    cursor: str | None = Field(None, description="The `next_cursor` of the previous page of this list, unchanged.")

    @model_validator(mode="after")
    def _cursor_or_skip(self) -> PageQuery:
        if self.cursor is not None and self.skip:
            raise cross_parameter_error("skip", "parameter.cursor_with_skip")
        return self


class PageEnvelope(BaseModel):
    """The fields every page of every list has; a list's page model adds its rows under its own name."""

    tenant_id: uuid.UUID
    count: int = Field(description="Rows on this page.")
    skip: int = Field(description="Rows skipped (0 on cursor pages).")
    limit: int = Field(description="The page size asked for.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page's rows and the envelope fields to render with them."""

    rows: list[Row]
    skip: int
    limit: int
    next_cursor: str | None

    def envelope(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        return {"tenant_id": tenant_id, "count": len(self.rows), "skip": self.skip, "limit": self.limit, "next_cursor": self.next_cursor}


@dataclass(frozen=True)
class KeysetPaginator:
    """Pages of one list ordered by (`time_field`, `id_field`), newest first when `descending`."""

    list_name: str
    time_field: str
    id_field: str
    descending: bool = False

    @property
    def salt(self) -> str:
        """The signing salt: one per list, so a cursor of one list is refused by another."""
        return f"verisyntra.api.cursor.{self.list_name}"

    def order(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.time_field}", f"{sign}{self.id_field}"

    def encode(self, moment: dt.datetime, row_id: uuid.UUID) -> str:
        return signing.dumps([moment.isoformat(), str(row_id)], salt=self.salt)

    def decode(self, token: str) -> tuple[dt.datetime, uuid.UUID]:
        """The (time, id) a cursor of this list names, or a 400 `invalid_cursor`."""
        try:
            payload = signing.loads(token, salt=self.salt)
            moment_text, id_text = payload
            moment = dt.datetime.fromisoformat(moment_text)
            row_id = uuid.UUID(id_text)
        except (signing.BadSignature, ValueError, TypeError, AttributeError, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
        if moment.tzinfo is None or moment.year not in CURSOR_YEARS:
            raise ApiError("invalid_cursor")
        return moment, row_id

    def page(self, queryset: QuerySet[M, Row], *, limit: int, skip: int = 0, cursor: str | None = None) -> Page[Row]:
        """`limit` rows of `queryset` in this list's order, after `skip` rows or after `cursor`'s row."""
        ordered = queryset.order_by(*self.order())
        if cursor is not None:
            moment, row_id = self.decode(cursor)
            ordered = ordered.filter(self._after(queryset.model, moment, row_id))
            skip = 0
        # One row more than the page says whether another page follows.
        rows: list[Row] = []
        size = 0
        more = False
        want = min(limit + 1, FIRST_FETCH_ROWS)
        offset = skip
        while not more:
            batch: Sequence[Row] = list(ordered[offset : offset + want])
            offset += len(batch)
            for row in batch:
                if len(rows) == limit or (rows and size >= PAGE_MAX_BYTES):
                    more = True
                    break
                rows.append(row)
                size += estimated_bytes(row)
            if len(batch) < want:
                break
            # The rest of the page in one query if the rows so far say it fits the budget.
            average = max(size // max(len(rows), 1), 1)
            want = max(min(limit + 1 - len(rows), (PAGE_MAX_BYTES - size) // average + 1), 1)
        next_cursor = self.encode(*self._key(rows[-1])) if more else None
        return Page(rows=rows, skip=skip, limit=limit, next_cursor=next_cursor)

    def _after(self, model: type[Model], moment: dt.datetime, row_id: uuid.UUID) -> RawSQL:
        # A row comparison, which PostgreSQL answers with one index range scan on (tenant, time, id).
        table = model._meta.db_table
        time_column = model._meta.get_field(self.time_field).column  # type: ignore[union-attr]  # concrete fields have a column
        id_column = model._meta.get_field(self.id_field).column  # type: ignore[union-attr]
        operator = "<" if self.descending else ">"
        sql = f'("{table}"."{time_column}", "{table}"."{id_column}") {operator} (%s, %s)'
        return RawSQL(sql, (moment, row_id), output_field=BooleanField())

    def _key(self, row: Model | dict[str, Any]) -> tuple[dt.datetime, uuid.UUID]:
        if isinstance(row, dict):
            return row[self.time_field], row[self.id_field]
        return getattr(row, self.time_field), getattr(row, self.id_field)


def estimated_bytes(value: Any) -> int:
    """About how many bytes `value` (a row: a model instance or a dict) takes as JSON; cheap, no encoding."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, dict):
        return sum(len(str(key)) + 3 + estimated_bytes(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sum(estimated_bytes(item) + 1 for item in value) + 2
    if isinstance(value, Model):
        return estimated_bytes({key: item for key, item in vars(value).items() if key != "_state"})
    return 16  # numbers, booleans, dates, UUIDs: small and bounded
