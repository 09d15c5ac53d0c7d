"""Results of the SMS Partner client and the parsers that absorb its wire quirks.

Split from `smspartner` to keep both modules short; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .ndamedia import map_status, parse_datetime, to_bool, to_decimal, to_int, to_str

STATUS_MAP: dict[str, str] = {
    "delivered": "delivered",
    "delivrd": "delivered",
    "not delivered": "not_delivered",
    "undeliv": "not_delivered",
    "expired": "not_delivered",
    "waiting": "pending",
    "pending": "pending",
    "enroute": "pending",
    "acceptd": "accepted",
    "accepted": "accepted",
    "ko": "failed",
    "rejectd": "failed",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class SmsMessage:
    """One recipient and its own text, for `bulk_send`."""

    phone_number: str
    message: str


@dataclass(frozen=True)
class SmsAccount:
    username: str
    firstname: str
    lastname: str
    credit_sms: int | None
    credit_sms_eco: int | None  # `creditSmsECO`, formerly `creditSmsLowCost`
    credit_hlr: int | None
    to_send: int | None
    balance: Decimal | None
    currency: str


@dataclass(frozen=True)
class SmsSendResult:
    message_id: str
    nb_sms: int
    cost: Decimal | None
    currency: str
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class BulkSendItem:
    phone_number: str
    success: bool
    code: int | None
    nb_sms: int
    cost: Decimal | None


@dataclass(frozen=True)
class BulkSendResult:
    message_id: str
    nb_sms: int
    cost: Decimal | None
    currency: str
    items: tuple[BulkSendItem, ...]


@dataclass(frozen=True)
class SmsStatus:
    """One number of one message; `raw_status` is the provider's word."""

    phone_number: str
    message_id: str
    status: str
    raw_status: str
    date: datetime | None
    stop_sms: bool
    cost: Decimal | None = None
    country_code: str = ""
    currency: str = ""
    is_spam: bool = False
    success: bool = True  # multi-status reports per-pair failures here
    code: int | None = None


@dataclass(frozen=True)
class SmsStatusPage:
    current_page: int
    total: int
    items: tuple[SmsStatus, ...]


@dataclass(frozen=True)
class CostPeriod:
    month: str
    year: int | None
    month_number: int | None
    start: datetime | None
    type: str
    cost: Decimal | None
    nb_send: int | None


@dataclass(frozen=True)
class StopEntry:
    id: int | None
    phone_number: str
    created_at: datetime | None


@dataclass(frozen=True)
class LookupResult:
    """Format check of one number; `message` explains a failure."""

    request: str
    success: bool
    phone_number: str = ""
    country: str = ""
    prefix_code: int | None = None
    type: str = ""
    network: str = ""
    e164: str = ""
    international: str = ""
    national: str = ""
    message: str = ""


def wire_id(message_id: str | int) -> int | str:
    """Message ids are integers on the wire when they look like one."""
    text = str(message_id)
    return int(text) if text.isdigit() else text


def parse_status(item: Mapping[str, Any], *, message_id: str = "") -> SmsStatus:
    raw = to_str(item.get("statut", item.get("status")))
    code = to_int(item.get("code"))
    return SmsStatus(
        phone_number=to_str(item.get("phoneNumber", item.get("number"))),
        message_id=to_str(item.get("messageId")) or message_id,
        status=map_status(raw, STATUS_MAP),
        raw_status=raw,
        date=parse_datetime(item.get("date")),
        stop_sms=to_bool(item.get("stopSms", item.get("stopSMS"))),
        cost=to_decimal(item.get("cost")),
        country_code=to_str(item.get("countryCode")),
        currency=to_str(item.get("currency")),
        is_spam=to_bool(item.get("isSpam")),
        success=item.get("success") is not False,
        code=None if code == 200 else code,
    )


def parse_bulk_item(item: Mapping[str, Any]) -> BulkSendItem:
    return BulkSendItem(
        phone_number=to_str(item.get("phoneNumber")),
        success=item.get("success") is not False,
        code=to_int(item.get("code")),
        nb_sms=to_int(item.get("nbSms", item.get("nb_sms"))) or 0,
        cost=to_decimal(item.get("cost")),
    )


def parse_cost(item: Mapping[str, Any]) -> CostPeriod:
    return CostPeriod(
        month=to_str(item.get("month")),
        year=to_int(item.get("year")),
        month_number=to_int(item.get("m")),
        start=parse_datetime(item.get("date")),
        type=to_str(item.get("type")),
        cost=to_decimal(item.get("cost")),
        nb_send=to_int(item.get("nb_send")),
    )


def parse_lookup(item: Mapping[str, Any]) -> LookupResult:
    success = to_bool(item.get("success"))
    if not success:
        # A failed item is {request, success, message}; positional XML puts the
        # message where `countryCode` would be.
        message = item.get("message", item.get("countryCode"))
        return LookupResult(to_str(item.get("request")), False, message=to_str(message))
    fmt = item.get("format") or {}
    return LookupResult(
        request=to_str(item.get("request")),
        success=True,
        phone_number=to_str(item.get("phoneNumber")),
        country=to_str(item.get("countryCode")),
        prefix_code=to_int(item.get("prefixCode")),
        type=to_str(item.get("type")),
        network=to_str(item.get("network")),
        e164=to_str(fmt.get("e164")),
        international=to_str(fmt.get("international")),
        national=to_str(fmt.get("national")),
    )
