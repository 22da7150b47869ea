"""`manage.py pool_report` against real connections: leak suspects, languages, JSON, exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from health import selectors
from health.tests.conftest import dead_port, rebuilt_pool
from verisyntra.db.config import POOLED_ALIASES, READ_ALIAS, SCAN_LIVENESS_APPLICATION_NAME, WRITE_ALIAS

pytestmark = pytest.mark.django_db(transaction=True, databases=[READ_ALIAS, WRITE_ALIAS])
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_server_view():
    """The endpoint reuses its server reading for SERVER_VIEW_CACHE_SECONDS: each test compares fresh ones."""
    selectors._server_view_cache.clear()
    yield
    selectors._server_view_cache.clear()


@contextmanager
def idle_in_transaction(alias: str):
    """A pooled connection of `alias`, in another thread, that ran a query inside a transaction and then stopped."""
    started, release = threading.Event(), threading.Event()
    pid: list[int] = []

    def hold():
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid() /* forgotten transaction */")
                pid.append(cursor.fetchone()[0])
                started.set()
                release.wait(30)
        finally:
            connections[alias].close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield pid[0]
    finally:
        release.set()
        thread.join(10)


def pool_report(*args: str) -> str:
    out = io.StringIO()
    call_command("pool_report", *args, stdout=out)
    return out.getvalue()


def test_a_scans_liveness_transaction_is_not_a_leak_suspect():
    # A running scan holds its proof of life in a transaction it leaves open on purpose
    # (inventory.scan_services.data_scan_liveness); only the real leak beside it is reported.
    from inventory.scan_services import data_scan_liveness

    with data_scan_liveness(scan_id=uuid.uuid4()), idle_in_transaction(WRITE_ALIAS) as leaked_pid:
        time.sleep(1.2)
        report = json.loads(pool_report("--json", "--idle-threshold", "1"))
    suspects = {(s["pid"], s["application_name"]) for s in report["leak_suspects"]}
    assert (leaked_pid, "verisyntra-write") in suspects
    assert all(app != SCAN_LIVENESS_APPLICATION_NAME for _, app in suspects)


def test_connection_idle_in_transaction_is_flagged_with_its_age_and_last_query():
    with idle_in_transaction(WRITE_ALIAS) as pid:
        time.sleep(1.2)
        report = json.loads(pool_report("--json", "--idle-threshold", "1"))
        english = pool_report("--idle-threshold", "1")
        vietnamese = pool_report("--idle-threshold", "1", "--lang", "vi")
        # Below the threshold it is not a suspect.
        assert json.loads(pool_report("--json", "--idle-threshold", "3600"))["leak_suspects"] == []

    [suspect] = [s for s in report["leak_suspects"] if s["pid"] == pid]
    assert suspect["application_name"] == "verisyntra-write"
    assert suspect["state"] == "idle in transaction"
    assert suspect["idle_in_transaction_seconds"] >= 1.0
    assert suspect["transaction_seconds"] >= suspect["idle_in_transaction_seconds"]
    assert suspect["last_query_start"]
    assert "forgotten transaction" in suspect["last_query"]
    assert suspect["blocking_sessions"] == 0  # it holds no lock anyone waits for
    assert report["status"] == "warning"
    assert any("idle in transaction" in f["en"] for f in report["findings"])
    write_pool = next(p for p in report["pools"] if p["alias"] == WRITE_ALIAS)
    assert write_pool["server_connections"]["idle in transaction"] >= 1

    assert f"pid {pid} verisyntra-write: idle in transaction" in english
    assert "forgotten transaction" in english
    assert f"tiến trình {pid} verisyntra-write: nhàn rỗi trong giao dịch" in vietnamese
    assert "truy vấn cuối bắt đầu lúc" in vietnamese
    assert "Trạng thái chung: Cảnh báo" in vietnamese
    assert "(nghi rò rỉ)" in vietnamese
    assert english_words_left_in(vietnamese, english) == set()


# Names that stay as they are in Vietnamese text: products, commands, the pools' aliases, the loanword
# "web", and Vietnamese words spelt like English ones ("so" in "so với", compared with).
UNTRANSLATED_NAMES = {"postgresql", "pgbouncer", "vacuum", "celery", "hikaricp", "nginx", "verisyntra", "web", "wiki", "x", "so"}
UNTRANSLATED_NAMES |= set(POOLED_ALIASES)


def english_words_left_in(vietnamese: str, english: str) -> set[str]:
    """Words of the English report that also appear in the Vietnamese one, apart from names and identifiers.

    Identifiers (settings, hosts, paths, the queried SQL) contain `_ . / - = :` or digits and are skipped,
    as are the last queries the report quotes (the client's SQL, shown as it was sent).
    """

    def words(text: str) -> set[str]:
        text = "\n".join(line.split(": SELECT", 1)[0] for line in text.splitlines())
        tokens = (token.strip("()[],;:.%'\"~+-") for token in text.split())
        return {token.casefold() for token in tokens if token.isalpha() and token.isascii()}

    return (words(vietnamese) & words(english)) - UNTRANSLATED_NAMES


def test_report_shows_configured_pools_headroom_and_the_core_count_rule(settings):
    settings.DATABASE_SERVER_CORES = 3
    settings.DATABASE_SERVER_SPINDLES = 1
    report = json.loads(pool_report("--json"))
    assert [(p["alias"], p["pool_size"], p["max_overflow"]) for p in report["pools"]] == [(READ_ALIAS, 20, 10), (WRITE_ALIAS, 50, 20)]
    [server] = report["servers"]
    clients = (30 + 70) * (settings.WEB_PROCESSES + settings.CELERY_WORKER_CONCURRENCY)
    # Behind PgBouncer the server sees at most its server connections for the one database and user.
    pooler = server["pooler"]
    assert server["configured_need"] == (clients if pooler is None else min(clients, pooler["server_connections_per_pool"]))
    assert server["headroom_at_full_load"] == server["available_connections"] - server["configured_need"]
    sizing = report["sizing"]
    assert (sizing["cores"], sizing["cores_source"], sizing["core_rule_connections"]) == (3, "DATABASE_SERVER_CORES", 7)
    # 2 web processes x min(70, 8 threads) + 2 Celery processes x 1 = 18 > 2 x 7: far above.
    assert sizing["write_usable_total"] == settings.WEB_PROCESSES * min(70, settings.WEB_THREADS) + settings.CELERY_WORKER_CONCURRENCY
    assert sizing["write_far_above_core_rule"] is True
    assert any("only queues the work inside PostgreSQL" in a["en"] for a in sizing["advice"])
    assert any("chỉ khiến công việc xếp hàng bên trong PostgreSQL" in a["vi"] for a in sizing["advice"])


@pytest.mark.parametrize(("write_group", "expected_pool"), [(1, 6), (2, 3), (0, None)])
def test_the_warning_and_the_measured_advice_give_one_write_pool_per_heavy_writer_process(settings, write_group, expected_pool):
    settings.DATABASE_SERVER_CORES = 3  # about 2 write connections per core: 6, shared by the heavy writers
    settings.WEB_WRITE_CONCURRENCY = write_group
    # Unsplit (0): every web process serves heavy writes.
    expected_pool = expected_pool or max(1, 6 // settings.WEB_PROCESSES)
    advice = json.loads(pool_report("--json"))["sizing"]["advice"]
    [warning] = [a for a in advice if a["en"].startswith("WARNING: the write pools")]
    [measured] = [a for a in advice if "concurrent writers run all at once" in a["en"]]
    assert f"WRITE_POOL_SIZE = {expected_pool}," in warning["en"] and f"WRITE_POOL_SIZE = {expected_pool}," in warning["vi"]
    assert f"WRITE_POOL_SIZE={expected_pool} " in measured["en"] and f"WRITE_POOL_SIZE={expected_pool} " in measured["vi"]
    writers = write_group or settings.WEB_PROCESSES
    kind = "write-group" if write_group else "web"
    assert f"{writers} {kind} {'process' if writers == 1 else 'processes'}," in measured["en"]


def test_write_pool_within_the_core_count_rule_is_not_flagged(settings):
    settings.DATABASE_SERVER_CORES = 16  # rule: 33 connections; 18 usable write connections are fine
    report = json.loads(pool_report("--json"))
    assert report["sizing"]["write_far_above_core_rule"] is False
    assert not any("core-count rule" in f["en"] for f in report["findings"])


def test_unreachable_server_is_critical_and_exits_non_zero():
    port = str(dead_port())
    with rebuilt_pool(READ_ALIAS, PORT=port), rebuilt_pool(WRITE_ALIAS, PORT=port):
        with pytest.raises(SystemExit) as exit_info:
            pool_report("--lang", "vi")
    assert exit_info.value.code == 2


def test_watch_refreshes_until_interrupted():
    out = io.StringIO()
    with mock.patch("health.management.commands.pool_report.time.sleep", side_effect=[None, KeyboardInterrupt]):
        call_command("pool_report", "--json", "--watch", "1", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert all(json.loads(line)["pools"] for line in lines)


# --- One verdict: the report and /health/connection-pools judge by the same rules ------------------


def test_stock_configuration_is_healthy_in_the_report_and_the_endpoint_with_sizing_as_advice(staff_client, settings):
    settings.DATABASE_SERVER_CORES = 2  # the sizing rule then finds the stock write pools far too large
    report = json.loads(pool_report("--json"))
    endpoint = staff_client.get("/health/connection-pools").json()
    assert (report["status"], endpoint["status"]) == ("healthy", "healthy")
    assert report["findings"] == endpoint["findings"] == []
    # The sizing rule's warning is advice about the configuration: shown, but not a health status.
    [advice] = report["advice"]
    assert advice["code"] == "finding.write_far_above" and "core-count rule" in advice["en"]
    text = pool_report()
    assert "Overall status: HEALTHY" in text and "the rules of /health/connection-pools" in text
    assert "Configuration advice (it does not change the status)" in text


def test_a_leaked_transaction_is_a_warning_in_the_report_and_the_endpoint(staff_client, settings):
    settings.POOL_LEAK_SUSPECT_SECONDS = 1
    with idle_in_transaction(WRITE_ALIAS):
        time.sleep(1.2)
        report = json.loads(pool_report("--json"))
        endpoint = staff_client.get("/health/connection-pools").json()
    assert (report["status"], endpoint["status"], endpoint["status_vi"]) == ("warning", "warning", "Cảnh báo")
    [leak] = [f for f in endpoint["findings"] if f["code"] == "finding.leak_suspects"]
    assert leak in report["findings"]
    # The endpoint's advice names the finding that set its status.
    assert endpoint["recommendation"] == leak["en"] and endpoint["recommendation_vi"] == leak["vi"]


# --- --watch and --help --------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("out", "clears"), [(io.StringIO(), False), (Terminal(), True)])
def test_watch_clears_the_screen_only_on_a_terminal(out, clears):
    with mock.patch("health.management.commands.pool_report.time.sleep", side_effect=[None, KeyboardInterrupt]):
        call_command("pool_report", "--watch", "1", stdout=out)
    text = out.getvalue()
    assert text.count("Overall status:") == 2
    assert ("\033[2J" in text) is clears
    assert ("\033" in text) is clears  # into a file or a pipe: no control codes at all


def test_help_gives_the_exit_codes_and_a_wrong_option_is_not_critical():
    from health.management.commands.pool_report import Command

    help_text = " ".join(Command().create_parser("manage.py", "pool_report").format_help().split())
    assert "Exit status: 0 healthy or only warnings; 2 critical" in help_text
    assert "1 the report could not be made" in help_text
    # argparse would exit 2 on a wrong option: a monitoring check must not read a typo as "critical".
    wrong = subprocess.run(
        [sys.executable, "manage.py", "pool_report", "--no-such-option"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 1, wrong.stderr
    assert "unrecognized arguments: --no-such-option" in wrong.stderr
