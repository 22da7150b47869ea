"""`Idempotency-Key` on POSTs that write: a retried request gets the first answer, not a second write.

Semantics of the IETF httpapi draft "The Idempotency-Key HTTP Header Field" and of Stripe's API.
A client that lost a response (a timeout, a dropped connection) sends the same request again with
the same key: the same key and the same request replay the stored response (same status, body
and `Location`, plus `Idempotent-Replayed: true`) without running the view; the same key with
another request is a 422 `idempotency_key_reused`; a key whose first request is still running is
a 409 `idempotency_key_in_flight` with `Retry-After`. Keys are scoped to the caller (the token's
user) and the tenant, and are kept for IDEMPOTENCY_KEY_TTL_SECONDS (24 h); a request without the
header runs as it always did.

Opting in is one line: `@idempotent` above the POST handler's `@extend_schema` in a
`TenantScopedMixin` view. It also adds the header, the 409 and the 422 to the OpenAPI operation.

How a request with a key runs:

1. The header is checked: 1 to 255 printable ASCII characters, else 400 `invalid_idempotency_key`.
2. The body is hashed as the view reads it (the request stream passes through SHA-256), so the
   endpoint keeps its own parser, size limit and streaming; nothing is copied.
3. The tenant check (400/403), as the view itself would do first.
4. One transaction on the write alias then holds everything else, the view included (its
   services' own `atomic(using="write")` blocks become savepoints of it):
   a. `pg_try_advisory_xact_lock` on (tenant, user, key): held by another request, the answer is
      409 at once; nobody waits on a lock for the length of someone else's request.
   b. The stored record of the key, if there is one that has not expired: the request's
      fingerprint (method, path, query string, SHA-256 of the body) equal to the stored one
      replays the stored response; different, 422.
   c. Otherwise the view runs, and a 2xx answer is inserted with the fingerprint before the
      commit: the data and the record of its answer commit together, or neither does.

Crash cases:

- The web process dies before the commit (SIGKILL, out of memory, lost machine): PostgreSQL rolls
  the transaction back, so there is neither data nor record, and the advisory lock ends with the
  transaction; a retry runs afresh. A process killed on a live machine closes its sockets and the
  server notices at once; a machine or network that vanishes is noticed by TCP keepalives or
  `idle_in_transaction_session_timeout`, and until then retries get 409, never a second write.
- It dies after the commit, before the client has the response: the record committed with the
  data, so the retry replays the stored response and writes nothing.
- The commit's outcome is lost (the connection drops during COMMIT): the request fails (503); the
  retry either replays (it committed) or runs (it did not). The client need not know which.
- The client gives up while the first attempt still runs: its retry is a 409 until the first
  commits, then the replay of the first attempt's answer.
- The view refuses the request (4xx) or fails (5xx): everything is rolled back and nothing is
  stored, so the key stays free and a corrected request may use it (as Stripe does when a request
  fails validation).
- Two different keys running at the same moment whose 32-bit lock numbers collide: one gets a
  spurious 409 and retries. The stored records are always compared in full.

Replaying needs the key's record on the primary: every query here runs inside the write
transaction, where the router sends reads to the write alias as well.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, BinaryIO, Protocol, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from inventory.models import IdempotencyKey
from verisyntra.api.errors import ApiError, ErrorBody, request_too_large
from verisyntra.db.config import WRITE_ALIAS
from verisyntra.db.pools import release_read_connections
from verisyntra.db.tenant_scope import all_tenants

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
# On a replayed response (Stripe's name), so a client or a log can tell a replay from a first answer.
REPLAYED_HEADER = "Idempotent-Replayed"
# The stored response's headers that a replay repeats (content headers come from the renderer).
REPLAYED_HEADERS = ("Location",)
# A retry of a request still running: a second is short enough for a batch and long enough not to spin.
IN_FLIGHT_RETRY_AFTER_SECONDS = 1
# The advisory locks of this module use PostgreSQL's two-key form with this first key. The
# one-key (bigint) form is a separate lock space, so no other advisory lock can collide with these.
ADVISORY_LOCK_NAMESPACE = 17_001
HASH_CHUNK_BYTES = 64 * 1024
# Expired keys deleted per statement by the cleanup: short transactions on a table others write.
EXPIRED_DELETE_BATCH = 10_000


class IdempotencyKeyInFlight(ApiError):
    """409: the key's first request is still running. `wait` becomes `Retry-After` in the exception
    handler (verisyntra.api.errors), as for DRF's Throttled."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency_key_in_flight", status_code=status.HTTP_409_CONFLICT, params={"seconds": IN_FLIGHT_RETRY_AFTER_SECONDS}
        )
        self.wait = IN_FLIGHT_RETRY_AFTER_SECONDS


