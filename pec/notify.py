"""Operator emails on a non-acceptance, a non-delivery (the final 24 h notice is one)
or the 12 h warning.

Nobody has to watch the timeline: the operators granted the mailbox (and whoever
sent it) get one email per alarming receipt, through Django's email backend.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import PecReceipt, PecSend, ReceiptKind
from .receipts import final_notice_ids

logger = logging.getLogger(__name__)


def _addresses(send: PecSend) -> list[str]:
    users = list(send.mailbox.operators.filter(is_active=True))
    if send.created_by is not None:
        users.append(send.created_by)
    return sorted({u.email for u in users if u.email})


def _headline(receipt: PecReceipt, finals: set[int]) -> str:
    """The final "SUP. TEMPO MASSIMO" notice is a non-delivery, not a delay."""
    if receipt.kind == ReceiptKind.NON_ACCEPTANCE:
        return _("PEC not accepted")
    if receipt.kind == ReceiptKind.NON_DELIVERY or receipt.pk in finals:
        return _("PEC not delivered")
    return _("PEC delivery delayed: maximum time exceeded")


def notify_alarming(send: PecSend, receipts: Iterable[PecReceipt]) -> int:
    """Email the operators about each alarming receipt; returns emails sent."""
    recipients = _addresses(send)
    if not recipients:
        return 0
    sent = 0
    finals = final_notice_ids(send)
    base = settings.PEC_SITE_URL
    link = base.rstrip("/") + reverse("pec:send", args=[send.pk])
    with translation.override(settings.LANGUAGE_CODE):
        for receipt in receipts:
            when = timezone.localtime(receipt.date) if receipt.date else None
            headline = _headline(receipt, finals)
            subject = f"[PartnerHub] {headline}: {send.subject}"
            body = "\n".join(
                [
                    headline,
                    "",
                    _("Mailbox: %s") % send.mailbox,
                    _("Subject: %s") % send.subject,
                    _("Recipients: %s") % ", ".join(send.recipients),
                    _("Receipt: %s") % receipt.subject,
                    _("Date: %s") % (f"{when:%d/%m/%Y %H:%M}" if when else "—"),
                    "",
                    receipt.text,
                    "",
                    _("Timeline: %s") % link,
                ]
            )
            try:
                send_mail(subject, body, None, recipients)
            except Exception:  # an SMTP outage must not lose the receipt itself
                logger.exception("PEC alert email for send %s not sent", send.pk)
                continue
            sent += 1
    return sent
