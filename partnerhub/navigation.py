"""The marketing pages' top navigation: one entry per section, shown by permission.

Sections register here rather than in a template so a page whose URL does not
exist yet (or a user without the permission) simply has no link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    label: str | Promise
    url_name: str
    permission: str


SECTIONS: tuple[Section, ...] = (
    Section(_("Campaigns"), "campaigns:list", "campaigns.view_campaign"),
    Section(_("Audiences"), "audiences:list", "campaigns.view_audience"),
    Section(_("Unsubscribes"), "unsubscribes:list", "unsubscribes.view_unsubscribe"),
    Section(_("PEC"), "pec:home", "pec.view_pecmailbox"),
    Section(_("Credits"), "accounts:list", "partnerhub.change_provideraccount"),
    Section(_("Audit trail"), "audit:list", "partnerhub.view_auditentry"),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: `ph_sections`, a list of (label, url, is_current)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"ph_sections": []}
    sections = []
    for section in SECTIONS:
        if not user.has_perm(section.permission):
            continue
        url = reverse(section.url_name)
        sections.append((section.label, url, request.path.startswith(url)))
    return {"ph_sections": sections}
