"""`{% load numbers %}`: the template side of `partnerhub.formatting`.

`{{ n|count }}` → "1 000 000", `{{ rate|percent }}` → "98,5 %",
`{{ cost|money:"EUR" }}` → "5,94 €", `{{ cost|money_of:account }}` (the
account's own unit), `{{ price|unit_price:"EUR" }}` → "0,045 €".
"""

from __future__ import annotations

from typing import Any

from django import template

from partnerhub import formatting

register = template.Library()


@register.filter(name="count")
def count(value: Any) -> str:
    return formatting.count(value)


@register.filter(name="percent")
def percent(value: Any) -> str:
    return formatting.percent(value)


@register.filter(name="money")
def money(value: Any, unit: str = "EUR") -> str:
    return formatting.money(value, unit)


@register.filter(name="money_of")
def money_of(value: Any, account: Any) -> str:
    return formatting.money(value, formatting.account_unit(account))


@register.filter(name="unit_price")
def unit_price(value: Any, unit: str = "EUR") -> str:
    return formatting.unit_price(value, unit)
