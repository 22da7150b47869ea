"""Fixtures for the health tests: pools rebuilt with other options, connections held in other threads,
and a staff client for the staff-only endpoints."""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from health import status
from health.audit import AUDIT_LOGGER_NAME
from health.tests.operators import staff_headers
from verisyntra.db.config import POOL_KEYS
from verisyntra.db.pools import reset_pools


@contextmanager
def rebuilt_pool(alias: str, **overrides):
    """Rebuild `alias`'s pool with other POOL_OPTIONS (upper-case pool keys) or connection settings (PORT...).

    The alias's settings dict is shared by every thread's connection wrapper, so the change is seen
    by the next pool built; the original pool and settings are back afterwards.
    """
    params = settings.DATABASES[alias]
    assert params is connections[alias].settings_dict, "settings and connections must share the alias dict"
    saved_options = dict(params["POOL_OPTIONS"])
    saved_params = {key: params.get(key) for key in overrides if key not in POOL_KEYS}
    connections[alias].close()
    reset_pools([alias])
    for key, value in overrides.items():
        (params["POOL_OPTIONS"] if key in POOL_KEYS else params)[key] = value
    try:
        yield
    finally:
        connections[alias].close()
        reset_pools([alias])
        params["POOL_OPTIONS"].clear()
        params["POOL_OPTIONS"].update(saved_options)
        params.update(saved_params)
        status.forget_exhaustions()


@contextmanager
def held_connections(alias: str, count: int):
    """`count` connections of `alias` checked out by other threads until the block ends."""
    ready = threading.Barrier(count + 1, timeout=10)
    release = threading.Event()
    errors: list[BaseException] = []

    def hold():
        try:
            connections[alias].ensure_connection()
        except BaseException as exc:  # surfaced by the barrier below
            errors.append(exc)
        try:
            ready.wait()
            release.wait(30)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    ready.wait()
    assert not errors, errors
    try:
        yield
    finally:
        release.set()
        for thread in threads:
            thread.join(10)


def dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def audit_lines():
    """Every line written to the pool audit logger during the test (the logger does not propagate)."""
    handler = ListHandler()
    logger = logging.getLogger(AUDIT_LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def staff_client() -> Client:
    """A test client sending a staff user's token: what an operator's script or Prometheus sends."""
    return Client(headers=staff_headers())
