"""The guard: tests run only against `test_` databases, on every alias."""

import pytest
from django.db import connections

from conftest import connected_database_names, non_test_databases
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.db.pools import pool_container

pytestmark = pytest.mark.django_db(databases=[READ_ALIAS, WRITE_ALIAS])


def test_every_alias_is_connected_to_a_test_database():
    names = connected_database_names()
    assert set(names) == {READ_ALIAS, WRITE_ALIAS}
    assert non_test_databases(names) == {}
    assert names[READ_ALIAS] == names[WRITE_ALIAS], "read mirrors write's test database"


def test_guard_flags_a_real_database():
    assert non_test_databases({"read": "test_verisyntra", "write": "verisyntra"}) == {"write": "verisyntra"}


def test_pools_were_built_after_the_test_databases_existed():
    for alias in (READ_ALIAS, WRITE_ALIAS):
        connections[alias].ensure_connection()
        assert pool_container.has(alias)
        assert connections[alias].connection.driver_connection.info.dbname.startswith("test_")
