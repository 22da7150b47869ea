"""Idempotency-Key against the real service: gunicorn on pytest's test database, real clients.

Two failures a client cannot see into: its response lost to its own timeout while the server
went on and wrote, and the web process killed (SIGKILL) after the commit and before the response.
Either way the retry with the same key must answer the first attempt's response and write
nothing. Each test prints the figures docs/reliability.md records.
"""

from __future__ import annotations

import signal
import socket
import threading
import uuid

import httpx
import pytest
from django.conf import settings as django_settings

from inventory.models import DataScan, IdempotencyKey, ProcessingActivity
from inventory.services import tenant_create
from inventory.tests.api_support import activities
from inventory.tests.test_idempotency_keys import TenantRowLock, wait_for
from tests.faults.conftest import service_database_url
from tests.faults.servers import Gunicorn, service_environment
from verisyntra.db.config import READ_ALIAS, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])

WEB, WEB_AFTER_CRASH, SILENT_BROKER = 8981, 8982, 8983
BATCH = "/batch/processing-activities"
BATCH_ITEMS = 5_000  # the size of the batch that doubled in the report that asked for the header


def member(name: str, username: str) -> tuple[str, str]:
    tenant, _, token = tenant_create(name=name, username=username)
    return str(tenant.pk), token.key


def rows_of(tenant_id: str) -> int:
    return ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant_id=tenant_id).count()


def environment(broker_url: str) -> dict[str, str]:
    return service_environment(database_url=service_database_url(), broker_url=broker_url, WEB_THREADS=4)


@pytest.fixture(scope="module")
def web(django_db_setup, django_db_blocker):
    """The service on the tests' broker, shared by this module's tests (starting gunicorn costs seconds)."""
    with Gunicorn(WEB_AFTER_CRASH, environment(django_settings.CELERY_BROKER_URL)) as server:
        yield server
        server.signal_group(signal.SIGKILL)  # nothing here needs a graceful stop, which waits for idle keep-alive threads


def send_batch_whose_response_is_lost(base_url: str, token: str, tenant_id: str, body: dict, headers: dict) -> tuple[str, list]:
    """Send the batch while the tenant's row is locked, so the server is still writing when the
    client's 1 s timeout fires; then retry once as a client would. Returns the first attempt's
    fate and the retries' responses (the lock is released after the first retry)."""
    auth = {"Authorization": f"Token {token}", **headers}
    lock = TenantRowLock(tenant_id)
    retries: list = []
    try:
        with httpx.Client(base_url=base_url, headers=auth) as client:
            try:
                client.post(BATCH, params={"tenant_id": tenant_id}, json=body, timeout=1.0)
                fate = "answered"
            except httpx.TimeoutException:
                fate = "client timeout"
            wait_for(lambda: lock.waiters() == 1)  # the server is still writing the first attempt
            # The retry, while the first attempt still runs: answered at once, or waiting for the row too.
            thread = threading.Thread(
                target=lambda: retries.append(client.post(BATCH, params={"tenant_id": tenant_id}, json=body, timeout=60)), daemon=True
            )
            thread.start()
            wait_for(lambda: bool(retries) or lock.waiters() == 2)
            lock.release()
            thread.join(60)
    finally:
        lock.release()
    return fate, retries


