"""Security basics: secrets stay out of logs and error bodies, the admin is for staff only,
DEBUG is off unless asked for, and production settings pass `manage.py check --deploy`."""

from __future__ import annotations

import logging
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from inventory.services import tenant_create
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.env import EnvironmentVariableError

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "verisyntra" / "settings.py"

db = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

# What an operator sets in production (README "Reliability and security"); SECRET_KEY is generated per run.
PRODUCTION_ENVIRONMENT = {
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "ALLOWED_HOSTS": "inventory.example.vn",
}


def settings_under(monkeypatch, **environment: str) -> dict:
    """The settings module's values as it computes them under `environment` (fresh, not cached)."""
    for name in ("DEBUG", "SECRET_KEY", *PRODUCTION_ENVIRONMENT):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def manage_check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", *PRODUCTION_ENVIRONMENT}}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- DEBUG and deployment checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("false", False), ("0", False), ("true", True), ("1", True)],
)
def test_debug_is_off_unless_explicitly_set(monkeypatch, value, expected):
    environment = {} if value is None else {"DEBUG": value}
    assert settings_under(monkeypatch, **environment)["DEBUG"] is expected


def test_a_debug_value_that_is_neither_on_nor_off_stops_the_start_naming_the_variable(monkeypatch):
    # A typo must not silently pick a mode: the process refuses to start and says which words work.
    with pytest.raises(EnvironmentVariableError, match="DEBUG must be one of 1, true, yes, on or 0, false, no, off; got 'maybe'"):
        settings_under(monkeypatch, DEBUG="maybe")


def test_without_debug_cookies_are_secure_and_the_browsable_api_is_gone(monkeypatch):
    values = settings_under(monkeypatch)
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"] == ["rest_framework.renderers.JSONRenderer"]


def test_health_probes_are_never_redirected_to_https(monkeypatch):
    values = settings_under(monkeypatch, SECURE_SSL_REDIRECT="true")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert r"^health/" in values["SECURE_REDIRECT_EXEMPT"]


def test_production_settings_pass_check_deploy():
    result = manage_check_deploy({**PRODUCTION_ENVIRONMENT, "SECRET_KEY": secrets.token_urlsafe(64)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_refuses_the_development_secret_key():
    result = manage_check_deploy(PRODUCTION_ENVIRONMENT)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# --- The admin ---------------------------------------------------------------------------------


@db
def test_admin_is_closed_to_anonymous_users(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@db
def test_admin_is_closed_to_authenticated_users_who_are_not_staff(client):
    tenant, user, token = tenant_create(name="Công ty Không Phải Nhân Viên", username="member-not-staff")
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/auth/user/").status_code == 302


@db
def test_admin_opens_for_staff(client):
    staff = get_user_model().objects.create_user(username="operator", password="x" * 20, is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


@db
def test_a_tenant_api_token_does_not_open_the_admin(client):
    tenant, user, token = tenant_create(name="Công ty Token", username="token-holder")
    response = client.get("/admin/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 302


# --- Secrets in logs and bodies -------------------------------------------------------------------


@pytest.fixture
def every_log_record(caplog):
    """Every record at every level, including SQL logging and the libraries' own loggers."""
    for name in (None, "django", "django.request", "django.db.backends", "dj_db_conn_pool", "rest_framework", "verisyntra"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
        lines.extend(str(value) for value in record.__dict__.values())
    return "\n".join(lines)


@db
@pytest.mark.urls("tests.security_urls")
def test_a_wrong_token_appears_neither_in_the_401_nor_in_any_log(client, every_log_record):
    guessed = secrets.token_hex(20)
    response = client.get("/whoami", HTTP_AUTHORIZATION=f"Token {guessed}")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert guessed not in response.content.decode()
    assert guessed not in logged_text(every_log_record)


@db
@pytest.mark.urls("tests.security_urls")
def test_a_valid_token_appears_neither_in_a_500_nor_in_its_traceback(client, every_log_record):
    tenant, user, token = tenant_create(name="Công ty Lỗi", username="unlucky")
    client.raise_request_exception = False
    assert client.get("/whoami", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    response = client.get("/explodes", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error.", "error_vi": "Lỗi máy chủ nội bộ.", "code": "internal_error"}
    assert "Traceback" not in response.content.decode()
    logs = logged_text(every_log_record)
    assert "unexpected failure while serving unlucky" in logs  # the failure is logged...
    assert token.key not in logs  # ...without the credential that came with it


@db
@pytest.mark.urls("tests.security_urls")
def test_a_token_for_another_tenant_is_refused_without_echoing_it(client, every_log_record):
    mine, me, my_token = tenant_create(name="Công ty Của Tôi", username="me")
    theirs, _, _ = tenant_create(name="Công ty Của Họ", username="them")
    response = client.get(f"/analytics/compliance-summary?tenant_id={theirs.pk}", HTTP_AUTHORIZATION=f"Token {my_token.key}")
    if response.status_code == 404 and "json" not in response["Content-Type"]:
        pytest.skip("the analytics endpoints are not built yet")
    assert response.status_code in (403, 404)
    assert my_token.key not in response.content.decode()
    assert my_token.key not in logged_text(every_log_record)


@db
@pytest.mark.urls("tests.security_urls")
def test_a_database_password_appears_neither_in_the_503_nor_in_any_log(client, every_log_record):
    from health.tests.conftest import dead_port, rebuilt_pool

    tenant, user, token = tenant_create(name="Công ty Mật Khẩu", username="pw-owner")
    password = f"pw-{secrets.token_hex(12)}"
    # Both aliases: with `read` alone down, reads fall back to the primary (verisyntra.db.replicas).
    port = dead_port()
    with rebuilt_pool(READ_ALIAS, PORT=port, PASSWORD=password), rebuilt_pool(WRITE_ALIAS, PORT=port, PASSWORD=password):
        response = client.get("/whoami", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert password not in response.content.decode()
    assert password not in logged_text(every_log_record)
    assert token.key not in logged_text(every_log_record)
