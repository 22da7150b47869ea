# Shared by scripts/dev and scripts/test: a virtualenv with the pinned requirements, and a
# reachable PostgreSQL and Redis (local ones started from the machine's binaries when nothing
# listens). Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
# Two roles (docs/configuration.md, "Database roles"): the pools connect as the runtime role
# (DATABASE_URL: no superuser, no BYPASSRLS, owns nothing), `migrate` as the tables' owner
# (MIGRATION_DATABASE_URL). DATABASE_ADMIN_URL is the superuser that creates both, the database
# and, locally, raises max_connections; it never serves the service.
export DATABASE_URL="${DATABASE_URL:-postgresql://verisyntra_app@127.0.0.1:5432/verisyntra}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# Debian's package, non-interactively; the package lists are refreshed only when the first try fails
# (a fresh machine has none, a warm one need not wait for them).
apt_install() {  # package
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$1" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$1" >/dev/null 2>&1; } \
    || die "apt-get install $1 failed"
}

ensure_venv() {
  local requirements="$1"
  if [ ! -x "$PY" ]; then
    say "creating virtualenv in $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed: install Python 3.11 with venv (apt-get install python3-venv)"
  fi
  local stamp="$VENV/.installed-$(sha1sum "$ROOT/requirements.txt" "$ROOT/$requirements" | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    say "installing pinned requirements ($requirements)"
    "$PY" -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
    "$PY" -m pip install --quiet -r "$ROOT/$requirements" 2>&1 | grep -v "is ignored" || true
    "$PY" -c "import django, rest_framework, dj_db_conn_pool, celery, django_celery_results" \
      || die "requirements did not install; see pip's output above"
    touch "$stamp"
  fi
}

# URL with its user (and password) replaced: url_with_user URL USER
url_with_user() {
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); host = p.hostname or "127.0.0.1"; host = f"[{host}]" if ":" in host else host; print(u.urlunsplit(p._replace(netloc=f"{sys.argv[2]}@{host}" + (f":{p.port}" if p.port else ""))))' "$1" "$2"
}
export MIGRATION_DATABASE_URL="${MIGRATION_DATABASE_URL:-$(url_with_user "$DATABASE_URL" verisyntra_owner)}"
export DATABASE_ADMIN_URL="${DATABASE_ADMIN_URL:-$(url_with_user "$DATABASE_URL" postgres)}"

# host port of a URL, e.g. "127.0.0.1 5432"
url_host_port() {
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1", p.port or int(sys.argv[2]))' "$1" "$2"
}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

is_local() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }

wait_for() {  # host port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do listening "$1" "$2" && return 0; sleep 0.1; done
  return 1
}

ensure_postgres() {
  local host port  # not the caller's: scripts/dev keeps its own $port
  read -r host port < <(url_host_port "$DATABASE_URL" 5432)
  if ! listening "$host" "$port"; then
    is_local "$host" || die "PostgreSQL at $host:$port is not reachable; check DATABASE_URL"
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      say "starting local PostgreSQL ($(ls /etc/postgresql) main)"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start \
        || die "could not start PostgreSQL with pg_ctlcluster"
    else
      die "nothing listens on $host:$port and no local PostgreSQL is installed: apt-get install postgresql-15, or set DATABASE_URL"
    fi
    wait_for "$host" "$port" 30 || die "PostgreSQL did not start listening on $host:$port"
  fi
  local i
  for ((i = 0; i < 50; i++)); do
    "$PY" - <<'PY' && return 0
import os, sys, psycopg2
from urllib.parse import urlsplit
url = urlsplit(os.environ["DATABASE_ADMIN_URL"])
try:
    psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                     password=url.password, dbname="postgres", connect_timeout=3).close()
except psycopg2.OperationalError as exc:
    if "starting up" in str(exc) or "shutting down" in str(exc):
        sys.exit(1)
    sys.exit(f"PostgreSQL refused the connection: {exc}".strip())
PY
    [ $? -eq 1 ] || exit 1
    sleep 0.2
  done
  die "PostgreSQL did not become ready"
}

