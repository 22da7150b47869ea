"""verisyntra.env: the one reader of configuration variables, and what it accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from verisyntra.env import EnvironmentVariableError, env_bool, env_float, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "On", " true "])
def test_the_accepted_true_words_turn_a_flag_on(raw):
    assert env_bool("DEBUG", False, environ={"DEBUG": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "OFF"])
def test_the_accepted_false_words_turn_a_flag_off(raw):
    assert env_bool("SECURE_SSL_REDIRECT", True, environ={"SECURE_SSL_REDIRECT": raw}) is False


@pytest.mark.parametrize("environ", [{}, {"DEBUG": ""}, {"DEBUG": "   "}])
def test_an_unset_or_blank_variable_means_the_default(environ):
    assert env_bool("DEBUG", True, environ=environ) is True
    assert env_int("DEBUG", 7, environ=environ) == 7
    assert env_float("DEBUG", 0.5, environ=environ) == 0.5
    assert env_str("DEBUG", "fallback", environ=environ) == "fallback"
    assert env_list("DEBUG", "a,b", environ=environ) == ["a", "b"]


def test_an_unknown_flag_word_is_refused_naming_the_variable_and_the_accepted_words():
    with pytest.raises(EnvironmentVariableError) as error:
        env_bool("SECURE_HSTS_PRELOAD", environ={"SECURE_HSTS_PRELOAD": "enabled"})
    assert "SECURE_HSTS_PRELOAD" in str(error.value)
    assert "1, true, yes, on" in str(error.value) and "0, false, no, off" in str(error.value)


def test_numbers_are_parsed_and_garbage_is_refused_naming_the_variable():
    assert env_int("WEB_THREADS", 8, environ={"WEB_THREADS": " 16 "}) == 16
    assert env_float("REPLICA_MAX_LAG_SECONDS", 5.0, environ={"REPLICA_MAX_LAG_SECONDS": "2.5"}) == 2.5
    with pytest.raises(EnvironmentVariableError, match="WEB_THREADS must be an integer.*'eight'"):
        env_int("WEB_THREADS", 8, environ={"WEB_THREADS": "eight"})
    with pytest.raises(EnvironmentVariableError, match="WEB_THREADS must be an integer.*'1.5'"):
        env_int("WEB_THREADS", 8, environ={"WEB_THREADS": "1.5"})
    with pytest.raises(EnvironmentVariableError, match="PRIMARY_PIN_SECONDS must be a number"):
        env_float("PRIMARY_PIN_SECONDS", 10.0, environ={"PRIMARY_PIN_SECONDS": "ten"})


def test_lists_are_comma_separated_with_spaces_and_empty_items_dropped():
    assert env_list("ALLOWED_HOSTS", environ={"ALLOWED_HOSTS": " a.vn, b.vn ,,[::1] "}) == ["a.vn", "b.vn", "[::1]"]


def test_it_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("VERISYNTRA_TEST_VARIABLE", "42")
    assert env_int("VERISYNTRA_TEST_VARIABLE", 0) == 42


def gunicorn_config(**variables: str) -> subprocess.CompletedProcess:
    """Load gunicorn.conf.py as gunicorn's master does: a fresh interpreter, the project root on the path."""
    script = "import runpy; ns = runpy.run_path('gunicorn.conf.py'); print(ns['workers'], ns['threads'], ns['timeout'], ns['bind'])"
    # A settings module that does not exist: loading the file must not need Django's settings.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "no_such_settings_module", **variables}
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/verisyntra-env-test-metrics")  # no temporary directory left behind
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_gunicorn_config_reads_its_variables_through_the_same_reader_without_django_settings():
    loaded = gunicorn_config(WEB_CONCURRENCY="3", WEB_THREADS="4", WEB_TIMEOUT="90", BIND="127.0.0.1:8999")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["3", "4", "90", "127.0.0.1:8999"]


def test_gunicorn_config_refuses_a_malformed_number_naming_the_variable():
    loaded = gunicorn_config(WEB_THREADS="many")
    assert loaded.returncode != 0
    assert "WEB_THREADS must be an integer" in loaded.stderr
