"""PEC Massiva failures in plain words (pec-massiva.md §8 "Errors").

A failure is stored as a short code plus the provider's own text, and the sentence
is written at display time, in the reader's language (a worker has no reader). The
sentence says what happened and what to do; a 401 names both possible causes because
the provider answers the same for a bad token and for bad mailbox credentials.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from partnerhub.providers import errors


class PecActionRefused(Exception):
    """A service refused an action (wrong state, nothing to do); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PecPacingBusy(errors.RateLimited):
    """Our own limiter: a page would wait too long behind queued requests."""


# Most specific first: the first matching type gives the code.
CODES: tuple[tuple[type[errors.ProviderError], str], ...] = (
    (PecPacingBusy, "pacing"),
    (errors.UnknownOutcome, "unknown_outcome"),
    (errors.InvalidApiKey, "credentials"),
    (errors.InsufficientCredits, "credit"),
    (errors.InvalidRequest, "invalid"),
    (errors.RateLimited, "rate_limited"),
    (errors.NotFound, "not_found"),
    (errors.ProviderUnavailable, "provider_error"),
    (errors.MalformedResponse, "unreadable"),
    (errors.TransportError, "unreachable"),
)


def error_code(exc: errors.ProviderError) -> str:
    for error_type, code in CODES:
        if isinstance(exc, error_type):
            return code
    return "refused"


def message_for(code: str, detail: str = "") -> str:
    """The operator's sentence for a stored code, in the active language."""
    values = {"detail": detail or "—"}
    sentences = {
        "unknown_outcome": _(
            "The answer of PEC Massiva was lost: the PEC may have left. Check the "
            "receipts and the recipients before sending it again."
        ),
        "worker_stopped": _(
            "The worker stopped while the PEC was being sent: it may have left. "
            "Check before sending it again."
        ),
        "unexpected": _("Unexpected error during the send."),
        "credentials": _(
            "PEC Massiva refused the credentials: either the Openapi token or this "
            "mailbox's username and password are invalid or expired. Ask an admin "
            "to check both."
        ),
        "credit": _("The PEC Massiva wallet has not enough credit: ask an admin."),
        "invalid": _(
            "PEC Massiva refused the request as invalid (%(detail)s): check the "
            "recipients, the subject, the body and the attachments."
        ),
        "pacing": _(
            "Other PEC requests are queued for this PEC Massiva account (one per "
            "second): try again in a few seconds."
        ),
        "rate_limited": _(
            "PEC Massiva is busy (too many requests): try again in a minute."
        ),
        "not_found": _("PEC Massiva does not have it (any more): %(detail)s."),
        "provider_error": _(
            "PEC Massiva had an internal error (%(detail)s): try again later."
        ),
        "unreadable": _(
            "PEC Massiva sent an answer that could not be read: try again later."
        ),
        "unreachable": _("PEC Massiva could not be reached: try again in a moment."),
    }
    sentence = sentences.get(code, _("PEC Massiva refused: %(detail)s"))
    return sentence % values if "%(detail)s" in sentence else sentence


def error_message(exc: errors.ProviderError) -> str:
    """One sentence for the operator, in the active language."""
    return message_for(error_code(exc), exc.message or str(exc))


def error_detail(exc: errors.ProviderError) -> str:
    """The raw answer, for the details panel (secrets are already scrubbed)."""
    status = f"HTTP {exc.status}: " if exc.status else ""
    body = exc.details if exc.details is not None else exc.message
    return f"{status}{body}"
