"""Render deploy/pgbouncer.ini.template: `python deploy/pgbouncer_ini.py RUN_DIR UPSTREAM_URL [options]`.

Writes RUN_DIR/pgbouncer.ini and RUN_DIR/userlist.txt (the credentials PgBouncer checks clients
against and logs in to PostgreSQL with) and prints the ini's path. UPSTREAM_URL is the PostgreSQL
server behind the pooler, e.g. `postgresql://verisyntra:secret@postgres:5432`; its user becomes the
one client user, and may read the admin console's SHOW commands (stats_users). Used by
scripts/test-pgbouncer and docker-compose.yml's `pgbouncer` profile, so both run the same file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python deploy/pgbouncer_ini.py`: the environment reader is in the project
    sys.path.insert(0, str(ROOT))

from verisyntra.env import env_int, env_str  # noqa: E402  (needs the project on the path)

TEMPLATE = Path(__file__).resolve().parent / "pgbouncer.ini.template"


def userlist_line(user: str, password: str) -> str:
    """One auth_file line: both fields double-quoted, a double quote inside doubled (PgBouncer's auth_file format)."""
    return '"{}" "{}"\n'.format(user.replace('"', '""'), password.replace('"', '""'))


def render(
    run_dir: Path,
    upstream_url: str,
    *,
    listen_addr: str,
    listen_port: int,
    auth_type: str,
    default_pool_size: int,
    reserve_pool_size: int,
    max_client_conn: int,
    log_file: str | None,
) -> Path:
    """Write pgbouncer.ini and userlist.txt into `run_dir`; return the ini's path."""
    upstream = urlsplit(upstream_url)
    user = unquote(upstream.username or "postgres")
    password = unquote(upstream.password or "")
    if auth_type != "trust" and not password:
        raise SystemExit(f"auth_type {auth_type} needs the upstream URL's password (PgBouncer logs in to PostgreSQL with it)")
    run_dir.mkdir(parents=True, exist_ok=True)
    text = Template(TEMPLATE.read_text()).substitute(
        upstream_host=upstream.hostname or "127.0.0.1",
        upstream_port=upstream.port or 5432,
        listen_addr=listen_addr,
        listen_port=listen_port,
        run_dir=run_dir,
        log_file=log_file if log_file is not None else run_dir / "pgbouncer.log",
        auth_type=auth_type,
        stats_users=user,
        default_pool_size=default_pool_size,
        reserve_pool_size=reserve_pool_size,
        max_client_conn=max_client_conn,
    )
    ini = run_dir / "pgbouncer.ini"
    ini.write_text(text)
    userlist = run_dir / "userlist.txt"
    userlist.write_text(userlist_line(user, password))
    userlist.chmod(0o600)  # it may hold a password
    return ini


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="where pgbouncer.ini, userlist.txt, the pid file and the log go")
    parser.add_argument("upstream_url", help="the PostgreSQL server behind the pooler (its user and password are the client's)")
    parser.add_argument("--listen-addr", default="127.0.0.1")
    parser.add_argument("--listen-port", type=int, default=env_int("PGBOUNCER_PORT", 6432))
    parser.add_argument("--auth-type", default=env_str("PGBOUNCER_AUTH_TYPE", "scram-sha-256"), help="trust: no password")
    # The same names the service reads when PgBouncer's console is closed to it (verisyntra.db.pooler).
    parser.add_argument("--default-pool-size", type=int, default=env_int("PGBOUNCER_DEFAULT_POOL_SIZE", 20))
    parser.add_argument("--reserve-pool-size", type=int, default=env_int("PGBOUNCER_RESERVE_POOL_SIZE", 5))
    parser.add_argument("--max-client-conn", type=int, default=env_int("PGBOUNCER_MAX_CLIENT_CONN", 2000))
    parser.add_argument("--log-file", default=None, help="empty: log to stderr only (containers)")
    args = parser.parse_args(argv)
    ini = render(
        args.run_dir.resolve(),
        args.upstream_url,
        listen_addr=args.listen_addr,
        listen_port=args.listen_port,
        auth_type=args.auth_type,
        default_pool_size=args.default_pool_size,
        reserve_pool_size=args.reserve_pool_size,
        max_client_conn=args.max_client_conn,
        log_file=args.log_file,
    )
    print(ini)
    return 0


if __name__ == "__main__":
    sys.exit(main())
