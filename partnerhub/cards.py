"""Dashboard card: credits of the provider accounts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.formats import localize
from django.utils.translation import gettext as _

from .dashboard import Card, register
from .models import ProviderAccount


@register("partnerhub.view_provideraccount")
def credit_cards(user: Any) -> list[Card]:
    accounts = list(ProviderAccount.objects.filter(is_active=True, parent=None))
    rows = [
        (
            a.get_provider_display(),
            f"{localize(a.credits)} {a.credits_unit}" if a.credits is not None else "—",
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