def idempotency_key_of(request: HttpRequest) -> str | None:
    """The request's key, None without the header, or the bilingual 400 for a malformed one.

    Surrounding spaces are not part of it (HTTP strips them from field values); what remains must
    be 1 to 255 printable ASCII characters (space to tilde).
    """
    raw = request.META.get(META_KEY)
    if raw is None:
        return None
    key = str(raw).strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or any(not " " <= char <= "~" for char in key):
        raise ApiError("invalid_idempotency_key", params={"max_length": MAX_KEY_LENGTH})
    return key


class _HashingStream:
    """The request body's stream, hashed (SHA-256) as the view reads it.

    Installed in place of the request's own stream before anything reads it; Django's `read()`,
    `readline()`, `body` and DRF's parsers all read through it. `digest()` first reads what the view
    left unread, so the hash always covers the whole body.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        data: bytes = self._stream.read(size)
        self._hash.update(data)
        return data

    def readline(self, size: int = -1, /) -> bytes:
        line: bytes = self._stream.readline(size)
        self._hash.update(line)
        return line

    def close(self) -> None:
        # Django closes the stream once it has read `body`; `digest()` may still need to read the
        # (then empty) rest, so the underlying stream stays as it is.
        pass

    def digest(self) -> str:
        # Bounded: the body of a request that is not run (a replay) is read only to be compared,
        # and no endpoint accepts more than the largest body limit.
        limit = max_body_bytes()
        read = 0
        while chunk := self._stream.read(HASH_CHUNK_BYTES):
            read += len(chunk)
            if read > limit:
                raise request_too_large(limit)
            self._hash.update(chunk)
        return self._hash.hexdigest()


class _ReadBody:
    """A body already read into memory before the key was seen."""

    def __init__(self, body: bytes) -> None:
        self._digest = hashlib.sha256(body).hexdigest()

    def digest(self) -> str:
        return self._digest


def max_body_bytes() -> int:
    """The largest body any endpoint accepts (a data scan's, usually)."""
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.DATA_SCAN_MAX_BODY_BYTES)


def _hash_body_as_read(request: HttpRequest) -> _HashingStream | _ReadBody:
    # Django offers no public hook on the body stream; `_stream` is what its `read()` and `body`
    # read from. Reading the body up front instead would either hold it all in memory or apply
    # DATA_UPLOAD_MAX_MEMORY_SIZE, which endpoints with their own limit (data scans) must not.
    if hasattr(request, "_body"):
        return _ReadBody(request.body)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and "wsgi.input" in request.META:
        # Without a Content-Length Django's own stream is empty; a streaming endpoint reads the
        # chunked body from the server's input (inventory.scan_views), so that is what is hashed.
        stream = _HashingStream(request.META["wsgi.input"])
        request.META["wsgi.input"] = stream
        return stream
    stream = _HashingStream(request._stream)
    request._stream = cast(BinaryIO, stream)  # it reads like one
    return stream


def request_fingerprint(request: HttpRequest, body_digest: str) -> str:
    """SHA-256 of the method, path, query string (parameters sorted by name) and the body's SHA-256."""
    query = urlencode(sorted(request.GET.lists(), key=lambda item: item[0]), doseq=True)
    material = "\n".join((request.method or "", request.path, query, body_digest))
    return hashlib.sha256(material.encode()).hexdigest()


def _lock_number(tenant_id: uuid.UUID, user_id: int, key: str) -> int:
    # A stable hash (Python's own hash() differs between processes), as a signed 32-bit integer.
    digest = hashlib.sha256(f"{tenant_id}\n{user_id}\n{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _try_claim(tenant_id: uuid.UUID, user_id: int, key: str) -> bool:
    with connections[WRITE_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, _lock_number(tenant_id, user_id, key)])
        row = cursor.fetchone()
    return bool(row and row[0])


def _replay(record: IdempotencyKey) -> Response:
    headers = {**record.response_headers, REPLAYED_HEADER: "true"}
    return Response(json.loads(record.response_body), status=record.response_status, headers=headers)


def _store(*, request: Request, tenant_id: uuid.UUID, user_id: int, key: str, fingerprint: str, response: Response) -> None:
    IdempotencyKey.objects.create(
        tenant_id=tenant_id,
        user_id=user_id,
        key=key,
        fingerprint=fingerprint,
        method=request.method or "",
        path=request.path,
        response_status=response.status_code,
        response_body=json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")),
        response_headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
        expires_at=timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS),
    )


def _caller_id(request: Request) -> int:
    user_id = request.user.pk
    if not isinstance(user_id, int):  # the views that opt in require a token (IsAuthenticated)
        raise exceptions.NotAuthenticated()
    return user_id


