"""`{{ entry|audit_details }}`: an audit entry's details in the reader's words.

The services store machine keys and values (`scheduled_at`, ISO dates, `False`);
the page shows a label per key and each value as the reader's language writes it.
Unknown keys are shown as stored, so nothing written is ever hidden.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import pgettext, pgettext_lazy

from partnerhub import formatting

register = template.Library()

LABELS = {
    "recipients": pgettext_lazy("audit detail", "Recipients"),
    "cost": pgettext_lazy("audit detail", "Estimated cost"),
    "scheduled_at": pgettext_lazy("audit detail", "Scheduled for"),
    "deferred": pgettext_lazy("audit detail", "Handed to the provider ahead"),
    "fields": pgettext_lazy("audit detail", "Fields changed"),
    "from": pgettext_lazy("audit detail", "Copied from campaign no."),
    "from_name": pgettext_lazy("audit detail", "Copied from"),
    "at_provider": pgettext_lazy("audit detail", "Cancelled at the provider"),
    "refusals": pgettext_lazy("audit detail", "Refused by the provider"),
    "audience": pgettext_lazy("audit detail", "Audience no."),
    "file": pgettext_lazy("audit detail", "File"),
    "import": pgettext_lazy("audit detail", "Import no."),
    "rows": pgettext_lazy("audit detail", "Rows read"),
    "created": pgettext_lazy("audit detail", "Created"),
    "updated": pgettext_lazy("audit detail", "Updated"),
    "duplicates": pgettext_lazy("audit detail", "Duplicates"),
    "invalid": pgettext_lazy("audit detail", "Rejected"),
    "unsubscribed": pgettext_lazy("audit detail", "Unsubscribed"),
    "channel": pgettext_lazy("audit detail", "Channel"),
    "source": pgettext_lazy("audit detail", "Source"),
    "reason": pgettext_lazy("audit detail", "Reason"),
    "added": pgettext_lazy("audit detail", "Added"),
    "already": pgettext_lazy("audit detail", "Already there"),
}
MONEY_KEYS = frozenset({"cost"})
DATE_KEYS = frozenset({"scheduled_at"})


@register.filter
def audit_details(details: Any) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order the service wrote them."""
    if not isinstance(details, dict):
        return []
    unit = details.get("unit")  # of "cost", shown beside it (older entries lack it)
    return [
        (
            str(LABELS.get(key, key)),
            formatting.money(value, unit)
            if key in MONEY_KEYS and unit
            else _value(key, value),
        )
        for key, value in details.items()
        if not (key == "unit" and "cost" in details)
    ]


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        yes, no = pgettext("audit detail", "yes"), pgettext("audit detail", "no")
        return yes if value else no
    if key in DATE_KEYS and isinstance(value, str):
        return _date(value)
    if key in MONEY_KEYS:
        return _number(value, places=2)
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value in ("", None) else str(value)


def _date(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATETIME_FORMAT")


def _number(value: Any, *, places: int) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    whole = amount == amount.to_integral_value()  # emails are counted, euros are not
    return number_format(amount, 0 if whole else places, force_grouping=True)
