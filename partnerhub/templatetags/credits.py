"""`{{ account|balance }}`: a balance with its unit, one unit per figure.

A Mail main account counts e-mails (`creditMail`), everything else euros; the
figure is never shown without its unit, so no one compares e-mails with euros.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

EMAILS = "emails"


@register.filter
def unit_label(unit: str) -> str:
    if unit == EMAILS:
        return _("e-mails")
    if unit.upper() == "EUR":
        return "€"
    return unit or _("credits")


@register.filter
def amount(value: Decimal | None, unit: str = "EUR") -> str:
    """1000000 e-mails → "1 000 000 e-mails"; 12.5 EUR → "12,50 €"."""
    if value is None:
        return "—"
    places = 0 if unit == EMAILS else 2
    text = number_format(value, decimal_pos=places, force_grouping=True)
    return f"{text}\u00a0{unit_label(unit)}"


def account_unit(account: Any) -> str:
    """The unit of the account's figures, known even before the first refresh."""
    if account.credits_unit:
        return str(account.credits_unit)
    return EMAILS if account.provider == "mail" and account.is_main else "EUR"


@register.filter
def unit_of(account: Any) -> str:
    return unit_label(account_unit(account))


@register.filter
def balance(account: Any) -> str:
    return amount(account.credits, account_unit(account))


@register.filter
def threshold(account: Any) -> str:
    return amount(account.low_credit_threshold, account_unit(account))


@register.filter
def in_unit_of(value: Decimal | None, account: Any) -> str:
    """A figure of `account` (a snapshot, a threshold) in the account's unit."""
    return amount(value, account_unit(account))
