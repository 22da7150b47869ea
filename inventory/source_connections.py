"""Guarded connections to data sources: parse and mask a DSN, decide whether it may be reached, connect read-only.

A data source is a database a tenant names: from the service's side it is an outbound connection
to an address a client chose, so every connection goes through `source_connect` here, which

1. parses the DSN itself and passes the driver only explicit keyword arguments (a libpq URI's
   query string could otherwise add `host=`, `hostaddr=` or `options=` and undo the guard);
2. resolves the host name once, checks every address against DATA_SOURCE_ALLOWED_HOSTS (host
   names or CIDRs), and connects to the checked address (so a DNS answer that changes between
   the check and the connection cannot redirect it, the DNS-rebinding trick);
3. refuses the service's own databases and its broker whatever the allowlist says: the same
   port and database name on the same host (every loopback or local address counts as the same
   host, since each reaches this machine);
4. connects with a short `connect_timeout`, read-only (`default_transaction_read_only` on
   PostgreSQL, `SET SESSION TRANSACTION READ ONLY` on MySQL/MariaDB) and a statement time limit,
   and reports a failure as a bilingual cause (refused, timeout, authentication, missing
   database, unresolvable host), never with the password.

Read-only sessions are a second line of defence: a source should also be registered with a
database user that can only read.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from django.conf import settings

from verisyntra.messages import Bilingual, render

# DSN scheme -> kind; the kinds are inventory.source_models.DataSourceKind's values.
SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# Query-string parameters a DSN may carry, per kind: transport security only. Anything that could
# change where or how the session connects (host, hostaddr, options, init commands) is refused.
ALLOWED_PARAMETERS = {"postgresql": frozenset({"sslmode"}), "mysql": frozenset()}
APPLICATION_NAME = "verisyntra-discovery"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class SourceRejected(Exception):
    """A DSN that may not be used; `reason` is a `source.reason.*` sentence, `field` the input at fault."""

    def __init__(self, reason: Bilingual, *, field: str = "dsn"):
        super().__init__(reason.en)
        self.reason = reason
        self.field = field


class SourceUnreachable(Exception):
    """The source could not be connected to; `cause` is a `source.cause.*` sentence."""

    def __init__(self, cause: Bilingual):
        super().__init__(cause.en)
        self.cause = cause


@dataclass(frozen=True)
class SourceDsn:
    """A parsed data-source DSN. `repr` leaves the password out, so a log line cannot leak it."""

    kind: str
    scheme: str
    host: str
    port: int
    database: str
    user: str = ""
    password: str = field(default="", repr=False)
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def masked(self) -> str:
        """The DSN as clients and the admin see it: the password replaced by ***."""
        credentials = quote(self.user, safe="") + (":***" if self.password else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?{urlencode(self.parameters)}" if self.parameters else ""
        return f"{self.scheme}://{credentials}{'@' if credentials else ''}{host}:{self.port}/{quote(self.database, safe='')}{query}"


def dsn_parse(dsn: str, *, kind: str) -> SourceDsn:
    """`dsn` as a SourceDsn for a source of `kind`, or SourceRejected saying what is wrong with it."""
    bad_format = SourceRejected(render("source.reason.dsn_format"))
    try:
        parts = urlsplit(dsn.strip())
        port = parts.port
    except ValueError:
        raise bad_format from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname or parts.fragment:
        raise bad_format
    if SCHEMES[scheme] != kind:
        raise SourceRejected(render("source.reason.dsn_kind", scheme=scheme, kind=kind))
    database = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not database or "/" in database:
        raise bad_format
    parameters = tuple(parse_qsl(parts.query, keep_blank_values=True))
    for name, _ in parameters:
        if name not in ALLOWED_PARAMETERS[kind]:
            raise SourceRejected(render("source.reason.dsn_parameter", parameter=name))
    return SourceDsn(
        kind=kind,
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[kind],
        database=database,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        parameters=parameters,
    )


# --- Where a source may point -------------------------------------------------------------------


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (an IP literal resolves to itself); socket.gaierror if none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _local_addresses() -> set[Address]:
    try:
        return set(resolve(socket.gethostname(), 0))
    except (OSError, ValueError):
        return set()


def is_this_machine(address: Address) -> bool:
    """Loopback, unspecified (0.0.0.0 connects locally) or one of this machine's own addresses."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    address = mapped or address
    return address.is_loopback or address.is_unspecified or address in _local_addresses()


