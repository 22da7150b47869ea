"""A data scan through the running service, watched in the API and the Django admin at once.

    scripts/dev                       # in another terminal; prints the demo tenant and token
    .venv/bin/python -m benchmarks.live_scan --tenant-id <id> --token <token> \\
        --admin-user opsadmin --admin-password <password> [--records 100000] [--base-url http://127.0.0.1:8000]

Posts `--records` activities (`benchmarks.scan.records`) to `POST /data-scans`, then polls the
scan's `status_url` (token) and the admin change list (`/admin/inventory/datascan/?q=<scan id>`,
logged-in session) until the scan ends, printing a line whenever either changed. Then it checks in
PostgreSQL (this process's settings: the same environment variables as the service) that the scan
left exactly `records_total` activities with distinct record indexes, no stored chunk, consistent
activity counts, and a stored task result. Exits non-zero if any check fails.

The admin's session cookie is `Secure` outside DEBUG: run the service with
`SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false` to log in over plain HTTP.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlencode

from benchmarks.scan import records

TERMINAL = {"completed", "failed"}
PROGRESS_VALUE = re.compile(r'<progress value="(\d+)"')
PROCESSED_OF_TOTAL = re.compile(r"([\d,]+) / ([\d,]+)")


@dataclass(frozen=True)
class Response:
    status_code: int
    url: str
    headers: Message
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)


class Client:
    """A small HTTP client on the standard library, with a cookie jar for the admin's session.

    The README runs this helper right after `scripts/dev`, which installs only requirements.txt:
    an HTTP library from requirements-dev.txt (httpx) would stop it with "No module named ...".
    Redirects are followed, as the admin's login answers with one.
    """

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 60):
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.timeout = timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, method: str, path: str, *, params=None, data=None, content=None, headers=None) -> Response:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params:
            url += "?" + urlencode(params)
        headers = {**self.headers, **(headers or {})}
        if data is not None:
            content = urlencode(data).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(url, data=content, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, answer.geturl(), answer.headers, answer.read())
        except urllib.error.HTTPError as error:  # a 4xx/5xx is an answer to report, not a crash
            return Response(error.code, error.geturl(), error.headers, error.read())

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)


def admin_login(client: Client, username: str, password: str) -> Response:
    form = client.get("/admin/login/", params={"next": "/admin/"})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit(f"admin login page has no CSRF token (HTTP {form.status_code})")
    answer = client.post(
        "/admin/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/admin/"},
        headers={"Referer": str(form.url)},
    )
    if "/admin/login/" in str(answer.url):
        raise SystemExit("admin login refused: wrong credentials, or Secure cookies over plain HTTP (see --help)")
    return answer


def admin_row(client: Client, scan_id: str) -> str:
    """The scan's row in the admin change list, as `status | progress | processed / total`."""
    page = client.get("/admin/inventory/datascan/", params={"q": scan_id}).text
    body = page[page.find("<tbody>") :]  # the search box above the table repeats the scan id
    row = body[body.find(scan_id) :]
    row = row[: row.find("</tr>")]
    status = re.search(r'field-status_both">([^<]*)<', row)
    progress = PROGRESS_VALUE.search(row)
    counts = PROCESSED_OF_TOTAL.search(row)
    if not (status and progress and counts):
        return "admin: row not found"
    return f"admin: {status.group(1)} progress {progress.group(1)}% {counts.group(1)} / {counts.group(2)}"


def api_state(body: dict) -> str:
    return f"API: {body['status']} / {body['status_vi']} {body['progress_percent']}% {body['records_processed']}/{body['records_total']}"


def database_checks(scan_id: str) -> list[tuple[str, bool, str]]:
    """(check, held, what was found) for the scan's rows, read through the write alias (the primary)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
    import django

    django.setup()
    from django.db.models import Count, Max, Min
    from django_celery_results.models import TaskResult

    from inventory.activity_counts import activity_counts_drift
    from inventory.models import DataScan, DataScanChunk, ProcessingActivity

    scan = DataScan.objects.using("write").get(pk=scan_id)
    rows = ProcessingActivity.objects.using("write").filter(data_scan_id=scan_id)
    index = "scan_record_index"
    found = rows.aggregate(n=Count("id"), distinct=Count(index, distinct=True), lo=Min(index), hi=Max(index))
    chunks = DataScanChunk.objects.using("write").filter(data_scan_id=scan_id).count()
    drift = activity_counts_drift(tenant_id=scan.tenant_id)
    results = list(
        TaskResult.objects.using("write")
        .filter(task_name="inventory.process_data_scan", task_args__contains=scan_id)
        .values_list("status", "result")
    )
    total = scan.records_total
    return [
        ("rows == records_total", found["n"] == total, f"{found['n']} rows for {total} records"),
        ("record indexes distinct, 0..total-1", found["distinct"] == total and found["lo"] == 0 and found["hi"] == total - 1,
         f"{found['distinct']} distinct, {found['lo']}..{found['hi']}"),
        ("no stored chunk left", chunks == 0, f"{chunks} chunks"),
        ("activity counts match the rows", not drift, f"{len(drift)} tenant/category pairs drifted"),
        ("task result stored as SUCCESS", any(status == "SUCCESS" for status, _ in results), f"{results}"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--admin-user", required=True)
    parser.add_argument("--admin-password", default=os.environ.get("ADMIN_PASSWORD"), help="default: $ADMIN_PASSWORD")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the scan to end")
    args = parser.parse_args()
    if not args.admin_password:
        parser.error("--admin-password or ADMIN_PASSWORD is required")

    admin = Client(args.base_url, timeout=60)
    login = admin_login(admin, args.admin_user, args.admin_password)
    print(f"admin login: {login.status_code} {login.url} {login.headers.get('X-VeriSyntra-Group', '-')}")

    api = Client(args.base_url, headers={"Authorization": f"Token {args.token}"}, timeout=600)
    body = json.dumps({"tenant_id": args.tenant_id, "activities": records(args.records)}, ensure_ascii=False).encode()
    started = time.monotonic()
    submitted = api.post("/data-scans", content=body, headers={"Content-Type": "application/json"})
    group = submitted.headers.get("X-VeriSyntra-Group", "-")
    print(f"POST /data-scans -> {submitted.status_code} {time.monotonic() - started:.2f} s {group} {submitted.text}")
    if submitted.status_code != 202:
        return 1
    scan_id, status_url = submitted.json()["scan_id"], submitted.json()["status_url"]

    deadline, last, status = time.monotonic() + args.timeout, None, {}
    while time.monotonic() < deadline:
        status = api.get(status_url).json()
        line = f"{api_state(status)} | {admin_row(admin, scan_id)}"
        if line != last:
            print(time.strftime("%H:%M:%S"), line, flush=True)
            last = line
        if status["status"] in TERMINAL:
            # One more admin read, so the last line shows the admin at the end state too.
            final = f"{api_state(status)} | {admin_row(admin, scan_id)}"
            if final != last:
                print(time.strftime("%H:%M:%S"), final)
            break
        time.sleep(0.2)
    print(json.dumps(status, ensure_ascii=False))

    checks = database_checks(scan_id)
    for check, held, found in checks:
        print(f"{'ok ' if held else 'FAIL'} {check}: {found}")
    return 0 if status.get("status") == "completed" and all(held for _, held, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