# The pools of all processes must fit the server (system check verisyntra.W001). On a local
# development server we own, raise max_connections once instead of shrinking the default pools
# (read 20+10, write 50+20: 100 connections per process, where a stock PostgreSQL allows 100 in all).
ensure_max_connections() {
  "$PY" - <<'PY' || die "could not size PostgreSQL's max_connections"
import os, subprocess, sys, time
import psycopg2
from urllib.parse import urlsplit

import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
django.setup()
from django.conf import settings
from verisyntra.checks import process_count

url = urlsplit(os.environ["DATABASE_ADMIN_URL"])
capacity = sum(settings.DATABASES[a]["POOL_OPTIONS"]["POOL_SIZE"] + settings.DATABASES[a]["POOL_OPTIONS"]["MAX_OVERFLOW"] for a in ("read", "write"))
# Every web and worker process at full pool capacity, plus the test suite's own servers, psql and admin sessions.
needed = capacity * process_count() + 3 + 50
conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres", password=url.password, dbname="postgres")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT current_setting('max_connections')::int, rolsuper FROM pg_roles WHERE rolname = current_user")
current, superuser = cur.fetchone()
if current >= needed:
    sys.exit(0)
local = url.hostname in ("127.0.0.1", "localhost", "::1")
if not (local and superuser and os.path.isdir("/etc/postgresql")):
    print(f"WARNING: max_connections is {current}, the configured pools need {needed}; "
          "lower the pool sizes or raise max_connections (manage.py check explains).", file=sys.stderr)
    sys.exit(0)
print(f"==> raising local PostgreSQL max_connections {current} -> {needed} (restart)", file=sys.stderr)
cur.execute(f"ALTER SYSTEM SET max_connections = {int(needed)}")
conn.close()
version = sorted(os.listdir("/etc/postgresql"))[-1]
subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
for _ in range(100):
    try:
        psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres", password=url.password, dbname="postgres", connect_timeout=2).close()
        break
    except psycopg2.OperationalError:
        time.sleep(0.2)
PY
}

ensure_database() {
  "$PY" - <<'PY' || die "could not create the database roles and the database named in DATABASE_URL"
import os, sys, psycopg2
from psycopg2 import sql
from urllib.parse import unquote, urlsplit

def parts(variable):
    url = urlsplit(os.environ[variable])
    return url, unquote(url.username or "postgres"), url.password and unquote(url.password), url.path.lstrip("/") or "verisyntra"

app, app_user, app_password, name = parts("DATABASE_URL")
_, owner, owner_password, owner_db = parts("MIGRATION_DATABASE_URL")
admin, admin_user, admin_password, _ = parts("DATABASE_ADMIN_URL")
if owner_db != name:
    sys.exit(f"DATABASE_URL names database {name} but MIGRATION_DATABASE_URL {owner_db}: they must be the same database")

def connect(dbname):
    conn = psycopg2.connect(host=admin.hostname, port=admin.port or 5432, user=admin_user, password=admin_password, dbname=dbname)
    conn.autocommit = True
    return conn

conn = connect("postgres")
cur = conn.cursor()
def role(user, password, attributes):
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user])
    verb = "ALTER" if cur.fetchone() else "CREATE"
    statement = sql.SQL(f"{verb} ROLE {{}} {attributes}").format(sql.Identifier(user))
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cur.execute(statement)
    if verb == "CREATE":
        print(f"==> created role {user} ({attributes})", file=sys.stderr)

if owner != admin_user:
    # CREATEDB: the test suite creates its test database as the owner; pg_signal_backend: it ends a
    # failed test's leftover sessions before dropping that database.
    role(owner, owner_password, "LOGIN CREATEDB NOSUPERUSER NOCREATEROLE")
    cur.execute(sql.SQL("GRANT pg_signal_backend TO {}").format(sql.Identifier(owner)))
if app_user not in (owner, admin_user):
    role(app_user, app_password, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION")
cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name])
row = cur.fetchone()
if row is None:
    cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
    print(f"==> created database {name} (owner {owner})", file=sys.stderr)
