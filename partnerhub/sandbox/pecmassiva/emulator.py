"""`PecMassivaSandbox`: ws.pecmassiva.com as documented by its OAS, in memory.

Answers use the documented bodies (`{"success": false, "message": ...}` and the exact
OAS texts, typos included) so a client that passes here parses the real service.
Where the OAS is silent the choice is marked INFERRED and mirrors the client's
`wire.py`: 429 with `Retry-After` beyond one send per second per token, stable ids,
`q` matched as a case-insensitive substring of subject, sender, recipient and body.
Receipts settle lazily: every call first delivers what is due at `clock.now()`.
Each recipient's receipts and their times come from `mailbox.outcome_plan`: CONSEGNA
or AVVISO DI MANCATA CONSEGNA after `settle_seconds`, or, for the "never" and "slow"
addresses, the 12 h "SUP. TEMPO MASSIMO" warning, then the final notice (23 h) or a
late CONSEGNA (18 h), all on the shared clock so tests move them on with `advance`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import math
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, unquote

from ..wire import Clock, SandboxRequest, SandboxResponse
from .mailbox import (
    DEMO_MAILBOXES,
    DEMO_TOKEN,
    NON_DELIVERY,
    QUOTA_LIMIT_KIB,
    RECEIPT_SENDER,
    ROME,
    TIMEOUT_FINAL,
    TIMEOUT_PREFIX,
    TIMEOUT_WARNING,
    VIRUS_MARKER,
    Due,
    Mailbox,
    Sending,
    acceptance_text,
    delivery_text,
    non_acceptance_text,
    non_delivery_text,
    outcome_plan,
    timeout_final_text,
    timeout_warning_text,
)
from .seeds import seed

PAGE_SIZE = 25
SEND_INTERVAL = 1.0  # CONFIRMED: "this endpoint can handle up to 1 request/second"
UNAUTHORIZED = "Authorization is not valid or empty"
INVALID_POST = "Post parameter is not valid"
RATE_LIMITED = "Too many requests: this endpoint can handle up to 1 request/second"
BAD_MAILBOX = "An error occured: the requested mailbox might be unavailable"
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")

Handler = Callable[[SandboxRequest, str], SandboxResponse]
# Outcome -> subject prefix and body of the notices that only the sender's box gets.
# The 12 h and 24 h notices share their subject and differ by the body (spec §5.3).
NOTICES: dict[str, tuple[str, Callable[[Sending, str, float], str]]] = {
    NON_DELIVERY: ("AVVISO DI MANCATA CONSEGNA", non_delivery_text),
    TIMEOUT_WARNING: (TIMEOUT_PREFIX, timeout_warning_text),
    TIMEOUT_FINAL: (TIMEOUT_PREFIX, timeout_final_text),
}


class _Refused(Exception):
    """Carries an error answer out of nested checks."""

    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(message)
        body = {"success": False, "message": message}
        self.response = SandboxResponse.json(status, body, **headers)


def _ok(status: int = 200, **fields: Any) -> SandboxResponse:
    return SandboxResponse.json(status, {"success": True, "message": "", **fields})


class PecMassivaSandbox:
    """Two demo mailboxes behind the demo token; thread-safe (one lock per call)."""

    prefix = "/pecmassiva"

    def __init__(self, *, clock: Clock, settle_seconds: float = 20.0) -> None:
        self.clock = clock
        self.settle_seconds = settle_seconds
        self._lock = threading.RLock()
        self._counter = itertools.count(1)  # never reset: codes stay unique
        self._routes: dict[tuple[str, str, bool], Handler] = {
            ("POST", "send", False): self._send,
            ("GET", "send", True): self._get_send,
            ("DELETE", "send", True): self._delete_send,
            ("GET", "inbox", False): self._list_inbox,
            ("GET", "inbox", True): self._get_message,
            ("DELETE", "inbox", True): self._delete_message,
            ("GET", "quota", True): self._quota,
        }
        self.reset()

    def reset(self) -> None:
        with self._lock:
            now = self.clock.now()
            self.mailboxes = {a: Mailbox(a, p) for a, p in DEMO_MAILBOXES.items()}
            for mailbox in self.mailboxes.values():
                seed(mailbox, now)
            self.sendings: dict[str, Sending] = {}
            self._last_send: dict[str, float] = {}

    def summary(self) -> dict[str, Any]:
        with self._lock:
            self._settle(self.clock.now())
            boxes = {
                address: {"messages": len(box.messages), "usage_kib": box.usage_kib()}
                for address, box in self.mailboxes.items()
            }
            pending = sum(not s.settled for s in self.sendings.values())
            return {
                "mailboxes": boxes,
                "sendings": len(self.sendings),
                "pending_sendings": pending,
                "settle_seconds": self.settle_seconds,
            }

    def recipients(self) -> dict[str, int]:
        """How many accepted sends each address was part of (for `/_sandbox/`)."""
        with self._lock:
            counts: dict[str, int] = {}
            for sending in self.sendings.values():
                for address in sending.recipients:
                    counts[address] = counts.get(address, 0) + 1
            return counts

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        parts = [unquote(p) for p in request.path.split("/") if p]
        if not parts or len(parts) > 2:
            return _Refused(404, "Not found").response
        key = (request.method.upper(), parts[0], len(parts) == 2)
        handler = self._routes.get(key)
        if handler is None:
            return _Refused(404, "Not found").response
        with self._lock:
            self._settle(self.clock.now())
            try:
                self._check_token(request)
                return handler(request, parts[1] if len(parts) == 2 else "")
            except _Refused as refused:
                return refused.response

    def fault_response(self, kind: str, request: SandboxRequest) -> SandboxResponse:
        """A switched-on fault in the OAS error shape (`{success: false, message}`)."""
        if kind == "http_429":
            return _Refused(429, RATE_LIMITED, **{"Retry-After": "1"}).response
        return _Refused(500, "Internal Server Error").response

    # --- POST /send -----------------------------------------------------------------
    def _send(self, request: SandboxRequest, _: str) -> SandboxResponse:
        now = self.clock.now()
        self._rate_limit(request.headers.get("authorization", ""), now)
        try:
            data = request.json()
        except ValueError:
            raise _Refused(400, INVALID_POST) from None
        if not isinstance(data, dict):
            raise _Refused(400, INVALID_POST)
        mailbox = self._login(data.get("username"), data.get("password"))
        recipients, attachment_bytes, virus = _validate_send(data, mailbox.address)
        sending = Sending(
            code=self._new_code(now),
            mailbox=mailbox.address,
            recipients=recipients,
            subject=data["subject"],
            body=data["body"],
            sent_at=now,
            attachment_bytes=attachment_bytes,
            due=[] if virus else self._schedule(recipients, now),
        )
        self.sendings[sending.code] = sending
        self._submission_receipt(mailbox, sending, virus=virus)
        return _ok(201, sent=len(recipients), message_id=sending.code)

    def _submission_receipt(
        self, mailbox: Mailbox, sending: Sending, *, virus: bool
    ) -> None:
        """ACCETTAZIONE at once, or the non-acceptance notice for an infected file."""
        prefix, text = ("ACCETTAZIONE", acceptance_text(sending))
        if virus:
            prefix = "AVVISO DI NON ACCETTAZIONE PER VIRUS"
            text = non_acceptance_text(sending)
        mailbox.deliver(
            sender=RECEIPT_SENDER,
            date=sending.sent_at,
            subject=f"{prefix}: {sending.coded_subject}",
            body=text,
        )

    def _rate_limit(self, token: str, now: float) -> None:
        """INFERRED status and body: the OAS states the limit but not the answer."""
        last = self._last_send.get(token)
        if last is not None and now - last < SEND_INTERVAL:
            wait = max(1, math.ceil(last + SEND_INTERVAL - now))
            raise _Refused(429, RATE_LIMITED, **{"Retry-After": str(wait)})
        self._last_send[token] = now

    def _new_code(self, now: float) -> str:
        """Timestamp plus counter, like `2020082610003492` (spec §3.1); opaque."""
        return f"{datetime.fromtimestamp(now, ROME):%Y%m%d%H%M%S}{next(self._counter)}"

    # --- receipts -------------------------------------------------------------------
    def _schedule(self, recipients: tuple[str, ...], sent_at: float) -> list[Due]:
        return [
            Due(sent_at + after, recipient, outcome)
            for recipient in recipients
            for after, outcome in outcome_plan(recipient, self.settle_seconds)
        ]

    def _settle(self, now: float) -> None:
        """File every receipt whose time has come, oldest first (ids follow time)."""
        ready = [
            (due, sending)
            for sending in self.sendings.values()
            for due in sending.due
            if due.at <= now
        ]
        for due, sending in sorted(ready, key=lambda p: (p[0].at, p[1].sent_at)):
            sending.due.remove(due)
            self._deliver_outcome(sending, due)

    def _deliver_outcome(self, sending: Sending, due: Due) -> None:
        """One receipt into the sender's box (and the envelope into a local box)."""
        if due.outcome not in NOTICES:
            self._deliver_to(sending, due.recipient, due.at)
            return
        prefix, text = NOTICES[due.outcome]
        self.mailboxes[sending.mailbox].deliver(
            sender=RECEIPT_SENDER,
            date=due.at,
            subject=f"{prefix}: {sending.coded_subject}",
            body=text(sending, due.recipient, due.at),
        )

    def _deliver_to(self, sending: Sending, recipient: str, at: float) -> None:
        target = self.mailboxes.get(recipient.lower())
        if target is not None:  # the transport envelope lands in a local mailbox
            target.deliver(
                sender=f'"Per conto di: {sending.mailbox}" ',
                date=at,
                subject=f"POSTA CERTIFICATA: {sending.coded_subject}",
                body=sending.body,
                extra_bytes=sending.attachment_bytes,
            )
        self.mailboxes[sending.mailbox].deliver(
            sender=RECEIPT_SENDER,
            date=at,
            subject=f"CONSEGNA: {sending.coded_subject}",
            body=delivery_text(sending, recipient, at),
            extra_bytes=sending.attachment_bytes,  # a "completa" receipt embeds it
        )

    # --- GET/DELETE /send/{code} ----------------------------------------------------
    def _get_send(self, request: SandboxRequest, code: str) -> SandboxResponse:
        found = self._mailbox(request).of_sending(code)
        if not found:
            raise _Refused(404, "Result empty")
        return _ok(data=[m.status_item() for m in found])

    def _delete_send(self, request: SandboxRequest, code: str) -> SandboxResponse:
        """Only the mailbox copies go; receipts still due will arrive (no recall)."""
        mailbox = self._mailbox(request)
        found = mailbox.of_sending(code)
        if not found:
            raise _Refused(404, "Email not found")
        for message in found:
            del mailbox.messages[message.id]
        return _ok(message="Operation succefull")

    # --- Inbox ----------------------------------------------------------------------
    def _list_inbox(self, request: SandboxRequest, _: str) -> SandboxResponse:
        """Pages are 1-based, newest first; a bad or missing page means page 1."""
        found = self._mailbox(request).newest_first(request.query.get("q"))
        page = _page_number(request.query.get("page"))
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return _ok(
            data=[m.listing() for m in chunk],
            page=page,
            total=len(found),
            n_of_pages=math.ceil(len(found) / PAGE_SIZE),
        )

    def _get_message(self, request: SandboxRequest, raw_id: str) -> SandboxResponse:
        mailbox = self._mailbox(request)
        message = mailbox.messages.get(_message_id(raw_id))
        if message is None:
            raise _Refused(404, "Message not found")
        data = {key: value for key, value in message.listing().items() if key != "id"}
        data["body"] = quote_plus(message.body)  # CONFIRMED: x-www-form-urlencoded
        return _ok(data=data)

    def _delete_message(self, request: SandboxRequest, raw_id: str) -> SandboxResponse:
        """INFERRED: an unknown id is a no-op success as in IMAP (no 404 in the OAS)."""
        self._mailbox(request).messages.pop(_message_id(raw_id), None)
        return _ok(message="Message deleted")

    def _quota(self, request: SandboxRequest, name: str) -> SandboxResponse:
        mailbox = self._mailbox(request)
        if name.upper() != "INBOX":
            raise _Refused(400, BAD_MAILBOX)
        return _ok(data={"usage": mailbox.usage_kib(), "limit": QUOTA_LIMIT_KIB})

    # --- credentials ----------------------------------------------------------------
    def _check_token(self, request: SandboxRequest) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not _same(token.strip(), DEMO_TOKEN):
            raise _Refused(401, UNAUTHORIZED)

    def _mailbox(self, request: SandboxRequest) -> Mailbox:
        headers = request.headers
        return self._login(headers.get("x-username"), headers.get("x-password"))

    def _login(self, username: Any, password: Any) -> Mailbox:
        """Bad mailbox credentials answer the same 401 as a bad token (spec §2.1)."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise _Refused(401, UNAUTHORIZED)
        mailbox = self.mailboxes.get(username.strip().lower())
        if mailbox is None or not _same(password, mailbox.password):
            raise _Refused(401, UNAUTHORIZED)
        return mailbox


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(float(raw or 1)))
    except ValueError:
        return 1


def _message_id(raw: str) -> int:
    if not raw.isdigit():
        raise _Refused(404, "Message not found")
    return int(raw)


def _validate_send(
    data: dict[str, Any], address: str
) -> tuple[tuple[str, ...], int, bool]:
    """Recipients, attachment size and virus flag, or 400 "Post parameter is not valid".

    INFERRED: the OAS marks nothing required; recipient, subject and body are, and a
    sender other than the mailbox itself is refused. Attachments are accepted as an
    array (every client) or a single object (the OAS schema), raw base64 or data URI.
    """
    recipient = data.get("recipient")
    recipients = [recipient] if isinstance(recipient, str) else recipient
    if not isinstance(recipients, list) or not recipients:
        raise _Refused(400, INVALID_POST)
    if not all(isinstance(r, str) and _EMAIL.fullmatch(r.strip()) for r in recipients):
        raise _Refused(400, INVALID_POST)
    for key in ("subject", "body"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise _Refused(400, INVALID_POST)
    sender = data.get("sender")
    if sender is not None and (
        not isinstance(sender, str) or sender.lower() != address
    ):
        raise _Refused(400, INVALID_POST)
    files = _attachments(data.get("attachments"))
    cleaned = tuple(dict.fromkeys(r.strip().lower() for r in recipients))
    return cleaned, sum(map(len, files)), any(VIRUS_MARKER in f for f in files)


def _attachments(raw: Any) -> list[bytes]:
    if raw in (None, [], {}):
        return []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise _Refused(400, INVALID_POST)
    files = []
    for item in items:
        name, file = (
            (item.get("name"), item.get("file"))
            if isinstance(item, dict)
            else (None, None)
        )
        if not isinstance(name, str) or not name.strip() or not isinstance(file, str):
            raise _Refused(400, INVALID_POST)
        try:
            files.append(base64.b64decode(file.rpartition(",")[2], validate=True))
        except (binascii.Error, ValueError):
            raise _Refused(400, INVALID_POST) from None
    return files
