"""`PecMassivaClient`: the seven operations of ws.pecmassiva.com, typed.

Two credential layers travel on every call (spec §2.1): the Openapi bearer token, and
the PEC mailbox username/password (in the JSON body for POST /send, in `x-username` /
`x-password` headers elsewhere). Neither the token nor the password may reach a log,
an exception or a repr. Sends are paced by a `SendThrottle` and never retried: a lost
answer or a 5xx after the request left is reported as `UnknownOutcome`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from .. import errors
from ..http import redact, redact_mapping, shared_session, transport_error
from . import wire
from .results import (
    InboxItem,
    InboxMessage,
    InboxPage,
    PecAttachment,
    PecSendResult,
    PecSendState,
    PecSendStatus,
    Quota,
)
from .throttle import SendThrottle, process_throttle, token_key

logger = logging.getLogger("partnerhub.providers.pecmassiva")

PROVIDER = "pecmassiva"
T = TypeVar("T")

# One table maps HTTP statuses to typed errors; anything else is a generic API error.
STATUS_ERRORS: dict[int, type[errors.ProviderAPIError]] = {
    400: errors.InvalidRequest,
    401: errors.InvalidApiKey,
    402: errors.InsufficientCredits,
    403: errors.AccessDenied,
    404: errors.NotFound,
    422: errors.InvalidRequest,
    429: errors.RateLimited,
}
_CREDIT_WORDS = re.compile(r"\b(insufficient|credit|credito)\b", re.IGNORECASE)


class PecMassivaClient:
    """One mailbox seen through one bearer token."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        username: str,
        password: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
        throttle: SendThrottle | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._token = token
        self._password = password
        self.session = session or shared_session()
        self.timeout = timeout
        self.throttle = throttle or process_throttle()
        self.token_key = token_key(token)

    @classmethod
    def from_settings(
        cls, *, username: str, password: str, **kwargs: Any
    ) -> PecMassivaClient:
        """A client for one mailbox with the URL, token and timeout from settings."""
        from django.conf import settings

        kwargs.setdefault("timeout", settings.PROVIDER_TIMEOUT)
        return cls(
            base_url=settings.PECMASSIVA_API_URL,
            token=settings.PECMASSIVA_TOKEN,
            username=username,
            password=password,
            **kwargs,
        )

    def __repr__(self) -> str:
        return (
            f"PecMassivaClient(base_url={self.base_url!r}, username={self.username!r}, "
            "token='***', password='***')"
        )

    # --- PEC ----------------------------------------------------------------------
    def send(
        self,
        *,
        recipients: Sequence[str],
        subject: str,
        body_html: str,
        sender: str | None = None,
        attachments: Sequence[PecAttachment] = (),
    ) -> PecSendResult:
        """POST /send: one request, one code, one PEC per recipient. Never retried."""
        recipients = tuple(r.strip() for r in recipients)
        if not recipients or not all("@" in r for r in recipients):
            raise errors.InvalidRequest(
                "at least one recipient address is required", provider=PROVIDER
            )
        payload = self._send_payload(
            recipients, subject, body_html, sender or self.username, attachments
        )
        self.throttle.wait(self.token_key)
        answer = self._call("POST", "/send", body=payload, is_send=True)
        code = str(answer.get("message_id") or "").strip()
        if not code:
            raise errors.UnknownOutcome(
                "send answered without a code",
                provider=PROVIDER,
                details=self._scrub(answer),
            )
        sent = _count(answer.get("sent"), default=len(recipients))
        return PecSendResult(code=code, sent=sent, recipients=recipients)

    def _send_payload(
        self,
        recipients: tuple[str, ...],
        subject: str,
        body_html: str,
        sender: str,
        attachments: Sequence[PecAttachment],
    ) -> dict[str, Any]:
        """The POST /send body; recipients always as an array, as in the OAS example."""
        payload: dict[str, Any] = {
            "sender": sender,
            "recipient": list(recipients),
            "subject": subject,
            "body": body_html,
            "username": self.username,
            "password": self._password,
        }
        if attachments:
            payload["attachments"] = [
                {"name": a.name, "file": wire.attachment_file(a.encoded(), a.name)}
                for a in attachments
            ]
        return payload

    def get_send(
        self, *, code: str, expected_recipients: int | None = None
    ) -> PecSendStatus:
        """GET /send/{code}: receipts oldest first and the derived state.

        404 "Result empty" means no receipt yet (spec §3.2): a pending status, not an
        error. Pass `expected_recipients` so one delivery out of three stays `accepted`.
        """
        try:
            answer = self._call("GET", "/send/" + quote(code, safe=""))
        except errors.NotFound as exc:
            if exc.message.strip().lower() != wire.RESULT_EMPTY:
                raise
            return PecSendStatus(code=code, state=PecSendState.SUBMITTED)
        receipts = self._parse(
            answer, lambda a: [wire.receipt_from_item(item) for item in a["data"]]
        )
        receipts.sort(key=lambda r: r.date or datetime.max.replace(tzinfo=UTC))
        state, delivered, failed = wire.derive_state(receipts, expected_recipients)
        return PecSendStatus(code, state, tuple(receipts), delivered, failed)

    def delete_send(self, *, code: str) -> None:
        """DELETE /send/{code}: removes the mailbox copies of the receipts only."""
        self._call("DELETE", "/send/" + quote(code, safe=""))

    # --- Inbox --------------------------------------------------------------------
    def list_inbox(self, *, page: int = 1, search: str | None = None) -> InboxPage:
        """GET /inbox: one page of 25 (1-based); `search` is the provider's `q`."""
        params: dict[str, Any] = {"page": page}
        if search:
            params["q"] = search
        answer = self._call("GET", "/inbox", params=params)
        return self._parse(answer, _inbox_page)

    def get_message(self, *, message_id: int) -> InboxMessage:
        """GET /inbox/{id}, with the x-www-form-urlencoded body decoded."""
        answer = self._call("GET", f"/inbox/{int(message_id)}")
        return self._parse(answer, lambda a: _inbox_message(int(message_id), a["data"]))

    def delete_message(self, *, message_id: int) -> None:
        """DELETE /inbox/{id}. Ids may shift afterwards (spec §7.5): re-list."""
        self._call("DELETE", f"/inbox/{int(message_id)}")

    def get_quota(self, *, mailbox: str = "INBOX") -> Quota:
        """GET /quota/{mailbox}: usage and limit, in `wire.QUOTA_UNIT`."""
        answer = self._call("GET", "/quota/" + quote(mailbox, safe=""))
        return self._parse(
            answer,
            lambda a: Quota(
                mailbox=mailbox,
                usage=float(a["data"]["usage"]),
                limit=float(a["data"]["limit"]),
                unit=wire.QUOTA_UNIT,
            ),
        )

    # --- plumbing -----------------------------------------------------------------
    @property
    def _secrets(self) -> tuple[str, str]:
        return (self._token, self._password)

    def _scrub(self, body: Mapping[str, Any]) -> Any:
        """A body safe to keep in an exception: secret keys and echoed values hidden."""
        text = json.dumps(redact_mapping(body), ensure_ascii=False)
        return json.loads(redact(text, self._secrets))

    def _headers(self, *, mailbox: bool) -> dict[str, str]:
        headers = {"Authorization": "Bearer " + self._token}
        if mailbox:
            headers["x-username"] = self.username
            headers["x-password"] = self._password
        return headers

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        is_send: bool = False,
    ) -> dict[str, Any]:
        """One HTTP exchange: a decoded success body, or a typed error raised."""
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers=self._headers(mailbox=body is None),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            error = transport_error(
                exc, provider=PROVIDER, is_send=is_send, secrets=self._secrets
            )
            logger.warning("PEC Massiva %s %s failed: %s", method, path, error)
            raise error from exc
        ms = (time.monotonic() - started) * 1000
        status = response.status_code
        logger.info("PEC Massiva %s %s -> %s (%.0f ms)", method, path, status, ms)
        return self._read(response, is_send=is_send)

    def _read(self, response: requests.Response, *, is_send: bool) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        readable = isinstance(payload, dict) and payload.get("success") is not False
        if response.ok and readable:
            return payload
        error = self._error(response, payload, is_send=is_send)
        # 4xx are expected answers (a pending send polls into 404): not worth a warning
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        logger.log(level, "PEC Massiva answered %s: %s", response.status_code, error)
        raise error

    def _error(
        self, response: requests.Response, payload: Any, *, is_send: bool
    ) -> errors.ProviderError:
        status = response.status_code
        body = payload if isinstance(payload, dict) else {}
        message = redact(str(body.get("message") or ""), self._secrets)
        extra: dict[str, Any] = {"provider": PROVIDER, "status": status}
        details = self._scrub(body) if body else None
        if is_send and (status >= 500 or (response.ok and not body)):
            text = "the send may have left: " + (message or f"HTTP {status}")
            return errors.UnknownOutcome(text, details=details, **extra)
        if status >= 500:
            return errors.ProviderUnavailable(message or f"HTTP {status}", **extra)
        if response.ok and not body:
            text = f"unreadable answer (HTTP {status})"
            return errors.MalformedResponse(text, **extra)
        cls = STATUS_ERRORS.get(status, errors.ProviderAPIError)
        if _CREDIT_WORDS.search(message):
            cls = errors.InsufficientCredits
        error = cls(message or f"HTTP {status}", details=details, **extra)
        if isinstance(error, errors.RateLimited):
            error.retry_after = _retry_after(response.headers.get("Retry-After"))
        return error

    def _parse(self, answer: dict[str, Any], read: Callable[[dict[str, Any]], T]) -> T:
        """Apply a reader to a success body; a missing or odd field is malformed."""
        try:
            return read(answer)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise errors.MalformedResponse(
                f"unexpected answer shape: {type(exc).__name__}: {exc}",
                provider=PROVIDER,
            ) from exc


