"""Home page cards: each PEC mailbox the user may use, with quota and open sends."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from partnerhub import formatting
from partnerhub.dashboard import Card, QuickAction, register, register_actions

from . import selectors
from .models import DispatchStatus, PecState


@register_actions("pec.add_pecsend")
def pec_actions(user: Any) -> list[QuickAction]:
    """The PEC operator's first moves: write a PEC, or open the mailboxes."""
    if not selectors.mailboxes_for(user).exists():
        return []
    actions = [QuickAction(_("New PEC"), reverse("pec:compose"), primary=True)]
    if not user.has_perm("campaigns.view_campaign"):  # a PEC-only home
        actions.append(QuickAction(_("My PEC mailboxes"), reverse("pec:home")))
    return actions


@register("pec.view_pecmailbox")
def mailbox_cards(user: Any) -> list[Card]:
    cards = []
    for box in selectors.mailboxes_for(user)[:6]:
        sends = box.sends.exclude(status=DispatchStatus.DRAFT)
        waiting = sends.filter(
            status=DispatchStatus.SENT,
            state__in=[PecState.SUBMITTED, PecState.ACCEPTED],
        ).count()
        problems = (
            sends.filter(
                state__in=[PecState.NOT_DELIVERED, PecState.NOT_ACCEPTED]
            ).count()
            + sends.filter(
                status__in=[DispatchStatus.UNKNOWN, DispatchStatus.FAILED]
            ).count()
        )
        ratio = box.quota_ratio
        tone = "danger" if problems or (ratio or 0) >= 0.95 else "ok"
        if tone == "ok" and (ratio or 0) >= 0.8:
            tone = "warning"
        cards.append(
            Card(
                title=_("PEC · %s") % box.label,
                value=formatting.count(sends.count()),
                detail=_("PEC sent from %s") % box.username,
                url=reverse("pec:mailbox", args=[box.pk]),
                tone=tone,
                rows=[
                    (_("Awaiting receipts"), formatting.count(waiting)),
                    (_("Needing attention"), formatting.count(problems)),
                    (
                        _("Quota used"),
                        formatting.percent(None if ratio is None else ratio * 100),
                    ),
                ],
            )
        )
    return cards
