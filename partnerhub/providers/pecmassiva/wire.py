"""Everything the client *believes* about PEC Massiva's wire format, in one place.

The OAS names the fields but says nothing of receipt types, body encodings, date
formats or what a 404 on `/send/{code}` means. Each reading below cites the tag it
rests on in `spec/pec-massiva.md` (CONFIRMED / REPORTED / INFERRED): when a test
against the real sandbox disagrees, correct it here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from .results import PecReceipt, PecSendState, ReceiptType

# --- INFERRED (§3.2, §7.1): item keys of GET /send/{code}. The OAS says
# data/object/message; an integrator reports date/subject/body. First non-empty wins.
DATE_KEYS = ("data", "date")
SUBJECT_KEYS = ("object", "subject")
TEXT_KEYS = ("message", "body")

# --- INFERRED (§3.2): 404 with this message right after a send means "no receipt yet".
RESULT_EMPTY = "result empty"

# --- INFERRED (§3.1): attachments go as an array of {name, file}; raw base64 (the
# sandbox-tested integrator) rather than a `data:` URI (the OAS example).
ATTACHMENTS_AS_DATA_URI = False

# --- INFERRED (§3.7): the OAS says megabyte, the example numbers fit KiB.
QUOTA_UNIT = "KiB"

# --- CONFIRMED prefixes (§5.3), INFERRED mapping (§5.7). Matched longest first and only
# when followed by ":". The short forms (MANCATA CONSEGNA, NON ACCETTAZIONE, AVVENUTA
# CONSEGNA) are defensive: some providers word their subjects that way.
RECEIPT_PREFIXES: dict[str, ReceiptType] = {
    "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO": ReceiptType.DELIVERY_TIMEOUT,
    "AVVISO DI MANCATA CONSEGNA PER VIRUS": ReceiptType.NON_DELIVERY,
    "AVVISO DI MANCATA CONSEGNA": ReceiptType.NON_DELIVERY,
    "AVVISO DI NON ACCETTAZIONE PER VIRUS": ReceiptType.NON_ACCEPTANCE,
    "AVVISO DI NON ACCETTAZIONE": ReceiptType.NON_ACCEPTANCE,
    "MANCATA CONSEGNA": ReceiptType.NON_DELIVERY,
    "NON ACCETTAZIONE": ReceiptType.NON_ACCEPTANCE,
    "AVVENUTA CONSEGNA": ReceiptType.DELIVERY,
    "PRESA IN CARICO": ReceiptType.TAKEN_IN_CHARGE,
    "POSTA CERTIFICATA": ReceiptType.TRANSPORT,
    "PROBLEMA DI SICUREZZA": ReceiptType.VIRUS_DETECTED,
    "ANOMALIA MESSAGGIO": ReceiptType.ANOMALY,
    "ACCETTAZIONE": ReceiptType.ACCEPTANCE,
    "CONSEGNA": ReceiptType.DELIVERY,
}
_LONGEST_FIRST = sorted(RECEIPT_PREFIXES, key=len, reverse=True)
_PREFIX_RE = re.compile(
    r"^\s*(" + "|".join(map(re.escape, _LONGEST_FIRST)) + r")\s*:", re.IGNORECASE
)

# --- INFERRED (§5.3, §5.5): the 12 h warning and the final notice share one type and
# subject and differ by the body, whose wording no source shows. The timing is
# CONFIRMED: the final notice never comes before 22 h, the warning comes at 12 h. So
# the dates decide when both are known (see `final_notices`), the body's words next.
TIMEOUT_FINAL_AFTER = timedelta(hours=22)
_TIMEOUT_FINAL_WORDS = re.compile(
    r"\b24\s*(?:ore|h)\b|ventiquattro|definitiv", re.IGNORECASE
)
_TIMEOUT_WARNING_WORDS = re.compile(
    r"\b12\s*(?:ore|h)\b|dodici|preavviso", re.IGNORECASE
)

# --- INFERRED (§3.2): receipts carry no recipient field; the Italian receipt text names
# the address ("... ed indirizzato a "x@y" è stato consegnato ...").
_ABOUT_RE = re.compile(
    r"indirizzat[oa]\s+a\s*:?\s*[\"<]?([\w.%+'-]+@[\w-]+(?:\.[\w-]+)+)", re.IGNORECASE
)
_OUTCOME_TYPES = {
    ReceiptType.DELIVERY,
    ReceiptType.NON_DELIVERY,
    ReceiptType.DELIVERY_TIMEOUT,
}


def receipt_type(subject: str) -> ReceiptType:
    """The PEC kind of a message, from its subject prefix (longest prefix first)."""
    match = _PREFIX_RE.match(subject or "")
    return RECEIPT_PREFIXES[match.group(1).upper()] if match else ReceiptType.UNKNOWN


def parse_date(raw: str | None) -> datetime | None:
    """An RFC 2822 date as an aware datetime; None when absent or unreadable."""
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def clean_address(raw: str | None) -> str:
    """Strip the quotes and padding the OAS example shows around addresses."""
    return (raw or "").strip().strip('"').strip()


def first(item: Mapping[str, Any], keys: Iterable[str]) -> str:
    """The first non-empty value among alias keys, as text (null → "")."""
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def receipt_from_item(item: Mapping[str, Any]) -> PecReceipt:
    """One GET /send/{code} item, read with every reported key alias."""
    subject = first(item, SUBJECT_KEYS)
    date_raw = first(item, DATE_KEYS)
    kind = receipt_type(subject)
    text = first(item, TEXT_KEYS)
    about = _ABOUT_RE.search(text) if kind in _OUTCOME_TYPES else None
    return PecReceipt(
        type=kind,
        subject=subject,
        date=parse_date(date_raw),
        date_raw=date_raw,
        sender=clean_address(item.get("sender")),
        recipient=clean_address(item.get("recipient")),
        text=text,
        about_recipient=about.group(1).lower() if about else None,
    )


def attachment_file(encoded: str, name: str) -> str:
    """The `file` value of an attachment, per `ATTACHMENTS_AS_DATA_URI`."""
    if not ATTACHMENTS_AS_DATA_URI:
        return encoded
    return f"data:application/octet-stream;name={name};base64,{encoded}"


# --- deriving a send's state ----------------------------------------------------------
def derive_state(
    receipts: Iterable[PecReceipt], expected_recipients: int | None = None
) -> tuple[PecSendState, tuple[str, ...], tuple[str, ...]]:
    """State, delivered and not-delivered addresses, from the receipts of one send.

    Until every expected recipient has a final outcome the send stays `accepted`;
    without `expected_recipients` any outcome counts as final for the whole send.
    """
    receipts = sorted(receipts, key=_date_key)
    types = {r.type for r in receipts}
    if ReceiptType.NON_ACCEPTANCE in types:
        return PecSendState.NOT_ACCEPTED, (), ()
    delivered, failed = _outcomes(receipts)
    if not delivered and not failed:
        started = types & {ReceiptType.ACCEPTANCE, ReceiptType.TRANSPORT}
        state = PecSendState.ACCEPTED if started else PecSendState.SUBMITTED
        return state, (), ()
    if expected_recipients and len(delivered) + len(failed) < expected_recipients:
        state = PecSendState.ACCEPTED
    elif not failed:
        state = PecSendState.DELIVERED
    elif not delivered:
        state = PecSendState.NOT_DELIVERED
    else:
        state = PecSendState.PARTIALLY_DELIVERED
    return state, _named(delivered), _named(failed)


def _outcomes(receipts: list[PecReceipt]) -> tuple[dict[str, None], dict[str, None]]:
    """Final outcome per recipient; a delivery wins over any failure notice."""
    delivered: dict[str, None] = {}
    failed: dict[str, None] = {}
    finals = final_notices(receipts)
    for index, (receipt, final) in enumerate(zip(receipts, finals, strict=True)):
        key = receipt.about_recipient or f"#{index}"
        failure = final or receipt.type == ReceiptType.NON_DELIVERY
        if receipt.type == ReceiptType.DELIVERY:
            delivered[key] = None
            failed.pop(key, None)
        elif failure and key not in delivered:
            failed[key] = None
    return delivered, failed


def final_notices(receipts: Sequence[PecReceipt]) -> list[bool]:
    """For each receipt, in the order given: is it the *final* "SUP. TEMPO MASSIMO"
    notice (not delivered) rather than the 12 h warning (delivery may still come)?

    INFERRED, defensively: the dates first (22 h or more after the acceptance is
    final, per the CONFIRMED timing); without them, a body naming one deadline only
    ("24 ore", "definitivo" / "12 ore", "preavviso"); failing that, the second notice
    about one recipient is the final one. Anything else counts as the warning, so a
    doubtful notice keeps the send open rather than closing it early.
    """
    accepted = min(
        (r.date for r in receipts if r.type == ReceiptType.ACCEPTANCE and r.date),
        default=None,
    )
    finals = [False] * len(receipts)
    warned: set[str] = set()
    for index in sorted(range(len(receipts)), key=lambda i: _date_key(receipts[i])):
        receipt = receipts[index]
        if receipt.type != ReceiptType.DELIVERY_TIMEOUT:
            continue
        about = receipt.about_recipient
        finals[index] = _timeout_is_final(receipt, accepted, about in warned)
        if about:
            warned.add(about)
    return finals


def _timeout_is_final(
    receipt: PecReceipt, accepted: datetime | None, repeated: bool
) -> bool:
    if accepted is not None and receipt.date is not None:
        return receipt.date - accepted >= TIMEOUT_FINAL_AFTER
    says_final = bool(_TIMEOUT_FINAL_WORDS.search(receipt.text))
    says_warning = bool(_TIMEOUT_WARNING_WORDS.search(receipt.text))
    if says_final != says_warning:
        return says_final
    return repeated


def _named(outcomes: dict[str, None]) -> tuple[str, ...]:
    return tuple(key for key in outcomes if not key.startswith("#"))


def _date_key(receipt: PecReceipt) -> datetime:
    return receipt.date or datetime.max.replace(tzinfo=UTC)


# --- decoding a message body (INFERRED, §3.5) -----------------------------------------
_FORM_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_QP_HINT = re.compile(r"=\r?\n|=3D|=(?:C[2-9A-F]|E[0-9A-F])=[89AB][0-9A-F]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode_body(raw: str | None) -> str:
    """Readable text from a `/inbox/{id}` body.

    The OAS says x-www-form-urlencoded; MIME leftovers (base64, quoted-printable) are
    decoded too when the text clearly is one. Anything doubtful is left as received.
    """
    text = raw or ""
    decoded = _from_base64(text)
    if decoded is not None:
        return decoded
    if _FORM_ESCAPE.search(text) or ("+" in text and " " not in text):
        text = _bytes_to_text(unquote_to_bytes(text.replace("+", " ")))
    decoded = _from_base64(text)
    if decoded is not None:
        return decoded
    if _QP_HINT.search(text):
        text = _bytes_to_text(quopri.decodestring(text.encode("utf-8", "replace")))
    return text


def _from_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if len(compact) % 4 or not _BASE64.fullmatch(compact):
        return None
    try:
        data = base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return None if _CONTROL.search(data) else data


def _bytes_to_text(data: bytes) -> str:
    """UTF-8 first, then Windows-1252 (Italian mailers still send it)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
