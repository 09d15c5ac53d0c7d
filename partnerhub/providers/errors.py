"""Typed errors shared by every provider client.

Callers branch on the type, never on message text: a send that may have left
(`UnknownOutcome`) must be reconciled, a `RateLimited` read can be retried later,
an `InvalidApiKey` needs an admin. Messages never contain a key or a password.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Anything a provider call can raise; carries the provider's code and message."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str = "",
        code: int | str | None = None,
        status: int | None = None,
        details: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.code = code
        self.status = status
        self.details = details

    def __str__(self) -> str:
        where = f"{self.provider} " if self.provider else ""
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{where}{self.message}{code}".strip()


# --- the provider answered and refused -------------------------------------------
class ProviderAPIError(ProviderError):
    """The provider answered with an error body (`success: false`)."""


class InvalidApiKey(ProviderAPIError, PermissionError):
    """Missing or wrong API key / token / mailbox credentials (401)."""


class AccessDenied(ProviderAPIError, PermissionError):
    """Account deactivated, blocked, IP not allowed or feature not enabled."""


class InsufficientCredits(ProviderAPIError):
    """The account (or sub-account) has not enough credit."""


class InvalidRequest(ProviderAPIError, ValueError):
    """A parameter is missing or malformed (validation errors are in `details`)."""


class InvalidAddress(InvalidRequest):
    """A phone number or email address was refused."""


class QuietHours(ProviderAPIError):
    """Marketing send refused for the time: 22 "8h-22h only", 23 "no Sundays or
    public holidays" (SMS Partner, providers.md §2.20). Nothing was sent."""


class AddressUnsubscribed(ProviderAPIError):
    """The address is on the provider's unsubscribe / STOP list."""


class NotFound(ProviderAPIError, LookupError):
    """The message, entry, sub-account or mailbox item does not exist."""


class AlreadyExists(ProviderAPIError):
    """The entry is already there (STOP list, unsubscribe list, sub-account email)."""


class CancelRefused(ProviderAPIError):
    """A scheduled send can no longer be cancelled."""


class AlreadyCancelled(CancelRefused):
    """The send was already cancelled."""


class AlreadySent(CancelRefused):
    """The send has already left."""


class TooLateToCancel(CancelRefused):
    """Less than five minutes before the scheduled time."""


class ProviderBusy(ProviderAPIError):
    """A documented transient answer ("500: queueing problem", a 5xx with an error
    body): the provider says it did nothing with the request; try again later."""


class RateLimited(ProviderAPIError):
    """HTTP 429 or the provider's rate-limit code; `retry_after` in seconds if known."""

    retry_after: float | None = None


# --- the exchange itself failed ---------------------------------------------------
class TransportError(ProviderError):
    """No usable answer: connection refused, reset, timeout, 5xx, unreadable body."""


class HostUnreachable(TransportError, ConnectionError):
    """The request did not leave: DNS failure, connection refused, connect timeout."""


class ProviderTimeout(TransportError, TimeoutError):
    """The request left but no answer came in time."""


class ProviderUnavailable(TransportError):
    """The provider answered 5xx with no usable error body."""


class MalformedResponse(TransportError):
    """The answer could not be parsed as the documented JSON or XML."""


class UnknownOutcome(TransportError):
    """A send left but its outcome is unknown: reconcile first, never re-send."""
