"""Every PEC Massiva call of the app, behind the shared limiter and one retry policy.

- Each call first waits for its slot (`limiter.shared_limiter`): 1 request/second
  per token, for sends *and* reads.
- A 429 is not a failure: the provider refused before doing anything, so the call is
  waited out (`Retry-After`) and repeated, sends included.
- Reads are retried on 5xx, timeouts and unreadable answers; sends never are, because
  a send that may have left must be checked by a person, not repeated by a machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings

from partnerhub.providers import errors
from partnerhub.providers.pecmassiva import (
    InboxMessage,
    InboxPage,
    PecAttachment,
    PecMassivaClient,
    PecSendResult,
    PecSendStatus,
    Quota,
)

from .errors import PecPacingBusy
from .limiter import LimiterBusy, shared_limiter

if TYPE_CHECKING:
    from .models import PecMailbox

logger = logging.getLogger(__name__)
T = TypeVar("T")


class _Unpaced:
    """The client's own (per-process) pacing is replaced by the shared limiter."""

    def wait(self, token_key: str) -> None:
        return None


class PecGateway:
    """One mailbox's PEC Massiva operations, paced and retried as above."""

    def __init__(
        self,
        client: PecMassivaClient,
        *,
        sleep: Callable[[float], None] | None = None,
        max_wait: float | None = None,
    ) -> None:
        self.client = client
        self.limiter = shared_limiter()
        self.max_wait = max_wait
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))

    @classmethod
    def for_mailbox(
        cls, mailbox: PecMailbox, *, interactive: bool = False
    ) -> PecGateway:
        """A gateway for one mailbox; `interactive` (a page waiting) caps the wait
        for a slot, so a burst of queued sends cannot hold a web request."""
        client = PecMassivaClient.from_settings(
            username=mailbox.username, password=mailbox.password, throttle=_Unpaced()
        )
        limit = settings.PEC_INTERACTIVE_MAX_WAIT_SECONDS if interactive else None
        return cls(client, max_wait=limit)

    # --- the operations the pages use ----------------------------------------------
    def send(
        self,
        *,
        recipients: Sequence[str],
        subject: str,
        body_html: str,
        attachments: Sequence[PecAttachment] = (),
    ) -> PecSendResult:
        return self._call(
            lambda: self.client.send(
                recipients=recipients,
                subject=subject,
                body_html=body_html,
                attachments=attachments,
            ),
            read=False,
        )

    def get_send(self, *, code: str, expected_recipients: int) -> PecSendStatus:
        return self._call(
            lambda: self.client.get_send(
                code=code, expected_recipients=expected_recipients
            )
        )

    def delete_send(self, *, code: str) -> None:
        self._call(lambda: self.client.delete_send(code=code), read=False)

    def list_inbox(self, *, page: int, search: str | None) -> InboxPage:
        return self._call(lambda: self.client.list_inbox(page=page, search=search))

    def get_message(self, *, message_id: int) -> InboxMessage:
        return self._call(lambda: self.client.get_message(message_id=message_id))

    def delete_message(self, *, message_id: int) -> None:
        self._call(
            lambda: self.client.delete_message(message_id=message_id), read=False
        )

    def get_quota(self) -> Quota:
        return self._call(lambda: self.client.get_quota(mailbox="INBOX"))

    # --- pacing and retries ----------------------------------------------------------
    def _call(self, operation: Callable[[], T], *, read: bool = True) -> T:
        rate_limited = 0
        failures = 0
        while True:
            try:
                self.limiter.wait(self.client.token_key, self.max_wait)
            except LimiterBusy as exc:
                raise PecPacingBusy(str(exc), provider="pecmassiva") from exc
            try:
                return operation()
            except errors.RateLimited as exc:
                rate_limited += 1
                if rate_limited > settings.PEC_RATE_LIMIT_RETRIES:
                    raise
                delay = exc.retry_after or 1.0
                logger.info("PEC Massiva asked to slow down: waiting %.1f s", delay)
                self._sleep(delay)
            except errors.TransportError as exc:
                # 5xx, timeouts, resets, unreadable answers: retried for reads only
                failures += 1
                final = failures >= settings.PEC_READ_ATTEMPTS
                if not read or isinstance(exc, errors.UnknownOutcome) or final:
                    raise
                self._sleep(settings.PEC_READ_RETRY_SECONDS * 2 ** (failures - 1))