def host_allowed(host: str, addresses: Iterable[Address], allowed: Iterable[str]) -> bool:
    """True if `host` is listed by name, or every one of its addresses is inside a listed CIDR."""
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    if host.lower().rstrip(".") in names:
        return True
    addresses = list(addresses)
    return bool(addresses) and all(any(address in network for network in networks) for address in addresses)


@dataclass(frozen=True)
class ServiceEndpoint:
    """A database (or the broker, `database` None) the service itself uses."""

    host: str
    port: int
    database: str | None


def service_endpoints() -> list[ServiceEndpoint]:
    """The service's databases (as configured and, under test, as renamed) and its broker."""
    endpoints: list[ServiceEndpoint] = []
    for alias in settings.DATABASES.values():
        if alias.get("NAME") and "dummy" not in alias.get("ENGINE", ""):
            endpoints.append(ServiceEndpoint(alias.get("HOST") or "127.0.0.1", int(alias.get("PORT") or 5432), str(alias["NAME"])))
    endpoints += [ServiceEndpoint(host, port, name) for host, port, name in settings.DATA_SOURCE_SERVICE_DATABASES]
    broker = urlsplit(settings.CELERY_BROKER_URL)
    endpoints.append(ServiceEndpoint(broker.hostname or "127.0.0.1", broker.port or 6379, None))
    return endpoints


def _same_host(addresses: list[Address], host: str, endpoint: ServiceEndpoint) -> bool:
    if host.lower() == endpoint.host.lower():
        return True
    try:
        theirs = resolve(endpoint.host, endpoint.port)
    except (OSError, ValueError):
        return False
    if set(addresses) & set(theirs):
        return True
    return any(is_this_machine(a) for a in addresses) and any(is_this_machine(a) for a in theirs)


def is_service_endpoint(dsn: SourceDsn, addresses: list[Address]) -> bool:
    """Same port, same database name (any name for the broker) and the same host as one of the service's own."""
    for endpoint in service_endpoints():
        if endpoint.port != dsn.port:
            continue
        if endpoint.database is not None and endpoint.database.casefold() != dsn.database.casefold():
            continue
        if _same_host(addresses, dsn.host, endpoint):
            return True
    return False


def dsn_check(dsn: SourceDsn) -> list[Address]:
    """The addresses `dsn` may be connected to, or SourceRejected (unresolvable, not allowed, the service's own)."""
    try:
        addresses = resolve(dsn.host, dsn.port)
    except (OSError, UnicodeError, ValueError):
        raise SourceRejected(render("source.reason.host_unresolvable", host=dsn.host)) from None
    # The service's own databases first: refused whatever the allowlist says.
    if is_service_endpoint(dsn, addresses):
        raise SourceRejected(render("source.reason.own_database"))
    if not host_allowed(dsn.host, addresses, settings.DATA_SOURCE_ALLOWED_HOSTS):
        raise SourceRejected(render("source.reason.host_not_allowed", host=dsn.host))
    return addresses


# --- Connecting ---------------------------------------------------------------------------------


def source_connect(dsn: SourceDsn) -> Any:
    """An open, read-only DB-API connection to the source (psycopg2 or PyMySQL); the caller closes it.

    Raises SourceRejected if the DSN may not be used (checked again now: DNS and settings may have
    changed since it was registered) and SourceUnreachable if the source does not answer.
    """
    addresses = dsn_check(dsn)
    address = str(addresses[0])
    if dsn.kind == "postgresql":
        return _connect_postgresql(dsn, address)
    return _connect_mysql(dsn, address)


