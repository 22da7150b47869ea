"""`ReadWriteRouter`: the one place that decides which pool serves a query.

Reads go to `read`, writes to `write`, except where a read must see a write that `read`
may not see yet (read-your-writes):

- while a transaction is open on `write` (its uncommitted rows exist only there);
- inside `use_primary()`, or for the rest of a request after its first write;
- for an instance loaded or saved through `write` (refresh_from_db, related lookups);
- for a client that wrote in the last PRIMARY_PIN_SECONDS (the pin cookie);
- for an API caller whose last write (its WAL position, kept in the cache) a replica has not
  replayed yet: only replicas past that position serve its reads, the primary when none is.

With several read servers (READ_DATABASE_URLS: aliases `read`, `read_1`, ...), reads are spread
round-robin over the ones `verisyntra.db.replicas` finds fit, one replica per request (so a request
never sees time go backwards between two replicas at different positions); when none is fit,
reads fall back to the primary.

Migrations run only on the primary.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.db import connections
from django.db.models import Model

from verisyntra.db.config import MIGRATION_ALIAS, POOLED_ALIASES, WRITE_ALIAS
from verisyntra.db.pinning import current_request_pin, note_write, primary_forced
from verisyntra.db.replicas import healthy_read_aliases, read_aliases_past

_next_read = itertools.count()  # next() on a count is atomic under the GIL: safe across threads


def write_transaction_open() -> bool:
    """True if this thread has an open atomic block on the write alias."""
    return connections[WRITE_ALIAS].in_atomic_block


def pick_read_alias() -> str:
    """A fit read alias (the same one for the rest of the request), or the primary when none is fit."""
    healthy = healthy_read_aliases()
    pin = current_request_pin()
    if pin is not None and pin.min_lsn is not None and healthy:
        healthy = read_aliases_past(healthy, pin.min_lsn)
    if len(healthy) == 1:
        return healthy[0]
    if not healthy:
        return WRITE_ALIAS
    if pin is not None and pin.read_alias in healthy:
        return pin.read_alias
    alias = healthy[next(_next_read) % len(healthy)]
    if pin is not None:
        pin.read_alias = alias
    return alias


class ReadWriteRouter:
    """Django's database router interface (settings.DATABASE_ROUTERS); the module docstring gives the rules."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if primary_forced() or write_transaction_open():
            return WRITE_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db == WRITE_ALIAS:
            return WRITE_ALIAS
        return pick_read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        note_write()
        return WRITE_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # Both aliases are views of the same data (the read alias is the primary or its replica).
        if obj1._state.db in POOLED_ALIASES and obj2._state.db in POOLED_ALIASES:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        # The owner's alias runs migrations; the write alias too where no owner alias is configured.
        return db in (WRITE_ALIAS, MIGRATION_ALIAS)
