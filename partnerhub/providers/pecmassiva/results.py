"""What the PEC Massiva client hands back: enums and frozen dataclasses, never dicts.

Callers (services, admin, tasks) read typed values and never see wire quirks such as
`data` meaning "date" or a body in x-www-form-urlencoded; those stay in `wire.py`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ReceiptType(StrEnum):
    """A PEC message kind, named after the `X-Ricevuta` / daticert `tipo` vocabulary.

    PEC Massiva exposes no type field, so the type is read from the subject prefix
    (see `wire.RECEIPT_PREFIXES`); values stay the standard's so a later REM backend
    or a raw-header parser can produce the same enum.
    """

    ACCEPTANCE = "accettazione"
    NON_ACCEPTANCE = "non-accettazione"
    TAKEN_IN_CHARGE = "presa-in-carico"
    DELIVERY = "avvenuta-consegna"
    NON_DELIVERY = "errore-consegna"
    DELIVERY_TIMEOUT = "preavviso-errore-consegna"
    TRANSPORT = "posta-certificata"
    VIRUS_DETECTED = "rilevazione-virus"
    ANOMALY = "anomalia"
    UNKNOWN = "unknown"


class PecSendState(StrEnum):
    """Overall state of one send, derived from its receipts (product.md §2)."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    NOT_DELIVERED = "not_delivered"
    NOT_ACCEPTED = "not_accepted"


@dataclass(frozen=True)
class PecAttachment:
    """A file to attach; the client base64-encodes `content` on the wire."""

    name: str
    content: bytes

    def encoded(self) -> str:
        return base64.b64encode(self.content).decode("ascii")


@dataclass(frozen=True)
class PecSendResult:
    """The answer to POST /send: `code` is the provider's `message_id`."""

    code: str
    sent: int
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class PecReceipt:
    """One item of GET /send/{code}: a receipt, or the transport envelope."""

    type: ReceiptType
    subject: str
    date: datetime | None
    date_raw: str
    sender: str
    recipient: str
    text: str
    about_recipient: str | None = None  # the address a (non-)delivery refers to


@dataclass(frozen=True)
class PecSendStatus:
    """All receipts of one send (oldest first) and the state derived from them."""

    code: str
    state: PecSendState
    receipts: tuple[PecReceipt, ...] = ()
    delivered: tuple[str, ...] = ()
    not_delivered: tuple[str, ...] = ()

    @property
    def pending(self) -> bool:
        """True while no receipt has come back (404 "Result empty" on the wire)."""
        return not self.receipts


@dataclass(frozen=True)
class InboxItem:
    """One row of GET /inbox."""

    id: int
    type: ReceiptType
    subject: str
    date: datetime | None
    date_raw: str
    sender: str
    recipient: str


@dataclass(frozen=True)
class InboxPage:
    """One page of GET /inbox (pages are 1-based, 25 items at most)."""

    items: tuple[InboxItem, ...]
    page: int
    total: int
    pages: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class InboxMessage:
    """GET /inbox/{id}: `body` decoded, `body_raw` exactly as received."""

    id: int
    type: ReceiptType
    subject: str
    date: datetime | None
    date_raw: str
    sender: str
    recipient: str
    body: str
    body_raw: str = field(repr=False, default="")


@dataclass(frozen=True)
class Quota:
    """GET /quota/{mailbox}; `unit` is what `wire.QUOTA_UNIT` believes it is."""

    mailbox: str
    usage: float
    limit: float
    unit: str

    @property
    def ratio(self) -> float:
        """Share of the quota used, 0.0 when the limit is unknown (0)."""
        return self.usage / self.limit if self.limit else 0.0
