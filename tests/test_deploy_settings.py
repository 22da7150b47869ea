"""`manage.py check --deploy` is clean with the production settings, which are the defaults.

With DEBUG off, an operator sets SECRET_KEY and ALLOWED_HOSTS (the service's real host names) and
gets HTTPS redirects, HSTS and secure cookies without naming them; the check runs for real (nothing
silenced, and it still reports DEBUG or a redirect turned off). Where the service answers only to
loopback names (scripts/dev, the tests, compose on a workstation) plain HTTP keeps working.
"""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "verisyntra" / "settings.py"
SECURITY_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)
# Pools small enough for this machine's max_connections, so the capacity check (verisyntra.W001)
# has nothing to say: a production deployment sizes them for its server in the same way.
SMALL_POOLS = {"READ_POOL_SIZE": "2", "READ_POOL_MAX_OVERFLOW": "1", "WRITE_POOL_SIZE": "2", "WRITE_POOL_MAX_OVERFLOW": "1"}


def production_environment(**overrides: str) -> dict[str, str]:
    """What a production deployment must set, and nothing about HTTPS: the defaults do the rest."""
    return {"SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "inventory.example.vn", **SMALL_POOLS, **overrides}


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in SECURITY_VARIABLES}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_under(monkeypatch, **environment: str) -> dict:
    """The settings module's values as it computes them under `environment` alone (fresh, not cached)."""
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_production_settings_pass_check_deploy_with_a_secret_key_and_host_names_alone():
    result = check_deploy(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    # "no issues", and not because they were silenced.
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "reported"),
    [
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"ALLOWED_HOSTS": ""}, "security.W008"),  # the loopback default: plain HTTP, no redirect
    ],
    ids=["debug", "redirect-off", "no-hsts", "loopback-hosts"],
)
def test_check_deploy_still_reports_what_is_weakened(overrides, reported):
    result = check_deploy(production_environment(**overrides))
    assert result.returncode != 0
    assert reported in result.stdout + result.stderr


def test_with_real_host_names_https_is_on_by_default(monkeypatch):
    values = settings_under(monkeypatch, ALLOWED_HOSTS="inventory.example.vn")
    assert values["SECURE_SSL_REDIRECT"] is True
    hsts = (values["SECURE_HSTS_SECONDS"], values["SECURE_HSTS_INCLUDE_SUBDOMAINS"], values["SECURE_HSTS_PRELOAD"])
    assert hsts == (31536000, True, True)
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values.get("SILENCED_SYSTEM_CHECKS", []) == []


@pytest.mark.parametrize("hosts", [None, "localhost,127.0.0.1", "localhost"])
def test_a_service_answering_only_to_loopback_names_is_not_redirected(monkeypatch, hosts):
    values = settings_under(monkeypatch, **({} if hosts is None else {"ALLOWED_HOSTS": hosts}))
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 31536000  # sent on HTTPS answers only, so harmless here


def test_an_operator_can_turn_the_redirect_off_or_on_explicitly(monkeypatch):
    assert settings_under(monkeypatch, ALLOWED_HOSTS="inventory.example.vn", SECURE_SSL_REDIRECT="false")["SECURE_SSL_REDIRECT"] is False
    assert settings_under(monkeypatch, SECURE_SSL_REDIRECT="true")["SECURE_SSL_REDIRECT"] is True


def test_with_debug_nothing_forces_https(monkeypatch):
    values = settings_under(monkeypatch, DEBUG="true", ALLOWED_HOSTS="inventory.example.vn")
    assert "SECURE_SSL_REDIRECT" not in values and "SECURE_HSTS_SECONDS" not in values


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["inventory.example.vn"])
def test_behind_a_tls_proxy_http_is_redirected_https_gets_hsts_and_probes_stay_on_http():
    client = Client(HTTP_HOST="inventory.example.vn")
    redirected = client.get("/api/schema/")
    assert redirected.status_code == 301 and redirected["Location"] == "https://inventory.example.vn/api/schema/"
    over_tls = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.status_code == 200
    assert over_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.get("/health/live")  # plain HTTP: no HSTS
    assert client.get("/health/live").status_code == 200  # a load balancer's probe is never redirected
