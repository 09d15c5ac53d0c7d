"""Writes to the suppression list: add, remove, CSV import, STOP replies, sync.

The list is the one source of truth for "never send to this address": every
entry point normalises the address the same way as recipient imports do, so the
dispatch's set query matches what was typed, imported or received.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerhub import rules
from partnerhub.audit import Action, record, record_many
from partnerhub.csvio import EMAIL, PHONE, RowError, iter_batches, open_csv
from partnerhub.csvio.columns import fold_header
from partnerhub.providers import errors
from partnerhub.rules import INVALID_EMAIL, INVALID_PHONE, UNKNOWN_CHANNEL

from .models import Channel, Source, Unsubscribe
from .providers import ProviderList, provider_list
from .replies import ReplyOutcome, sms_reply_receive
from .sync import (
    SyncResult,
    push_removal,
    unsubscribes_sync,
    unsubscribes_sync_all,
    unsubscribes_sync_request,
)

__all__ = [
    "AddResult",
    "ImportResult",
    "ReplyOutcome",
    "SyncResult",
    "normalize_address",
    "sms_reply_receive",
    "unsubscribe_add",
    "unsubscribe_push_removal",
    "unsubscribe_remove",
    "unsubscribes_add_many",
    "unsubscribes_import_csv",
    "unsubscribes_sync",
    "unsubscribes_sync_all",
    "unsubscribes_sync_request",
]

__all__ += ["INVALID_EMAIL", "INVALID_PHONE", "UNKNOWN_CHANNEL"]
logger = logging.getLogger(__name__)
ADDRESS_HEADERS = frozenset({"address", "adresse"})
_CHUNK = 900  # under SQLite's bound-parameter limit


def normalize_address(*, channel: str, address: str) -> str:
    """The stored form of `address` on `channel` (email or sms); `ValidationError`
    if unusable. The rule itself is `partnerhub.rules.normalize_address`."""
    if channel not in Channel.values:
        raise ValidationError(UNKNOWN_CHANNEL, code="channel")
    return rules.normalize_address(channel=channel, address=address)


@dataclass(frozen=True)
class AddResult:
    unsubscribe: Unsubscribe
    created: bool  # False: it was already there (or its pending removal undone)


@transaction.atomic
def unsubscribe_add(
    *,
    channel: str,
    address: str,
    source: str = Source.MANUAL,
    reason: str = "",
    actor: Any = None,
) -> AddResult:
    """Suppress an address; idempotent, and it cancels a pending removal."""
    normalized = normalize_address(channel=channel, address=address)
    rules.validate_single_line(reason)
    row, created = Unsubscribe.objects.select_for_update().get_or_create(
        channel=channel,
        address=normalized,
        defaults={"source": source, "reason": reason[:255]},
    )
    revived = not created and row.removed_at is not None
    if revived:
        row.removed_at = None
        row.reason = reason[:255] or row.reason
        row.save(update_fields=["removed_at", "reason"])
    if created or revived:
        record(
            action=Action.UNSUBSCRIBE_ADDED,
            actor=actor,
            target=row,
            details={"source": source, "reason": reason[:255]},
        )
    return AddResult(row, created)


def unsubscribes_add_many(
    *, channel: str, reasons: dict[str, str], source: str = Source.PROVIDER
) -> int:
    """Suppress many addresses (address → reason) at once; returns how many were new.

    What `unsubscribe_add` does address by address, in a few statements: the
    provider signals of a status refresh (hard bounces, STOP flags) come by the
    thousand, and one transaction per address cost about 50 ms each, twenty
    minutes for a million deliveries with 2 % bounces. An address that is not
    valid is logged and skipped; one already suppressed is left as it is; one
    whose removal is pending goes through `unsubscribe_add` (rare).
    """
    wanted = _normalized_reasons(channel, reasons)
    added = 0
    for start in range(0, len(wanted), _CHUNK):
        chunk = dict(list(wanted.items())[start : start + _CHUNK])
        added += _add_chunk(channel, chunk, source)
    return added


def _normalized_reasons(channel: str, reasons: dict[str, str]) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for address, reason in reasons.items():
        try:
            normalized = normalize_address(channel=channel, address=address)
            rules.validate_single_line(reason)
        except ValidationError:
            logger.warning("Unsubscribe of %s not recorded: invalid", address)
            continue
        wanted[normalized] = reason[:255]
    return wanted


@transaction.atomic
def _add_chunk(channel: str, wanted: dict[str, str], source: str) -> int:
    known = dict(
        Unsubscribe.objects.filter(
            channel=channel, address__in=list(wanted)
        ).values_list("address", "removed_at")
    )
    for address, removed_at in known.items():
        if removed_at is not None:
            unsubscribe_add(
                channel=channel, address=address, source=source, reason=wanted[address]
            )
    new = [a for a in wanted if a not in known]
    Unsubscribe.objects.bulk_create(
        [
            Unsubscribe(channel=channel, address=a, source=source, reason=wanted[a])
            for a in new
        ],
        ignore_conflicts=True,  # added meanwhile by another path: kept as it is
    )
    rows = Unsubscribe.objects.filter(channel=channel, address__in=new)
    record_many(
        action=Action.UNSUBSCRIBE_ADDED,
        targets=list(rows),
        details=lambda row: {"source": source, "reason": row.reason},
    )
    return len(new)


@transaction.atomic
def unsubscribe_remove(*, unsubscribe: Unsubscribe, actor: Any = None) -> Unsubscribe:
    """Stop suppressing an address now; the provider deletion follows.

    The row is kept as a pending removal (`removed_at`) so the sync can delete
    the provider's entry; until then the address is sendable again.
    """
    if unsubscribe.removed_at is None:
        unsubscribe.removed_at = timezone.now()
        unsubscribe.save(update_fields=["removed_at"])
        record(action=Action.UNSUBSCRIBE_REMOVED, actor=actor, target=unsubscribe)
    return unsubscribe


def unsubscribe_push_removal(
    *, unsubscribe: Unsubscribe, provider: ProviderList | None = None
) -> bool:
    """Try the provider deletion at once; False leaves it to the next sync.

    Only an entry whose provider id we know can be deleted directly; any other
    case (or a provider fault) needs the sync's fresh view of the provider list.
    """
    if unsubscribe.removed_at is None or not unsubscribe.provider_id:
        return False
    try:
        provider = provider or provider_list(unsubscribe.channel)
        return push_removal(
            pk=unsubscribe.pk, entry_id=unsubscribe.provider_id, provider=provider
        )
    except errors.ProviderError:
        return False


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    duplicates: int = 0
    invalid: list[RowError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.already + self.duplicates + len(self.invalid)


def unsubscribes_import_csv(
    *,
    channel: str,
    file: IO[bytes],
    reason: str = "",
    actor: Any = None,
    file_name: str = "",
) -> ImportResult:
    """Suppress every valid address of a CSV file (recipient-import reader).

    Raises `CsvError` for a file that cannot be read at all; each bad row is
    reported with its line number and nothing valid is lost because of it.
    """
    if channel not in Channel.values:
        raise ValidationError(UNKNOWN_CHANNEL, code="channel")
    rules.validate_single_line(reason)
    source = open_csv(file)
    wanted = EMAIL if channel == Channel.EMAIL else PHONE
    mapping = _mapping(source.headers, source.mapping, wanted)
    result, seen = ImportResult(), set[str]()
    batches = iter_batches(
        source,
        mapping=mapping,
        required="email" if wanted == EMAIL else "phone",
        workers=1,
    )
    for batch in batches:
        result.invalid.extend(batch.errors)
        addresses = []
        for row in batch.rows:
            address = row.email if wanted == EMAIL else row.phone
            if address in seen:
                result.duplicates += 1
            elif address:
                seen.add(address)
                addresses.append(address)
        _import_batch(channel, addresses, reason[:255], result)
    record(
        action=Action.UNSUBSCRIBES_IMPORTED,
        actor=actor,
        target_type="unsubscribe",
        target_label=file_name or getattr(file, "name", "") or "",
        details={
            "channel": channel,
            "file": file_name or getattr(file, "name", "") or "",
            "added": result.added,
            "already": result.already,
            "duplicates": result.duplicates,
            "invalid": len(result.invalid),
        },
    )
    return result


def _mapping(
    headers: list[str], guessed: dict[int, str], wanted: str
) -> dict[int, str]:
    """The reader's guess, plus an `address` column (our export) as `wanted`."""
    mapping = dict(guessed)
    if wanted not in mapping.values():
        for index, header in enumerate(headers):
            if fold_header(header) in ADDRESS_HEADERS and index not in mapping:
                mapping[index] = wanted
                break
    return mapping


@transaction.atomic
def _import_batch(
    channel: str, addresses: list[str], reason: str, result: ImportResult
) -> None:
    """One batch: new rows created, pending removals undone, the rest counted."""
    existing = _existing(channel, addresses)
    revived = [a for a, removed in existing.items() if removed is not None]
    for start in range(0, len(revived), _CHUNK):
        Unsubscribe.objects.filter(
            channel=channel, address__in=revived[start : start + _CHUNK]
        ).update(removed_at=None)
    new = [
        Unsubscribe(channel=channel, address=a, source=Source.CSV, reason=reason)
        for a in addresses
        if a not in existing
    ]
    Unsubscribe.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    result.added += len(new) + len(revived)
    result.already += len(existing) - len(revived)


def _existing(channel: str, addresses: list[str]) -> dict[str, datetime | None]:
    """address -> removed_at of the rows already there (one query per 900)."""
    found: dict[str, datetime | None] = {}
    for start in range(0, len(addresses), _CHUNK):
        chunk = addresses[start : start + _CHUNK]
        rows = Unsubscribe.objects.filter(channel=channel, address__in=chunk)
        found.update(rows.values_list("address", "removed_at"))
    return found
