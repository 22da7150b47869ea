"""The tables' owner, for tests that must do what the runtime role may not (disable triggers, create tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from verisyntra.db.config import MIGRATION_ALIAS, WRITE_ALIAS
from verisyntra.db.direct import direct_connection


@contextmanager
def owner_cursor(*, autocommit: bool = True) -> Iterator:
    """A cursor of the owner (what `migrate` runs as) on the test database; without autocommit, one transaction committed at the end."""
    conn = direct_connection(
        MIGRATION_ALIAS, application_name="verisyntra-test-owner", database=settings.DATABASES[WRITE_ALIAS]["NAME"], autocommit=autocommit
    )
    try:
        with conn.cursor() as cursor:
            yield cursor
        if not autocommit:
            conn.commit()
    finally:
        conn.close()
