"""Render deploy/nginx.conf.template: `python deploy/nginx_conf.py PREFIX LISTEN READ_UPSTREAM WRITE_UPSTREAM`.

Prints the path of the rendered file (PREFIX/nginx.conf). Used by scripts/dev and the benchmarks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render(prefix: Path, listen: str, read_upstream: str, write_upstream: str, max_body: str = "256m") -> Path:
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
    )
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    print(render(Path(sys.argv[1]), *sys.argv[2:]))