elif row[0] != owner:
    # A database made before the two roles (owned by the superuser): the owner takes it over, with
    # its tables, sequences and functions, so `migrate` can go on changing them.
    cur.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner)))
    db = connect(name)
    dbcur = db.cursor()
    dbcur.execute(
        """
        SELECT format('ALTER %s %s OWNER TO %I', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, c.oid::regclass, %s)
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
          AND pg_get_userbyid(c.relowner) <> %s AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
        UNION ALL
        SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, %s)
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> %s
        """,
        [owner, owner, owner, owner],
    )
    for (statement,) in dbcur.fetchall():
        dbcur.execute(statement)
    db.close()
    print(f"==> database {name} handed over from {row[0]} to {owner}", file=sys.stderr)
conn.close()
PY
}

ensure_redis() {
  local host port  # not the caller's: scripts/dev keeps its own $port
  read -r host port < <(url_host_port "$CELERY_BROKER_URL" 6379)
  listening "$host" "$port" && return 0
  is_local "$host" || die "Redis at $host:$port is not reachable; check CELERY_BROKER_URL"
  command -v redis-server >/dev/null 2>&1 || die "nothing listens on $host:$port and redis-server is not installed: apt-get install redis-server, or set CELERY_BROKER_URL"
  say "starting local Redis on port $port"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || die "could not start redis-server"
  wait_for "$host" "$port" 15 || die "Redis did not start listening on $host:$port"
}

ensure_rabbitmq() {  # the scan tests run on RabbitMQ too (conftest.py amqp_tests_broker), and CELERY_BROKER_URL may be amqp://
  local host port url="${TEST_CELERY_AMQP_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/verisyntra_test}"
  case "${CELERY_BROKER_URL:-}" in amqp://* | amqps://* | pyamqp://*) url="$CELERY_BROKER_URL" ;; esac
  read -r host port < <(url_host_port "$url" 5672)
  listening "$host" "$port" && return 0
  is_local "$host" || die "RabbitMQ at $host:$port is not reachable; check CELERY_BROKER_URL / TEST_CELERY_AMQP_BROKER_URL"
  [ -x /usr/sbin/rabbitmq-server ] && case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin" ;; esac
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      die "nothing listens on $host:$port and rabbitmq-server is not installed: apt-get install rabbitmq-server"
    fi
    say "installing RabbitMQ (apt-get install rabbitmq-server)"
    apt_install rabbitmq-server
    listening "$host" "$port" && return 0  # the package's service may have started it
  fi
  say "starting local RabbitMQ on port $port"
  rabbitmq-server -detached >/dev/null 2>&1 || die "could not start rabbitmq-server"
  # The port opens only once the node has booted (tens of seconds on a cold machine).
  wait_for "$host" "$port" 120 || die "RabbitMQ did not start listening on $host:$port"
  rabbitmqctl await_startup >/dev/null 2>&1 || true
}

ensure_nginx() {  # the front of scripts/dev and of the routing test (deploy/nginx.conf.template)
  [ -x /usr/sbin/nginx ] && case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin";; esac
  command -v nginx >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "nginx is not installed: apt-get install nginx-light (or any nginx >= 1.18 on PATH)"
  fi
  say "installing nginx (apt-get install nginx-light)"
  apt_install nginx-light
  command -v nginx >/dev/null 2>&1 || die "nginx installed but not on PATH"
}

