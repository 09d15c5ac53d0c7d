"""Mail Partner client (https://api.mailpartner.fr/v1, providers.md §4).

Mail Partner documents its recipients (`params.to`) but not its sender fields:
error codes 4 and 5 prove they exist, their names are a guess kept in
`SENDER_FIELD` below, the one place to fix when the real name is known.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import errors
from .ndamedia import (
    CANCEL_ERRORS,
    COMMON_ERRORS,
    MAX_RECIPIENTS,
    CancelResult,
    ErrorTable,
    compact,
    map_status,
    paris_schedule,
    parse_datetime,
    to_bool,
    to_decimal,
    to_int,
    to_str,
)
from .ndamedia_subaccounts import SUBACCOUNT_ERRORS, SubaccountMixin
from .xmlenvelope import Keys, ListOf, Obj, keys

# INFERRED (providers.md §4.1, open question 3): the sender's wire names are not
# documented; a third-party client sends `"from": {"email", "name"}`. Same for the
# plain-text part, sent as `textContent`.
SENDER_FIELD = "from"
TEXT_FIELD = "textContent"
MAX_VARIABLES = 8
# providers.md §4.1: at most 3 attachments of at most 5 MB each; tag lowercase,
# 3 to 20 characters (the characters allowed besides letters are INFERRED).
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
TAG_RULE = re.compile(r"[a-z0-9_-]{3,20}")

STATUS_MAP: dict[str, str] = {
    "delivered": "delivered",
    "not delivered": "not_delivered",
    "waiting": "pending",
    "pending": "pending",
    "sent": "accepted",
    "accepted": "accepted",
    "opened": "delivered",  # an opened mail was delivered (3P vocabulary)
    "clicked": "delivered",
    "bounced": "not_delivered",
    "failed": "failed",
    "ko": "failed",
    "unknown": "unknown",
}

# Send codes for a missing or malformed parameter (providers.md §4.1).
_SEND_INVALID = (
    2,
    4,
    5,
    8,
    9,
    15,
    16,
    17,
    18,
    21,
    22,
    23,
    25,
    45,
    46,
    47,
    48,
    49,
    50,
    55,
)
ERROR_TABLE: ErrorTable = {
    "common": COMMON_ERRORS,
    "send": {
        **dict.fromkeys(_SEND_INVALID, errors.InvalidRequest),
        3: errors.InvalidApiKey,  # "key required" (sic, per the docs)
        14: errors.AddressUnsubscribed,
        19: errors.InvalidAddress,  # recipient email invalid
        24: errors.InvalidAddress,  # reply-to email invalid
    },
    "cancel": CANCEL_ERRORS,
    "status": {3: errors.InvalidRequest, 4: errors.NotFound},
    "unsubscribe_add": {
        2: errors.InvalidRequest,
        3: errors.AlreadyExists,
        9: errors.InvalidAddress,
    },
    "unsubscribe_delete": {
        **dict.fromkeys((2, 3), errors.InvalidRequest),
        4: errors.NotFound,
    },
    **SUBACCOUNT_ERRORS,
}

ME_KEYS: Keys = keys(
    "success code",
    ("user", Obj(keys("username"))),
    ("credits", Obj(keys("creditMail currency balance"))),
)
SEND_KEYS: Keys = keys(
    "success code messageId nbMail cost currency scheduledDeliveryDate"
)
CANCEL_KEYS: Keys = keys("success code message")
STATUS_ITEM_KEYS: Keys = keys("email token status cost stopMail date")
BULK_STATUS_KEYS: Keys = keys(
    "success code messageId", ("StatutResponseList", ListOf(STATUS_ITEM_KEYS))
)
UNSUBSCRIBE_ADD_KEYS: Keys = keys("success code stopId")
UNSUBSCRIBE_LIST_KEYS: Keys = keys(
    "success code nbData", ("data", ListOf(keys("id email createdAt")))
)
EMPTY_KEYS: Keys = keys("success code")


@dataclass(frozen=True)
class MailRecipient:
    email: str
    name: str | None = None

    def to_wire(self) -> dict[str, str]:
        return compact({"email": self.email, "name": self.name})


@dataclass(frozen=True)
class MailAttachment:
    """One attached file; `filename` goes on the wire without its extension."""

    filename: str
    content_type: str
    content: bytes

    def to_wire(self) -> dict[str, str]:
        return {
            "base64Content": base64.b64encode(self.content).decode("ascii"),
            "contentType": self.content_type,
            "filename": self.filename,
        }


@dataclass(frozen=True)
class MailAccount:
    username: str
    credit_mail: int | None
    balance: Decimal | None
    currency: str


@dataclass(frozen=True)
class MailSendResult:
    message_id: str
    nb_mail: int
    cost: Decimal | None
    currency: str
    scheduled_at: datetime | None


@dataclass(frozen=True)
class MailStatus:
    """One recipient of one send; `raw_status` is the provider's word."""

    email: str
    token: str
    status: str
    raw_status: str
    cost: Decimal | None
    stop_mail: bool
    date: datetime | None


