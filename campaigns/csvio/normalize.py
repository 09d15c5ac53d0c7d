"""Email and phone normalisation, with a fast path for French phone numbers.

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