ensure_chromium() {  # the browser tests (tests/browser) drive Debian's chromium; Playwright never downloads one
  local chromium="${CHROMIUM:-/usr/bin/chromium}"
  [ -x "$chromium" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "$chromium is not installed: apt-get install chromium (or set CHROMIUM to a Chromium binary)"
  fi
  say "installing chromium (apt-get install chromium) for the browser tests"
  apt_install chromium
  [ -x "$chromium" ] || die "chromium installed but $chromium is missing; set CHROMIUM"
}

# Discovery's tests and benchmarks build real MySQL/MariaDB sources (inventory/tests/discovery_support.py)
# on DISCOVERY_MYSQL_URL's server. A local one is installed (Debian's mariadb-server), initialised and
# started when nothing listens, and its root is let in over TCP without a password, as on the
# development machines (a fresh install admits root only through the Unix socket).
ensure_mariadb() {
  local url="${DISCOVERY_MYSQL_URL:-mysql://root@127.0.0.1:3306}" host port
  read -r host port < <(url_host_port "$url" 3306)
  if ! listening "$host" "$port"; then
    is_local "$host" || die "MariaDB at $host:$port is not reachable; check DISCOVERY_MYSQL_URL"
    if [ ! -x /usr/sbin/mariadbd ]; then
      if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "nothing listens on $host:$port and MariaDB is not installed: apt-get install mariadb-server, or set DISCOVERY_MYSQL_URL"
      fi
      say "installing MariaDB (apt-get install mariadb-server)"
      apt_install mariadb-server
    fi
    if [ ! -d /var/lib/mysql/mysql ]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1 || die "mariadb-install-db failed"
    fi
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    say "starting local MariaDB on port $port"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --port="$port" \
      || die "could not start mariadbd"
    wait_for "$host" "$port" 30 || die "MariaDB did not start listening on $host:$port"
  fi
  DISCOVERY_MYSQL_URL="$url" "$PY" - <<'PY' && return 0
import os, sys, time, pymysql
from urllib.parse import urlsplit
url = urlsplit(os.environ["DISCOVERY_MYSQL_URL"])
for _ in range(50):
    try:
        pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username or "root", password=url.password or "", connect_timeout=3).close()
        sys.exit(0)
    except pymysql.err.OperationalError as exc:
        if exc.args[0] == 1045:  # access denied: no point in waiting
            sys.exit(f"MariaDB refused the login: {exc}")
        time.sleep(0.2)
sys.exit("MariaDB did not become ready")
PY
  is_local "$host" && [ "$(id -u)" = 0 ] || die "cannot log in to MariaDB at $host:$port; check DISCOVERY_MYSQL_URL"
  say "letting MariaDB's root in over TCP without a password (local server)"
  mariadb --protocol=socket -uroot \
    -e "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')" \
    || die "could not open MariaDB's root to TCP logins"
}

