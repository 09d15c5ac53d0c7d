"""What a caller may do after each failed provider call: retry, refuse or reconcile.

A failed call ends in one of three verdicts:
- RETRY: the provider provably did nothing (it said so, or the request never left):
  the same call may be made again after a back-off;
- REFUSE: the provider answered a refusal that a retry cannot change;
- AMBIGUOUS: a send may have been taken (the answer was lost or unreadable): look
  it up where the provider can tell (SMS by tag), never re-send blindly.

The verdict follows from the typed error the clients raise, and `ANSWERS` says,
row by row, which answer of which provider raises what, with its source line in
`shared/spec/providers.md` (C = confirmed there, I = inferred). The clients read
their transient codes from this table (`busy_codes`), and tests drive every row
through a client, so the table and the code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import errors


class Verdict(StrEnum):
    RETRY = "retry"
    REFUSE = "refuse"
    AMBIGUOUS = "ambiguous"


# Errors that prove the provider did nothing with the request.
RETRYABLE: tuple[type[errors.ProviderError], ...] = (
    errors.RateLimited,
    errors.ProviderBusy,
    errors.ProviderUnavailable,
    errors.HostUnreachable,
)
# Errors after which a read may be repeated (a read changes nothing at the provider).
_READ_RETRYABLE: tuple[type[errors.ProviderError], ...] = (
    *RETRYABLE,
    errors.TransportError,
)


def verdict(exc: errors.ProviderError) -> Verdict:
    """The verdict for a typed client error (sends; reads may retry any transport)."""
    if isinstance(exc, errors.UnknownOutcome):
        return Verdict.AMBIGUOUS
    if isinstance(exc, RETRYABLE):
        return Verdict.RETRY
    if isinstance(exc, errors.TransportError):
        # Read timeouts and garbled answers: only reads raise these (a send raises
        # UnknownOutcome instead), and a read may always be repeated.
        return Verdict.RETRY
    return Verdict.REFUSE


@dataclass(frozen=True)
class Answer:
    """One documented failure: who answers it, what it looks like, what to do."""

    provider: str  # "mail", "sms", "voice" or "*" (every NDA Media API)
    answer: str
    code: int | str | None  # the body's code, when the row is about one
    read: Verdict
    send: Verdict
    raises_on_send: type[errors.ProviderError]
    source: str


R, X, A = Verdict.RETRY, Verdict.REFUSE, Verdict.AMBIGUOUS
ANSWERS: tuple[Answer, ...] = (
    Answer("mail", "HTTP 500, body {success:false, code:500} (queueing problem)",
           500, R, R, errors.ProviderBusy,
           "providers.md:257 Mail send codes, '500 queueing problem' (C)"),
    Answer("sms", "HTTP 500, body {success:false, code:500} (queueing problem)",
           500, R, R, errors.ProviderBusy,
           "providers.md:209 SMS sending codes, '500 queueing problem' (C); "
           "a send is looked up by tag before it is repeated"),
    Answer("mail", "HTTP 429 or code 429 (> 2000 requests/minute/IP)",
           429, R, R, errors.RateLimited,
           "providers.md:257 '429 >2000 req/min/IP' and :37 (C)"),
    Answer("sms", "HTTP 429 (rate limit), Retry-After honoured up to a cap",
           429, R, R, errors.RateLimited,
           "providers.md:36 'Rate-limit → HTTP 429' and :37 (C)"),
    Answer("voice", "HTTP 429, error TOO_MANY_REQUESTS",
           "TOO_MANY_REQUESTS", R, R, errors.RateLimited,
           "providers.md:37 Voice limits, :228 x-ratelimit headers (C); code name I"),
    Answer("*", "HTTP 5xx with an error body whose code is no documented refusal",
           None, R, R, errors.ProviderBusy,
           "providers.md:36 'API errors may come with non-200 statuses' (I)"),
    Answer("*", "HTTP 503 with an unreadable body (service unavailable)",
           None, R, R, errors.ProviderUnavailable,
           "I: a 503 is answered before the application handles the request"),
    Answer("*", "HTTP 500 or 502 with an unreadable body",
           None, R, A, errors.UnknownOutcome,
           "I: the application may have queued the send before it failed"),
    Answer("*", "HTTP 504, or 2xx with an unreadable body, after a send",
           None, R, A, errors.UnknownOutcome,
           "I: the gateway gave up waiting; the send may have been processed"),
    Answer("*", "connection refused, DNS failure, connect timeout",
           None, R, R, errors.HostUnreachable,
           "I: the request never left this machine"),
    Answer("*", "read timeout or connection reset once the request was sent",
           None, R, A, errors.UnknownOutcome,
           "I: the provider may have processed the request"),
    Answer("mail", "codes 1/3/10 (key), 11 (credit), 14 (unsubscribed), 19 (address)",
           11, X, X, errors.InsufficientCredits,
           "providers.md:257 Mail send codes (C): a retry cannot change them"),
    Answer("sms", "codes 1/10 (key), 11 (credit), 14 (STOP list), 44 (sender)",
           11, X, X, errors.InsufficientCredits,
           "providers.md:209 SMS sending codes (C): a retry cannot change them"),
    Answer("voice", "NOT_CREDIT, DESTINATION_INVALID, SENDER_INVALID, …",
           "NOT_CREDIT", X, X, errors.InsufficientCredits,
           "providers.md:227 Voice string codes (C)"),
)  # fmt: skip


def busy_codes(provider: str) -> dict[int | str, type[errors.ProviderAPIError]]:
    """Body codes meaning "nothing was done, try again" for one provider's table."""
    table: dict[int | str, type[errors.ProviderAPIError]] = {}
    for row in ANSWERS:
        if row.provider not in (provider, "*") or row.code is None:
            continue
        cls = row.raises_on_send
        if row.send is Verdict.RETRY and issubclass(cls, errors.ProviderAPIError):
            table[row.code] = cls
    return table
