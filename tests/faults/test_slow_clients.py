"""Slow and silent clients against the front (nginx in front of both gunicorn groups, as scripts/dev).

Straight to gunicorn, 8 connections that drip their headers (= WEB_THREADS) stopped a process,
and 200 connections that never sent a byte kept it down for minutes. Here 200 silent connections
and 50 that drip a header line a second are held by nginx; a probe of `/health/live` and the
compliance summary answers within 1 s throughout, and nginx cuts the slow clients off at its
configured header timeout (shortened to 3 s for the test through NGINX_CLIENT_HEADER_TIMEOUT).
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from inventory.services import tenant_create
from tests.faults.conftest import service_database_url
from tests.faults.servers import Gunicorn, service_environment
from tests.test_front import Nginx
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])]

FRONT, READ_GROUP, WRITE_GROUP = 8904, 8905, 8906
HEADER_TIMEOUT = 3
SILENT, SLOW_HEADERS = 200, 50
PROBE_BUDGET_SECONDS = 1.0


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the other side has closed (EOF or reset); an nginx 408 before the close counts too."""
    sock.settimeout(0.05)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_silent_and_slow_header_clients_are_held_by_the_front_and_cut_off_by_its_timeouts(monkeypatch):
    monkeypatch.setenv("NGINX_CLIENT_HEADER_TIMEOUT", f"{HEADER_TIMEOUT}s")
    tenant, _, token = tenant_create(name="Công ty Khách Chậm", username="slowclients")
    env = service_environment(database_url=service_database_url(), broker_url="redis://127.0.0.1:6379/7", WEB_THREADS=8)
    with Gunicorn(READ_GROUP, env), Gunicorn(WRITE_GROUP, env), Nginx(FRONT, READ_GROUP, WRITE_GROUP):
        silent = [socket.create_connection(("127.0.0.1", FRONT)) for _ in range(SILENT)]
        slow = [socket.create_connection(("127.0.0.1", FRONT)) for _ in range(SLOW_HEADERS)]
        opened = time.monotonic()
        stop = threading.Event()

        def drip() -> None:
            for sock in slow:
                sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: front\r\n")
            while not stop.wait(1.0):
                for sock in slow:
                    try:
                        sock.sendall(b"X-Drip: 1\r\n")
                    except OSError:
                        pass  # cut off: what the test waits for

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        slowest = 0.0
        probes = 0
        client = httpx.Client(base_url=f"http://127.0.0.1:{FRONT}", headers={"Authorization": f"Token {token.key}"}, timeout=10)
        try:
            while time.monotonic() - opened < HEADER_TIMEOUT + 3:
                for path, params in (("/health/live", {}), ("/analytics/compliance-summary", {"tenant_id": str(tenant.pk)})):
                    started = time.monotonic()
                    response = client.get(path, params=params)
                    slowest = max(slowest, time.monotonic() - started)
                    probes += 1
                    assert response.status_code == 200, (path, response.status_code, response.text[:200])
                time.sleep(0.1)
            # Every slow client is gone by now: nginx gave each HEADER_TIMEOUT for its whole header.
            silent_closed = sum(closed_by_peer(sock) for sock in silent)
            slow_closed = sum(closed_by_peer(sock) for sock in slow)
        finally:
            stop.set()
            dripper.join()
            for sock in silent + slow:
                sock.close()
        closed = f"{silent_closed}/{SILENT} silent, {slow_closed}/{SLOW_HEADERS} slow"
        print(f"{probes} probes, slowest {slowest * 1000:.0f} ms; closed by nginx: {closed}")
        assert slowest <= PROBE_BUDGET_SECONDS, f"a probe took {slowest:.2f} s"
        assert silent_closed == SILENT and slow_closed == SLOW_HEADERS
