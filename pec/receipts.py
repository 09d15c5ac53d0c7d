"""Receipts: stored once each, and the send's state derived from *all* stored ones.

The state is derived from what the app holds, not from the last answer, because
the mailbox copies can be deleted at the provider (DELETE /send/{code}) while the
legal evidence stays here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from partnerhub.providers.pecmassiva import PecReceipt as WireReceipt
from partnerhub.providers.pecmassiva import ReceiptType, derive_state, final_notices

from .models import PecReceipt, PecSend, PecState, ReceiptKind

# Receipts whose arrival the operators of the mailbox are emailed about.
ALERT_KINDS = frozenset(
    {ReceiptKind.NON_ACCEPTANCE, ReceiptKind.NON_DELIVERY, ReceiptKind.DELIVERY_TIMEOUT}
)
# Receipts about one recipient's outcome, which the provider names in the text only.
OUTCOME_KINDS = frozenset(
    {ReceiptKind.DELIVERY, ReceiptKind.NON_DELIVERY, ReceiptKind.DELIVERY_TIMEOUT}
)


def fingerprint(receipt: WireReceipt) -> str:
    raw = "\x1f".join((receipt.subject, receipt.date_raw, receipt.sender, receipt.text))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def store_new(send: PecSend, receipts: Iterable[WireReceipt]) -> list[PecReceipt]:
    """Save the receipts not stored yet; returns the new rows."""
    known = set(send.receipts.values_list("fingerprint", flat=True))
    created = []
    for receipt in receipts:
        key = fingerprint(receipt)
        if key in known:
            continue
        known.add(key)
        created.append(
            PecReceipt.objects.create(
                send=send,
                kind=receipt.type.value,
                subject=receipt.subject,
                date=receipt.date,
                date_raw=receipt.date_raw[:120],
                issuer=receipt.sender[:255],
                recipient=_about(send, receipt)[:255],
                text=receipt.text,
                fingerprint=key,
            )
        )
    return created


def _about(send: PecSend, receipt: WireReceipt) -> str:
    """The recipient an outcome is about: named in its text (INFERRED wording), or
    the only recipient of the send, so a notice worded otherwise still counts."""
    if receipt.about_recipient:
        return receipt.about_recipient
    only = len(send.recipients) == 1 and receipt.type.value in OUTCOME_KINDS
    return send.recipients[0].lower() if only else ""


def as_wire(row: PecReceipt) -> WireReceipt:
    return WireReceipt(
        type=ReceiptType(row.kind),
        subject=row.subject,
        date=row.date,
        date_raw=row.date_raw,
        sender=row.issuer,
        recipient="",
        text=row.text,
        about_recipient=row.recipient or None,
    )


def apply_state(send: PecSend) -> None:
    """Set state, acceptance time and per-recipient outcomes from stored receipts."""
    rows = list(send.receipts.all())
    state, delivered, failed = derive_state(
        [as_wire(r) for r in rows], len(send.recipients) or None
    )
    send.state = PecState(state.value)
    send.delivered_to = list(delivered)
    send.not_delivered_to = list(failed)
    accepted = [r.date for r in rows if r.kind == ReceiptKind.ACCEPTANCE and r.date]
    send.accepted_at = min(accepted) if accepted else None


def final_notice_ids(send: PecSend, rows: list[PecReceipt] | None = None) -> set[int]:
    """Ids of the stored "SUP. TEMPO MASSIMO" notices that are the final (24 h) one.

    The 12 h warning and the final notice share kind and subject (INFERRED, spec
    §5.3); `final_notices` tells them apart by date, then body, then order.
    """
    rows = list(send.receipts.all()) if rows is None else rows
    finals = final_notices([as_wire(r) for r in rows])
    return {row.pk for row, final in zip(rows, finals, strict=True) if final}


def recipient_states(send: PecSend) -> list[tuple[str, str]]:
    """(address, state) per recipient, as far as the receipts name them.

    "delayed" is a recipient with the 12 h warning and no outcome yet.
    """
    delivered = set(send.delivered_to)
    failed = set(send.not_delivered_to)
    warned = set(
        send.receipts.filter(kind=ReceiptKind.DELIVERY_TIMEOUT).values_list(
            "recipient", flat=True
        )
    )
    rows = []
    for address in send.recipients:
        key = address.lower()
        if send.state == PecState.NOT_ACCEPTED:
            rows.append((address, PecState.NOT_ACCEPTED.value))
        elif key in delivered:
            rows.append((address, PecState.DELIVERED.value))
        elif key in failed:
            rows.append((address, PecState.NOT_DELIVERED.value))
        elif key in warned:
            rows.append((address, "delayed"))
        elif send.accepted_at:
            rows.append((address, PecState.ACCEPTED.value))
        else:
            rows.append((address, PecState.SUBMITTED.value))
    return rows
