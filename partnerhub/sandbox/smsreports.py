"""SMS Partner read side: cancellation, statuses, statistics and number lookup.

Split from `smspartner.py` to keep modules short; the mixin works on the state
`SmsPartnerSandbox` sets up (`batches`, `accounts`, `config`). Wire names are the
provider's, quirks included: `statut` (single status) vs `status`,
`StatutResponse_List`, `stopSms` bool / "0"-"1" string / `stopSMS`, and
`message_id` (int when sending, string in `/bulk-status`) vs `messageId`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import phonenumbers
from phonenumbers import PhoneNumberFormat, geocoder

from .ndamedia import ApiError, Call, cancel_scheduled
from .state import (
    CANCELLED,
    DELIVERED,
    FAILED,
    PARIS,
    STOPPED,
    WAITING,
    Account,
    Batch,
    Delivery,
    SandboxConfig,
    as_int,
    blank,
    delivery_state,
    normalize_phone,
    unix_text,
)

STATUS_WORDS = {
    WAITING: "Waiting",
    DELIVERED: "Delivered",
    FAILED: "Not delivered",
    STOPPED: "Not delivered",
    CANCELLED: "Cancelled",
}
CANCEL_REFUSALS = {
    "cancelled": (5, "L'envoi a déjà été annulé."),
    "too_late": (6, "Impossible d'annuler moins de 5 minutes avant l'envoi."),
    "sent": (7, "Le SMS a déjà été envoyé."),
}
NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "Mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "Landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "Mobile",
    phonenumbers.PhoneNumberType.VOIP: "Voip",
    phonenumbers.PhoneNumberType.TOLL_FREE: "Toll free",
}
MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip
INVALID_NUMBER = "Le numéro de téléphone est vide ou n'est pas valide."


class SmsReports:
    TAG_PAGE_SIZE: ClassVar[int] = 20
    batches: dict[int, Batch]
    config: SandboxConfig
    account: Callable[[Call], Account]
    rate_limit: Callable[[Call, str, str], None]

    def _batch(self, call: Call, account: Account) -> Batch:
        message_id = as_int(call.params.get("messageId"))
        if blank(call.params.get("messageId")):
            raise ApiError(3, "L'ID du message est requis")
        batch = self.batches.get(message_id) if message_id is not None else None
        if batch is None or batch.account_key != account.api_key:
            raise ApiError(4, "Message introuvable")
        return batch

    def _state(self, batch: Batch, delivery: Delivery, now: float) -> tuple[str, str]:
        state, when = delivery_state(batch, delivery, now, self.config.settle_seconds)
        return STATUS_WORDS[state], unix_text(when)

    def message_cancel(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        batch = self._batch(call, account)
        cancel_scheduled(batch, account, call.now, CANCEL_REFUSALS)
        return {"success": True, "code": 200, "message": "L'envoi du SMS a été annulé."}

    def message_status(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        raw = call.params.get("phoneNumber")
        if blank(raw):
            raise ApiError(2, "Le numéro de téléphone est requis")
        batch = self._batch(call, account)
        delivery = batch.deliveries.get(normalize_phone(raw) or "")
        if delivery is None:
            raise ApiError(4, "Numéro introuvable")
        status, date = self._state(batch, delivery, call.now)
        return {
            "success": True,
            "code": 200,
            "number": str(raw),
            "messageId": str(batch.id),
            "stopSms": delivery.stopped,
            "date": date,
            "statut": status,
            "cost": float(delivery.cost),
            "countryCode": _region(delivery.address),
            "currency": "EUR",
        }

    def multi_status(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        items = call.params.get("SMSStatut_List")
        if not isinstance(items, list) or not items:
            raise ApiError(5, "La liste est vide")
        if len(items) > 500:
            raise ApiError(50, "500 numéros maximum")
        rows = [self._multi_row(account, item, call.now) for item in items]
        return {"success": True, "code": 200, "StatutResponse_List": rows}

    def _multi_row(self, account: Account, item: Any, now: float) -> dict[str, Any]:
        item = item if isinstance(item, dict) else {}
        raw, message_id = item.get("phoneNumber"), item.get("messageId")
        batch = self.batches.get(as_int(message_id) or -1)
        delivery = None
        if batch is not None and batch.account_key == account.api_key:
            delivery = batch.deliveries.get(normalize_phone(raw or "") or "")
        if batch is None or delivery is None:
            return {
                "success": False,
                "code": 4,
                "phoneNumber": raw,
                "messageId": message_id,
                "status": "Numéro introuvable",
            }
        status, date = self._state(batch, delivery, now)
        return {
            "success": True,
            "code": 200,
            "phoneNumber": raw,
            "messageId": batch.id,
            "status": status,
            "date": date,
            "stopSms": "1" if delivery.stopped else "0",
            "isSpam": "0",
        }

    def _bulk_rows(self, batch: Batch, now: float) -> Iterator[dict[str, Any]]:
        for delivery in batch.deliveries.values():
            status, date = self._state(batch, delivery, now)
            yield {
                "phoneNumber": delivery.address,
                "status": status,
                "stopSMS": delivery.stopped,
                "date": date,
            }

    def bulk_status(self, call: Call) -> dict[str, Any]:
        batch = self._batch(call, self.account(call))
        return {
            "success": True,
            "code": 200,
            "message_id": str(batch.id),
            "StatutResponse_List": list(self._bulk_rows(batch, call.now)),
        }

    def bulk_status_by_tag(self, call: Call) -> dict[str, Any]:
        """Statuses of every message sent with `tag`, 20 rows a page (`page`)."""
        account = self.account(call)
        tag = call.params.get("tag")
        if blank(tag):
            raise ApiError(3, "Le tag est requis")
        tagged = [
            b
            for b in self.batches.values()
            if b.account_key == account.api_key and b.tag == tag
        ]
        if not tagged:
            raise ApiError(4, "Aucun message pour ce tag")
        rows = [row for b in tagged for row in self._bulk_rows(b, call.now)]
        page = max(as_int(call.params.get("page")) or 1, 1)
        start = (page - 1) * self.TAG_PAGE_SIZE
        return {
            "success": True,
            "code": 200,
            "currentPage": page,
            "total": len(rows),
            "StatutResponse_List": rows[start : start + self.TAG_PAGE_SIZE],
        }

    def cost_resume(self, call: Call) -> dict[str, Any]:
        """Cost and SMS count per month (Europe/Paris) of the sends not cancelled."""
        account = self.account(call)
        self.rate_limit(call, "sms.cost_resume", account.api_key)
        months = _months(call.params, call.now)
        costs = {m: Decimal(0) for m in months}
        counts = dict.fromkeys(months, 0)
        for batch in self.batches.values():
            key = _month_of(batch.send_at)
            if (
                key in costs
                and batch.account_key == account.api_key
                and not batch.sandbox
                and batch.cancelled_at is None
            ):
                costs[key] += batch.cost
                counts[key] += batch.extra["nb_sms"]
        rows = [_month_row(m, costs[m], counts[m]) for m in months]
        return {"success": True, "datas": rows}

    def lookup(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        self.rate_limit(call, "sms.lookup", account.api_key)
        raw = call.params.get("phoneNumbers")
        if blank(raw):
            raise ApiError(2, "Le numéro de téléphone est requis")
        numbers = raw if isinstance(raw, list) else str(raw).split(",")
        if len(numbers) > 500:
            raise ApiError(50, "500 numéros maximum")
        return {
            "success": True,
            "code": 200,
            "lookup": [_lookup_row(str(n).strip()) for n in numbers],
        }


def _region(e164: str) -> str:
    if e164.startswith("+33"):
        return "FR"
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""


def _lookup_row(text: str) -> dict[str, Any]:
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return {"request": text, "success": False, "message": INVALID_NUMBER}

    def fmt(kind: int) -> str:
        return phonenumbers.format_number(number, kind)

    return {
        "request": text,
        "success": True,
        "countryCode": geocoder.country_name_for_number(number, "en"),
        "prefixCode": number.country_code,
        "phoneNumber": fmt(PhoneNumberFormat.E164),
        "type": NUMBER_TYPES.get(phonenumbers.number_type(number), "Unknown"),
        "network": "",
        "format": {
            "e164": fmt(PhoneNumberFormat.E164),
            "international": fmt(PhoneNumberFormat.INTERNATIONAL),
            "national": fmt(PhoneNumberFormat.NATIONAL),
            "rfc3966": fmt(PhoneNumberFormat.RFC3966),
        },
    }


def _month_of(timestamp: float) -> tuple[int, int]:
    moment = datetime.fromtimestamp(timestamp, tz=PARIS)
    return moment.year, moment.month


def _months(params: dict[str, Any], now: float) -> list[tuple[int, int]]:
    """The (year, month) list an `interval` covers, oldest first."""
    interval = params.get("interval") or "last_month"
    year, month = _month_of(now)
    if interval == "last_month":
        return [(year, month)]
    if interval == "last_twelve_months":
        first = year * 12 + month - 1 - 11
    elif interval == "custom":
        start, end = _custom_bound(params.get("from")), _custom_bound(params.get("to"))
        first = start[0] * 12 + start[1] - 1
        year, month = end
    else:
        message = "interval doit valoir last_month, last_twelve_months ou custom"
        raise ApiError(
            9, message, errors=[{"elementId": "interval", "message": message}]
        )
    last = year * 12 + month - 1
    return [(i // 12, i % 12 + 1) for i in range(first, last + 1)]


def _custom_bound(raw: Any) -> tuple[int, int]:
    try:
        moment = datetime.strptime(str(raw), "%d-%m-%Y").replace(tzinfo=PARIS)
    except ValueError:
        message = "from et to sont requis au format JJ-MM-AAAA"
        raise ApiError(
            9, message, errors=[{"elementId": "from", "message": message}]
        ) from None
    return moment.year, moment.month


def _month_row(key: tuple[int, int], cost: Decimal, count: int) -> dict[str, Any]:
    year, month = key
    start = datetime(year, month, 1, tzinfo=PARIS)
    return {
        "month": MONTH_NAMES[month - 1],
        "year": str(year),
        "m": f"{month:02d}",
        "date": int(start.timestamp()),
        "type": "month",
        "cost": f"{cost:.3f}",
        "nb_send": str(count),
    }