@dataclass(frozen=True)
class UnsubscribeEntry:
    id: int | None
    email: str
    created_at: datetime | None


class MailPartnerClient(SubaccountMixin):
    """Mail Partner API: send, cancel, statuses, unsubscribe list, sub-accounts."""

    provider = "mailpartner"
    short_name = "mail"
    error_table = ERROR_TABLE

    def me(self) -> MailAccount:
        """Remaining mail credits and balance of the account."""
        data = self._get("me", keys=ME_KEYS)
        user, credits = data.get("user") or {}, data.get("credits") or {}
        return MailAccount(
            username=to_str(user.get("username")),
            credit_mail=to_int(credits.get("creditMail")),
            balance=to_decimal(credits.get("balance")),
            currency=to_str(credits.get("currency")),
        )

    def send(
        self,
        *,
        recipients: Sequence[MailRecipient],
        subject: str,
        html: str,
        text: str | None = None,
        sender_email: str | None = None,
        sender_name: str | None = None,
        reply_to: MailRecipient | str | None = None,
        variables: Mapping[str, str] | None = None,
        attachments: Sequence[MailAttachment] = (),
        tag: str | None = None,
        scheduled_at: datetime | None = None,
        sandbox: bool = False,
    ) -> MailSendResult:
        """Send (or schedule) one mail to at most 500 recipients.

        Validation that needs no provider happens first, so a refused batch never
        leaves. A lost answer raises `UnknownOutcome`: reconcile, do not re-send.
        """
        if not recipients:
            raise ValueError("at least one recipient is required")
        if len(recipients) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} recipients per send")
        if variables is not None and len(variables) > MAX_VARIABLES:
            raise ValueError(f"at most {MAX_VARIABLES} variables per send")
        _check_attachments(attachments)
        if tag and not TAG_RULE.fullmatch(tag):
            raise ValueError("tag: lowercase, 3 to 20 characters, no spaces")
        body: dict[str, Any] = {
            "subject": subject,
            "htmlContent": html,
            "params": {"to": [r.to_wire() for r in recipients]},
        }
        body.update(_sender_fields(sender_email, sender_name))
        if isinstance(reply_to, str):
            reply_to = MailRecipient(email=reply_to)
        body.update(
            compact(
                {
                    TEXT_FIELD: text,
                    "replyTo": reply_to.to_wire() if reply_to else None,
                    "variables": dict(variables) if variables else None,
                    "attachments": [a.to_wire() for a in attachments] or None,
                    "tag": tag,
                    "sandbox": 1 if sandbox else None,
                }
            )
        )
        if scheduled_at is not None:
            body.update(paris_schedule(scheduled_at))
        data = self._post("send", body=body, keys=SEND_KEYS, op="send", is_send=True)
        return MailSendResult(
            message_id=to_str(data.get("messageId")),
            nb_mail=to_int(data.get("nbMail")) or 0,
            cost=to_decimal(data.get("cost")),
            currency=to_str(data.get("currency")),
            scheduled_at=parse_datetime(data.get("scheduledDeliveryDate")),
        )

    def cancel(self, *, message_id: str) -> CancelResult:
        """Cancel a scheduled send (refused within 5 minutes of its time)."""
        data = self._get(
            "message-cancel",
            query={"messageId": message_id},
            keys=CANCEL_KEYS,
            op="cancel",
        )
        return CancelResult(
            message_id=str(message_id), message=to_str(data.get("message"))
        )

    def bulk_status(self, *, message_id: str) -> list[MailStatus]:
        """Delivery status of every recipient of one send."""
        data = self._get(
            "bulk-status",
            query={"messageId": message_id},
            keys=BULK_STATUS_KEYS,
            op="status",
        )
        items = data.get("StatutResponseList") or data.get("StatutResponse_List") or ()
        return _statuses(items)

    def unsubscribe_add(self, *, email: str) -> int | None:
        """Put an address on the unsubscribe list; returns the provider's entry id."""
        data = self._post(
            "unsubscribe/add",
            body={"email": email},
            keys=UNSUBSCRIBE_ADD_KEYS,
            op="unsubscribe_add",
        )
        return to_int(data.get("stopId"))

    def unsubscribe_list(self) -> list[UnsubscribeEntry]:
        """The whole unsubscribe list (the provider does not paginate it)."""
        data = self._get("unsubscribe/list", keys=UNSUBSCRIBE_LIST_KEYS)
        return [
            UnsubscribeEntry(
                id=to_int(item.get("id")),
                email=to_str(item.get("email")),
                created_at=parse_datetime(item.get("createdAt")),
            )
            for item in data.get("data") or ()
        ]

    def unsubscribe_delete(self, *, entry_id: int) -> None:
        """Remove an entry (by its list id). Every doc sample uses GET with a query."""
        self._get(
            "unsubscribe/delete",
            query={"id": entry_id},
            keys=EMPTY_KEYS,
            op="unsubscribe_delete",
        )


