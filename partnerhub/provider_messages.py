"""Provider errors told to people: what happened and what to do, in their language.

The provider clients raise typed errors whose text is for admins and logs
("mailpartner unreadable answer (HTTP 500)"). What is stored on a campaign or a
delivery is that technical text, prefixed with the error's type by `technical()`
so it can be explained later in the reader's language: `explain()` turns a
stored reason into a sentence and an advice, and keeps the text as the detail.
Reasons PartnerHub wrote itself (already sentences) are shown as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from partnerhub.providers import errors

PROVIDER_NAMES = {
    "mailpartner": "Mail Partner",
    "smspartner": "SMS Partner",
    "voicepartner": "Voice Partner",
    "pecmassiva": "PEC Massiva",
}
# (error type, what happened, what to do); the first type the error is wins.
KINDS = (
    (
        errors.InsufficientCredits,
        gettext_lazy("Not enough credit on the account at %(provider)s."),
        gettext_lazy(
            "Add credit to the provider account, then duplicate the campaign "
            "and send it again."
        ),
    ),
    (
        errors.InvalidApiKey,
        gettext_lazy("%(provider)s refused the API key of the provider account."),
        gettext_lazy("An admin must check the key of the provider account."),
    ),
    (
        errors.AccessDenied,
        gettext_lazy(
            "%(provider)s refused access to this account (account blocked, "
            "address not allowed or option not enabled)."
        ),
        gettext_lazy("An admin must contact the provider's support."),
    ),
    (
        errors.AddressUnsubscribed,
        gettext_lazy("This address is on the unsubscribe list of %(provider)s."),
        gettext_lazy("Nothing to do: it will not receive campaigns any more."),
    ),
    (
        errors.InvalidAddress,
        gettext_lazy("%(provider)s refused this address as invalid."),
        gettext_lazy("Correct the address in the audience."),
    ),
    (
        errors.InvalidRequest,
        gettext_lazy("%(provider)s refused the message as incomplete or invalid."),
        gettext_lazy(
            "Check the sender and the content, then duplicate the campaign and "
            "send it again."
        ),
    ),
    (
        errors.CancelRefused,
        gettext_lazy("%(provider)s could no longer cancel the send."),
        gettext_lazy("The messages have left or are about to leave."),
    ),
    (
        errors.RateLimited,
        gettext_lazy("%(provider)s was overloaded and kept asking to slow down."),
        gettext_lazy("Try again in a few minutes by duplicating the campaign."),
    ),
    (
        errors.ProviderBusy,
        gettext_lazy("%(provider)s was temporarily unable to take the messages."),
        gettext_lazy("Try again in a few minutes by duplicating the campaign."),
    ),
    (
        errors.HostUnreachable,
        gettext_lazy("PartnerHub could not reach %(provider)s."),
        gettext_lazy(
            "Nothing was sent. Try again in a few minutes; if it goes on, an "
            "admin should check the server's connection."
        ),
    ),
    (
        errors.UnknownOutcome,
        gettext_lazy(
            "%(provider)s did not confirm whether it took the messages: they "
            "were not sent again, to avoid sending twice."
        ),
        gettext_lazy("Check the results in a few hours before sending again."),
    ),
    (
        errors.ProviderTimeout,
        gettext_lazy("%(provider)s did not answer in time."),
        gettext_lazy("Try again in a few minutes by duplicating the campaign."),
    ),
    (
        errors.TransportError,
        gettext_lazy(
            "%(provider)s did not answer properly (a fault on its side, %(http)s)."
        ),
        gettext_lazy(
            "No message was lost. Try again in a few minutes by duplicating the "
            "campaign; if it goes on, check the provider's status page."
        ),
    ),
    (
        errors.ProviderError,
        gettext_lazy("%(provider)s refused the send."),
        gettext_lazy("Contact the provider's support with the technical detail."),
    ),
)
BY_NAME = {kind.__name__: (kind, said, todo) for kind, said, todo in KINDS}
ALL_TYPES = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.ProviderError)
}
_TYPED = re.compile(r"\b(?P<type>[A-Z]\w+): (?P<provider>[a-z]+)\b")
_HTTP = re.compile(r"\bHTTP (?P<code>\d{3})\b")


@dataclass(frozen=True)
class Explained:
    """A stored reason told to people; `detail` is the text admins and logs see."""

    sentence: str
    advice: str
    detail: str

    def __str__(self) -> str:
        return f"{self.sentence} {self.advice}".strip()


def technical(exc: BaseException) -> str:
    """The text to store for an error: its type, then its message (no secret)."""
    return f"{type(exc).__name__}: {exc}"


def explain(reason: str) -> Explained:
    """The stored `reason` as a sentence and an advice in the active language."""
    return _explain(reason, get_language() or "")


@lru_cache(maxsize=512)
def _explain(reason: str, language: str) -> Explained:
    """Cached per language: an export explains the same few reasons a million times."""
    match = _TYPED.search(reason)
    kind = _kind_of(match.group("type")) if match else None
    if kind is None:
        kind = _legacy_kind(reason)
    if kind is None:
        return Explained(reason, "", "")
    _cls, said, todo = kind
    provider = match.group("provider") if match else _provider_in(reason)
    http = _HTTP.search(reason)
    values = {
        "provider": PROVIDER_NAMES.get(provider, _("the provider")),
        "http": _("error %(code)s") % {"code": http.group("code")}
        if http
        else _("no usable answer"),
    }
    return Explained(capfirst(str(said) % values), str(todo), reason)


def _kind_of(name: str) -> tuple[type, object, object] | None:
    """The first entry of KINDS the named error type is (a subclass walks up)."""
    cls = ALL_TYPES.get(name)
    if cls is None:
        return None
    return next((entry for entry in KINDS if issubclass(cls, entry[0])), None)


def _legacy_kind(reason: str) -> tuple[type, object, object] | None:
    """Reasons stored before `technical()`: only a provider outage is recognisable."""
    if "unreadable answer" in reason or _HTTP.search(reason):
        return BY_NAME["TransportError"]
    return None


def _provider_in(reason: str) -> str:
    return next((key for key in PROVIDER_NAMES if key in reason), "")


# --- the providers' delivery statuses, in the reader's words ------------------
# Keyed by the raw word lower-cased (providers.md: Mail and SMS Partner answer
# "Delivered", "Not delivered", "Waiting", "ko", operator codes like "UNDELIV").
STATUS_LABELS = {
    "delivered": gettext_lazy("Delivered"),
    "delivrd": gettext_lazy("Delivered"),
    "opened": gettext_lazy("Opened"),
    "clicked": gettext_lazy("Clicked"),
    "not delivered": gettext_lazy("Not delivered"),
    "undeliv": gettext_lazy("Not delivered"),
    "bounced": gettext_lazy("Bounced"),
    "expired": gettext_lazy("Expired"),
    "waiting": gettext_lazy("Waiting"),
    "pending": gettext_lazy("Waiting"),
    "enroute": gettext_lazy("Waiting"),
    "sent": gettext_lazy("Accepted"),
    "accepted": gettext_lazy("Accepted"),
    "acceptd": gettext_lazy("Accepted"),
    "ko": gettext_lazy("Not sent"),
    "failed": gettext_lazy("Failed"),
    "rejectd": gettext_lazy("Rejected"),
    "unknown": gettext_lazy("Unknown"),
}
# Why a message was not delivered, when the provider says no more than its status.
BOUNCE_REASONS = {
    "bounced": gettext_lazy(
        "The recipient's mail server refused the email (address unknown, "
        "mailbox full or blocked)."
    ),
    "not delivered": gettext_lazy(
        "The operator could not deliver the message (number unknown or no "
        "longer in service, phone unreachable)."
    ),
    "undeliv": gettext_lazy(
        "The operator could not deliver the message (number unknown or no "
        "longer in service, phone unreachable)."
    ),
    "expired": gettext_lazy(
        "The phone stayed unreachable until the message expired (switched off "
        "or out of coverage)."
    ),
    "ko": gettext_lazy("The provider did not send the message; ask its support."),
    "rejectd": gettext_lazy("The operator rejected the message."),
}


def status_label(raw: str) -> str:
    """The provider's status in the reader's language; an unknown word as is."""
    label = STATUS_LABELS.get(raw.strip().lower())
    return str(label) if label is not None else raw


def delivery_problem(raw: str, error: str) -> str:
    """What went wrong with one delivery: the stored error explained, else the
    reason its provider status implies ("Bounced" → why), else nothing."""
    if error:
        return str(explain(error))
    reason = BOUNCE_REASONS.get(raw.strip().lower())
    return str(reason) if reason is not None else ""
