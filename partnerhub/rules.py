"""The one home of PartnerHub's address and field rules (issue #12, point 2).

Everything that stores or compares an address, or accepts a header-bound text,
calls this module: model `clean()`, forms, the admin, the services, the CSV
import (recipients and unsubscribes) and the STOP webhook. Rules:

- email: trimmed and lower-cased as a whole (`normalize_email`);
- phone: E.164, region France by default (`normalize_phone`);
- SMS sender: 3 to 11 ASCII letters or digits (`validate_sms_sender`); the GSM
  tables of the SMS length live in `campaigns.sms`, checked against the JS copy;
- header-bound or displayed single-line fields (subject, sender name, first and
  last name...) refuse control characters: CR, LF, NUL, the other C0/C1 controls
  and the Unicode direction overrides (`validate_single_line`).

Phone numbers, with a fast path for French numbers:

`phonenumbers` parses about 14,000 numbers a second per core, which alone would
eat most of the import budget for a million rows. Nearly every number in a
French file has one of a few shapes (`06 12 34 56 78`, `+33 6 12 34 56 78`,
`0033612345678`, `+33 (0)6…`, or `612345678` after Excel dropped the zero), and
for those shapes `phonenumbers.parse(value, "FR")` reduces to: take the nine
digits after the prefix, check them against France's metadata patterns, prepend
`+33`. `_fast_fr` does exactly that with the library's own patterns, so the
answer is the library's answer; anything else goes to `phonenumbers`. The
equality is tested on every five-digit prefix and on random input.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumbers import PhoneMetadata, PhoneNumberFormat

DEFAULT_REGION = "FR"
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_TLD}", re.ASCII)


def normalize_email(value: str) -> str | None:
    """The address lower-cased as a whole (local part included), or None if invalid.

    Lower-casing the local part too is what listmonk and the ESPs do, and what
    makes `Jean@x.fr` and `jean@x.fr` one recipient of an audience.
    """
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        return None
    if _EMAIL_RE.fullmatch(email):
        at = email.index("@")
        return email if at <= MAX_LOCAL_PART_LENGTH else None
    if email.isascii() or "@" not in email:
        return None
    return _normalize_idn_email(email)


def _normalize_idn_email(email: str) -> str | None:
    """Accept an internationalised domain (`jean@café.fr`) when IDNA can encode it."""
    local, _, domain = email.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not _EMAIL_RE.fullmatch(f"{local}@{ascii_domain}"):
        return None
    return email if len(local) <= MAX_LOCAL_PART_LENGTH else None


@functools.lru_cache(maxsize=4096)
def reference_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """What `phonenumbers` alone says: E.164 of a valid number, or None.

    Cached because the values that reach it repeat (`n/a`, `0`, a switchboard).
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _french_validity() -> re.Pattern[str] | None:
    """France's valid-number test from the library metadata, or None if unsafe.

    The fast path relies on these facts about the metadata; should a future
    `phonenumbers` release change one, the fast path switches itself off and
    every number goes through the library (slower, still right).
    """
    meta = PhoneMetadata.metadata_for_region("FR")
    if meta is None or meta.general_desc is None:  # no French metadata: unsafe
        return None
    general = meta.general_desc
    safe = (
        meta.country_code == 33
        and phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(33) == ("FR",)
        and meta.national_prefix_for_parsing == "0"
        and not meta.national_prefix_transform_rule
        and meta.international_prefix == "00"
        and general.national_number_pattern == r"[1-9]\d{8}"
        and tuple(general.possible_length) == (9,)
    )
    if not safe:
        return None
    types = (
        meta.premium_rate,
        meta.toll_free,
        meta.shared_cost,
        meta.voip,
        meta.personal_number,
        meta.pager,
        meta.uan,
        meta.voicemail,
        meta.fixed_line,
        meta.mobile,
    )
    patterns = [
        f"(?:{desc.national_number_pattern})"
        for desc in types
        if desc is not None
        and desc.national_number_pattern
        and (not desc.possible_length or 9 in desc.possible_length)
    ]
    return re.compile("|".join(patterns), re.ASCII) if patterns else None


_FR_VALID = _french_validity()
# Longer input may hit `phonenumbers`' own length limits: leave it to the library.
_MAX_FAST_LENGTH = 40
# What may precede the nine national digits, by length of the whole.
_FR_PREFIXES = {
    9: ("",),
    10: ("0",),
    12: ("+33",),
    13: ("0033", "+330"),
    14: ("00330",),
}
# Not an E.164 number (no "+"), so it cannot be mistaken for an answer.
FALLBACK = "fallback"


