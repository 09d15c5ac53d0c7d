"""The one way PartnerHub writes numbers, money and units, on pages and in CSV files.

Built on Django's localisation (`number_format` with the reader's language), so
French readers get "1 000 000" and "5,94 €" and English readers "1,000,000" and
"5.94 €" from the same call. Every amount carries its unit: a Mail main account
counts e-mails, every other account euros, and no one should compare the two.
Money is rounded (half up) to 2 decimals, never truncated as `number_format`
alone does; counts are integers with thousands separators.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.utils.dateformat import re_escaped, re_formatchars
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

EMAILS = "emails"
NBSP = "\u00a0"
CENT = Decimal("0.01")
EMPTY = "—"


def account_unit(account: Any) -> str:
    """The unit of an account's figures, known even before its first refresh."""
    if account.credits_unit:
        return str(account.credits_unit)
    return EMAILS if account.provider == "mail" and account.is_main else "EUR"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: Any, places: int = 0) -> str:
    """A number with thousands separators and the reader's decimal mark, rounded."""
    found = _decimal(value)
    if found is None:
        return EMPTY
    rounded = found.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, places, use_l10n=True, force_grouping=True)


def count(value: Any) -> str:
    """A count: an integer with thousands separators ("1 000 000")."""
    return number(value, 0)


def percent(value: Any, places: int = 1) -> str:
    """ "98,5 %" in French, "98.5%" in English; "—" when there is nothing to measure."""
    if _decimal(value) is None:
        return EMPTY
    return _("%(value)s%%") % {"value": number(value, places)}


def unit_label(unit: str, value: Any = 2) -> str:
    """ "€" for euros, "e-mail(s)" for a Mail main account's credits."""
    if unit == EMAILS:
        many = _decimal(value)
        n = 2 if many is None else int(abs(many).to_integral_value(ROUND_HALF_UP))
        return ngettext("e-mail", "e-mails", n)
    if unit.upper() == "EUR":
        return "€"
    return unit or _("credits")


def money(value: Any, unit: str = "EUR") -> str:
    """An amount with its unit: "5,94 €", "1 000 000 e-mails"; "—" when unknown.

    Euros keep 2 decimals; a non-zero amount that rounds to 0 reads "< 0,01 €"
    rather than a misleading "0,00 €".
    """
    found = _decimal(value)
    if found is None:
        return EMPTY
    places = 0 if unit == EMAILS else 2
    text = number(found, places)
    if found and not found.quantize(CENT, rounding=ROUND_HALF_UP) and places:
        text = "< " + number(CENT, 2)
    return f"{text}{NBSP}{unit_label(unit, found)}"


def unit_price(value: Any, unit: str = "EUR") -> str:
    """The price of one message: "0,045 €" (up to 4 decimals, at least 2)."""
    found = _decimal(value)
    if found is None:
        return EMPTY
    if unit == EMAILS:
        return money(found, unit)
    return f"{number(found, _price_places(found))}{NBSP}{unit_label(unit)}"


def _price_places(value: Decimal) -> int:
    """2 decimals, more only for what a sub-cent price needs (0.045), at most 4."""
    exponent = value.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) else 0
    return min(max(needed, 2), 4)


def csv_number(value: Any, *, decimal_comma: bool) -> str:
    """A number for a spreadsheet cell: no grouping, no unit, no trailing zeros.

    French Excel reads "0,045" as a number and "0.045" as text; the plain CSV
    (comma or tab separated) keeps the dot every other tool expects.
    """
    found = _decimal(value)
    if found is None:
        return ""
    places = _price_places(found) if found != found.to_integral_value() else 0
    text = f"{found.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"
    return text.replace(".", ",") if decimal_comma else text


# Django date format characters that strftime writes identically (zero-padded
# numbers); "Y" only for years from 1000 on (Django pads to 4 digits, glibc not).
STRFTIME = {"d": "%d", "m": "%m", "y": "%y", "Y": "%Y", "H": "%H", "i": "%M", "s": "%S"}


@lru_cache(maxsize=64)
def strftime_pattern(django_format: str) -> str | None:
    """The strftime pattern writing what Django's `django_format` writes, or None
    when it uses a character strftime writes otherwise (names, "P", "N"...).

    Split with Django's own expressions, so escapes (`\\à`) read the same.
    """
    parts = []
    for i, piece in enumerate(re_formatchars.split(django_format)):
        if i % 2:
            if piece not in STRFTIME:
                return None
            parts.append(STRFTIME[piece])
        else:
            parts.append(re_escaped.sub(r"\1", piece).replace("%", "%%"))
    return "".join(parts)


def datetime_text(value: datetime, format_name: str) -> str:
    """`date_format(value, format_name)` in the active language, by strftime when
    the format allows: Django's formatter parses the format and builds an object
    per call, a tenth of a millisecond a cell on a 50-row table."""
    pattern = strftime_pattern(str(get_format(format_name)))
    if pattern is None or not isinstance(value, datetime) or value.year < 1000:
        return date_format(value, format_name)
    return value.strftime(pattern)
