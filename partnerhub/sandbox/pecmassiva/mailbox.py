"""State behind the PEC Massiva emulator: mailboxes, stored messages, receipt texts.

Receipts follow the PEC conventions of spec §5 (subject prefixes, `posta-certificata@`
sender, Italian receipt wording naming the recipient) so the client's parsing is
exercised on realistic text. Which recipients get a delivery, and when, is a fixed,
documented rule on the address (`outcome_plan`), so tests and demos choose the
outcome by the address, as `bounce` does for Mail Partner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
DEMO_TOKEN = "demo-pecmassiva-token"  # noqa: S105 - the sandbox's published demo token
DEMO_MAILBOXES = {
    "demo@pecmassiva.com": "demo-password",
    "ufficio@pecmassiva.com": "ufficio-password",
}
RECEIPT_SENDER = "posta-certificata@pecmassiva.com"
QUOTA_LIMIT_KIB = (
    1048576  # 1 GiB in KiB, as the OAS example (see client wire.QUOTA_UNIT)
)
BASE_USAGE_KIB = 2048  # folders, indexes: a mailbox is never at 0
ENVELOPE_KIB = 4  # signature, daticert.xml and headers around every PEC message
# A recipient is on a certified (PEC) domain when its domain contains one of these;
# anything else (gmail.com, libero.it, example.fr) gets AVVISO DI MANCATA CONSEGNA.
CERTIFIED_DOMAIN_MARKERS = ("pec", "cert", "legalmail")
# A certified recipient whose local part holds one of these has no delivery within 12 h:
# "never" gets the 12 h warning, then the final notice (§5.5); "slow" gets the warning,
# then its CONSEGNA between the two deadlines.
NEVER_DELIVERED_MARKER = "never"
SLOW_DELIVERY_MARKER = "slow"
HOUR = 3600.0
TIMEOUT_WARNING_AFTER = 12 * HOUR  # CONFIRMED (§5.5): no delivery within 12 hours
# CONFIRMED (§5.5): the final notice comes "within 24 h, and not before 22 h"; 23 h
# sits inside that window, so a reader must not expect it at exactly 24 h.
TIMEOUT_FINAL_AFTER = 23 * HOUR
SLOW_DELIVERY_AFTER = 18 * HOUR  # after the warning, before the final notice
TIMEOUT_PREFIX = "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO"
# What a recipient's next receipt is (`Due.outcome`).
DELIVERY, NON_DELIVERY, TIMEOUT_WARNING, TIMEOUT_FINAL = (
    "delivery",
    "non_delivery",
    "timeout_warning",
    "timeout_final",
)
# An attachment whose content holds this marker (the EICAR test file does) is refused
# at submission: AVVISO DI NON ACCETTAZIONE PER VIRUS instead of ACCETTAZIONE.
VIRUS_MARKER = b"EICAR"


def is_certified(address: str) -> bool:
    """The sandbox's rule for "this address belongs to a PEC provider"."""
    domain = address.rpartition("@")[2].lower()
    return any(marker in domain for marker in CERTIFIED_DOMAIN_MARKERS)


def outcome_plan(address: str, settle_seconds: float) -> list[tuple[float, str]]:
    """(seconds after the send, outcome) of each receipt this recipient will get."""
    if not is_certified(address):
        return [(settle_seconds, NON_DELIVERY)]
    local = address.rpartition("@")[0].lower()
    if NEVER_DELIVERED_MARKER in local:
        return [
            (TIMEOUT_WARNING_AFTER, TIMEOUT_WARNING),
            (TIMEOUT_FINAL_AFTER, TIMEOUT_FINAL),
        ]
    if SLOW_DELIVERY_MARKER in local:
        return [
            (TIMEOUT_WARNING_AFTER, TIMEOUT_WARNING),
            (SLOW_DELIVERY_AFTER, DELIVERY),
        ]
    return [(settle_seconds, DELIVERY)]


def rfc2822(timestamp: float) -> str:
    """A date as PEC Massiva writes it: `Wed, 26 Aug 2020 10:00:35 +0200`."""
    return format_datetime(datetime.fromtimestamp(timestamp, ROME))


def size_kib(*texts: str, extra_bytes: int = 0) -> int:
    raw = sum(len(t.encode("utf-8")) for t in texts) + extra_bytes
    return ENVELOPE_KIB + math.ceil(raw / 1024)


@dataclass
class StoredMessage:
    id: int
    sender: str
    recipient: str
    date: float
    subject: str
    body: str
    size_kib: int

    def listing(self) -> dict[str, Any]:
        """An item of GET /inbox (`InboxSearch`)."""
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "date": rfc2822(self.date),
            "object": self.subject,
            "id": self.id,
        }

    def status_item(self) -> dict[str, Any]:
        """An item of GET /send/{code} (`ResponseStatus`: the date key is `data`)."""
        return {
            "sender": self.sender,
            "recipient": self.recipient,
            "data": rfc2822(self.date),
            "object": self.subject,
            "message": self.body,
        }

    def matches(self, query: str) -> bool:
        fields = (self.subject, self.sender, self.recipient, self.body)
        return any(query in text.lower() for text in fields)


