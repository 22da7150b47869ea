"""The pages a person opens first: the front page at `/` and the index at `/health/`.

Without them both addresses answered 404, and nothing told a visitor where the API docs, the admin,
the health endpoints or the metrics were. Every sentence comes from the message catalogue
(`verisyntra/messages/pages.py`), in both languages; neither view touches the database, so both
answer even when the pools are full.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from verisyntra.messages import Bilingual
from verisyntra.messages import render as message


@dataclass(frozen=True)
class Link:
    """One address the front page points to, with what is there in both languages."""

    href: str
    text: Bilingual
    # Answers only a staff user (a staff token, or signed in to the admin); anyone else gets 401 or 403.
    staff_only: bool = False


def _sections() -> list[tuple[Bilingual, list[Link]]]:
    return [
        (
            message("front.section.documentation"),
            [
                Link(reverse("openapi-docs"), message("front.link.api_docs")),
                Link(reverse("openapi-schema"), message("front.link.api_schema")),
            ],
        ),
        (message("front.section.administration"), [Link(reverse("admin:index"), message("front.link.admin"))]),
        (message("front.section.operations"), _operations_links()),
    ]


def _operations_links() -> list[Link]:
    return [
        Link(reverse("health-live"), message("front.link.health_live")),
        Link(reverse("health-ready"), message("front.link.health_ready")),
        Link(reverse("health-connection-pools"), message("front.link.health_pools"), staff_only=True),
        Link(reverse("health-database"), message("front.link.health_database"), staff_only=True),
        Link(reverse("metrics"), message("front.link.metrics"), staff_only=True),
    ]


@require_safe
def front_page(request: HttpRequest) -> HttpResponse:
    """What the service is, in English and Vietnamese, and links to everything a person can open."""
    context = {
        "title": message("front.title"),
        "intro": message("front.intro"),
        "api_access": message("front.api_access"),
        "sections": _sections(),
    }
    return render(request, "verisyntra/front.html", context)


@require_safe
def health_index(request: HttpRequest) -> JsonResponse:
    """`/health/`: the health endpoints and the metrics, for whoever tries the obvious address.

    It answers 200 whatever the state of the service, so it says so: a probe pointed here by
    mistake must not be read as "healthy".
    """
    note = message("health_index.note")
    endpoints = [
        {"path": link.href, "description": link.text.en, "description_vi": link.text.vi, "staff_only": link.staff_only}
        for link in _operations_links()
    ]
    return JsonResponse({"message": note.en, "message_vi": note.vi, "endpoints": endpoints}, json_dumps_params={"ensure_ascii": False})
