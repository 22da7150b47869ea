"""The front (deploy/nginx.conf.template, as scripts/dev runs it): one address for clients, heavy
writes to the write group's gunicorn, everything else to the read group's, and nginx's own
answers in the service's bilingual error shape.

Real nginx and two real gunicorn servers on pytest's test database; which server handled a
request is read from each one's access log, not taken from nginx's word for it.
"""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from deploy import nginx_conf
from inventory.services import tenant_create
from inventory.tests.api_support import VIETNAMESE_LETTERS
from tests.faults.conftest import service_database_url
from tests.faults.servers import FAULTS_DIR, Gunicorn, ServiceProcess, port_open, service_environment, wait_until
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

FRONT, READ_GROUP, WRITE_GROUP = 8711, 8712, 8713
BATCH = "/batch/processing-activities"


class Nginx(ServiceProcess):
    name = "nginx"

    def __init__(self, port: int, read_port: int, write_port: int, max_body: str = "256m"):
        self.port = port
        conf = nginx_conf.render(FAULTS_DIR / "nginx", f"127.0.0.1:{port}", f"127.0.0.1:{read_port}", f"127.0.0.1:{write_port}", max_body)
        super().__init__(["nginx", "-c", str(conf), "-p", str(conf.parent)], os.environ, FAULTS_DIR / "nginx.log", FAULTS_DIR / "nginx.pid")

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken")
        super().start()
        wait_until(lambda: port_open(self.port), 20, f"nginx on {self.port}")


def activity(name: str) -> dict:
    return {"activity_name": name, "pdpl_category": "Category 2: Basic Personal Data", "data_fields": ["ho_ten", "email"]}


def paths(server: Gunicorn, since: int) -> list[tuple[str, str, int]]:
    # Start-up's readiness probes are logged too, and their lines may land after the offset was taken.
    return [(method, path, status) for method, path, status, _ in server.server_times(since=since) if path != "/__ready__"]


def assert_bilingual(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["error"] and VIETNAMESE_LETTERS & set(body["error_vi"]), body
    return body


@pytest.fixture
def member():
    tenant, _, token = tenant_create(name="Công ty Cổ phần Cửa Ngõ", username="front")
    return str(tenant.pk), token.key


def test_heavy_writes_reach_the_write_group_and_everything_else_the_read_group(member):
    tenant_id, token = member
    env = service_environment(database_url=service_database_url(), broker_url="redis://127.0.0.1:6379/7", WEB_THREADS=8)
    with Gunicorn(READ_GROUP, env) as reads, Gunicorn(WRITE_GROUP, env) as writes, Nginx(FRONT, READ_GROUP, WRITE_GROUP):
        read_offset, write_offset = reads.log_size(), writes.log_size()
        client = httpx.Client(base_url=f"http://127.0.0.1:{FRONT}", headers={"Authorization": f"Token {token}"}, timeout=60)
        params = {"tenant_id": tenant_id}

        created = client.post(BATCH, params=params, json={"activities": [activity(f"Hồ sơ {i}") for i in range(3)]})
        assert created.status_code == 201, created.text
        assert created.headers["X-VeriSyntra-Group"] == "verisyntra_write"
        # A bad batch is the write group's to refuse, in both languages, through the front.
        assert_bilingual(client.post(BATCH, params=params, json={"activities": []}), 400, "empty_batch")
        # The client reads its own write through the read group.
        summary = client.get("/analytics/compliance-summary", params=params)
        assert summary.status_code == 200 and summary.json()["total_activities"] == 3
        assert summary.headers["X-VeriSyntra-Group"] == "verisyntra_read"
        scan = client.post("/data-scans", json={"tenant_id": tenant_id, "activities": [activity("Quét 1")]})
        assert scan.status_code == 202, scan.text
        status = client.get(f"/data-scans/{scan.json()['scan_id']}", params=params)
        assert status.status_code == 200 and status.headers["X-VeriSyntra-Group"] == "verisyntra_read"
        assert client.get("/health/ready").status_code == 200

        # gunicorn writes an access log line just after its response.
        wait_until(lambda: len(paths(reads, read_offset)) >= 3 and len(paths(writes, write_offset)) >= 3, 10, "access logs")
        written, read = paths(writes, write_offset), paths(reads, read_offset)
        assert [(m, p) for m, p, _ in written] == [("POST", BATCH), ("POST", BATCH), ("POST", "/data-scans")]
        assert {m for m, _, _ in read} == {"GET"}
        assert {p for _, p, _ in read} >= {"/analytics/compliance-summary", "/health/ready"}


def test_nginx_answers_in_the_services_error_shape(member):
    tenant_id, token = member
    env = service_environment(database_url=service_database_url(), broker_url="redis://127.0.0.1:6379/7", WEB_THREADS=4)
    with Gunicorn(READ_GROUP, env), Nginx(FRONT, READ_GROUP, WRITE_GROUP, max_body="1k") as front:
        client = httpx.Client(base_url=f"http://127.0.0.1:{FRONT}", headers={"Authorization": f"Token {token}"}, timeout=60)
        # Over nginx's own body limit: refused before any gunicorn thread sees it.
        big = {"activities": [activity("x" * 100) for _ in range(50)]}
        assert_bilingual(client.post(BATCH, params={"tenant_id": tenant_id}, json=big), 413, "request_too_large")
        # The write group is down (here: never started): a polite 503 with Retry-After, not a 502 page.
        down = client.post(BATCH, params={"tenant_id": tenant_id}, json={"activities": [activity("a")]})
        assert_bilingual(down, 503, "service_unavailable")
        assert int(down.headers["Retry-After"]) > 0
        # The read group still serves.
        assert client.get("/analytics/compliance-summary", params={"tenant_id": tenant_id}).status_code == 200
        front.signal_group(signal.SIGQUIT)


def test_behind_a_tls_terminator_https_passes_through_and_plain_http_is_redirected_except_probes():
    # Production: real host names (so SECURE_SSL_REDIRECT is on by default) and a TLS terminator in
    # front of nginx that sends X-Forwarded-Proto: https. Were nginx to overwrite it with its own
    # scheme, every request would be redirected to HTTPS forever.
    env = service_environment(
        database_url=service_database_url(), broker_url="redis://127.0.0.1:6379/7", WEB_THREADS=4, ALLOWED_HOSTS="inventory.example.vn"
    )
    with Gunicorn(READ_GROUP, env), Nginx(FRONT, READ_GROUP, WRITE_GROUP) as front:
        client = httpx.Client(base_url=f"http://127.0.0.1:{FRONT}", headers={"Host": "inventory.example.vn"}, timeout=60)
        over_tls = client.get("/api/schema/", headers={"X-Forwarded-Proto": "https"})
        assert over_tls.status_code == 200
        assert over_tls.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        plain = client.get("/api/schema/")
        assert plain.status_code == 301 and plain.headers["Location"] == "https://inventory.example.vn/api/schema/"
        # A load balancer's probe over plain HTTP is answered, not redirected.
        assert client.get("/health/ready").status_code == 200
        front.signal_group(signal.SIGQUIT)
