"""Read and drop the rest of a request body answered early, so its connection can carry the next request.

The API answers some requests before reading their body: a tenant refused before a 100 MB body
is read, a data scan refused after its first 100 bad items. gunicorn drains at most 64 KB of an
unread body before it closes the kept-alive connection instead, and nginx, which reuses that
connection for the next request, then answers that one 502 (it does not retry a POST). Reading
the rest, in blocks and discarding them, costs time proportional to the bytes left and no memory.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

DRAIN_BLOCK_BYTES = 1 << 20


def request_body_discard(request: Any) -> int:
    """Read what is left of `request`'s body (a Django or DRF request) and drop it; returns the bytes read.

    Bounded by the largest body the service accepts (DATA_SCAN_MAX_BODY_BYTES): a client sending
    more is refused by nginx first.
    """
    django_request = getattr(request, "_request", request)
    if not isinstance(django_request, HttpRequest):
        return 0
    stream = getattr(django_request, "_stream", None)
    environ = getattr(django_request, "environ", {})
    if "chunked" in django_request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and "wsgi.input" in environ:
        stream = environ["wsgi.input"]  # no Content-Length: the server decodes the chunks until the end
    if stream is None:
        return 0
    cap = max(settings.DATA_SCAN_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    drained = 0
    try:
        while drained < cap:
            block = stream.read(DRAIN_BLOCK_BYTES)
            if not block:
                break
            drained += len(block)
    except (OSError, ValueError, AssertionError):
        # The client went away, or (in tests) the stream has nothing more to give: nothing to keep alive.
        pass
    return drained
