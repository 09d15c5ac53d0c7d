"""A send's receipts timeline as a PDF a lawyer can file, and as JSON.

The PDF carries every stored receipt with its full text, date as received and in
Paris time, issuer, and the send's own data (code, recipients, attachments), so the
evidence survives the 30-month provider log and any deletion at the provider.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .models import PecReceipt, PecSend, ReceiptKind
from .receipts import final_notice_ids, recipient_states


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M:%S %Z") if value else "—"


def _notice(receipt: PecReceipt, finals: set[int]) -> str | None:
    """Which "SUP. TEMPO MASSIMO" notice this is: the two share kind and subject,
    and a filed timeline must say which one closed the delivery."""
    if receipt.kind != ReceiptKind.DELIVERY_TIMEOUT:
        return None
    return "final" if receipt.pk in finals else "12h_warning"


def timeline_json(send: PecSend) -> dict[str, Any]:
    rows = list(send.receipts.all())
    finals = final_notice_ids(send, rows)
    return {
        "send": {
            "id": send.pk,
            "mailbox": send.mailbox.username,
            "provider_code": send.provider_code,
            "subject": send.subject,
            "recipients": send.recipients,
            "attachments": [
                {"name": a.name, "size": a.size} for a in send.attachments.all()
            ],
            "dispatch": send.status,
            "state": send.state,
            "sent_count": send.sent_count,
            "sent_at": send.sent_at.isoformat() if send.sent_at else None,
            "accepted_at": send.accepted_at.isoformat() if send.accepted_at else None,
            "delivered_to": send.delivered_to,
            "not_delivered_to": send.not_delivered_to,
            "sent_by": send.created_by.get_username() if send.created_by else None,
        },
        "receipts": [
            {
                "type": r.kind,
                "subject": r.subject,
                "date": r.date.isoformat() if r.date else None,
                "date_as_received": r.date_raw,
                "issuer": r.issuer,
                "about_recipient": r.recipient or None,
                "maximum_time_notice": _notice(r, finals),
                "text": r.text,
                "stored_at": r.fetched_at.isoformat(),
            }
            for r in rows
        ],
        "exported_at": timezone.now().isoformat(),
    }


def timeline_pdf(send: PecSend) -> bytes:
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=8, leading=10)
    mono = ParagraphStyle("mono", parent=styles["Code"], fontSize=7.5, leading=9.5)
    story: list[Any] = [
        Paragraph(escape(_("PEC receipts: %s") % send.subject), styles["Title"]),
        _facts_table(send, small),
        Spacer(1, 6 * mm),
        Paragraph(escape(_("Receipts")), styles["Heading2"]),
    ]
    rows = list(send.receipts.all())
    finals = final_notice_ids(send, rows)
    if not rows:
        story.append(Paragraph(escape(_("No receipts yet.")), styles["BodyText"]))
    for receipt in rows:
        story.append(
            KeepTogether(
                [
                    Paragraph(
                        f"<b>{escape(_kind_label(receipt, finals))}</b> — "
                        f"{escape(_when(receipt.date))}",
                        styles["Heading4"],
                    ),
                    Paragraph(escape(_("Subject: %s") % receipt.subject), small),
                    Paragraph(escape(_("Issued by: %s") % receipt.issuer), small),
                    Paragraph(
                        escape(_("Date as received: %s") % receipt.date_raw), small
                    ),
                    Spacer(1, 2 * mm),
                    Preformatted(receipt.text or "—", mono, maxLineLength=110),
                    Spacer(1, 4 * mm),
                ]
            )
        )
    story.append(
        Paragraph(
            escape(
                _(
                    "Exported by PartnerHub on %s. ACCETTAZIONE proves the sending; "
                    "CONSEGNA proves the deposit in the recipient's mailbox, not its "
                    "reading."
                )
                % _when(timezone.now())
            ),
            small,
        )
    )
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"PEC {send.provider_code} — {send.subject}",
        author="PartnerHub",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    doc.build(story)
    return buffer.getvalue()


def _kind_label(receipt: PecReceipt, finals: set[int]) -> str:
    notice = _notice(receipt, finals)
    if notice is None:
        return str(receipt.get_kind_display())
    which = _("final notice: not delivered") if notice == "final" else _("12 h warning")
    return f"{receipt.get_kind_display()} ({which})"


def _facts_table(send: PecSend, style: ParagraphStyle) -> Table:
    states = ", ".join(f"{a}: {s}" for a, s in recipient_states(send))
    facts = [
        (_("Mailbox"), send.mailbox.username),
        (_("PEC Massiva code"), send.provider_code or "—"),
        (_("State"), send.get_state_display()),
        (_("Sent at"), _when(send.sent_at)),
        (_("Accepted at"), _when(send.accepted_at)),
        (_("Recipients"), states),
        (_("Attachments"), ", ".join(a.name for a in send.attachments.all()) or "—"),
        (_("Sent by"), send.created_by.get_username() if send.created_by else "—"),
    ]
    data = [
        [Paragraph(escape(str(k)), style), Paragraph(escape(str(v)), style)]
        for k, v in facts
    ]
    table = Table(data, colWidths=[40 * mm, 130 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
