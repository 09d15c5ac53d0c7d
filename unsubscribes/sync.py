"""Two-way sync of our suppression list with the provider lists.

Rules (each tested in `tests/test_unsubscribes_sync.py`):

1. Pull first: an address on the provider list and not here is created here
   (`source=provider`); one here without the provider's id gets it (linked).
2. Push additions: an active address missing from the provider list is added
   there, even if it had a provider id (someone deleted it at the provider:
   deleting a suppression is a local decision only, so it is put back).
3. Push removals: an address removed here (`removed_at` set) is deleted at the
   provider by the id we know, then the row is dropped.
4. Conflict, kept suppressed: an address removed here but on the provider list
   under an id we did not know (re-added at the provider since, e.g. a STOP
   reply or an unsubscribe link) stays suppressed: the removal is cancelled.
5. A removal whose address is no longer at the provider is simply completed.
6. A provider refusing an address (invalid for it) keeps it suppressed here;
   the refusal is noted on the row and it is not pushed again.

Every step commits on its own and no transaction is held across an HTTP call,
so a provider fault stops the run with what was done kept; the next run starts
again from a fresh pull and finishes the job. A run with nothing to do makes no
provider write call (only the list read). `UnsubscribeSync.running_since` is a
lease: two runs of one channel never overlap.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.provider_messages import technical
from partnerhub.providers import errors

from .models import Channel, Source, Unsubscribe, UnsubscribeSync
from .providers import ProviderList, RemoteEntry, provider_list

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=30)
Remote = dict[str, RemoteEntry]


@dataclass
class SyncResult:
    channel: str
    pulled: int = 0
    linked: int = 0
    pushed: int = 0
    deleted: int = 0
    conflicts: int = 0
    rejected: int = 0
    error: str = ""
    skipped: bool = False  # another run of this channel holds the lease

    @property
    def ok(self) -> bool:
        return not self.error and not self.skipped


def unsubscribes_sync(
    *, channel: str, provider: ProviderList | None = None
) -> SyncResult:
    """Reconcile one channel with its provider list (see the module rules)."""
    if not _claim(channel):
        return SyncResult(channel, skipped=True)
    result = SyncResult(channel)
    try:
        provider = provider or provider_list(channel)
        remote = provider.entries()
        _apply_pull(channel, remote, result)
        _push_additions(channel, remote, provider, result)
        _push_removals(channel, remote, provider, result)
        _pull_subaccount_lists(channel, result)
    except errors.ProviderError as exc:
        result.error = technical(exc)[:1000]
        logger.warning("Unsubscribe sync of %s stopped: %s", channel, result.error)
    except Exception:
        result.error = "internal error"
        raise
    finally:
        _release(channel, result)
    return result


def unsubscribes_sync_all() -> list[SyncResult]:
    return [unsubscribes_sync(channel=channel) for channel in Channel.values]


def unsubscribes_sync_request() -> None:
    """ "Sync now": queue the sync for a worker and mark every channel as asked for.

    The provider calls never run inside a web request: a slow provider (three
    20 s read timeouts and back-off) would outlast the proxy's timeout.
    """
    from django_q.tasks import async_task

    now = timezone.now()
    for channel in Channel.values:
        UnsubscribeSync.objects.get_or_create(channel=channel)
    UnsubscribeSync.objects.update(requested_at=now)
    transaction.on_commit(
        lambda: async_task(
            "unsubscribes.tasks.sync_unsubscribes", task_name="unsubscribes-sync-now"
        )
    )


def _pull_subaccount_lists(channel: str, result: SyncResult) -> None:
    """Addresses on a sub-account's own list are suppressed here too (pull only:
    every campaign checks the one local list, whichever account pays)."""
    from .providers import subaccount_lists

    for name, remote_list in subaccount_lists(channel):
        remote = remote_list.entries()
        known = set(
            Unsubscribe.objects.filter(
                channel=channel, address__in=list(remote), removed_at__isnull=True
            ).values_list("address", flat=True)
        )
        for address in remote.keys() - known:
            reason = _("On the list of sub-account %(name)s.") % {"name": name}
            Unsubscribe.objects.update_or_create(
                channel=channel,
                address=address,
                defaults={
                    "source": Source.PROVIDER,
                    "reason": reason,
                    "removed_at": None,
                },
            )
            result.pulled += 1


def _claim(channel: str) -> bool:
    now = timezone.now()
    UnsubscribeSync.objects.get_or_create(channel=channel)
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - LEASE)
    claimed = UnsubscribeSync.objects.filter(free, channel=channel).update(
        running_since=now, started_at=now
    )
    return claimed == 1


def _release(channel: str, result: SyncResult) -> None:
    now = timezone.now()
    counts = asdict(result)
    fields = {k: counts[k] for k in ("pulled", "pushed", "deleted", "conflicts")}
    UnsubscribeSync.objects.filter(channel=channel).update(
        running_since=None,
        finished_at=now,
        error=result.error,
        rejected=result.rejected,
        **fields,
        **({} if result.error else {"succeeded_at": now}),
    )


class _Local(NamedTuple):
    """The columns of a local row the pull compares (tuples: 100,000 rows fit)."""

    pk: int
    address: str
    provider_id: str
    synced_at: datetime | None
    removed_at: datetime | None
    provider_error: str


@transaction.atomic
def _apply_pull(channel: str, remote: Remote, result: SyncResult) -> None:
    """Rules 1, 4 and 5 in one transaction, with bulk writes."""
    now = timezone.now()
    rows = Unsubscribe.objects.filter(channel=channel).values_list(*_Local._fields)
    local = {r[1]: _Local(*r) for r in rows.iterator(chunk_size=5000)}
    new, changed = [], []
    for address, entry in remote.items():
        row = local.get(address)
        if row is None:
            new.append(_pulled(channel, entry, now))
        elif (update := _link(row, entry, now, result)) is not None:
            changed.append(update)
    Unsubscribe.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    fields = ["provider_id", "synced_at", "removed_at", "provider_error"]
    Unsubscribe.objects.bulk_update(changed, fields, batch_size=500)
    done = [r.pk for a, r in local.items() if r.removed_at and a not in remote]
    for start in range(0, len(done), 500):
        Unsubscribe.objects.filter(pk__in=done[start : start + 500]).delete()
    result.pulled += len(new)
    result.deleted += len(done)


def _pulled(channel: str, entry: RemoteEntry, now: datetime) -> Unsubscribe:
    return Unsubscribe(
        channel=channel,
        address=entry.address,
        source=Source.PROVIDER,
        provider_id=entry.id,
        synced_at=now,
    )


def _link(
    row: _Local, entry: RemoteEntry, now: datetime, result: SyncResult
) -> Unsubscribe | None:
    """The update bringing a local row in line with its provider entry, if any."""
    removed_at = row.removed_at
    if removed_at is not None:
        if row.provider_id == entry.id:
            return None  # a removal to push (rule 3)
        removed_at = None  # rule 4: re-added at the provider, stays suppressed
        result.conflicts += 1
    elif row.provider_id == entry.id and row.synced_at and not row.provider_error:
        return None
    else:
        result.linked += 1
    return Unsubscribe(
        pk=row.pk,
        provider_id=entry.id,
        synced_at=now,
        removed_at=removed_at,
        provider_error="",
    )


def _push_additions(
    channel: str, remote: Remote, provider: ProviderList, result: SyncResult
) -> None:
    """Rules 2 and 6: one provider call and one short commit per address."""
    candidates = (
        Unsubscribe.objects.active()
        .filter(channel=channel, provider_error="")
        .order_by("pk")
        .values_list("pk", "address", "provider_id")
    )
    for pk, address, known_id in candidates.iterator(chunk_size=2000):
        if address in remote:
            continue
        try:
            entry_id = provider.add(address)
        except errors.AlreadyExists:
            entry_id = ""  # listed since our pull: linked next run
        except errors.InvalidRequest as exc:
            Unsubscribe.objects.filter(pk=pk).update(
                provider_error=technical(exc)[:255]
            )
            result.rejected += 1
            continue
        Unsubscribe.objects.filter(pk=pk).update(
            provider_id=entry_id, synced_at=timezone.now()
        )
        result.pushed += 1
        result.conflicts += bool(known_id)


def _push_removals(
    channel: str, remote: Remote, provider: ProviderList, result: SyncResult
) -> None:
    """Rule 3: delete at the provider by id, then drop the row."""
    pending = Unsubscribe.objects.filter(channel=channel, removed_at__isnull=False)
    for pk, address in pending.order_by("pk").values_list("pk", "address"):
        entry = remote.get(address)
        if entry is None:
            continue
        if push_removal(pk=pk, entry_id=entry.id, provider=provider):
            result.deleted += 1


def push_removal(*, pk: int, entry_id: str, provider: ProviderList) -> bool:
    """Delete one entry at the provider and drop our pending row.

    Not found at the provider counts as done. The row is only dropped if it is
    still a pending removal (re-adding it meanwhile keeps it).
    """
    with contextlib.suppress(errors.NotFound):  # already gone is as good
        provider.delete(entry_id)
    dropped, _ = Unsubscribe.objects.filter(pk=pk, removed_at__isnull=False).delete()
    return bool(dropped)
