"""Load for fault tests: batch writers and dashboard readers over HTTP, every answer recorded.

Each batch carries activity names unique to the run, so the database can be checked afterwards
against what the clients were told: every batch answered 201 must be there, complete, and no
batch may be there in part.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from tests.faults.servers import FAULTS_DIR

FIGURES_DIR = FAULTS_DIR.parent / "reliability"

BATCH_PATH = "/batch/processing-activities"
DASHBOARD_PATH = "/analytics/compliance-summary"


@dataclass
class Outcome:
    """One request as the client saw it. `started` and `finished` are time.monotonic() values."""

    kind: str
    started: float
    finished: float
    status: int | None  # None: no HTTP answer at all (connection refused, reset, client timeout)
    code: str | None = None
    bilingual: bool = False
    retry_after: str | None = None
    names: tuple[str, ...] = ()
    transport_error: str | None = None
    body_excerpt: str = ""

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def activity(name: str) -> dict:
    return {
        "activity_name": name,
        "pdpl_category": "basic",
        "data_fields": ["ho_ten", "so_dien_thoai", "địa_chỉ"],
        "purpose": "Quản lý khách hàng – kiểm thử khôi phục",
        "legal_basis": "contract",
        "data_subjects": ["khách hàng"],
        "recipients": [],
        "cross_border_transfer": False,
        "retention_months": 24,
    }


def record(kind: str, started: float, response: httpx.Response | None, error: Exception | None, names=()) -> Outcome:
    finished = time.monotonic()
    if response is None:
        return Outcome(kind, started, finished, None, names=tuple(names), transport_error=type(error).__name__)
    code, bilingual = None, False
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and response.status_code >= 400:
        code = body.get("code")
        bilingual = bool(body.get("error")) and bool(body.get("error_vi"))
    return Outcome(
        kind,
        started,
        finished,
        response.status_code,
        code=code,
        bilingual=bilingual,
        retry_after=response.headers.get("Retry-After"),
        names=tuple(names),
        body_excerpt="" if response.status_code < 400 else response.text[:300],
    )


@dataclass
class LoadRun:
    """Writers and readers hammering the service until `stop()`; `outcomes` holds every answer."""

    base_url: str
    token: str
    tenant_id: str
    writers: int = 4
    readers: int = 4
    batch_size: int = 20
    request_timeout: float = 30.0
    pause: float = 0.0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            timeout=self.request_timeout,
            headers={"Authorization": f"Token {self.token}"},
        )

    def _keep(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _writer(self, number: int) -> None:
        with self._client() as client:
            sequence = 0
            while not self._stop.is_set():
                names = [f"{self.run_id}-w{number}-b{sequence}-i{i}" for i in range(self.batch_size)]
                started, response, error = time.monotonic(), None, None
                try:
                    response = client.post(
                        BATCH_PATH, params={"tenant_id": self.tenant_id}, json={"activities": [activity(n) for n in names]}
                    )
                except httpx.HTTPError as exc:
                    error = exc
                self._keep(record("batch", started, response, error, names))
                sequence += 1
                time.sleep(self.pause)

    def _reader(self, number: int) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                started, response, error = time.monotonic(), None, None
                try:
                    response = client.get(DASHBOARD_PATH, params={"tenant_id": self.tenant_id})
                except httpx.HTTPError as exc:
                    error = exc
                self._keep(record("dashboard", started, response, error))
                time.sleep(self.pause)

    def start(self) -> LoadRun:
        for number in range(self.writers):
            self._threads.append(threading.Thread(target=self._writer, args=(number,), daemon=True))
        for number in range(self.readers):
            self._threads.append(threading.Thread(target=self._reader, args=(number,), daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.request_timeout + 5)
        assert not any(thread.is_alive() for thread in self._threads), "a client thread is stuck"


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    """'kind status code' -> count, e.g. {'batch 201': 180, 'dashboard 503 database_unavailable': 3}."""
    counter = Counter(
        " ".join(str(part) for part in (o.kind, o.status if o.status is not None else o.transport_error, o.code) if part is not None)
        for o in outcomes
    )
    return dict(sorted(counter.items()))


# SQLAlchemy logs (at ERROR, with a traceback) each pooled connection whose rollback-on-return fails
# because the server died under it; the connection is discarded. Server-side noise, bounded by the
# pool size, never seen by a client. Any other traceback in a service log is a finding.
EXPECTED_TRACEBACK_CONTEXT = "sqlalchemy.pool.impl.QueuePool Exception during reset or similar"
RECORD_START = re.compile(r"^(\d{4}-\d\d-\d\d |\[\d{4}-\d\d-\d\d )")


def unexpected_tracebacks(log: str) -> list[str]:
    """The log record (its first line) of each traceback in `log` that is not of an expected kind.

    A traceback belongs to the last line that starts a log record (a timestamp); chained
    exceptions print several "Traceback" lines for one record.
    """
    unexpected, record_line = [], "<start of log>"
    for line in log.splitlines():
        if RECORD_START.match(line):
            record_line = line
        elif (
            line.startswith("Traceback")
            and EXPECTED_TRACEBACK_CONTEXT not in record_line
            and (not unexpected or unexpected[-1] is not record_line)
        ):
            unexpected.append(record_line)
    return unexpected


def save_figures(name: str, figures: dict) -> Path:
    """Write the figures of the last run where docs/reliability.md's author (and CI logs) can read them."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FIGURES_DIR / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str))
    print(f"\n[{name}] " + json.dumps(figures, ensure_ascii=False, default=str))
    return path


def outcomes_as_dicts(outcomes: list[Outcome]) -> list[dict]:
    return [asdict(o) for o in outcomes]
