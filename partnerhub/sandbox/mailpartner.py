"""Mail Partner emulator (`/mailpartner/v1`, providers.md §4).

Choices where the docs are silent (all INFERRED): a recipient waits as `Pending`
(the only documented value is `Delivered`; `Pending` is the word third-party code
maps), then becomes `Delivered` or `Not delivered` (any address containing
`bounce`); a cancelled send reports `Cancelled`. One e-mail costs one mail credit;
`balance` is shown as credits x 0.001 €. A recipient on the unsubscribe list is
skipped (`stopMail: true`, cost 0) instead of failing the whole send. More than
500 recipients answers code 50; an optional `from` object is checked with codes 4/5,
`replyTo` with 23/24/25; a duplicated address in one send answers code 15.
`attachments` (≤3, ≤5 MB, filename without extension): a missing content answers
8 (documented as "attachment URL required", from the days attachments were
URLs), an empty name 16, a name that still carries an extension or a type
outside the usual documents and images 9 "extension not allowed"; more than 3
files or a file over 5 MB also 9 (INFERRED: no code is documented for them).
A `tag` is not checked (no code is documented for a bad one).
`variables` (≤8 text values) fill their `#UPPER#` placeholders in the subject, the
HTML and the text part (the docs show the body; the subject is INFERRED); the
rendered subject each address received is shown on `/_sandbox/messages`.
Quiet hours (`quiet_hours.py`): on an account with the rule on, a send due from
20:00 to 08:00, on a Sunday or a public holiday stays `Pending` until 08:00 on
the next working day, scheduled or not (Mail Partner documents no refusal code).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections import Counter
from decimal import Decimal
from typing import Any, ClassVar

from .ndamedia import (
    EMAIL_RE,
    ApiError,
    Call,
    NdaMediaEmulator,
    SubaccountEndpoints,
    cancel_scheduled,
    parse_schedule,
)
from .quiet_hours import QuietHoursSwitch, leaves_at
from .state import (
    CANCELLED,
    DELIVERED,
    FAILED,
    STOPPED,
    WAITING,
    Account,
    Batch,
    Delivery,
    blank,
    delivery_state,
    paris_text,
    received_texts,
    truthy,
    unix_text,
)

MAX_RECIPIENTS = 500
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "text/plain",
        "text/csv",
        "text/calendar",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
MAIL_UNIT_PRICE = Decimal("0.001")
STATUS_WORDS = {
    WAITING: "Pending",
    DELIVERED: "Delivered",
    FAILED: "Not delivered",
    STOPPED: "Not delivered",
    CANCELLED: "Cancelled",
}
CANCEL_REFUSALS = {
    "cancelled": (5, "L'envoi a déjà été annulé."),
    "too_late": (6, "Impossible d'annuler moins de 5 minutes avant l'envoi."),
    "sent": (7, "L'email a déjà été envoyé."),
}


class MailPartnerSandbox(QuietHoursSwitch, SubaccountEndpoints, NdaMediaEmulator):
    prefix: ClassVar[str] = "/mailpartner/v1"
    name: ClassVar[str] = "mail"
    SUBACCOUNT_DOMAIN: ClassVar[str] = "mailpartner.fr"
    ROUTES: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", "/me", "me"),
        ("POST", "/send", "send"),
        ("GET", "/message-cancel", "message_cancel"),
        ("GET", "/bulk-status", "bulk_status"),
        ("POST", "/unsubscribe/add", "unsubscribe_add"),
        ("GET", "/unsubscribe/list", "unsubscribe_list"),
        ("GET", "/unsubscribe/delete", "unsubscribe_delete"),
        ("POST", "/unsubscribe/delete", "unsubscribe_delete"),
        ("POST", "/subaccount/create", "subaccount_create"),
        ("GET", "/subaccount/list", "subaccount_list"),
        ("POST", "/subaccount/credit/add", "subaccount_credit_add"),
        ("POST", "/subaccount/credit/remove", "subaccount_credit_remove"),
    ]

    def setup(self) -> None:
        key = self.config.mail_api_key
        self.accounts[key] = Account(
            key,
            "demo@partnerhub.test",
            Decimal(self.config.mail_credits),
            quiet_hours=self.config.quiet_hours,
        )
        self.batches: dict[str, Batch] = {}
        self.unsubscribes: dict[str, dict[str, dict[str, Any]]] = {}
        self.next_stop_id = 300
        self.accepted: Counter[str] = Counter()

    def state_summary(self) -> dict[str, Any]:
        return {
            "messages": len(self.batches),
            "deliveries": sum(len(b.deliveries) for b in self.batches.values()),
            "unsubscribed": sum(len(v) for v in self.unsubscribes.values()),
            "accepted": sum(self.accepted.values()),
        }

    def recipients(self) -> dict[str, int]:
        """How many times each address was accepted for sending (sandbox excluded)."""
        with self._lock:
            return dict(self.accepted)

    def messages(self) -> dict[str, list[str]]:
        """Each address's subjects, as sent (after `variables` were filled in)."""
        with self._lock:
            return received_texts(self.batches.values())

    def me_credits(self, account: Account) -> dict[str, Any]:
        """`/me` credits in the documented order (the XML answer is positional)."""
        return {
            "creditMail": int(account.credit),
            "currency": "EUR",
            "balance": f"{account.credit * MAIL_UNIT_PRICE:.3f}",
        }

    # --- endpoints -----------------------------------------------------------------
    def me(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        return {
            "success": True,
            "code": 200,
            "user": {"username": account.username},
            "credits": self.me_credits(account),
        }

    def send(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        self.rate_limit(call, "mail.send", account.api_key)
        params = call.params
        if blank(params.get("subject")) or blank(params.get("htmlContent")):
            raise ApiError(2, "Le contenu du mail est requis")
        _check_sender(params)
        attachments = _attachments(params.get("attachments"))
        emails = _recipients(params)
        send_at = parse_schedule(params, call.now)
        content = _merged_content(params)
        batch = self._accept(call, account, emails, send_at, content["subject"])
        batch.extra["content"] = content
        batch.extra["attachments"] = attachments
        answer: dict[str, Any] = {
            "success": True,
            "code": 200,
            "messageId": batch.id,
            "nbMail": int(batch.cost),
            "cost": int(batch.cost),
            "currency": "EUR",
        }
        if send_at is not None:
            answer["scheduledDeliveryDate"] = paris_text(send_at)
        return answer

    def _accept(
        self,
        call: Call,
        account: Account,
        emails: list[str],
        send_at: float | None,
        subject: str = "",
    ) -> Batch:
        """Record the send, skip unsubscribed addresses, debit (unless sandbox)."""
        stopped = self.unsubscribes.get(account.api_key, {})
        batch_id = secrets.token_hex(6)
        deliveries = {
            email: Delivery(
                email,
                f"{batch_id}{index:03d}",
                Decimal(0 if email.lower() in stopped else 1),
                "bounce" in email.lower(),
                email.lower() in stopped,
                subject,
            )
            for index, email in enumerate(emails)
        }
        cost = Decimal(sum(1 for d in deliveries.values() if not d.stopped))
        sandbox = truthy(call.params.get("sandbox"))
        if not sandbox and account.credit < cost:
            raise ApiError(11)
        batch = Batch(
            batch_id, account.api_key, call.now,
            leaves_at(account, send_at or call.now),
            send_at is not None, cost, deliveries,
            tag=str(call.params.get("tag") or ""), sandbox=sandbox,
        )  # fmt: skip
        if not sandbox:
            account.credit -= cost
            self.accepted.update(e for e, d in deliveries.items() if not d.stopped)
        self.batches[batch_id] = batch
        return batch

    def _batch(self, call: Call, account: Account) -> Batch:
        message_id = call.params.get("messageId")
        if blank(message_id):
            raise ApiError(3, "L'ID du message est requis")
        batch = self.batches.get(str(message_id))
        if batch is None or batch.account_key != account.api_key:
            raise ApiError(4, "Message introuvable")
        return batch

    def message_cancel(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        batch = self._batch(call, account)
        cancel_scheduled(batch, account, call.now, CANCEL_REFUSALS)
        return {"success": True, "code": 200, "message": "The email has been canceled."}

    def bulk_status(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        batch = self._batch(call, account)
        settle = self.config.settle_seconds
        rows = []
        for delivery in batch.deliveries.values():
            state, when = delivery_state(batch, delivery, call.now, settle)
            rows.append(
                {
                    "email": delivery.address,
                    "token": delivery.token,
                    "status": STATUS_WORDS[state],
                    "cost": int(delivery.cost),
                    "stopMail": delivery.stopped,
                    "date": unix_text(when),
                }
            )
        return {
            "success": True,
            "code": 200,
            "messageId": batch.id,
            "StatutResponseList": rows,
        }

    def unsubscribe_add(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        email = call.params.get("email")
        if blank(email):
            raise ApiError(2, "L'email est requis")
        email = str(email).strip()
        if not EMAIL_RE.match(email):
            raise ApiError(9, "L'email est invalide")
        entries = self.unsubscribes.setdefault(account.api_key, {})
        if email.lower() in entries:
            raise ApiError(3, "L'email est déjà dans la liste")
        stop_id = self.next_stop_id
        self.next_stop_id += 1
        entries[email.lower()] = {"id": stop_id, "email": email, "created": call.now}
        return {"success": True, "code": 200, "stopId": stop_id}

    def unsubscribe_list(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        entries = self.unsubscribes.get(account.api_key, {}).values()
        data = [
            {"id": e["id"], "email": e["email"], "createdAt": paris_text(e["created"])}
            for e in entries
        ]
        return {"success": True, "code": 200, "nbData": len(data), "data": data}

    def unsubscribe_delete(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        raw = call.params.get("id", call.params.get("Id"))
        if blank(raw):
            raise ApiError(3, "L'id est requis")
        entries = self.unsubscribes.get(account.api_key, {})
        found = next((k for k, e in entries.items() if str(e["id"]) == str(raw)), None)
        if found is None:
            raise ApiError(4, "Id introuvable")
        del entries[found]
        return {"success": True, "code": 200}


def _check_sender(params: dict[str, Any]) -> None:
    """Optional `from` (codes 4, 5) and `replyTo` (codes 23, 24, 25) objects."""
    sender = params.get("from")
    if isinstance(sender, dict):
        if blank(sender.get("email")):
            raise ApiError(4, "L'email de l'expéditeur est requis")
        if "name" in sender and blank(sender.get("name")):
            raise ApiError(5, "Le nom de l'expéditeur ne peut pas être vide")
    reply = params.get("replyTo")
    if isinstance(reply, dict):
        if blank(reply.get("email")):
            raise ApiError(23, "L'email de réponse est requis")
        if not EMAIL_RE.match(str(reply["email"]).strip()):
            raise ApiError(24, "L'email de réponse est invalide")
        if "name" in reply and blank(reply.get("name")):
            raise ApiError(25, "Le nom de réponse ne peut pas être vide")


def _merged_content(params: dict[str, Any]) -> dict[str, str]:
    """Subject, HTML and text with the request's `variables` filled in."""
    variables = params.get("variables")
    values = {
        f"#{str(k).upper()}#": str(v)
        for k, v in (variables.items() if isinstance(variables, dict) else ())
        if isinstance(v, str | int | float)
    }
    content = {}
    for key, wire in (
        ("subject", "subject"),
        ("html", "htmlContent"),
        ("text", "textContent"),
    ):
        text = str(params.get(wire) or "")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        content[key] = text
    return content


def _attachments(raw: Any) -> list[dict[str, Any]]:
    """`attachments` checked with codes 8, 16 and 9; their names, types and sizes."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ATTACHMENTS:
        raise ApiError(9, "3 pièces jointes maximum")
    found = []
    for item in raw:
        item = item if isinstance(item, dict) else {}
        try:
            content = base64.b64decode(
                str(item.get("base64Content") or ""), validate=True
            )
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            raise ApiError(8, "Le contenu de la pièce jointe est requis")
        name = str(item.get("filename") or "").strip()
        if not name:
            raise ApiError(16, "Le nom de la pièce jointe ne peut pas être vide")
        kind = str(item.get("contentType") or "")
        if _EXTENSION.search(name) or kind not in ATTACHMENT_TYPES:
            raise ApiError(9, f"Extension de pièce jointe non autorisée : {name}")
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ApiError(9, f"Pièce jointe trop volumineuse (5 Mo maximum) : {name}")
        found.append({"filename": name, "contentType": kind, "size": len(content)})
    return found


def _recipients(params: dict[str, Any]) -> list[str]:
    """`params.to` checked with codes 22, 50, 18, 19, 21 and 15."""
    holder = params.get("params")
    to = holder.get("to") if isinstance(holder, dict) else None
    if not isinstance(to, list) or not to:
        raise ApiError(22, "La liste des destinataires est requise")
    if len(to) > MAX_RECIPIENTS:
        raise ApiError(50, "500 mails maximum par envoi")
    emails: list[str] = []
    seen: set[str] = set()
    for item in to:
        if not isinstance(item, dict) or blank(item.get("email")):
            raise ApiError(18, "L'email du destinataire est requis")
        email = str(item["email"]).strip()
        if not EMAIL_RE.match(email):
            raise ApiError(19, f"L'email du destinataire est invalide : {email}")
        if "name" in item and blank(item.get("name")):
            raise ApiError(21, "Le nom du destinataire ne peut pas être vide")
        if email.lower() in seen:
            raise ApiError(15, f"L'email est déjà dans la liste d'envoi : {email}")
        seen.add(email.lower())
        emails.append(email)
    return emails