def _inbox_page(answer: dict[str, Any]) -> InboxPage:
    items = tuple(
        InboxItem(
            id=int(item["id"]),
            type=wire.receipt_type(wire.first(item, wire.SUBJECT_KEYS)),
            subject=wire.first(item, wire.SUBJECT_KEYS),
            date=wire.parse_date(wire.first(item, wire.DATE_KEYS)),
            date_raw=wire.first(item, wire.DATE_KEYS),
            sender=wire.clean_address(item.get("sender")),
            recipient=wire.clean_address(item.get("recipient")),
        )
        for item in answer["data"]
    )
    return InboxPage(
        items=items,
        page=int(float(answer.get("page") or 1)),
        total=int(float(answer.get("total") or len(items))),
        pages=int(float(answer.get("n_of_pages") or 0)),
    )


def _inbox_message(message_id: int, data: dict[str, Any]) -> InboxMessage:
    subject = wire.first(data, wire.SUBJECT_KEYS)
    date_raw = wire.first(data, wire.DATE_KEYS)
    body_raw = wire.first(data, ("body", "message"))
    return InboxMessage(
        id=message_id,
        type=wire.receipt_type(subject),
        subject=subject,
        date=wire.parse_date(date_raw),
        date_raw=date_raw,
        sender=wire.clean_address(data.get("sender")),
        recipient=wire.clean_address(data.get("recipient")),
        body=wire.decode_body(body_raw),
        body_raw=body_raw,
    )


def _count(value: Any, *, default: int) -> int:
    """`sent` as an int; the code is what matters, so a bad count is not fatal."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