def test_a_batch_whose_response_was_lost_to_a_client_timeout_is_written_once_on_retry(web, capsys):
    body = {"activities": activities(BATCH_ITEMS)}
    without_key, with_key = member("Công ty Mất Kết Nối A", "matketnoi-a"), member("Công ty Mất Kết Nối B", "matketnoi-b")
    key = str(uuid.uuid4())
    # Without the header (the service before it honoured it): the retry writes the batch again.
    fate, retries = send_batch_whose_response_is_lost(web.base_url, without_key[1], without_key[0], body, {})
    assert fate == "client timeout" and [r.status_code for r in retries] == [201]
    wait_for(lambda: rows_of(without_key[0]) == 2 * BATCH_ITEMS)

    # With it: the retry during the first attempt is a 409, the one after it the first answer.
    fate, retries = send_batch_whose_response_is_lost(web.base_url, with_key[1], with_key[0], body, {"Idempotency-Key": key})
    assert fate == "client timeout"
    assert [r.status_code for r in retries] == [409], [r.text[:200] for r in retries]
    assert retries[0].headers["Retry-After"] == "1" and retries[0].json()["code"] == "idempotency_key_in_flight"
    wait_for(lambda: IdempotencyKey.objects.using(WRITE_ALIAS).filter(key=key).exists())
    replay = httpx.post(
        f"{web.base_url}{BATCH}",
        params={"tenant_id": with_key[0]},
        json=body,
        headers={"Authorization": f"Token {with_key[1]}", "Idempotency-Key": key},
        timeout=60,
    )
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    written = ProcessingActivity.objects.using(WRITE_ALIAS).filter(tenant_id=with_key[0]).order_by("created_at", "id")
    assert replay.json()["created_ids"] == [str(pk) for pk in written.values_list("id", flat=True)]
    assert rows_of(with_key[0]) == BATCH_ITEMS
    with capsys.disabled():
        print(
            f"\n[idempotency] {BATCH_ITEMS:,}-item batch, response lost to a 1 s client timeout, retried once: "
            f"rows without Idempotency-Key {rows_of(without_key[0]):,}, with it {rows_of(with_key[0]):,}"
        )


class SilentBroker:
    """A port that accepts TCP connections and never answers: a publish to it hangs, which holds
    the web process just after the scan's commit (the dispatch runs on commit), where the test kills it."""

    def __init__(self, port: int):
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", port))
        self.socket.listen(64)  # never accepted: the kernel completes the handshakes, nobody reads
        self.url = f"redis://127.0.0.1:{port}/0"

    def close(self) -> None:
        self.socket.close()


def test_a_web_process_killed_between_commit_and_response_answers_the_retry_from_the_stored_response(web, capsys):
    tenant_id, token = member("Công ty Sập Nguồn", "sapnguon")
    headers = {"Authorization": f"Token {token}", "Idempotency-Key": "scan-" + str(uuid.uuid4())}
    body = {"tenant_id": tenant_id, "activities": activities(2_000)}
    broker = SilentBroker(SILENT_BROKER)
    lost: list = []
    try:
        with Gunicorn(WEB, environment(broker.url)) as doomed:

            def first_attempt():
                try:
                    lost.append(httpx.post(f"{doomed.base_url}/data-scans", json=body, headers=headers, timeout=60))
                except httpx.HTTPError as exc:
                    lost.append(exc)

            thread = threading.Thread(target=first_attempt, daemon=True)
            thread.start()
            # Committed: the scan and the key's record are there; the response has not left.
            wait_for(lambda: IdempotencyKey.objects.using(WRITE_ALIAS).filter(key=headers["Idempotency-Key"]).exists(), timeout=30)
            assert thread.is_alive(), "the response must not have left before the kill"
            doomed.signal_group(signal.SIGKILL)  # the master and its workers, as an OOM kill or a lost node would
            doomed.process.wait(10)
            thread.join(10)
        assert lost and isinstance(lost[0], httpx.HTTPError), f"the first attempt must get no response, got {lost}"
    finally:
        broker.close()
    stored = DataScan.objects.using(WRITE_ALIAS).get(tenant_id=tenant_id)
    assert stored.dispatched_at is None, "killed before the broker took it: the beat sweep dispatches it"

    # The retry reaches another web process (a restarted one, or another node behind the proxy).
    retry = httpx.post(f"{web.base_url}/data-scans", json=body, headers=headers, timeout=60)
    assert retry.status_code == 202, retry.text[:300]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["scan_id"] == str(stored.pk) and retry.json()["records_total"] == 2_000
    assert retry.headers["Location"].endswith(f"/data-scans/{stored.pk}?tenant_id={tenant_id}"), retry.headers["Location"]
    scans = DataScan.objects.using(WRITE_ALIAS).filter(tenant_id=tenant_id).count()
    assert scans == 1
    with capsys.disabled():
        print(f"\n[idempotency] web SIGKILLed between commit and response, scan retried with its key: scans stored {scans}, replayed 202")
