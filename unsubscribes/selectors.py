"""Reads of the suppression list that the campaign engine relies on."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Unsubscribe

# Stay well under SQLite's bound-parameter limit whatever the batch size.
_CHUNK = 900


def unsubscribed_addresses(*, channel: str, addresses: Iterable[str]) -> set[str]:
    """The subset of `addresses` that is suppressed on `channel` (one query per 900)."""
    wanted = list(dict.fromkeys(a for a in addresses if a))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            Unsubscribe.objects.active()
            .filter(channel=channel, address__in=chunk)
            .values_list("address", flat=True)
        )
    return found


def is_unsubscribed(*, channel: str, address: str) -> bool:
    return bool(unsubscribed_addresses(channel=channel, addresses=[address]))
