"""Template tags for the admin's own pages: the texts of the link to the pool dashboard.

The admin's index is rendered by Django's AdminSite, which takes no extra context from this
project; a tag lets the index template (verisyntra/templates/admin/index.html) name the dashboard
in both languages from the catalogue.
"""

from __future__ import annotations

from django import template

from verisyntra.messages import Bilingual, render

register = template.Library()


@register.simple_tag
def pool_dashboard_link() -> dict[str, Bilingual]:
    """The section heading and the link text of the pool dashboard, in both languages."""
    return {"section": render("admin.pools.section"), "title": render("admin.pools.title")}
