"""Render deploy/nginx.conf.template: `python deploy/nginx_conf.py PREFIX LISTEN READ_UPSTREAM WRITE_UPSTREAM`.

Prints the path of the rendered file (PREFIX/nginx.conf). Used by scripts/dev and the benchmarks.
`python deploy/nginx_conf.py --error-bodies [MAX_BODY]` prints nginx's own error bodies as
`NAME=value` lines instead, for a renderer that fills the template from the environment (the
nginx image's envsubst in docker-compose.yml).

What nginx answers by itself (413, and 503 while a gunicorn group is down) keeps the service's
error shape, and its sentences come from the message catalogue like every other answer.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python deploy/nginx_conf.py`: the catalogue is in the project
    sys.path.insert(0, str(ROOT))

from verisyntra.messages import render as render_message  # noqa: E402  (needs the project on the path)

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
# Above DATA_SCAN_MAX_BODY_BYTES (1,000,000,000): the application answers its own 413 first.
DEFAULT_MAX_BODY = "1g"
# What one client may take of the front (docs/operations.md, "Slow and greedy clients"); each is
# overridable by the environment variable NGINX_<NAME> when rendering. The write limits sit above
# the 30 concurrent writers the benchmarks run from one address.
CLIENT_LIMITS = {
    "CLIENT_HEADER_TIMEOUT": "10s",
    "CLIENT_BODY_TIMEOUT": "30s",
    "SEND_TIMEOUT": "30s",
    "KEEPALIVE_TIMEOUT": "15s",
    "CONN_PER_CLIENT": "256",
    "WRITE_CONN_PER_CLIENT": "64",
    "WRITE_RATE": "200r/s",
    "WRITE_BURST": "400",
}
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_bytes(size: str) -> int:
    """An nginx size (`1024`, `1k`, `256m`, `1g`; nginx's "Syntax" section of its docs) in bytes."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", size.strip())
    if match is None:
        raise ValueError(f"not an nginx size: {size!r}")
    return int(match[1]) * _SIZE_UNITS[match[2].lower()]


def _nginx_quoted(body: dict) -> str:
    # The body goes inside nginx's single quotes: escape backslashes and quotes; a `$` would be read as a variable.
    text = json.dumps(body, ensure_ascii=False)
    if "$" in text:
        raise ValueError(f"an nginx error body cannot hold '$': {text}")
    return text.replace("\\", "\\\\").replace("'", "\\'")


def client_limits(environ: dict[str, str] | None = None) -> dict[str, str]:
    """CLIENT_LIMITS with the environment's NGINX_<NAME> overrides."""
    environ = os.environ if environ is None else environ
    return {name: environ.get(f"NGINX_{name}", default) for name, default in CLIENT_LIMITS.items()}


def error_bodies(max_body: str = DEFAULT_MAX_BODY) -> dict[str, str]:
    """The template's error-body variables, each a JSON error body in the service's shape, quoted for nginx."""
    limit = size_bytes(max_body)
    too_large = render_message("request_too_large", max_bytes=limit, max_mb=round(limit / 1024**2, 2))
    unavailable = render_message("service_unavailable")
    throttled = render_message("throttled")
    return {
        "REQUEST_TOO_LARGE_BODY": _nginx_quoted(
            {"error": too_large.en, "error_vi": too_large.vi, "code": "request_too_large", "max_bytes": limit}
        ),
        "SERVICE_UNAVAILABLE_BODY": _nginx_quoted({"error": unavailable.en, "error_vi": unavailable.vi, "code": "service_unavailable"}),
        "TOO_MANY_REQUESTS_BODY": _nginx_quoted({"error": throttled.en, "error_vi": throttled.vi, "code": "throttled"}),
    }


def render(prefix: Path, listen: str, read_upstream: str, write_upstream: str, max_body: str = DEFAULT_MAX_BODY) -> Path:
    prefix = prefix.resolve()
    for name in TEMP_DIRS:
        (prefix / name).mkdir(parents=True, exist_ok=True)
    # Started as root, nginx's workers would switch to `nobody`, who cannot write these directories.
    user_line = "user root;" if os.geteuid() == 0 else ""
    text = Template(TEMPLATE.read_text()).safe_substitute(
        USER_LINE=user_line,
        PREFIX=str(prefix),
        LISTEN=listen,
        READ_UPSTREAM=read_upstream,
        WRITE_UPSTREAM=write_upstream,
        MAX_BODY=max_body,
        **client_limits(),
        **error_bodies(max_body),
    )
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


if __name__ == "__main__":
    if sys.argv[1:2] == ["--error-bodies"] and len(sys.argv) <= 3:
        for name, value in error_bodies(*sys.argv[2:]).items():
            # Quoted, so the lines work both as a shell `. file` and as a docker compose env_file.
            print(f"{name}={shlex.quote(value)}")
        sys.exit(0)
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    print(render(Path(sys.argv[1]), *sys.argv[2:]))
