"""Fixtures for fault tests: the private servers, a migrated database on them, tenants and tokens,
and the environment that points a service process at pytest's own test database."""

from __future__ import annotations

import json
import os

import pytest
from django.db import connections

from tests.faults.servers import PrivatePostgres, PrivateRedis, manage, service_environment
from verisyntra.db.config import WRITE_ALIAS

PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5440"))
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "6390"))
FAULT_DATABASE = (os.environ.get("TEST_DATABASE_NAME") or "test_verisyntra") + "_faults"
# Ports for the service processes these tests start (one per test module, so none collide).
PORTS = {"restart": 8701, "storm": 8702, "redis": 8703, "timeout": 8704, "scan": 8706}


@pytest.fixture(scope="session")
def private_postgres():
    if not PrivatePostgres.available():
        pytest.skip("PostgreSQL 15 server binaries not found (PG_BIN)")
    server = PrivatePostgres(port=PG_PORT)
    server.start()
    yield server
    server.stop(mode="fast")


@pytest.fixture(scope="session")
def fault_database(private_postgres) -> str:
    """A freshly migrated database on the private cluster; returns its URL."""
    private_postgres.recreate_database(FAULT_DATABASE)
    url = private_postgres.url(FAULT_DATABASE)
    manage(service_environment(database_url=url, broker_url=f"redis://127.0.0.1:{REDIS_PORT}/7"), "migrate", "--noinput")
    return url


@pytest.fixture(scope="session")
def fault_tenants(fault_database) -> list[dict]:
    """Two tenants on the private cluster, each with a member and an API token."""
    env = service_environment(database_url=fault_database, broker_url=f"redis://127.0.0.1:{REDIS_PORT}/7")
    return [
        json.loads(manage(env, "create_tenant", name, "--user", user, "--json"))
        for name, user in (("Công ty Chịu Lỗi A", "fault-a"), ("Công ty Chịu Lỗi B", "fault-b"))
    ]


@pytest.fixture
def private_redis():
    if not PrivateRedis.available():
        pytest.skip("redis-server not found")
    server = PrivateRedis(port=REDIS_PORT)
    server.start()
    yield server
    server.stop()


def service_database_url() -> str:
    """pytest's own test database (write alias), for a service process started inside a test."""
    settings = connections[WRITE_ALIAS].settings_dict
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{settings.get('HOST') or '127.0.0.1'}:{settings.get('PORT') or 5432}/{settings['NAME']}"