def fast_french_phone(value: str) -> str | None:
    """E.164 or None for the common French shapes; `FALLBACK` for anything else.

    Accepted once spaces, dots, dashes and parentheses (punctuation the library
    ignores) are removed: `0` + nine digits, `+33` / `0033` + nine digits,
    optionally with the national `0` (`+33 (0)6…`), or nine bare digits; the
    first of the nine digits is never 0.
    """
    if _FR_VALID is None or len(value) > _MAX_FAST_LENGTH:
        return FALLBACK
    digits = value.replace(" ", "").replace(".", "").replace("-", "")
    if "(" in digits or ")" in digits:
        digits = digits.replace("(", "").replace(")", "")
    prefixes = _FR_PREFIXES.get(len(digits))
    if prefixes is None or not digits.startswith(prefixes):
        return FALLBACK
    nsn = digits[-9:]
    if nsn[0] == "0" or not (nsn.isascii() and nsn.isdigit()):
        return FALLBACK
    return "+33" + nsn if _FR_VALID.fullmatch(nsn) else None


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 of a valid number (default region France), or None if invalid."""
    value = value.strip()
    if region == DEFAULT_REGION:
        fast = fast_french_phone(value)
        if fast is not FALLBACK:
            return fast
    return reference_phone(value, region)


# --- validation with user messages -------------------------------------------

INVALID_EMAIL = _("Enter a valid email address.")
INVALID_PHONE = _("Enter a valid phone number (French, or international with +).")
UNKNOWN_CHANNEL = _("Choose email or SMS.")
EMAIL_SENDER_INVALID = _("Enter a valid sender email address.")
SMS_SENDER_INVALID = _(
    "An SMS sender has 3 to 11 letters or digits, no spaces or special characters."
)
CONTROL_CHARACTERS = _(
    "Remove the line breaks, tabs and invisible control characters from this field."
)
SMS_SENDER = re.compile(r"[A-Za-z0-9]{3,11}")
# C0 and C1 controls (CR, LF, NUL, TAB...), DEL, the line/paragraph separators and
# the Unicode direction marks, embeddings, overrides and isolates: in a mail header
# they split or forge headers, on a page they reorder what people read.
CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
PHONE_CHANNELS = frozenset({"sms", "voice"})


def has_control_characters(value: str) -> bool:
    """True if `value` holds a character refused in single-line fields."""
    return CONTROL.search(value) is not None


def validate_single_line(value: str) -> None:
    """Model/form validator for header-bound or displayed one-line fields."""
    if value and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS, code="control_characters")


def clean_email(value: str) -> str:
    """The stored form of an email address; `ValidationError` if invalid."""
    normalized = normalize_email(value or "")
    if not normalized:
        raise ValidationError(INVALID_EMAIL, code="invalid")
    return normalized


def clean_phone(value: str) -> str:
    """The stored (E.164) form of a phone number; `ValidationError` if invalid."""
    normalized = normalize_phone(value or "")
    if not normalized:
        raise ValidationError(INVALID_PHONE, code="invalid")
    return normalized


def normalize_address(*, channel: str, address: str) -> str:
    """The stored form of `address` on `channel` (email, sms or voice)."""
    if channel == "email":
        return clean_email(address)
    if channel in PHONE_CHANNELS:
        return clean_phone(address)
    raise ValidationError(UNKNOWN_CHANNEL, code="channel")


def validate_sms_sender(value: str) -> None:
    """An SMS sender (alphanumeric "from"): 3 to 11 letters or digits, or empty."""
    if value and not SMS_SENDER.fullmatch(value):
        raise ValidationError(SMS_SENDER_INVALID, code="sms_sender")


def validate_email_sender(value: str) -> None:
    """An email sender address, or empty (the account's default sender)."""
    if value and normalize_email(value) is None:
        raise ValidationError(EMAIL_SENDER_INVALID, code="email")


# --- channel options: reply-to and provider tags (providers.md §1, §4.1) ------

REPLY_TO_INVALID = _("Enter a valid reply-to email address.")
# Mail Partner: "lowercase, 3 to 20 characters"; SMS Partner: "at most 20
# characters, lowercase, no spaces". Which other characters pass is not
# documented: letters, digits, "-" and "_" are the safe subset (INFERRED).
TAG_RULES = {
    "email": re.compile(r"[a-z0-9_-]{3,20}"),
    "sms": re.compile(r"[a-z0-9_-]{1,20}"),
}
TAG_INVALID = {
    "email": _(
        "An email tag has 3 to 20 characters: lowercase letters, digits, - or _ "
        "(no spaces, no accents)."
    ),
    "sms": _(
        "An SMS tag has at most 20 characters: lowercase letters, digits, - or _ "
        "(no spaces, no accents)."
    ),
}
TAG_NOT_SUPPORTED = _("Voice Partner has no tag: leave this field empty.")


def clean_reply_to(value: str) -> str:
    """The stored form of a reply-to address, or '' (replies go to the sender)."""
    if not value.strip():
        return ""
    normalized = normalize_email(value)
    if not normalized:
        raise ValidationError(REPLY_TO_INVALID, code="reply_to")
    return normalized


def validate_provider_tag(*, channel: str, value: str) -> None:
    """A campaign's tag, or empty, under the rule of the channel's provider."""
    if not value:
        return
    rule = TAG_RULES.get(channel)
    if rule is None:
        raise ValidationError(TAG_NOT_SUPPORTED, code="tag")
    if not rule.fullmatch(value):
        raise ValidationError(TAG_INVALID[channel], code="tag")
