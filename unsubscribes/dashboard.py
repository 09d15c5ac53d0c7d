"""Dashboard card: size of the suppression list and health of its provider sync."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from partnerhub import formatting
from partnerhub.dashboard import Card, register

from . import selectors


@register("unsubscribes.view_unsubscribe")
def unsubscribe_cards(user: Any) -> list[Card]:
    counts = selectors.list_counts()
    syncs = selectors.sync_states()
    failed = [s for s in syncs if s.error]
    never = all(s.finished_at is None for s in syncs)
    if failed:
        detail, tone = _("Last sync interrupted by a provider error."), "danger"
    elif never:
        detail, tone = _("Never synced with the providers yet."), "warning"
    else:
        detail, tone = _("Synced with the providers."), "ok"
    return [
        Card(
            title=_("Unsubscribed"),
            value=formatting.count(counts["email"] + counts["sms"]),
            detail=detail,
            url=reverse("unsubscribes:list"),
            tone=tone,
            rows=[
                (_("Email"), formatting.count(counts["email"])),
                (_("SMS"), formatting.count(counts["sms"])),
            ],
        )
    ]
