"""verisyntra.ids: the one generator of time-ordered (UUID version 7 layout) row ids."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import connections

from verisyntra import ids
from verisyntra.ids import id_range_reserve


def all_ids(ranges) -> list[uuid.UUID]:
    return [uuid.UUID(text) for id_range in ranges for text in id_range.strings()]


def test_ids_carry_version_7_and_the_rfc_variant():
    for value in all_ids([id_range_reserve(500)]):
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert (value.int >> 62) & 0b11 == 0b10


def test_ids_carry_the_current_unix_millisecond():
    before = time.time_ns() // 1_000_000
    value = uuid.UUID(id_range_reserve(1).strings()[0])
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_ids_increase_strictly_across_ranges_reserved_within_one_millisecond():
    values = all_ids([id_range_reserve(count) for count in (1, 250, 3, 0, 1_000, 7) * 50])
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_ids_still_increase_when_the_clock_steps_back(monkeypatch):
    first = all_ids([id_range_reserve(10)])
    real_time_ns = time.time_ns
    monkeypatch.setattr(ids.time, "time_ns", lambda: real_time_ns() - 3_600 * 10**9)
    later = all_ids([id_range_reserve(10)])
    assert first[-1] < later[0]
    assert later[0].int >> 80 == first[-1].int >> 80, "the last millisecond is kept until the clock catches up"


def test_canonical_strings_sort_like_the_ids():
    texts = [text for count in (3, 300) for text in id_range_reserve(count).strings()]
    assert texts == sorted(texts) == [str(uuid.UUID(text)) for text in texts]


@pytest.mark.django_db(databases=["write"])
def test_postgresql_computes_the_same_ids_from_the_sql_parts():
    id_range = id_range_reserve(2_000)
    high, base = id_range.sql_parts()
    with connections["write"].cursor() as cursor:
        cursor.execute("SELECT (%s || to_hex(%s::bigint + n))::uuid FROM generate_series(1, %s) AS n ORDER BY n", [high, base, 2_000])
        computed = [str(row[0]) for row in cursor.fetchall()]
    assert computed == id_range.strings()