class TenantScopedView(Protocol):
    """What `idempotent` needs of a view: the checked tenant (inventory.tenancy.TenantScopedMixin)."""

    @property
    def tenant(self) -> Any: ...


def respond_idempotently(view: TenantScopedView, request: Request, handler: Callable[[], Response]) -> Response:
    """Run `handler` (the view's POST) under the request's Idempotency-Key, if it has one."""
    key = idempotency_key_of(request._request)
    if key is None:
        return handler()
    body = _hash_body_as_read(request._request)
    tenant_id: uuid.UUID = view.tenant.pk  # 400/403 before anything about the key is looked up
    user_id = _caller_id(request)
    release_read_connections()  # the reads are done: don't hold the read pool while queueing for a write connection
    with transaction.atomic(using=WRITE_ALIAS):
        if not _try_claim(tenant_id, user_id, key):
            raise IdempotencyKeyInFlight()
        record = IdempotencyKey.objects.filter(tenant_id=tenant_id, user_id=user_id, key=key).first()
        if record is not None and record.expires_at <= timezone.now():
            record.delete()  # expired: the key is new again (the beat cleanup may not have run yet)
            record = None
        if record is not None:
            if record.fingerprint != request_fingerprint(request._request, body.digest()):
                raise ApiError("idempotency_key_reused", status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)
            return _replay(record)
        response = handler()
        if status.is_success(response.status_code):
            fingerprint = request_fingerprint(request._request, body.digest())
            _store(request=request, tenant_id=tenant_id, user_id=user_id, key=key, fingerprint=fingerprint, response=response)
        return response


# --- The OpenAPI side: one header parameter and two answers, added to every idempotent operation --

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe: a unique value per request (a UUID is a good choice), 1 to 255 printable ASCII "
        "characters. The same key with the same request, within IDEMPOTENCY_KEY_TTL_SECONDS (24 h), replays the "
        "first response (same status, body and Location, with `Idempotent-Replayed: true`) and writes nothing; "
        "with a different request it is a 422; while the first request is still running, a 409 with Retry-After. "
        "Only a successful (2xx) response is stored: after an error the same key may be sent again. Scoped to the "
        "caller and the tenant."
    ),
)

IDEMPOTENCY_RESPONSES = {
    409: OpenApiResponse(
        ErrorBody, description="`idempotency_key_in_flight`: the key's first request is still running; retry after `Retry-After`."
    ),
    422: OpenApiResponse(ErrorBody, description="`idempotency_key_reused`: the key was used with a different request; nothing was done."),
}


def _schema_with_idempotency(base: type[AutoSchema]) -> type[AutoSchema]:
    class IdempotentOperationSchema(base):  # type: ignore[valid-type,misc]  # a class chosen at run time
        def get_override_parameters(self) -> list[Any]:
            return [*super().get_override_parameters(), IDEMPOTENCY_KEY_PARAMETER]

        def get_response_serializers(self) -> Any:
            responses = super().get_response_serializers()
            return {**responses, **IDEMPOTENCY_RESPONSES} if isinstance(responses, dict) else responses

    return IdempotentOperationSchema


Handler = TypeVar("Handler", bound=Callable[..., Response])


def idempotent(handler: Handler) -> Handler:
    """Decorate a tenant-scoped view's POST handler: it honours `Idempotency-Key` (see the module).

    Put it above `@extend_schema`: the header parameter and the 409/422 answers join what that
    declares.
    """

    @functools.wraps(handler)
    def run(view: TenantScopedView, request: Request, *args: Any, **kwargs: Any) -> Response:
        return respond_idempotently(view, request, lambda: handler(view, request, *args, **kwargs))

    # drf-spectacular reads a view method's schema class from `kwargs["schema"]` (@extend_schema
    # puts it there); a new dict, since functools.wraps shares the handler's.
    base = cast(type[AutoSchema], getattr(handler, "kwargs", {}).get("schema") or api_settings.DEFAULT_SCHEMA_CLASS)
    run.kwargs = {"schema": _schema_with_idempotency(base)}  # type: ignore[attr-defined]
    return cast(Handler, run)


@all_tenants()  # expired keys of every tenant
def idempotency_keys_delete_expired(*, batch_size: int = EXPIRED_DELETE_BATCH) -> int:
    """Delete the keys past their `expires_at`, `batch_size` per statement; returns how many went."""
    deleted = 0
    while True:
        expired = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).values("pk")[:batch_size]
        count, _ = IdempotencyKey.objects.filter(pk__in=expired).delete()
        deleted += count
        if count < batch_size:
            return deleted