@dataclass
class Mailbox:
    """One PEC box; ids are UIDs: stable, never reused after a deletion."""

    address: str
    password: str
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_id: int = 1

    def deliver(
        self, *, sender: str, date: float, subject: str, body: str, extra_bytes: int = 0
    ) -> StoredMessage:
        message = StoredMessage(
            id=self.next_id,
            sender=sender,
            recipient=self.address,
            date=date,
            subject=subject,
            body=body,
            size_kib=size_kib(subject, body, extra_bytes=extra_bytes),
        )
        self.messages[message.id] = message
        self.next_id += 1
        return message

    def newest_first(self, query: str | None = None) -> list[StoredMessage]:
        found: Iterable[StoredMessage] = self.messages.values()
        if query:
            found = [m for m in found if m.matches(query.lower())]
        return sorted(found, key=lambda m: (m.date, m.id), reverse=True)

    def of_sending(self, code: str) -> list[StoredMessage]:
        """Messages of one send: the code is appended to every subject (spec §3.1)."""
        found = [m for m in self.messages.values() if m.subject.endswith(" " + code)]
        return sorted(found, key=lambda m: (m.date, m.id))

    def usage_kib(self) -> int:
        return BASE_USAGE_KIB + sum(m.size_kib for m in self.messages.values())


@dataclass(frozen=True)
class Due:
    """A receipt still to come for one recipient: at `at`, of kind `outcome`."""

    at: float
    recipient: str
    outcome: str


@dataclass
class Sending:
    """One accepted POST /send, waiting for its delivery receipts (`due`)."""

    code: str
    mailbox: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    sent_at: float
    attachment_bytes: int
    due: list[Due] = field(default_factory=list)

    @property
    def coded_subject(self) -> str:
        return f"{self.subject} {self.code}"

    @property
    def settled(self) -> bool:
        return not self.due


# --- receipt texts (Italian, as the providers write them) -----------------------------
def _when(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, ROME)
    return f"Il giorno {moment:%d/%m/%Y} alle ore {moment:%H:%M:%S} ({moment:%z})"


def acceptance_text(sending: Sending) -> str:
    lines = [
        "Ricevuta di accettazione",
        "",
        f"{_when(sending.sent_at)} il messaggio",
        f'"{sending.subject}" proveniente da "{sending.mailbox}"',
        "ed indirizzato a:",
    ]
    for recipient in sending.recipients:
        kind = "posta certificata" if is_certified(recipient) else "posta ordinaria"
        lines.append(f'{recipient} ("{kind}")')
    lines += ["è stato accettato dal sistema ed inoltrato.", _identifier(sending)]
    return "\n".join(lines)


def non_acceptance_text(sending: Sending) -> str:
    return "\n".join(
        [
            "Avviso di non accettazione per virus",
            "",
            f"{_when(sending.sent_at)} nel messaggio",
            f'"{sending.subject}" proveniente da "{sending.mailbox}"',
            "è stato rilevato un virus: il messaggio non è stato accettato.",
            _identifier(sending),
        ]
    )


def delivery_text(sending: Sending, recipient: str, at: float) -> str:
    return "\n".join(
        [
            "Ricevuta di avvenuta consegna",
            "",
            f'{_when(at)} il messaggio "{sending.subject}" proveniente da',
            f'"{sending.mailbox}" ed indirizzato a "{recipient}"',
            "è stato consegnato nella casella di destinazione.",
            _identifier(sending),
            "",
            sending.body,
        ]
    )


def non_delivery_text(sending: Sending, recipient: str, at: float) -> str:
    return "\n".join(
        [
            "Avviso di mancata consegna",
            "",
            f'{_when(at)} nel messaggio "{sending.subject}" proveniente da',
            f'"{sending.mailbox}" ed indirizzato a "{recipient}"',
            "è stato rilevato un problema che ne impedisce la consegna.",
            "Errore: 5.1.1 - il destinatario non appartiene a un dominio di posta",
            "elettronica certificata.",
            _identifier(sending),
        ]
    )


def timeout_warning_text(sending: Sending, recipient: str, at: float) -> str:
    """The 12 h notice. INFERRED wording: the spec (§5.3) only says the 12 h and the
    24 h notices share one subject and differ by their body; this one says "12 ore"
    and "preavviso", and nothing the final notice says."""
    return "\n".join(
        [
            "Avviso di mancata consegna per superamento dei tempi massimi",
            "(preavviso a 12 ore dall'invio)",
            "",
            f'{_when(at)} nel messaggio "{sending.subject}" proveniente da',
            f'"{sending.mailbox}" ed indirizzato a "{recipient}"',
            "non è pervenuta la ricevuta di avvenuta consegna entro 12 ore dall'invio.",
            "Il messaggio potrebbe ancora essere consegnato: questo è un preavviso.",
            _identifier(sending),
        ]
    )


def timeout_final_text(sending: Sending, recipient: str, at: float) -> str:
    """The final notice, sent between 22 h and 24 h. INFERRED wording (see above):
    it says "24 ore" and "definitivo", and neither "12 ore" nor "preavviso"."""
    return "\n".join(
        [
            "Avviso di mancata consegna per superamento dei tempi massimi",
            "(avviso definitivo a 24 ore dall'invio)",
            "",
            f'{_when(at)} nel messaggio "{sending.subject}" proveniente da',
            f'"{sending.mailbox}" ed indirizzato a "{recipient}"',
            "non è pervenuta la ricevuta di avvenuta consegna entro 24 ore dall'invio:",
            "il messaggio non è stato consegnato. Questo avviso è definitivo.",
            _identifier(sending),
        ]
    )


def _identifier(sending: Sending) -> str:
    return f"Identificativo messaggio: {sending.code}@pecmassiva.com"
