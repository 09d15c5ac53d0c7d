"""PEC Massiva failures in plain words (pec-massiva.md §8 "Errors").

The provider's own text is kept as a detail for the "details" panel; the sentence
says what happened and what to do, and a 401 names both possible causes because the
provider answers the same for a bad token and for bad mailbox credentials.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from partnerhub.clients import errors


class PecActionRefused(Exception):
    """A service refused an action (wrong state, nothing to do); `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_message(exc: errors.ProviderError) -> str:
    """One sentence for the operator, in the active language."""
    detail = exc.message or str(exc)
    if isinstance(exc, errors.UnknownOutcome):
        return _(
            "The answer of PEC Massiva was lost: the PEC may have left. Check the "
            "receipts and the recipients before sending it again."
        )
    if isinstance(exc, errors.InvalidApiKey):
        return _(
            "PEC Massiva refused the credentials: either the Openapi token or this "
            "mailbox's username and password are invalid or expired. Ask an admin "
            "to check both."
        )
    if isinstance(exc, errors.InsufficientCredits):
        return _("The PEC Massiva wallet has not enough credit: ask an admin.")
    if isinstance(exc, errors.InvalidRequest):
        return _(
            "PEC Massiva refused the request as invalid (%(detail)s): check the "
            "recipients, the subject, the body and the attachments."
        ) % {"detail": detail}
    if isinstance(exc, errors.RateLimited):
        return _("PEC Massiva is busy (too many requests): try again in a minute.")
    if isinstance(exc, errors.NotFound):
        return _("PEC Massiva does not have it (any more): %(detail)s.") % {
            "detail": detail
        }
    if isinstance(exc, errors.ProviderUnavailable):
        return _("PEC Massiva had an internal error (%(detail)s): try again later.") % {
            "detail": detail
        }
    if isinstance(exc, errors.MalformedResponse):
        return _("PEC Massiva sent an answer that could not be read: try again later.")
    if isinstance(exc, errors.TransportError):
        return _("PEC Massiva could not be reached: try again in a moment.")
    return _("PEC Massiva refused: %(detail)s") % {"detail": detail}


def error_detail(exc: errors.ProviderError) -> str:
    """The raw answer, for the details panel (secrets are already scrubbed)."""
    status = f"HTTP {exc.status}: " if exc.status else ""
    body = exc.details if exc.details is not None else exc.message
    return f"{status}{body}"
