"""Who may open which operations endpoint, and what the open ones give away.

`/health/live` and `/health/ready` are open (probes carry no token) and say yes or no only; the
details (`/health/connection-pools`, `/health/database`, `/metrics`: servers, ports, process ids,
`max_connections`, pool configuration) answer staff users only: 401 without credentials, 403 for
a user who is not staff, in the one bilingual error shape.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from health.tests.conftest import dead_port, held_connections, rebuilt_pool
from health.tests.operators import member_headers, staff_headers
from inventory.services import tenant_create
from inventory.tests.api_support import assert_bilingual_error
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, WRITE_ALIAS

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS]),
    pytest.mark.urls("health.tests.urls"),
]

STAFF_ONLY = ["/health/connection-pools", "/health/database", "/metrics"]
OPEN = ["/health/live", "/health/ready"]


def server_details() -> list[str]:
    """What the staff-only answers reveal and the open ones must not: the database's host:port and name."""
    params = connections[WRITE_ALIAS].settings_dict
    return [f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}", params["NAME"], "max_connections", "pool_size"]


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_anonymous_callers_get_401_and_nothing_about_the_servers(client, path):
    response = client.get(path)
    body = assert_bilingual_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")
    assert set(body) == {"error", "error_vi", "code"}
    assert "pid" not in response.content.decode()


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_a_wrong_token_gets_401(client, path):
    assert_bilingual_error(client.get(path, headers={"Authorization": "Token not-a-real-token"}), 401, "authentication_failed")


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_a_tenant_members_token_gets_403_staff_required(path):
    _tenant, _user, token = tenant_create(name="Công ty Thành Viên", username="member-ops")
    response = Client(headers={"Authorization": f"Token {token.key}"}).get(path)
    body = assert_bilingual_error(response, 403, "staff_required")
    assert set(body) == {"error", "error_vi", "code"}


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_a_signed_in_user_who_is_not_staff_gets_403(client, path):
    client.force_login(get_user_model().objects.create_user("signed-in-member"))
    assert_bilingual_error(client.get(path), 403, "staff_required")


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        ("/health/connection-pools", '"max_connections"'),
        ("/health/database", '"latency_ms"'),
        ("/metrics", "verisyntra_pool_connections_in_use"),
    ],
)
def test_a_staff_token_opens_them(path, shows):
    response = Client(headers=staff_headers()).get(path)
    assert response.status_code == 200, response.content[:300]
    assert shows in response.content.decode()


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_a_staff_member_signed_in_to_the_admin_opens_them_in_a_browser(client, path):
    client.force_login(get_user_model().objects.create_user("operator-browser", is_staff=True))
    assert client.get(path).status_code == 200


PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4"


def test_metrics_answer_prometheus_in_text_and_refusals_in_json_whatever_it_accepts(client):
    scraped = Client(headers=staff_headers()).get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    assert scraped.status_code == 200 and scraped["Content-Type"].startswith("text/plain")
    response = client.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
    assert response["Content-Type"].startswith("application/json")
    assert_bilingual_error(response, 401, "not_authenticated")
    member = Client(headers=member_headers()).get("/metrics", headers={"Accept": "text/plain"})
    assert_bilingual_error(member, 403, "staff_required")


@pytest.mark.parametrize("path", OPEN)
def test_the_probes_are_open_and_reveal_no_host_port_pid_or_pool(client, path):
    response = client.get(path)
    assert response.status_code == 200
    text = response.content.decode()
    for detail in server_details():
        assert detail not in text, (detail, text)
    body = response.json()
    assert body["status"] in {"alive", "ready"} and "pid" not in body
    if path == "/health/live":
        assert body == {"status": "alive"}
    if path == "/health/ready":
        assert body == {"status": "ready", "status_vi": "Sẵn sàng"}


def test_ready_is_503_with_retry_after_and_no_details_when_the_database_does_not_answer(client):
    port = dead_port()
    with rebuilt_pool(WRITE_ALIAS, PORT=port):
        response = client.get("/health/ready")
    body = assert_bilingual_error(response, 503, "not_ready")
    assert int(response["Retry-After"]) > 0
    assert set(body) == {"error", "error_vi", "code", "recommendation", "recommendation_vi"}
    text = json.dumps(body)
    assert str(port) not in text and "write" not in text
    # Back once the database answers again.
    assert client.get("/health/ready").status_code == 200


def test_ready_is_503_at_once_when_this_processes_read_pool_is_full(client):
    with rebuilt_pool(READ_ALIAS, POOL_SIZE=1, MAX_OVERFLOW=0, TIMEOUT=30), held_connections(READ_ALIAS, 1):
        response = client.get("/health/ready")
    assert_bilingual_error(response, 503, "not_ready")


def test_the_pool_view_answers_staff_while_the_read_pool_is_full(staff_client):
    # Operators open it when the pool ran out; the credential lookup must not wait for a read connection.
    connections[WRITE_ALIAS].close()  # the fixture's, which a request's thread would not hold
    with rebuilt_pool(READ_ALIAS, POOL_SIZE=1, MAX_OVERFLOW=0, TIMEOUT=3), held_connections(READ_ALIAS, 1):
        response = staff_client.get("/health/connection-pools")
        assert response.status_code == 200, response.content[:300]
        assert response.json()["read_pool"]["checked_out"] == 1  # the held one; the request's own lookup is not counted
        assert response.json()["write_pool"]["checked_out"] == 0


def test_the_index_and_front_page_say_which_endpoints_need_staff(client):
    endpoints = {e["path"]: e["staff_only"] for e in client.get("/health/").json()["endpoints"]}
    assert endpoints == {path: False for path in OPEN} | {path: True for path in STAFF_ONLY}
    # And each says the truth: the open ones answer anonymously, the others refuse.
    for path, staff_only in endpoints.items():
        assert client.get(path).status_code == (401 if staff_only else 200), path


def test_every_pooled_alias_is_checked_by_ready(client, query_log):
    client.get("/health/ready")
    assert set(query_log.aliases) >= set(POOLED_ALIASES)
