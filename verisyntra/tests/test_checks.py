"""System checks: ignored POOL_OPTIONS keys are errors; pools that outgrow max_connections warn."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from verisyntra.checks import pool_capacity_check, pool_options_check, read_server_limits


def databases_with(alias: str, **changes) -> dict:
    databases = copy.deepcopy(settings.DATABASES)
    databases[alias].update(changes)
    return databases


def test_clean_configuration_has_no_pool_option_errors():
    assert pool_options_check() == []


@pytest.mark.parametrize("bad_key", ["pool_size", "POOL_RECYCLE", "max_overflow", "POOL_TIMEOUT"])
def test_pool_option_the_library_would_ignore_is_an_error(bad_key):
    options = {**settings.DATABASES["write"]["POOL_OPTIONS"], bad_key: 5}
    with override_settings(DATABASES=databases_with("write", POOL_OPTIONS=options)):
        errors = pool_options_check()
    assert [e.id for e in errors] == ["verisyntra.E001"]
    assert bad_key in errors[0].msg


def test_manage_py_check_fails_on_an_ignored_key():
    options = {**settings.DATABASES["read"]["POOL_OPTIONS"], "pool_size": 5}
    with override_settings(DATABASES=databases_with("read", POOL_OPTIONS=options)):
        with pytest.raises(SystemCheckError, match="verisyntra.E001"):
            call_command("check")


def test_capacity_warning_when_pools_times_processes_exceed_max_connections():
    max_connections, reserved = read_server_limits("write")
    available = max_connections - reserved
    read_options = {**settings.DATABASES["read"]["POOL_OPTIONS"], "POOL_SIZE": 1, "MAX_OVERFLOW": 0}
    write_options = {**settings.DATABASES["write"]["POOL_OPTIONS"], "POOL_SIZE": 1, "MAX_OVERFLOW": 0}
    databases = copy.deepcopy(settings.DATABASES)
    databases["read"]["POOL_OPTIONS"] = read_options
    databases["write"]["POOL_OPTIONS"] = write_options
    # 2 connections per process: exactly at the limit is fine, one process more is not.
    fits = available // 2
    # Read and write web groups both count (WEB_PROCESSES = WEB_CONCURRENCY + WEB_WRITE_CONCURRENCY).
    with override_settings(DATABASES=databases, WEB_PROCESSES=fits, CELERY_WORKER_CONCURRENCY=0):
        assert pool_capacity_check() == []
    with override_settings(DATABASES=databases, WEB_PROCESSES=fits, CELERY_WORKER_CONCURRENCY=1):
        warnings = pool_capacity_check()
    assert [w.id for w in warnings] == ["verisyntra.W001"]
    assert f"= {2 * (fits + 1)}" in warnings[0].msg


def test_capacity_check_warns_when_server_is_unreachable():
    databases = copy.deepcopy(settings.DATABASES)
    for alias in ("read", "write"):
        databases[alias]["PORT"] = "1"  # nothing listens on port 1
    with override_settings(DATABASES=databases):
        warnings = pool_capacity_check()
    assert {w.id for w in warnings} == {"verisyntra.W002"}
