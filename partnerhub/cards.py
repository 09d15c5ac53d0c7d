"""Dashboard card: credits of the provider accounts."""

from __future__ import annotations

from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.translation import gettext as _

from .dashboard import Card, register
from .models import ProviderAccount


@register("partnerhub.view_provideraccount")
def credit_cards(user: Any) -> list[Card]:
    accounts = list(ProviderAccount.objects.filter(is_active=True, parent=None))
    rows = [
        (
            a.get_provider_display(),
            f"{credits_text(a.credits)} {a.credits_unit}"
            if a.credits is not None
            else "—",
        )
        for a in accounts
    ]
    low = [
        a
        for a in accounts
        if a.credits is not None and a.credits < a.low_credit_threshold
    ]
    return [
        Card(
            title=_("Credits"),
            value=str(len(low)) + " " + _("low") if low else _("OK"),
            detail="" if rows else _("No provider account yet."),
            url=reverse("admin:partnerhub_provideraccount_changelist"),
            tone="warning" if low else "ok",
            rows=rows,
        )
    ]


def credits_text(credits: Any) -> str:
    """1000000.000 → "1,000,000" (or "1 000 000" in French); keeps real decimals."""
    value = credits.normalize() if hasattr(credits, "normalize") else credits
    if hasattr(value, "as_tuple") and value.as_tuple().exponent > 0:
        value = value.quantize(1)
    return intcomma(value)