def _check_attachments(attachments: Sequence[MailAttachment]) -> None:
    """The documented limits, before anything leaves (the provider's codes for
    them are not documented)."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValueError(f"at most {MAX_ATTACHMENTS} attachments per send")
    for attachment in attachments:
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"attachment {attachment.filename!r} is over 5 MB")
        if not attachment.filename.strip() or not attachment.content_type:
            raise ValueError("an attachment needs a filename and a content type")


def _sender_fields(email: str | None, name: str | None) -> dict[str, Any]:
    """The sender block, under its INFERRED wire name; empty to use account defaults."""
    sender = compact({"email": email, "name": name})
    return {SENDER_FIELD: sender} if sender else {}


def _statuses(items: Iterable[Mapping[str, Any]]) -> list[MailStatus]:
    """Each recipient's status, in the order given.

    A list of 500 repeats a few (status, cost, stopMail, date) values: each is
    converted once per list (converting them per item was half of the parsing).
    """
    converted: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    statuses = []
    for item in items:
        get = item.get
        key = (get("status"), get("cost"), get("stopMail"), get("date"))
        try:
            fields = converted.get(key)
        except TypeError:  # an unhashable value (a date object): not remembered
            fields = _status_fields(*key)
        if fields is None:
            fields = converted[key] = _status_fields(*key)
        email, token = to_str(get("email")), to_str(get("token"))
        statuses.append(MailStatus(email, token, *fields))
    return statuses


def _status_fields(
    status: Any, cost: Any, stop_mail: Any, date: Any
) -> tuple[Any, ...]:
    """MailStatus's fields after the email and token, in their order."""
    raw = to_str(status)
    return (
        map_status(raw, STATUS_MAP),
        raw,
        to_decimal(cost),
        to_bool(stop_mail),
        parse_datetime(date),
    )
