"""Reads of the suppression list that the campaign engine relies on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from partnerhub import search as partnerhub_search
from partnerhub.rules import normalize_phone

from .models import STATE_QUERIES, Channel, Unsubscribe, UnsubscribeSync

# Stay well under SQLite's bound-parameter limit whatever the batch size.
_CHUNK = 900


def unsubscribed_addresses(*, channel: str, addresses: Iterable[str]) -> set[str]:
    """The subset of `addresses` that is suppressed on `channel`.

    One query whatever the number of addresses on SQLite and PostgreSQL (the
    list travels as one JSON / array parameter); other databases get one query
    per 900 addresses, under SQLite's historical bound-parameter limit.
    """
    wanted = list(dict.fromkeys(a for a in addresses if a))
    if not wanted:
        return set()
    rows = Unsubscribe.objects.active().filter(channel=channel)
    vendor = connections[rows.db].vendor
    if len(wanted) > _CHUNK and vendor in _ONE_PARAMETER:
        sql, param = _ONE_PARAMETER[vendor](wanted)
        values = RawSQL(sql, [param])  # noqa: S611 - constant SQL, bound parameter
        chosen = rows.filter(address__in=values)
        return set(chosen.values_list("address", flat=True))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(rows.filter(address__in=chunk).values_list("address", flat=True))
    return found


_ONE_PARAMETER: dict[str, Callable[[list[str]], tuple[str, Any]]] = {
    "sqlite": lambda values: ("SELECT value FROM json_each(%s)", json.dumps(values)),
    "postgresql": lambda values: ("SELECT unnest(%s::text[])", values),
}


def is_unsubscribed(*, channel: str, address: str) -> bool:
    """For one address (test sends): `address` must already be normalised."""
    return bool(unsubscribed_addresses(channel=channel, addresses=[address]))


def sync_states() -> list[UnsubscribeSync]:
    """One state per channel, in channel order (unsaved blanks for never-run ones)."""
    known = {s.channel: s for s in UnsubscribeSync.objects.all()}
    return [known.get(c) or UnsubscribeSync(channel=c) for c in Channel.values]


def unsubscribes_filtered(
    *,
    search: str = "",
    channel: str = "",
    source: str = "",
    state: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Unsubscribe]:
    """The list page's rows (and its export), newest first (found by a search on
    SQLite: in address order, the order of the index that finds them)."""
    rows: QuerySet[Unsubscribe] = Unsubscribe.objects.all()
    if channel:
        rows = rows.filter(channel=channel)
    if source:
        rows = rows.filter(source=source)
    rows = _by_state(rows, state)
    if since:
        rows = rows.filter(created_at__gte=_day_start(since))
    if until:
        rows = rows.filter(created_at__lt=_day_start(until + timedelta(days=1)))
    if search:
        rows = rows.filter(_search(search))
        if not partnerhub_search.anywhere():  # the (channel, address) index's order
            return rows.order_by("channel", "address", "id")
    return rows.order_by("-created_at", "-id")


def _search(text: str) -> Q:
    """Address (anywhere on PostgreSQL, its beginning on SQLite: both read an
    index) or, on PostgreSQL, the reason; a phone typed as `06 12…` finds
    `+336 12…`. Addresses are stored normalised (lower-case e-mails)."""
    address = partnerhub_search.matches("address", text.lower())
    if partnerhub_search.anywhere():
        address |= Q(reason__icontains=text)
    else:  # the (channel, address) index, one seek per channel
        address &= Q(channel__in=Channel.values)
    phone = normalize_phone(text) if any(c.isdigit() for c in text) else None
    return address | Q(address=phone) if phone else address


def _by_state(rows: QuerySet[Unsubscribe], state: str) -> QuerySet[Unsubscribe]:
    """`active` (still suppressed: every state but a pending removal) or one state."""
    if state == "active":
        return rows.filter(removed_at__isnull=True)
    if state in STATE_QUERIES:
        return rows.filter(STATE_QUERIES[state])
    return rows


def _day_start(day: date) -> datetime:
    """Midnight in the user's zone (Europe/Paris) as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


def list_counts() -> dict[str, int]:
    """Entries per channel and pending removals, for the page and dashboard."""
    return Unsubscribe.objects.aggregate(
        email=Count("pk", filter=Q(channel=Channel.EMAIL, removed_at__isnull=True)),
        sms=Count("pk", filter=Q(channel=Channel.SMS, removed_at__isnull=True)),
        removing=Count("pk", filter=Q(removed_at__isnull=False)),
    )
