"""Time-ordered row ids in the UUID version 7 layout (RFC 9562, section 5.7), the one generator of them.

Rows written in bulk (a batch COPY, a data-scan chunk inserted by PostgreSQL) get ids from here:
48 bits of Unix milliseconds, the version 7, 12 random bits, the RFC 4122 variant `10`, and a
62-bit counter that starts at a random 61-bit value, so a range of ids never carries into the
variant bits. Ordering by (created_at, id) then lists a batch or a scan in the order it was sent,
and the primary-key index receives ascending keys, which is cheaper than random version 4 ids on
large tables.

Ids are reserved in ranges (`id_range_reserve`), strictly increasing within this process: a range
never starts below the end of the previous one, even within one millisecond or when the clock
steps back (RFC 9562, section 6.2, "monotonicity and counters"). The upper 64 bits are fixed per
range, so each id costs one hex format in Python, or one addition in SQL (`IdRange.sql_parts`).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

VERSION = 0x7
_VARIANT = 0b10 << 62
_COUNTER_LIMIT = 1 << 62
_START_BITS = 61

_lock = threading.Lock()
_last_high = 0
_next_counter = 0


@dataclass(frozen=True)
class IdRange:
    """`count` consecutive ids: the upper 64 bits `high`, the lower 64 bits from `first_low` on."""

    high: int
    first_low: int
    count: int

    def strings(self) -> list[str]:
        """The ids as canonical UUID strings, ascending."""
        upper = f"{self.high:016x}"
        prefix = f"{upper[:8]}-{upper[8:12]}-{upper[12:]}-"
        ids = []
        append = ids.append
        for value in range(self.first_low, self.first_low + self.count):
            low = f"{value:016x}"
            append(f"{prefix}{low[:4]}-{low[4:]}")
        return ids

    def sql_parts(self) -> tuple[str, int]:
        """(upper 64 bits as 16 hex digits, a signed bigint base) for id number n (1-based) in SQL.

        `(high_hex || to_hex(base + n))::uuid` is the n-th id of the range: the lower half has
        its top bit set (the variant), so as a signed bigint it is negative and `to_hex` writes
        all 16 digits of its two's complement, which are the lower half's own.
        """
        return f"{self.high:016x}", self.first_low - 1 - (1 << 64)


def id_range_reserve(count: int) -> IdRange:
    """Reserve `count` new ids, all greater than every id this process reserved before."""
    global _last_high, _next_counter
    if count < 0:
        raise ValueError("count must not be negative")
    millis = time.time_ns() // 1_000_000
    candidate = ((millis & ((1 << 48) - 1)) << 16) | (VERSION << 12) | secrets.randbits(12)
    with _lock:
        if candidate > _last_high:
            high, counter = candidate, secrets.randbits(_START_BITS)
        else:
            # Same millisecond (and random bits no higher), or the clock stepped back: continue the
            # counter. It starts below 2**61, so reaching the variant bits would take 2**61 ids.
            high, counter = _last_high, _next_counter
        if counter + count > _COUNTER_LIMIT:
            raise OverflowError("id counter exhausted")
        _last_high, _next_counter = high, counter + count
    return IdRange(high=high, first_low=_VARIANT | counter, count=count)
