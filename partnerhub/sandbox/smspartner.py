"""SMS Partner emulator (`/smspartner/v1`, providers.md §2).

Text and parts follow providers.md §2.3: without `isUnicode` the text is sent in
GSM-7 after the provider's substitutions and removals (the table of
`partnerhub.providers.sms_charset`), 160/153 a part (`:br:` and extension
characters count 2); with `isUnicode=1`, 70/67 UTF-16 units. `isStopSms=1`
appends the STOP mention on Premium (counted; ignored on Low Cost, where the
docs say to write "NoPub=STOP" by hand); Low Cost (`gamme=2`) refuses more than
160 characters with code 42 (INFERRED: in Unicode, more than one part). Choices
where the docs are silent (INFERRED): a part costs 0.038 € (gamme 1) or 0.026 €
(gamme 2); an invalid number, a missing message or a
bad sender answer code 9 with an `errors` list naming the field; a number on the
STOP list is skipped (`stopSMS: true`) rather than failing the send; statuses
are `Waiting`, then `Delivered` / `Not delivered` (numbers ending in 99), or
`Cancelled`; status dates are unix-second strings (as the GO testdata);
`/bulk-status-by-tag` pages 20 items (`page`, default 1); cost-resume
`last_month` means the current calendar month. `/bulk-send` costs each number by
the parts of its own text (`SMSResponse_List` items carry `nbSms`/`cost` each); the
status answers document no text, so the texts received are shown only on the
control endpoint `/_sandbox/messages`.

Quiet hours (`quiet_hours.py` says what is CONFIRMED and what INFERRED): on an
account with the rule on, a send handed over from 20:00 to 08:00, on a Sunday or
a public holiday stays `Waiting` until 08:00 on the next working day; a send
scheduled for such a time is refused, HTTP 400 like the other refusals, with
code 23 (Sunday or holiday) or 22 (hour). Their French wording is INFERRED from
the English gist of the error table.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from decimal import Decimal
from typing import Any, ClassVar

from partnerhub.providers.sms_charset import (
    STOP_MENTION,
    expand_tokens,
    gsm_render,
    gsm_units,
    utf16_units,
)

from .ndamedia import (
    ApiError,
    Call,
    NdaMediaEmulator,
    SubaccountEndpoints,
    parse_schedule,
)
from .quiet_hours import QuietHoursSwitch, leaves_at, quiet_reason
from .smsreports import SmsReports
from .state import (
    Account,
    Batch,
    Delivery,
    as_int,
    blank,
    normalize_phone,
    paris_text,
    received_texts,
    truthy,
)

MAX_NUMBERS = 500
MAX_PARTS = 10
PRICES = {1: Decimal("0.038"), 2: Decimal("0.026")}
SENDER_RE = re.compile(r"^[A-Za-z0-9]{3,11}$")
# Codes 22/23 of the send error table (§2.20); error 22 still says 22:00 (§7.9).
QUIET_REFUSALS = {
    "hour": (
        22,
        "Envoi marketing : l'heure d'envoi doit être comprise entre 8h et 22h",
    ),
    "day": (23, "Envoi marketing : pas d'envoi le dimanche ni les jours fériés"),
}


def sent_text(text: str, *, unicode: bool = False, stop: bool = False) -> str:
    """The text as the platform sends it (substitutions unless `isUnicode`)."""
    shown = expand_tokens(text) if unicode else gsm_render(text)
    return f"{shown} {STOP_MENTION}" if stop and shown else shown


def sms_units(text: str, *, unicode: bool = False) -> int:
    """Characters as billed: UTF-16 units, or septets (extension chars 2)."""
    return utf16_units(text) if unicode else gsm_units(text)


def sms_parts(text: str, *, unicode: bool = False, stop: bool = False) -> int:
    """Concatenated parts for one text, the way the platform bills them."""
    length = sms_units(sent_text(text, unicode=unicode, stop=stop), unicode=unicode)
    single, multi = (70, 67) if unicode else (160, 153)
    return 1 if length <= single else math.ceil(length / multi)


def field_error(field: str, message: str) -> ApiError:
    """Code 9 with the validation list the docs show (key `errors`)."""
    return ApiError(9, message, errors=[{"elementId": field, "message": message}])


class SmsPartnerSandbox(
    SmsReports, QuietHoursSwitch, SubaccountEndpoints, NdaMediaEmulator
):
    prefix: ClassVar[str] = "/smspartner/v1"
    name: ClassVar[str] = "sms"
    ROUTES: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", "/me", "me"),
        ("POST", "/send", "send"),
        ("POST", "/bulk-send", "bulk_send"),
        ("GET", "/message-cancel", "message_cancel"),
        ("GET", "/message-status", "message_status"),
        ("POST", "/multi-status", "multi_status"),
        ("GET", "/bulk-status", "bulk_status"),
        ("GET", "/bulk-status-by-tag", "bulk_status_by_tag"),
        ("GET", "/statistics/cost-resume", "cost_resume"),
        ("GET", "/stop-sms/list", "stop_list"),
        ("POST", "/stop-sms/add", "stop_add"),
        ("GET", "/stop-sms/delete", "stop_delete"),
        ("POST", "/lookup", "lookup"),
        ("POST", "/subaccount/create", "subaccount_create"),
        ("DELETE", "/subaccount/remove", "subaccount_remove"),
        ("DELETE", "/subaccount/delete", "subaccount_remove"),
        ("GET", "/subaccount/list", "subaccount_list"),
        ("POST", "/subaccount/credit/add", "subaccount_credit_add"),
        ("POST", "/subaccount/credit/remove", "subaccount_credit_remove"),
    ]

    def setup(self) -> None:
        key = self.config.sms_api_key
        self.accounts[key] = Account(
            key, "demo@partnerhub.test", self.config.sms_balance, "Demo", "PartnerHub",
            quiet_hours=self.config.quiet_hours,
        )  # fmt: skip
        self.batches: dict[int, Batch] = {}
        self.stops: dict[str, dict[str, dict[str, Any]]] = {}
        self.next_stop_id = 300
        # Random start so ids from an earlier sandbox run are not handed out again.
        self.next_message_id = random.randint(10**6, 9 * 10**8)  # noqa: S311
        self.accepted: Counter[str] = Counter()

    def state_summary(self) -> dict[str, Any]:
        return {
            "messages": len(self.batches),
            "deliveries": sum(len(b.deliveries) for b in self.batches.values()),
            "stop_sms": sum(len(v) for v in self.stops.values()),
            "accepted": sum(self.accepted.values()),
        }

    def recipients(self) -> dict[str, int]:
        """How many times each number (E.164) was accepted for sending."""
        with self._lock:
            return dict(self.accepted)

    def messages(self) -> dict[str, list[str]]:
        """Each number's texts, as received (sends that were processed, not STOP)."""
        with self._lock:
            return received_texts(self.batches.values())

    # --- credits and sends ---------------------------------------------------------
    def me(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        balance = f"{account.credit:.3f}"
        to_send = sum(
            b.extra["nb_sms"]
            for b in self.batches.values()
            if b.account_key == account.api_key
            and b.cancelled_at is None
            and b.send_at > call.now
        )
        credits = {
            "creditSms": int(account.credit / PRICES[1]),
            "creditSmsECO": int(account.credit / PRICES[2]),
            "creditHlr": int(account.credit / Decimal("0.005")),
            "toSend": to_send,
            "solde": balance,
            "currency": "EUR",
            "balance": balance,
        }
        user = {
            "username": account.username,
            "firstname": account.firstname,
            "lastname": account.lastname,
        }
        return {"success": True, "code": 200, "user": user, "credits": credits}

    def send(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        params = call.params
        raw = params.get("phoneNumbers")
        if blank(raw):
            raise ApiError(2, "Le numéro de téléphone est requis")
        numbers = [n for n in str(raw).split(",") if n.strip()]
        if len(numbers) > MAX_NUMBERS:
            raise ApiError(50, "500 numéros maximum par envoi")
        message = params.get("message")
        if blank(message):
            raise field_error("children[message].data", "Le message est requis")
        phones = [self._phone(n) for n in numbers]
        parts, price = self._parts_and_price(params, str(message))
        send_at = _schedule(params, call.now, account)
        wanted = [(p, parts, str(message)) for p in phones]
        batch = self._accept(call, account, wanted, price, send_at)
        answer: dict[str, Any] = {
            "success": True,
            "code": 200,
            "message_id": batch.id,
            "nb_sms": batch.extra["nb_sms"],
            "cost": float(batch.cost),
            "currency": "EUR",
        }
        if send_at is not None:
            answer["scheduledDeliveryDate"] = paris_text(send_at)
        return answer

    def bulk_send(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        items = call.params.get("SMSList")
        if not isinstance(items, list) or not items:
            raise ApiError(2, "SMSList est requis")
        if len(items) > MAX_NUMBERS:
            raise ApiError(50, "500 numéros maximum par envoi")
        wanted = []
        for item in items:
            item = item if isinstance(item, dict) else {}
            if blank(item.get("message")):
                raise field_error("children[message].data", "Le message est requis")
            text = str(item["message"])
            parts, price = self._parts_and_price(call.params, text)
            wanted.append((self._phone(item.get("phoneNumber", "")), parts, text))
        send_at = _schedule(call.params, call.now, account)
        batch = self._accept(call, account, wanted, price, send_at)
        rows = [_bulk_row(d, price) for d in batch.deliveries.values()]
        return {
            "success": True,
            "code": 200,
            "message_id": batch.id,
            "currency": "EUR",
            "cost": float(batch.cost),
            "nbSMS": batch.extra["nb_sms"],
            "SMSResponse_List": rows,
        }

    def _phone(self, raw: Any) -> str:
        phone = normalize_phone(raw)
        if phone is None:
            message = f"Le numéro de téléphone n'est pas valide : {raw}"
            raise field_error("children[phoneNumbers].data", message)
        return phone

    def _parts_and_price(
        self, params: dict[str, Any], text: str
    ) -> tuple[int, Decimal]:
        """Parts and unit price; codes 9 (sender), 52 (>10 parts), 42 (Low Cost)."""
        sender = params.get("sender")
        if not blank(sender) and not SENDER_RE.match(str(sender)):
            raise field_error("children[sender].data", "L'expéditeur est invalide")
        gamme = 2 if as_int(params.get("gamme")) == 2 else 1
        stop = gamme == 1 and truthy(params.get("isStopSms"))
        parts = sms_parts(text, unicode=truthy(params.get("isUnicode")), stop=stop)
        if gamme == 2 and parts > 1:
            raise ApiError(42, "Low Cost : 160 caractères maximum")
        if parts > MAX_PARTS:
            raise ApiError(52, "10 SMS concaténés maximum")
        return parts, PRICES[gamme]

    def _accept(
        self,
        call: Call,
        account: Account,
        wanted: list[tuple[str, int, str]],
        price: Decimal,
        send_at: float | None,
    ) -> Batch:
        """Record the send, skip STOP-listed numbers, debit unless `sandbox`."""
        stopped = self.stops.get(account.api_key, {})
        message_id = self.next_message_id
        deliveries: dict[str, Delivery] = {}
        for phone, parts, text in wanted:
            stop = phone in stopped
            cost = Decimal(0) if stop else price * parts
            token = f"{message_id}-{len(deliveries)}"
            deliveries[phone] = Delivery(
                phone, token, cost, phone.endswith("99"), stop, text
            )
        cost = sum((d.cost for d in deliveries.values()), Decimal(0))
        sandbox = truthy(call.params.get("sandbox"))
        if not sandbox and account.credit < cost:
            raise ApiError(11)
        self.next_message_id += 1
        batch = Batch(
            message_id, account.api_key, call.now,
            leaves_at(account, send_at or call.now),
            send_at is not None, cost, deliveries,
            tag=str(call.params.get("tag") or ""), sandbox=sandbox,
            extra={"nb_sms": int(sum(d.cost for d in deliveries.values()) / price)},
        )  # fmt: skip
        if not sandbox:
            account.credit -= cost
            self.accepted.update(p for p, d in deliveries.items() if not d.stopped)
        self.batches[message_id] = batch
        return batch

    # --- STOP list -----------------------------------------------------------------
    def stop_list(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        data = [
            {"id": e["id"], "phoneNumber": p, "createdAt": paris_text(e["created"])}
            for p, e in self.stops.get(account.api_key, {}).items()
        ]
        return {"success": True, "code": 200, "nbData": len(data), "data": data}

    def stop_add(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        raw = call.params.get("phoneNumber")
        if blank(raw):
            raise ApiError(2, "Le numéro de téléphone est requis")
        phone = normalize_phone(raw)
        if phone is None:
            raise ApiError(9, "Le numéro de téléphone n'est pas valide")
        entries = self.stops.setdefault(account.api_key, {})
        if phone in entries:
            raise ApiError(3, "Le numéro est déjà dans la liste")
        stop_id = self.next_stop_id
        self.next_stop_id += 1
        entries[phone] = {"id": stop_id, "created": call.now}
        return {"success": True, "code": 200, "stopId": stop_id}

    def stop_delete(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        raw = call.params.get("id")
        if blank(raw):
            raise ApiError(3, "L'id est requis")
        entries = self.stops.get(account.api_key, {})
        found = next((p for p, e in entries.items() if str(e["id"]) == str(raw)), None)
        if found is None:
            raise ApiError(4, "Id introuvable")
        del entries[found]
        return {"success": True, "code": 200}


def _schedule(params: dict[str, Any], now: float, account: Account) -> float | None:
    """The requested send time (codes 45-49); codes 23/22 for a marketing send
    scheduled on a Sunday, a holiday or outside 08:00-20:00."""
    send_at = parse_schedule(params, now)
    if send_at is not None and account.quiet_hours:
        reason = quiet_reason(send_at)
        if reason is not None:
            raise ApiError(*QUIET_REFUSALS[reason])
    return send_at


def _bulk_row(delivery: Delivery, price: Decimal) -> dict[str, Any]:
    if delivery.stopped:
        return {
            "success": False,
            "code": 14,
            "nbSms": 0,
            "cost": 0,
            "phoneNumber": delivery.address,
            "message": "Numéro dans la liste STOP",
        }
    return {
        "success": True,
        "code": 200,
        "nbSms": int(delivery.cost / price),
        "cost": float(delivery.cost),
        "phoneNumber": delivery.address,
    }
