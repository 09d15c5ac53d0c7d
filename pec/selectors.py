"""Object-level reads: an operator sees only the mailboxes granted to them.

Every page, POST and download goes through these, so a guessed id of another
mailbox is a 404 (not a 403 that would confirm the id exists). Admins (who manage
mailboxes) see every box; anyone else without a grant sees none.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from .models import PecMailbox, PecReceipt, PecSend, ReceiptKind


def sees_every_mailbox(user: Any) -> bool:
    return bool(user.is_superuser or user.has_perm("pec.change_pecmailbox"))


def mailboxes_for(user: Any) -> QuerySet[PecMailbox]:
    if not user.is_authenticated or not user.has_perm("pec.view_pecmailbox"):
        return PecMailbox.objects.none()
    if sees_every_mailbox(user):
        return PecMailbox.objects.all()
    return PecMailbox.objects.filter(operators=user)


def mailbox_for(user: Any, pk: int) -> PecMailbox:
    return get_object_or_404(mailboxes_for(user), pk=pk)


def sends_for(user: Any) -> QuerySet[PecSend]:
    """The user's sends. Their mailboxes come in a second query, not a join: with
    an INNER JOIN, SQLite may start from the mailboxes and sort every send of
    the box for each page instead of reading the list's index in order."""
    return with_delivery_warning(
        PecSend.objects.filter(mailbox__in=mailboxes_for(user))
        .select_related("created_by")
        .prefetch_related("mailbox")
    )


def mailbox_sends(box: PecMailbox) -> QuerySet[PecSend]:
    """The sends of a mailbox the user was granted (`mailbox_for`): by the box
    alone, which SQLite reads from the (mailbox, created_at, id) index in order."""
    sends = PecSend.objects.filter(mailbox=box).select_related("created_by")
    return with_delivery_warning(sends.prefetch_related("mailbox"))


def with_delivery_warning(sends: QuerySet[PecSend]) -> QuerySet[PecSend]:
    """`delivery_warning`: a "SUP. TEMPO MASSIMO" notice came for the send, so an
    accepted one shows the spec's "Delivery warning" chip (§8) instead of
    "Accepted". One EXISTS per listed send, on the (send, fingerprint) index."""
    notices = PecReceipt.objects.filter(
        send=OuterRef("pk"), kind=ReceiptKind.DELIVERY_TIMEOUT
    )
    return sends.annotate(delivery_warning=Exists(notices))


def send_for(user: Any, pk: int) -> PecSend:
    return get_object_or_404(sends_for(user), pk=pk)
