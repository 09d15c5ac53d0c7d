"""Dashboard card: credits of the provider accounts, low-credit alerts, 30-day trend."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import formatting
from .accounts import charts, selectors
from .dashboard import Card, register
from .models import ProviderAccount
from .templatetags.credits import balance


@register("partnerhub.view_provideraccount")
def credit_cards(user: Any) -> list[Card]:
    accounts = list(ProviderAccount.objects.filter(is_active=True, parent=None))
    rows = [(a.get_provider_display(), _row_value(a)) for a in accounts]
    low = selectors.low_accounts()
    is_admin = user.has_perm("partnerhub.change_provideraccount")
    url = reverse(
        "accounts:list" if is_admin else "admin:partnerhub_provideraccount_changelist"
    )
    detail = _("No provider account yet.") if not rows else ""
    if low:
        detail = _("Below their alert threshold: %(names)s") % {
            "names": ", ".join(f"{a.name} ({balance(a)})" for a in low)
        }
    return [
        Card(
            title=_("Credits"),
            value=_low_value(len(low)) if low else _("OK"),
            detail=detail,
            url=url,
            tone="warning" if low else "ok",
            rows=rows,
            chart=_trends(accounts),
        )
    ]


def _row_value(account: ProviderAccount) -> str:
    if account.credits is None:
        return "—"
    when = account.credits_checked_at
    checked = f" · {timezone.localtime(when):%H:%M}" if when else ""
    return balance(account) + checked


def _trends(accounts: list[ProviderAccount]) -> SafeString:
    """A compact 30-day line per main account that has snapshots."""
    items = []
    for account in accounts:
        chart = charts.balance_chart(account, days=30, height=40, compact=True)
        if chart.points:
            items.append((account.get_provider_display(), chart.svg))
    if not items:
        return SafeString("")
    return format_html(
        '<div class="ph-card-chart"><p class="ph-card-detail">{}</p>{}</div>',
        _("Last 30 days"),
        format_html_join(
            "", '<div class="ph-card-trend"><span>{}</span>{}</div>', items
        ),
    )


def _low_value(low: int) -> str:
    return ngettext("%(n)s low", "%(n)s low", low) % {"n": formatting.count(low)}