def _connect_postgresql(dsn: SourceDsn, address: str) -> Any:
    import psycopg2

    timeout_ms = settings.DATA_SOURCE_STATEMENT_TIMEOUT_MS
    try:
        connection = psycopg2.connect(
            host=dsn.host,
            hostaddr=address,  # the checked address; `host` still names the server for TLS and .pgpass
            port=dsn.port,
            dbname=dsn.database,
            user=dsn.user or None,
            password=dsn.password or None,
            connect_timeout=settings.DATA_SOURCE_CONNECT_TIMEOUT_SECONDS,
            application_name=APPLICATION_NAME,
            options=(
                f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
                f"-c lock_timeout={min(timeout_ms, 1000)} -c idle_in_transaction_session_timeout={max(timeout_ms * 4, 60_000)}"
            ),
            **dict(dsn.parameters),
        )
    except psycopg2.OperationalError as exc:
        raise SourceUnreachable(_postgresql_cause(str(exc))) from None
    # Also per session, in case a pooler in front of the source dropped the startup options.
    connection.set_session(readonly=True)
    return connection


def _postgresql_cause(text: str) -> Bilingual:
    lowered = text.lower()
    if "timeout expired" in lowered or "timed out" in lowered:
        return render("source.cause.timeout", seconds=settings.DATA_SOURCE_CONNECT_TIMEOUT_SECONDS)
    if "connection refused" in lowered:
        return render("source.cause.refused")
    if "password" in lowered or "authentication" in lowered or ("role" in lowered and "does not exist" in lowered):
        return render("source.cause.authentication")
    if "database" in lowered and "does not exist" in lowered:
        return render("source.cause.database_missing")
    if "could not translate host name" in lowered:
        return render("source.cause.host_unresolvable")
    return render("source.cause.other", error_class="OperationalError")


# MySQL client and server error numbers (https://dev.mysql.com/doc/mysql-errors/8.0/en/).
MYSQL_ACCESS_DENIED = 1045
MYSQL_UNKNOWN_DATABASE = 1049
MYSQL_CANNOT_CONNECT = 2003


def _connect_mysql(dsn: SourceDsn, address: str) -> Any:
    import pymysql

    timeout_ms = settings.DATA_SOURCE_STATEMENT_TIMEOUT_MS
    connect_timeout = settings.DATA_SOURCE_CONNECT_TIMEOUT_SECONDS
    try:
        connection = pymysql.connect(
            host=address,
            port=dsn.port,
            user=dsn.user or None,
            password=dsn.password,
            database=dsn.database,
            connect_timeout=connect_timeout,
            # A socket read that outlasts the statement limit by far means the server is gone.
            read_timeout=max(connect_timeout, timeout_ms // 1000 * 2 + 5),
            write_timeout=max(connect_timeout, timeout_ms // 1000 * 2 + 5),
            charset="utf8mb4",
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        raise SourceUnreachable(_mysql_cause(exc)) from None
    except (TimeoutError, OSError):
        raise SourceUnreachable(render("source.cause.timeout", seconds=connect_timeout)) from None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("SELECT VERSION()")
            version = str(cursor.fetchone()[0])
            if "mariadb" in version.lower():
                cursor.execute("SET SESSION max_statement_time = %s", [timeout_ms / 1000])
            else:
                cursor.execute("SET SESSION max_execution_time = %s", [timeout_ms])
    except Exception:
        connection.close()
        raise
    return connection


def _mysql_cause(exc: Exception) -> Bilingual:
    number = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    text = str(exc).lower()
    if number == MYSQL_ACCESS_DENIED:
        return render("source.cause.authentication")
    if number == MYSQL_UNKNOWN_DATABASE:
        return render("source.cause.database_missing")
    if "timed out" in text:
        return render("source.cause.timeout", seconds=settings.DATA_SOURCE_CONNECT_TIMEOUT_SECONDS)
    if number == MYSQL_CANNOT_CONNECT:
        return render("source.cause.refused")
    return render("source.cause.other", error_class=exc.__class__.__name__)
