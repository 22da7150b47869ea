"""Fixtures for the browser tests: the service as production runs it, and Debian's Chromium.

The service is gunicorn with DEBUG off on pytest's own test database, serving the static files
that `collectstatic` gathered into a directory of this run (as scripts/dev and the Dockerfile do).
The browser is the machine's `/usr/bin/chromium`, driven by Playwright's Python package through
`executable_path`; Playwright never downloads a browser of its own here (`scripts/test` installs
Debian's `chromium` when it is missing). Every browser test saves screenshots under `test-output/browser/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.conftest import service_database_url
from tests.faults.servers import ROOT, Gunicorn, manage, service_environment

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless, and nothing that reaches for the network on its own (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS_DIR", ROOT / "test-output" / "browser"))
# Another port when two runs share a machine (each run's gunicorn needs its own).
WEB_PORT = int(os.environ.get("BROWSER_WEB_PORT", "8811"))
# Seconds a page may take to show what a test waits for.
PAGE_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser binary; in CI its absence is a failure (scripts/test installs it), elsewhere a skip."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install chromium (scripts/test does), or set CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """`collectstatic` into a directory of this run, as the service's start-up does before gunicorn."""
    root = tmp_path_factory.mktemp("static")
    env = service_environment(database_url="postgresql://unused/test_unused", broker_url="redis://127.0.0.1:6379/15", STATIC_ROOT=root)
    manage(env, "collectstatic", "--noinput")
    return root


@pytest.fixture(scope="module")
def web(django_db_setup, django_db_blocker, tests_broker, static_root) -> Iterator[Gunicorn]:
    """gunicorn (DEBUG off, as in production) on the test database, for one test module.

    Each test's rows are committed (transactional tests), so the server sees them. Stopped at the
    module's end, so its pooled connections never show up in other tests' view of the server.
    Session cookies over plain HTTP, as the README's live-scan recipe runs it.
    """
    with django_db_blocker.unblock():
        database_url = service_database_url()
    env = service_environment(
        database_url=database_url,
        broker_url=tests_broker[0],
        STATIC_ROOT=static_root,
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        WEB_THREADS=4,
        READ_POOL_SIZE=4,
        WRITE_POOL_SIZE=4,
    )
    with Gunicorn(WEB_PORT, env) as server:
        yield server


@pytest.fixture
def browser(chromium) -> Iterator:
    """A fresh Chromium (its own empty profile) for one test.

    Started per test, after the test's rows exist: while Playwright's synchronous API runs, the
    thread has a running asyncio loop, and Django refuses ORM calls from such a thread.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Visit:
    """A page of one browser context, watching what the page does: every request it makes, and every
    Content-Security-Policy violation, so a test can assert that nothing left this service."""

    def __init__(self, browser, base_url: str, name: str):
        self.base_url = base_url
        self.name = name
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="vi-VN")
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.page = self.context.new_page()
        self.page.add_init_script(
            "window.__cspViolations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failed.append(f"{request.url} {request.failure}"))

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not (url.startswith(self.base_url) or url.startswith("data:"))]

    def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(request, browser, web) -> Iterator[Visit]:
    """A page on the running service; named after the test for its screenshots."""
    opened = Visit(browser, web.base_url, request.node.name.removeprefix("test_"))
    yield opened
    opened.close()
