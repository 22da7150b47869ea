"""The scan task's retry policy for transient errors, run in process with `Task.apply()`.

What a real worker does with redelivery and SIGKILL is in test_data_scan_worker.py and
test_data_scan_kill.py; here only the bounded retries: a transient database error or a full pool
is retried, and when the retries run out the scan ends `failed` in both languages.
"""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from inventory import scan_services
from inventory.models import DataScan
from inventory.scan_services import data_scan_submit
from inventory.tasks import process_data_scan
from inventory.tests.scan_support import activities, activity_counts, tenant_client
from inventory.validation import activities_validate
from verisyntra.db.pools import PoolExhausted

pytestmark = pytest.mark.django_db(transaction=True, databases=["read", "write"])


def stored_scan(settings, records: int = 30):
    settings.DATA_SCAN_CHUNK_SIZE = 10
    tenant, _ = tenant_client("Thử lại", "thulai")
    return data_scan_submit(tenant=tenant, rows=activities_validate(activities(records)).rows)


def failing(times: int, exc: Exception, monkeypatch):
    """Make the chunk writer raise `exc` on its first `times` calls, then work."""
    real = scan_services.data_scan_chunk_write
    calls = {"n": 0}

    def chunk_write(**kwargs):
        calls["n"] += 1
        if calls["n"] <= times:
            raise exc
        return real(**kwargs)

    monkeypatch.setattr(scan_services, "data_scan_chunk_write", chunk_write)
    return calls


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection unexpectedly"), PoolExhausted("write", 50, 20, 10.0, 10.0)],
    ids=["lost connection", "pool exhausted"],
)
def test_transient_errors_are_retried_and_the_scan_completes_exactly_once(settings, monkeypatch, error):
    scan = stored_scan(settings)
    failing(2, error, monkeypatch)
    result = process_data_scan.apply(args=[str(scan.pk)])
    assert result.successful(), result.traceback
    done = DataScan.objects.using("write").get(pk=scan.pk)
    assert done.status == "completed" and done.records_processed == 30
    assert activity_counts(scan.pk) == (30, 30)


def test_retries_are_bounded_and_then_the_scan_fails_in_both_languages(settings, monkeypatch):
    scan = stored_scan(settings)
    calls = failing(1_000, OperationalError("could not connect to server"), monkeypatch)
    result = process_data_scan.apply(args=[str(scan.pk)])
    assert result.failed()
    assert calls["n"] == process_data_scan.max_retries + 1, "first try plus max_retries, then it gives up"
    failed = DataScan.objects.using("write").get(pk=scan.pk)
    assert failed.status == "failed" and failed.status_vi == "Thất bại"
    attempts = process_data_scan.max_retries + 1
    assert failed.error == f"The database was unavailable after {attempts} attempts (OperationalError); retry the scan."
    assert failed.error_vi == f"Cơ sở dữ liệu không khả dụng sau {attempts} lần thử (OperationalError); hãy chạy lại lần quét."
    assert activity_counts(scan.pk) == (0, 0)


def test_the_task_retries_transient_errors_with_exponential_backoff_capped_at_a_minute():
    assert set(process_data_scan.autoretry_for) == {OperationalError, InterfaceError, PoolExhausted}
    assert process_data_scan.max_retries == 5
    assert process_data_scan.retry_backoff == 2 and process_data_scan.retry_backoff_max == 60
    assert process_data_scan.acks_late is True