ensure_pgbouncer() {  # scripts/test-pgbouncer runs the tests through Debian's PgBouncer (deploy/pgbouncer.ini.template)
  [ -x /usr/sbin/pgbouncer ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "pgbouncer is not installed: apt-get install pgbouncer (PgBouncer >= 1.18 at /usr/sbin/pgbouncer)"
  fi
  say "installing pgbouncer (apt-get install pgbouncer)"
  apt_install pgbouncer
  [ -x /usr/sbin/pgbouncer ] || die "pgbouncer installed but /usr/sbin/pgbouncer is missing"
}

# PgBouncer refuses to run as root ("PgBouncer should not run as root"): as root, it runs as
# PGBOUNCER_USER (default postgres, which Debian's PostgreSQL creates), in a directory that user owns.
start_pgbouncer() {  # port run_dir: render the ini for DATABASE_URL's server into run_dir, start PgBouncer there
  local port="$1" dir="$2" user="${PGBOUNCER_USER:-postgres}" upstream auth=trust
  listening 127.0.0.1 "$port" && die "port $port is in use; set PGBOUNCER_PORT to a free one"
  upstream="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme, p.netloc, "", "", "")))' "$DATABASE_URL")"
  # With a password in DATABASE_URL clients must give it too; the development server trusts local users.
  case "$upstream" in *://*:*@*) auth=scram-sha-256;; esac
  mkdir -p "$dir"
  "$PY" "$ROOT/deploy/pgbouncer_ini.py" "$dir" "$upstream" --listen-port "$port" --auth-type "$auth" >/dev/null \
    || die "could not render deploy/pgbouncer.ini.template"
  rm -f "$dir/pgbouncer.log"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$user" "$dir"
    # max_client_conn needs more descriptors than the usual soft limit of 1024.
    (ulimit -n 8192 2>/dev/null || true; su -s /bin/sh "$user" -c "/usr/sbin/pgbouncer -d '$dir/pgbouncer.ini'") \
      || die "pgbouncer did not start as $user: $(tail -n 3 "$dir/pgbouncer.log" 2>/dev/null)"
  else
    (ulimit -n 8192 2>/dev/null || true; /usr/sbin/pgbouncer -d "$dir/pgbouncer.ini") || die "pgbouncer did not start: $(tail -n 3 "$dir/pgbouncer.log" 2>/dev/null)"
  fi
  wait_for 127.0.0.1 "$port" 10 || die "pgbouncer is not listening on $port: $(tail -n 3 "$dir/pgbouncer.log" 2>/dev/null)"
}

stop_pgbouncer() {  # run_dir: stop the PgBouncer start_pgbouncer started there
  local pid
  pid="$(cat "$1/pgbouncer.pid" 2>/dev/null)" || return 0
  kill "$pid" 2>/dev/null || true
}

ensure_docker_compose() {  # tests/test_configuration.py checks docker-compose.yml with a real Compose implementation
  command -v docker-compose >/dev/null 2>&1 && return 0
  docker compose version >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "no Compose implementation: apt-get install docker-compose (or install the Docker Compose plugin)"
  fi
  say "installing docker-compose (apt-get install docker-compose) to check docker-compose.yml"
  apt_install docker-compose
}

# --- scripts/dev: one instance per directory and port ---------------------------------------------
# A second scripts/dev on the same directory used to empty the running one's metrics files (its
# /metrics then froze until a restart). Each directory holds a lock (flock) for as long as the
# instance's processes live, and the ports must be free.

instance_holder() {  # dir: what the lock file says about the instance that holds it
  cat "$1/.scripts-dev.lock" 2>/dev/null || true
}

refuse_running_instance() {  # dir... -- port...: die, touching nothing, when an instance holds one of them
  local arg dirs=() lock
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do dirs+=("$1"); shift; done
  shift
  for arg in "${dirs[@]}"; do
    lock="$arg/.scripts-dev.lock"
    if [ -e "$lock" ] && ! flock -n "$lock" true; then
      die "another scripts/dev is running with $arg ($(instance_holder "$arg")); it was left alone. Stop it first, or give this one its own PORT and DEV_DIR."
    fi
  done
  for arg in "$@"; do
    listening 127.0.0.1 "$arg" && die "port $arg is in use (another scripts/dev?); it was left alone. Stop it first, or set PORT (this one needs PORT, PORT+1 and PORT+2 free)."
  done
  return 0
}

claim_instance() {  # dir... -- port...: lock each directory for this shell and the processes it starts
  local arg fd lock dirs=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do dirs+=("$1"); shift; done
  shift
  for arg in "${dirs[@]}"; do
    lock="$arg/.scripts-dev.lock"
    exec {fd}>>"$lock"
    flock -n "$fd" || die "another scripts/dev is running with $arg ($(instance_holder "$arg")); it was left alone."
    printf 'pid %s, port %s, started %s\n' "$$" "$1" "$(date '+%F %T %z')" >"$lock"
  done
  refuse_running_instance -- "$@"
}

wait_until_ready() {  # port write_port worker_name beat_schedule started_epoch pid...: every process answers
  "$PY" - "$@" <<'PY' || die "the service did not become ready (its logs are above); stopping"
import glob, os, sys, time, urllib.request
port, write_port, worker, schedule, started, *pids = sys.argv[1:]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verisyntra.settings")
from verisyntra.celery import app  # noqa: E402

def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False

checks = {
    "nginx and the read group": lambda: answers(f"http://127.0.0.1:{port}/health/ready"),
    "the write group": lambda: answers(f"http://127.0.0.1:{write_port}/health/ready"),
    "the Celery worker": lambda: bool(app.control.ping(destination=[worker], timeout=1.0)),
    # beat writes its schedule file when it starts
    "Celery beat": lambda: any(os.path.getmtime(f) >= float(started) - 1 for f in glob.glob(schedule + "*")),
}
deadline = time.monotonic() + 120
waiting = dict(checks)
while waiting:
    for pid in pids:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            sys.exit(f"ERROR: a process (pid {pid}) stopped while starting")
    waiting = {name: check for name, check in waiting.items() if not check()}
    if waiting and time.monotonic() > deadline:
        sys.exit("ERROR: no answer from " + ", ".join(waiting))
    if waiting:
        time.sleep(0.5)
PY
}

ensure_services() {
  ensure_postgres
  ensure_max_connections
  ensure_database
  ensure_redis
  ensure_rabbitmq
  ensure_nginx
}
