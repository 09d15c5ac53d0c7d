"""`{{ account|balance }}`: a balance with its unit, one unit per figure.

A Mail main account counts e-mails (`creditMail`), everything else euros; the
figure is never shown without its unit, so no one compares e-mails with euros.
The formatting itself is `partnerhub.formatting`'s, as everywhere else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from partnerhub import formatting

register = template.Library()

EMAILS = formatting.EMAILS


@register.filter
def unit_label(unit: str) -> str:
    return formatting.unit_label(unit)


@register.filter
def amount(value: Decimal | None, unit: str = "EUR") -> str:
    """1000000 e-mails → "1 000 000 e-mails"; 12.5 EUR → "12,50 €"."""
    return formatting.money(value, unit)


account_unit = formatting.account_unit


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
