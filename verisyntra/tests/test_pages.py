"""The front page, the `/health/` index, the API docs' assets and the Content-Security-Policy,
through Django's test client (tests/browser/ opens the same pages in Chromium on gunicorn)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS
from verisyntra.messages import render

# What the browser must refuse on the pages where people sign in or paste a token.
SCRIPTS_FROM_THIS_SERVICE_ONLY = "script-src 'self'"

# Every link of the front page: the API docs and schema, the admin, the probes, the staff-only pages.
FRONT_PAGE_LINKS = {
    "/api/docs/",
    "/api/schema/",
    "/admin/",
    "/health/live",
    "/health/ready",
    "/health/connection-pools",
    "/health/database",
    "/metrics",
}


def policy(response) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: value for name, value in directives}


def assets(html: str) -> list[str]:
    return re.findall(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"', html)


def test_front_page_says_what_the_service_is_in_both_languages_and_links_everywhere(client):
    response = client.get("/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for code in (
        "front.title",
        "front.intro",
        "front.api_access",
        "front.link.api_docs",
        "front.link.admin",
        "front.link.health_ready",
        "front.link.metrics",
    ):
        text = render(code)
        assert text.en.replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;") in html, code
        assert text.vi.replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;") in html, code
    links = set(re.findall(r'<a href="([^"]+)"', html))
    assert links == FRONT_PAGE_LINKS
    assert 'lang="vi"' in html


def test_front_page_needs_no_database():
    # No django_db mark: any query would fail the test, and a front page must answer with the pools full.
    assert Client().get("/").status_code == 200


def test_health_index_lists_the_health_endpoints_and_says_it_checks_nothing(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    note = render("health_index.note")
    assert (body["message"], body["message_vi"]) == (note.en, note.vi)
    assert [(endpoint["path"], endpoint["staff_only"]) for endpoint in body["endpoints"]] == [
        ("/health/live", False),
        ("/health/ready", False),
        ("/health/connection-pools", True),
        ("/health/database", True),
        ("/metrics", True),
    ]
    assert all(endpoint["description"] and endpoint["description_vi"] for endpoint in body["endpoints"])


@pytest.mark.parametrize("path", ["/", "/health/"])
def test_the_landing_pages_refuse_writes(client, path):
    assert client.post(path).status_code == 405


def test_api_docs_load_pinned_swagger_ui_from_this_service_not_a_cdn(client):
    html = client.get("/api/docs/").content.decode()
    urls = assets(html)
    assert urls, html
    assert all(url.startswith("/static/drf_spectacular_sidecar/") or url.startswith("/api/docs/") for url in urls), urls
    # The start-up script is a file of its own, so the page has no inline script for the policy to allow.
    assert re.search(r"<script>\s*\S", html) is None
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])
@pytest.mark.parametrize("path", ["/api/docs/", "/admin/", "/admin/inventory/datascan/", "/"])
def test_docs_admin_and_front_page_allow_scripts_from_this_service_only(path):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("csp", "csp@example.com", None))
    response = client.get(path)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
