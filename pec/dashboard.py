"""Home page cards: each PEC mailbox the user may use, with quota and open sends."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerhub import formatting
from partnerhub.dashboard import Card, QuickAction, register, register_actions
from partnerhub.paging import COUNT_CAP, capped_count

from . import selectors
from .models import DispatchStatus, PecSend, PecState


def sent_figure(sends: QuerySet[PecSend]) -> str:
    """How many were sent, counted up to `COUNT_CAP` (a box of a million sends
    would cost a full count on every home page view)."""
    found = capped_count(sends)
    if found <= COUNT_CAP:
        return formatting.count(found)
    return _("more than %s") % formatting.count(COUNT_CAP)


def in_states(sends: QuerySet[PecSend], *states: str) -> int:
    """Sends in these (rare) states, one count per state: SQLite reads the state
    index for `state = x`, but scans every send for `state IN (x, y)`."""
    return sum(sends.filter(state=state).count() for state in states)


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
        sent = sends.filter(status=DispatchStatus.SENT)
        waiting = in_states(sent, PecState.SUBMITTED, PecState.ACCEPTED)
        problems = (
            in_states(sends, PecState.NOT_DELIVERED, PecState.NOT_ACCEPTED)
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
                value=sent_figure(sends),
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
