"""`ReadWriteRouter`: the one place that decides which pool serves a query.

Reads go to `read`, writes to `write`, except where a read must see a write that `read`
may not see yet (read-your-writes):

- while a transaction is open on `write` (its uncommitted rows exist only there);
- inside `use_primary()`, or for the rest of a request after its first write;
- for an instance loaded or saved through `write` (refresh_from_db, related lookups).

Migrations run only on the primary.
"""

from __future__ import annotations

from django.db import connections

from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pinning import note_write, primary_forced


def write_transaction_open() -> bool:
    """True if this thread has an open atomic block on the write alias."""
    return connections[WRITE_ALIAS].in_atomic_block


class ReadWriteRouter:
    def db_for_read(self, model, **hints):
        if primary_forced() or write_transaction_open():
            return WRITE_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db == WRITE_ALIAS:
            return WRITE_ALIAS
        return READ_ALIAS

    def db_for_write(self, model, **hints):
        note_write()
        return WRITE_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are views of the same data (the read alias is the primary or its replica).
        if obj1._state.db in POOLED_ALIASES and obj2._state.db in POOLED_ALIASES:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == WRITE_ALIAS
