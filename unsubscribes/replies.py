"""SMS replies posted by SMS Partner's webhook (providers.md §2.15).

Two payload shapes exist: short numbers send
`{"type": "stop"|"response", "phone_number", "text", "message_id"}`; long
(virtual) numbers send `{"msisdn", "to", "messageId", "text", "type": "text",
"keyword", "message-timestamp"}` (one callback per part of a long SMS). A STOP
is a `type: "stop"` or, on a long number, a reply whose keyword or whole text is
STOP. Replays are recognised by a fingerprint of what identifies the reply, so
the provider retrying a callback never stores it twice nor re-suppresses an
address removed by hand since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from partnerhub.rules import normalize_phone

from .models import Channel, ReplyKind, SmsReply, Source

MALFORMED = _("Unrecognised reply payload.")
BAD_PHONE = _("The phone number of the reply is missing or invalid.")
BAD_TEXT = _("The text of the reply must be a string.")
BAD_TYPE = _("The reply type must be 'stop' or 'response'.")
PARIS = ZoneInfo("Europe/Paris")
STOP_WORDS = frozenset({"STOP", "STOP SMS", "STOPSMS"})
_SCALARS = (str, int)


@dataclass(frozen=True)
class ParsedReply:
    phone: str
    kind: str
    text: str
    message_id: str
    to: str = ""
    provider_time: datetime | None = None
    part: str = ""


@dataclass(frozen=True)
class ReplyOutcome:
    reply: SmsReply
    created: bool  # False: a replay of a reply already stored
    unsubscribed: bool


def parse_reply(payload: Mapping[str, Any]) -> ParsedReply:
    """Validate a webhook payload; `ValidationError` for anything unexpected."""
    if "phone_number" in payload:
        return _short_number(payload)
    if "msisdn" in payload:
        return _long_number(payload)
    raise ValidationError(MALFORMED, code="malformed")


def _short_number(payload: Mapping[str, Any]) -> ParsedReply:
    kind = payload.get("type")
    if kind not in ReplyKind.values:
        raise ValidationError(BAD_TYPE, code="type")
    return ParsedReply(
        phone=_phone(payload.get("phone_number")),
        kind=kind,
        text=_text(payload.get("text")),
        message_id=_scalar(payload.get("message_id")),
    )


def _long_number(payload: Mapping[str, Any]) -> ParsedReply:
    raw = payload.get("msisdn")
    digits = str(raw).lstrip("+") if isinstance(raw, _SCALARS) else ""
    text = _text(payload.get("text"))
    keyword = _text(payload.get("keyword"))
    is_stop = {keyword.strip().upper(), text.strip().upper()} & STOP_WORDS
    return ParsedReply(
        phone=_phone("+" + digits if digits.isdigit() else ""),
        kind=ReplyKind.STOP if is_stop else ReplyKind.RESPONSE,
        text=text,
        message_id=_scalar(payload.get("messageId")),
        to=_scalar(payload.get("to"))[:32],
        provider_time=_timestamp(payload.get("message-timestamp")),
        part=_scalar(payload.get("concat-part")),
    )


def _phone(value: Any) -> str:
    phone = normalize_phone(value) if isinstance(value, str) else None
    if not phone:
        raise ValidationError(BAD_PHONE, code="phone")
    return phone


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(BAD_TEXT, code="text")
    return value[:2000]


def _scalar(value: Any) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, _SCALARS):
        return ""
    return str(value)[:64]


def _timestamp(value: Any) -> datetime | None:
    try:
        parsed = datetime.strptime(f"{value} +0000", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None
    return parsed.replace(tzinfo=PARIS)  # provider wall time is Paris time


def fingerprint(reply: ParsedReply) -> str:
    """What identifies one callback: equal for a replay, different for a new SMS."""
    when = reply.provider_time.isoformat() if reply.provider_time else ""
    key = [reply.kind, reply.phone, reply.message_id, reply.text, reply.to, when]
    key.append(reply.part)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


@transaction.atomic
def sms_reply_receive(*, payload: Mapping[str, Any]) -> ReplyOutcome:
    """Store a reply once; a STOP suppresses the number (source `reply`)."""
    from .services import unsubscribe_add  # services imports this module

    parsed = parse_reply(payload)
    reply, created = SmsReply.objects.get_or_create(
        fingerprint=fingerprint(parsed),
        defaults={
            "phone": parsed.phone,
            "kind": parsed.kind,
            "text": parsed.text,
            "message_id": parsed.message_id,
            "to": parsed.to,
            "provider_time": parsed.provider_time,
            "payload": dict(payload),
        },
    )
    stop = created and parsed.kind == ReplyKind.STOP
    if stop:
        unsubscribe_add(
            channel=Channel.SMS,
            address=parsed.phone,
            source=Source.REPLY,
            reason=parsed.text.strip()[:255],
        )
    return ReplyOutcome(reply, created, stop)
