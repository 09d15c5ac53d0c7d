"""SMS Partner client (https://api.smspartner.fr/v1, providers.md §2).

SMS Partner spells the same thing several ways (`message_id`/`messageId`,
`statut`/`status`, `stopSms`/`stopSMS` as bool or "0"/"1", `nb_sms`/`nbSMS`/`nbSms`,
`creditSmsECO`/`creditSmsLowCost`); every variant is absorbed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from . import errors
from .ndamedia import (
    CANCEL_ERRORS,
    COMMON_ERRORS,
    MAX_RECIPIENTS,
    CancelResult,
    ErrorTable,
    compact,
    paris_schedule,
    parse_datetime,
    phone_list,
    to_decimal,
    to_int,
    to_str,
)
from .ndamedia_subaccounts import SUBACCOUNT_ERRORS, SubaccountMixin
from .smspartner_results import (
    STATUS_MAP,
    BulkSendItem,
    BulkSendResult,
    CostPeriod,
    LookupResult,
    SmsAccount,
    SmsMessage,
    SmsSendResult,
    SmsStatus,
    SmsStatusPage,
    StopEntry,
    parse_bulk_item,
    parse_cost,
    parse_lookup,
    parse_status,
    wire_id,
)
from .xmlenvelope import Keys, ListOf, Obj, keys

__all__ = [
    "STATUS_MAP",
    "BulkSendItem",
    "BulkSendResult",
    "CancelResult",
    "CostPeriod",
    "LookupResult",
    "SmsAccount",
    "SmsMessage",
    "SmsPartnerClient",
    "SmsSendResult",
    "SmsStatus",
    "SmsStatusPage",
    "StopEntry",
]

COST_INTERVALS = ("last_month", "last_twelve_months", "custom")
GAMME_PREMIUM, GAMME_LOW_COST = 1, 2

_SEND_INVALID = (2, 9, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 992)
ERROR_TABLE: ErrorTable = {
    "common": COMMON_ERRORS,
    "send": {
        **dict.fromkeys(_SEND_INVALID, errors.InvalidRequest),
        4: errors.NotFound,
        13: errors.InvalidAddress,  # no price for these numbers
        14: errors.AddressUnsubscribed,
        22: errors.QuietHours,  # marketing: 8h-22h only
        23: errors.QuietHours,  # marketing: no Sundays or public holidays
        55: errors.InvalidAddress,  # no number left to send to
    },
    "cancel": CANCEL_ERRORS,
    "status": {
        **dict.fromkeys((2, 3, 5, 6, 50), errors.InvalidRequest),
        4: errors.NotFound,
        9: errors.InvalidAddress,  # not a mobile number
    },
    "stop_add": {
        2: errors.InvalidRequest,
        3: errors.AlreadyExists,
        9: errors.InvalidAddress,
    },
    "stop_delete": {
        2: errors.InvalidRequest,
        3: errors.InvalidRequest,
        4: errors.NotFound,
    },
    "lookup": dict.fromkeys((2, 3, 19, 50), errors.InvalidRequest),
    **SUBACCOUNT_ERRORS,
}

ME_KEYS: Keys = keys(
    "success code",
    ("user", Obj(keys("username firstname lastname"))),
    (
        "credits",
        Obj(keys("creditSms creditSmsECO creditHlr toSend solde currency balance")),
    ),
)
SEND_KEYS: Keys = keys(
    "success code message_id nb_sms cost currency scheduledDeliveryDate"
)
BULK_ITEM_KEYS: Keys = keys("success code nbSms cost phoneNumber")
BULK_SEND_KEYS: Keys = keys(
    "success code message_id currency cost nbSMS",
    ("SMSResponse_List", ListOf(BULK_ITEM_KEYS)),
)
CANCEL_KEYS: Keys = keys("success code message")
STATUS_KEYS: Keys = keys(
    "success code number messageId stopSms date statut cost countryCode currency"
)
MULTI_ITEM_KEYS: Keys = keys(
    "success code phoneNumber messageId status date stopSms isSpam"
)
MULTI_STATUS_KEYS: Keys = keys(
    "success code", ("StatutResponse_List", ListOf(MULTI_ITEM_KEYS))
)
BULK_STATUS_ITEM_KEYS: Keys = keys("phoneNumber status stopSMS date")
BULK_STATUS_KEYS: Keys = keys(
    "success code message_id", ("StatutResponse_List", ListOf(BULK_STATUS_ITEM_KEYS))
)
BY_TAG_KEYS: Keys = keys(
    "success code currentPage total",
    ("StatutResponse_List", ListOf(BULK_STATUS_ITEM_KEYS)),
)
COST_KEYS: Keys = keys(
    "success", ("datas", ListOf(keys("month year m date type cost nb_send")))
)
STOP_LIST_KEYS: Keys = keys(
    "success code nbData", ("data", ListOf(keys("id phoneNumber createdAt")))
)
STOP_ADD_KEYS: Keys = keys("success code stopId")
EMPTY_KEYS: Keys = keys("success code")
FORMAT_KEYS: Keys = keys("e164 international national rfc3966")
LOOKUP_ITEM_KEYS: Keys = keys(
    "request success countryCode prefixCode phoneNumber type network",
    ("format", Obj(FORMAT_KEYS)),
)
LOOKUP_KEYS: Keys = keys("success code", ("lookup", ListOf(LOOKUP_ITEM_KEYS)))


class SmsPartnerClient(SubaccountMixin):
    """SMS Partner API: sends, cancel, statuses, statistics, STOP list, sub-accounts."""

    provider = "smspartner"
    short_name = "sms"
    error_table = ERROR_TABLE

    def me(self) -> SmsAccount:
        """Credits and balance of the account."""
        data = self._get("me", keys=ME_KEYS)
        user, credits = data.get("user") or {}, data.get("credits") or {}
        eco = credits.get("creditSmsECO", credits.get("creditSmsLowCost"))
        return SmsAccount(
            username=to_str(user.get("username")),
            firstname=to_str(user.get("firstname")),
            lastname=to_str(user.get("lastname")),
            credit_sms=to_int(credits.get("creditSms")),
            credit_sms_eco=to_int(eco),
            credit_hlr=to_int(credits.get("creditHlr")),
            to_send=to_int(credits.get("toSend")),
            balance=to_decimal(credits.get("balance", credits.get("solde"))),
            currency=to_str(credits.get("currency")),
        )

    def send(
        self,
        *,
        phone_numbers: str | Sequence[str],
        message: str,
        sender: str | None = None,
        tag: str | None = None,
        scheduled_at: datetime | None = None,
        gamme: int | None = None,
        is_stop_sms: bool = False,
        is_unicode: bool = False,
        sandbox: bool = False,
        url_dlr: str | None = None,
        url_response: str | None = None,
    ) -> SmsSendResult:
        """One text to at most 500 numbers. A lost answer raises `UnknownOutcome`."""
        body = {"phoneNumbers": phone_list(phone_numbers), "message": message}
        body.update(_options(sender, tag, scheduled_at, gamme, is_stop_sms, is_unicode))
        body.update(
            compact(
                {
                    "sandbox": 1 if sandbox else None,
                    "urlDlr": url_dlr,
                    "urlResponse": url_response,
                }
            )
        )
        data = self._post("send", body=body, keys=SEND_KEYS, op="send", is_send=True)
        return SmsSendResult(
            message_id=to_str(data.get("message_id", data.get("messageId"))),
            nb_sms=to_int(data.get("nb_sms")) or 0,
            cost=to_decimal(data.get("cost")),
            currency=to_str(data.get("currency")),
            scheduled_at=parse_datetime(data.get("scheduledDeliveryDate")),
        )

    def bulk_send(
        self,
        *,
        messages: Sequence[SmsMessage],
        sender: str | None = None,
        tag: str | None = None,
        scheduled_at: datetime | None = None,
        gamme: int | None = None,
        is_stop_sms: bool = False,
        is_unicode: bool = False,
        sandbox: bool = False,
    ) -> BulkSendResult:
        """A text per number (`SMSList`, at most 500) in one message id."""
        if not messages or len(messages) > MAX_RECIPIENTS:
            raise ValueError(f"between 1 and {MAX_RECIPIENTS} messages per bulk send")
        sms_list = [
            {"phoneNumber": m.phone_number, "message": m.message} for m in messages
        ]
        body: dict[str, Any] = {"SMSList": sms_list}
        body.update(_options(sender, tag, scheduled_at, gamme, is_stop_sms, is_unicode))
        if sandbox:
            body["sandbox"] = 1
        data = self._post(
            "bulk-send", body=body, keys=BULK_SEND_KEYS, op="send", is_send=True
        )
        return BulkSendResult(
            message_id=to_str(data.get("message_id", data.get("messageId"))),
            nb_sms=to_int(data.get("nbSMS", data.get("nb_sms"))) or 0,
            cost=to_decimal(data.get("cost")),
            currency=to_str(data.get("currency")),
            items=tuple(
                parse_bulk_item(item) for item in data.get("SMSResponse_List") or ()
            ),
        )

    def cancel(self, *, message_id: str | int) -> CancelResult:
        """Cancel a scheduled message (refused within 5 minutes of its time)."""
        query = {"messageId": message_id}
        data = self._get("message-cancel", query=query, keys=CANCEL_KEYS, op="cancel")
        return CancelResult(
            message_id=str(message_id), message=to_str(data.get("message"))
        )

    def message_status(self, *, message_id: str | int, phone_number: str) -> SmsStatus:
        """Status of one number in one message."""
        query = {"messageId": message_id, "phoneNumber": phone_number}
        data = self._get("message-status", query=query, keys=STATUS_KEYS, op="status")
        return parse_status(data, message_id=to_str(message_id))

    def multi_status(
        self, *, pairs: Sequence[tuple[str, str | int]]
    ) -> list[SmsStatus]:
        """Statuses of at most 500 (international phone number, message id) pairs."""
        if not pairs or len(pairs) > MAX_RECIPIENTS:
            raise ValueError(f"between 1 and {MAX_RECIPIENTS} pairs per call")
        wire = [
            {"phoneNumber": phone, "messageId": wire_id(mid)} for phone, mid in pairs
        ]
        data = self._post(
            "multi-status",
            body={"SMSStatut_List": wire},
            keys=MULTI_STATUS_KEYS,
            op="status",
        )
        return [parse_status(item) for item in data.get("StatutResponse_List") or ()]

    def bulk_status(self, *, message_id: str | int) -> list[SmsStatus]:
        """Statuses of every number of one message."""
        query = {"messageId": message_id}
        data = self._get("bulk-status", query=query, keys=BULK_STATUS_KEYS, op="status")
        mid = to_str(data.get("message_id") or message_id)
        return [
            parse_status(item, message_id=mid)
            for item in data.get("StatutResponse_List") or ()
        ]

    def bulk_status_by_tag(self, *, tag: str, page: int = 1) -> SmsStatusPage:
        """One page of statuses of every message sent with `tag`."""
        query = {"tag": tag, "page": page}
        data = self._get(
            "bulk-status-by-tag", query=query, keys=BY_TAG_KEYS, op="status"
        )
        items = tuple(
            parse_status(item) for item in data.get("StatutResponse_List") or ()
        )
        page = to_int(data.get("currentPage")) or page
        return SmsStatusPage(page, to_int(data.get("total")) or 0, items)

    def cost_resume(
        self,
        *,
        interval: str,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[CostPeriod]:
        """Messages sent and their cost per month (limited to 5 calls a minute)."""
        if interval not in COST_INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(COST_INTERVALS)}")
        query: dict[str, Any] = {"interval": interval}
        if interval == "custom":
            if date_from is None or date_to is None:
                raise ValueError("a custom interval needs date_from and date_to")
            query.update(
                {
                    "from": date_from.strftime("%d-%m-%Y"),
                    "to": date_to.strftime("%d-%m-%Y"),
                }
            )
        data = self._get("statistics/cost-resume", query=query, keys=COST_KEYS)
        return [parse_cost(item) for item in data.get("datas") or ()]

    def stop_list(self) -> list[StopEntry]:
        """The whole STOP list."""
        data = self._get("stop-sms/list", keys=STOP_LIST_KEYS)
        return [
            StopEntry(
                to_int(i.get("id")),
                to_str(i.get("phoneNumber")),
                parse_datetime(i.get("createdAt")),
            )
            for i in data.get("data") or ()
        ]

    def stop_add(self, *, phone_number: str) -> int | None:
        """Put a number on the STOP list; returns the provider's entry id."""
        body = {"phoneNumber": phone_number}
        data = self._post("stop-sms/add", body=body, keys=STOP_ADD_KEYS, op="stop_add")
        return to_int(data.get("stopId"))

    def stop_delete(self, *, entry_id: int) -> None:
        """Remove a STOP entry by its list id (the provider uses GET for this)."""
        self._get(
            "stop-sms/delete", query={"id": entry_id}, keys=EMPTY_KEYS, op="stop_delete"
        )

    def subaccount_remove(self, *, token: str) -> None:
        """Delete a sub-account (DELETE with a JSON body, as documented)."""
        self._request(
            "DELETE",
            "subaccount/remove",
            body={"token": token},
            keys=EMPTY_KEYS,
            op="subaccount_remove",
        )

    def lookup(self, *, phone_numbers: str | Sequence[str]) -> list[LookupResult]:
        """Free format check of at most 500 numbers."""
        body = {"phoneNumbers": phone_list(phone_numbers)}
        data = self._post("lookup", body=body, keys=LOOKUP_KEYS, op="lookup")
        return [parse_lookup(item) for item in data.get("lookup") or ()]


def _options(  # the optional parameters shared by send and bulk-send
    sender: str | None,
    tag: str | None,
    scheduled_at: datetime | None,
    gamme: int | None,
    is_stop_sms: bool,
    is_unicode: bool,
) -> dict[str, Any]:
    if gamme not in (None, GAMME_PREMIUM, GAMME_LOW_COST):
        raise ValueError("gamme must be 1 (premium) or 2 (low cost)")
    options = compact(
        {
            "sender": sender,
            "tag": tag,
            "gamme": gamme,
            "isStopSms": 1 if is_stop_sms else None,
            "isUnicode": 1 if is_unicode else None,
        }
    )
    if scheduled_at is not None:
        options.update(paris_schedule(scheduled_at))
    return options
