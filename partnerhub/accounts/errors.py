"""Why a sub-account action was refused, as one sentence an Admin can act on.

Provider codes are reused with other meanings per operation (providers.md §2.16),
so sentences are looked up by (operation, code) first, then by error type.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from partnerhub.providers import errors


class SubaccountError(Exception):
    """A refused sub-account action; `message` is translated, `code` the provider's."""

    def __init__(
        self, message: str | Promise, *, code: int | str | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


NOT_SUBACCOUNT_PROVIDER = _(
    "Only Mail Partner and SMS Partner main accounts have sub-accounts."
)
MAIL_HAS_NO_DELETE = _(
    "Mail Partner offers no way to delete a sub-account through its API: remove its "
    "credit instead, or ask Mail Partner's support to close it."
)
AMOUNT_NOT_POSITIVE = _("Enter an amount greater than zero.")
AMOUNT_TOO_PRECISE = _("Enter an amount with at most 3 decimals.")
AMOUNT_TOO_LARGE = _("This amount is too large.")
NO_KEY = _("The main account has no API key: set it in the server's environment first.")
PARENT_TOO_POOR = _(
    "The main account has only %(balance)s %(unit)s: it cannot give %(amount)s "
    "%(unit)s."
)
SUB_TOO_POOR = _(
    "This sub-account has only %(balance)s %(unit)s: %(amount)s %(unit)s cannot be "
    "taken back."
)
INACTIVE = _("This sub-account is inactive: it no longer exists at the provider.")
UNREACHABLE = _(
    "The provider did not answer, so nothing was changed. Try again in a moment."
)
UNKNOWN_OUTCOME = _(
    "The provider's answer was lost: the action may have happened. Sync the "
    "sub-accounts and check the balances before trying again."
)

# (operation, provider code) -> sentence; operations: create, credit, remove.
BY_CODE: dict[tuple[str, int | str], Promise] = {
    ("create", 2): _(
        "Sub-accounts are not enabled on this main account: ask the provider's "
        "support to activate them."
    ),
    ("create", 3): _("An advanced sub-account needs to say whether it may buy credit."),
    ("create", 4): _("Choose the sub-account type (simple or advanced)."),
    ("create", 5): _("The sub-account type must be simple or advanced."),
    ("create", 6): _("Enter a valid email address for the sub-account."),
    ("create", 7): _("A sub-account with this email address already exists."),
    ("create", 8): _("The initial credit must be greater than zero."),
    ("create", 9): _("The main account has not enough credit for this initial credit."),
    ("credit", 2): _("Enter the amount of credit to move."),
    ("credit", 3): _("The sub-account's provider id is missing: sync the list."),
    ("credit", 4): _("This key may not move credit (it is not the main account's)."),
    ("credit", 5): _("The amount must be greater than zero."),
    ("credit", 6): _("The balance must be greater than zero to move credit."),
    ("credit", 7): _("This sub-account no longer exists at the provider."),
    ("credit", 8): _("Not enough credit on the account the credit would come from."),
    ("remove", 1): _("The sub-account's provider id is missing: sync the list."),
    ("remove", 2): _("This key may not delete sub-accounts."),
    ("remove", 404): _("This sub-account no longer exists at the provider."),
}
BY_TYPE: tuple[tuple[type[errors.ProviderError], Promise], ...] = (
    (errors.InvalidApiKey, _("The provider refused the main account's API key.")),
    (errors.AccessDenied, _("The provider refused: this account may not do this.")),
    (
        errors.InsufficientCredits,
        _("Not enough credit on the account the credit comes from."),
    ),
    (errors.NotFound, _("This sub-account no longer exists at the provider.")),
    (errors.AlreadyExists, _("A sub-account with this email address already exists.")),
    (errors.RateLimited, _("Too many requests to the provider: wait a minute.")),
    (
        errors.ProviderBusy,
        _("The provider is busy, so nothing was changed. Try again in a moment."),
    ),
    (errors.UnknownOutcome, UNKNOWN_OUTCOME),
    (errors.TransportError, UNREACHABLE),
    (errors.InvalidRequest, _("The provider refused the request as invalid.")),
)


def refusal(operation: str, exc: errors.ProviderError) -> SubaccountError:
    """The SubaccountError to show for a provider error during `operation`."""
    sentence = BY_CODE.get((operation, exc.code)) if exc.code is not None else None
    if sentence is None:
        sentence = next(
            (text for cls, text in BY_TYPE if isinstance(exc, cls)),
            _("The provider refused the action."),
        )
    return SubaccountError(sentence, code=exc.code)
