"""Exactly-once dispatch of a campaign, in batches of at most 500 recipients.

The rules that make it safe to kill a worker at any point:
- a campaign is claimed by a compare-and-set with a lease; a second worker gets nothing
  while the lease runs, and takes over (resumes) only once it has expired;
- deliveries are snapshotted from the audience with `ignore_conflicts`, so a rerun
  completes the snapshot instead of duplicating it;
- a batch is committed `in_flight` *before* its HTTP call and `accepted` *after* it, in
  two short transactions; no transaction is held across the call. Recording a batch
  writes only its own row, with the id range of the pending deliveries it carries;
  the answer writes each of them once (status and `batch` together);
- a batch found `in_flight` (crash, lost answer) is reconciled with the provider
  (SMS: lookup by the batch's unique tag). If the provider cannot tell, its deliveries
  end `unknown` with a reason: never re-sent blindly.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.provider_messages import technical
from partnerhub.providers import errors, transient
from unsubscribes.models import Unsubscribe

from . import bulk_sql, counters, merge_dispatch, signals_feed, tags
from .answer_writer import AnswerWriter
from .channels import BatchAccepted, ChannelAdapter, StatusUpdate, Target, adapter_for
from .models import (
    BatchStatus,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    DispatchBatch,
    Recipient,
)
from .quiet_hours import describe_refusal

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
RETRYABLE = transient.RETRYABLE
# Answers that may hide a send the provider took: looked up (SMS, by tag) first.
MAY_HIDE_A_SEND = (errors.ProviderBusy, errors.ProviderUnavailable)
# Refusals that concern some addresses of a batch: the batch is split to isolate them.
ADDRESS_REFUSALS = (errors.InvalidAddress, errors.AddressUnsubscribed)
# ... when their code is about a recipient (providers.md §2.20, §4.1): Mail 14
# (unsubscribed) and 19 (recipient invalid), SMS 13 (no price for the number),
# 14 (STOP list) and 55 (no number left), Voice DESTINATION_INVALID. Not Mail 24
# (the reply-to address): that one is the campaign's, and fails it.
RECIPIENT_CODES: dict[str, frozenset[int | str]] = {
    "mailpartner": frozenset({14, 19}),
    "smspartner": frozenset({13, 14, 55}),
    "voicepartner": frozenset({"DESTINATION_INVALID"}),
}
# Errors that stop the campaign before its first batch: it cannot be sent at all.
CANNOT_START = (errors.InvalidApiKey, errors.AccessDenied)
Sleep = Callable[[float], None]
KeepAlive = Callable[[], None]
Answer = tuple[DispatchBatch, BatchAccepted]
OnAccept = Callable[[DispatchBatch, BatchAccepted], None]


class DispatchAborted(Exception):
    """The provider kept failing or refused the campaign: it ends `failed`."""


@dataclass(frozen=True)
class DispatchResult:
    campaign_id: int
    claimed: bool
    status: str = ""
    batches_sent: int = 0


def lease_seconds() -> int:
    return int(getattr(settings, "CAMPAIGN_DISPATCH_LEASE_SECONDS", 120))


def worker_identity() -> str:
    """`pid@host:nonce` (≤ 40 chars): which process holds a campaign's lease."""
    host = socket.gethostname()[:20]
    return f"{os.getpid()}@{host}:{uuid.uuid4().hex[:8]}"


def claim(campaign_id: int, owner: str) -> bool:
    """Compare-and-set to `sending`; True only for the one worker that won."""
    now = timezone.now()
    due = Q(status=CampaignStatus.SCHEDULED, dispatched_at__isnull=True) & (
        Q(scheduled_at__lte=now) | Q(deferred_at_provider=True)
    )
    abandoned = Q(status=CampaignStatus.SENDING, lease_until__lt=now)
    won = (
        Campaign.objects.filter(pk=campaign_id)
        .filter(due | abandoned)
        .update(
            status=CampaignStatus.SENDING,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_seconds()),
            dispatch_started_at=Coalesce("dispatch_started_at", now),
        )
    )
    return won == 1


def renew_lease(campaign: Campaign, owner: str) -> None:
    until = timezone.now() + timedelta(seconds=lease_seconds())
    kept = Campaign.objects.filter(
        pk=campaign.pk, lease_owner=owner, status=CampaignStatus.SENDING
    ).update(lease_until=until)
    if not kept:
        raise DispatchAborted(_("Another worker took over this campaign."))


def dispatch(campaign_id: int, *, sleep: Sleep = time.sleep) -> DispatchResult:
    """Run (or resume) one campaign's dispatch; safe to call any number of times."""
    owner = worker_identity()
    if not claim(campaign_id, owner):
        return DispatchResult(campaign_id, claimed=False)
    campaign = Campaign.objects.select_related("account", "audience").get(
        pk=campaign_id
    )

    keep_alive = _at_most_every(
        lease_seconds() / 6, lambda: renew_lease(campaign, owner)
    )
    sent = 0
    answers: AnswerWriter[Answer] = AnswerWriter.where_it_pays(_write_answer)
    try:
        adapter = _adapter_or_abort(campaign)
        snapshot(campaign)
        reconcile_in_flight(campaign, adapter)
        while batch := next_batch(campaign, before_sweep=answers.wait):
            keep_alive()
            send_batch(
                campaign,
                batch,
                adapter,
                sleep=sleep,
                keep_alive=keep_alive,
                on_accept=lambda *answer: answers.submit(answer),
            )
            sent += 1
        answers.close()
    except DispatchAborted as exc:
        answers.close()
        finish(campaign, owner, failed_reason=str(exc))
    else:
        finish(campaign, owner)
    finally:
        answers.close()
    campaign.refresh_from_db(fields=["status"])
    return DispatchResult(campaign_id, True, campaign.status, sent)


def _at_most_every(seconds: float, action: KeepAlive) -> KeepAlive:
    """`action`, skipped when it last ran less than `seconds` ago.

    The lease is renewed before every batch and during back-offs; once per batch
    cost a commit each (7 ms on PostgreSQL, 14 s for a million recipients). A
    lease renewed at most a sixth of its length ago cannot have been taken over:
    a claim needs it expired.
    """
    last = time.monotonic()  # the claim has just set the lease

    def run() -> None:
        nonlocal last
        if time.monotonic() - last >= seconds:
            action()
            last = time.monotonic()

    return run


def _adapter_or_abort(campaign: Campaign) -> ChannelAdapter:
    """The channel adapter, or a plain reason why this campaign cannot be sent."""
    account = campaign.account
    if not account.is_active:
        raise DispatchAborted(
            _("The provider account “%(account)s” is inactive.") % {"account": account}
        )
    try:
        return adapter_for(campaign)
    except ValueError as exc:  # no API key stored for the account
        raise DispatchAborted(
            _("The provider account “%(account)s” has no API key: %(error)s")
            % {"account": account, "error": exc}
        ) from exc


def snapshot(campaign: Campaign) -> None:
    """Create one pending (or suppressed) delivery per reachable recipient, once.

    One `INSERT ... SELECT` run by the database: building a model instance per
    recipient cost about 0.2 ms each, twice the whole per-recipient budget. Rows
    already there (a rerun after a crash mid-snapshot) are skipped, exactly as
    `bulk_create(ignore_conflicts=True)` would.
    """
    if campaign.snapshot_done:
        return
    rerun = campaign.deliveries.exists()  # a crash after the snapshot's commit
    with transaction.atomic():
        inserted = bulk_sql.insert_deliveries(
            _snapshot_rows(campaign), skip_existing=rerun
        )
        counters.recount(campaign_id=campaign.pk)
    if inserted >= bulk_sql.ANALYZE_AFTER_ROWS:
        bulk_sql.analyze_deliveries()
    Campaign.objects.filter(pk=campaign.pk).update(snapshot_done=True)
    campaign.snapshot_done = True


def _snapshot_rows(campaign: Campaign) -> QuerySet[Recipient]:
    """The audience as `bulk_sql.SNAPSHOT_COLUMNS` rows, suppressed if unsubscribed."""
    field = campaign.address_field
    blocked = _unsubscribed(campaign, OuterRef(field))
    text = CharField()
    values = {
        "s_campaign": Value(campaign.pk, output_field=BigIntegerField()),
        "s_recipient": F("id"),
        "s_address": F(field),
        "s_status": Case(
            When(blocked, then=Value(DeliveryStatus.SUPPRESSED.value)),
            default=Value(DeliveryStatus.PENDING.value),
            output_field=text,
        ),
        "s_error": Case(
            When(blocked, then=Value(str(_("Unsubscribed at dispatch time.")))),
            default=Value(""),
            output_field=text,
        ),
        "s_message_id": Value("", output_field=text),
        "s_provider_status": Value("", output_field=text),
        "s_updated_at": Value(timezone.now(), output_field=DateTimeField()),
    }
    return (
        campaign.audience.recipients.exclude(**{field: ""})
        .order_by(*merge_dispatch.snapshot_order(campaign))
        .annotate(**values)
        .values_list(*values)
    )


# Where the running dispatch stopped batching: the keyset of `next_batch`, kept on
# the campaign instance that `dispatch()` passes around (one run, one instance).
BATCH_CURSOR = "_batched_up_to"


@transaction.atomic
def next_batch(
    campaign: Campaign, *, before_sweep: Callable[[], None] = lambda: None
) -> DispatchBatch | None:
    """Record the next ≤500 pending deliveries as one batch `in_flight` (committed).

    Keyset, not offset: it resumes after the last id it batched, on the index
    `delivery_status_page_idx` (campaign, status, id), so a batch costs the same
    at the millionth recipient as at the first. When the keyset runs dry it sweeps
    once from the start: deliveries re-queued behind the cursor (batch never
    reached the provider) are picked up there.

    `before_sweep` runs before the sweep looks for batches still in flight.

    The unsubscribe check rides on the same query (EXISTS per row). The batch is
    recorded with the id range of the rows read and no delivery is written: the
    range's pending rows are exactly the rows read, as the lease holder's batches
    are answered one after the other (`DispatchBatch.pending_deliveries`). On
    PostgreSQL writing 500 deliveries here cost as much as their accept.
    """
    after = int(getattr(campaign, BATCH_CURSOR, 0))
    while True:
        pending = merge_dispatch.one_group(
            campaign, after, _pending_after(campaign, after)
        )
        if not pending:
            before_sweep()  # the answers written behind are all in
            if after == 0 or _any_in_flight(campaign):
                return None  # the sweep would take the rows of a batch in flight
            after = 0
            continue
        stopped = [row[0] for row in pending if row[1]]
        if stopped:
            _suppress(campaign, stopped)
        if len(stopped) < len(pending):
            batch = _record_batch(campaign, pending, len(stopped))
            setattr(campaign, BATCH_CURSOR, pending[-1][0])
            setattr(
                batch, CARRIED, [_target(*row[2:]) for row in pending if not row[1]]
            )
            return batch
        after = pending[-1][0]


def _any_in_flight(campaign: Campaign) -> bool:
    return campaign.batches.filter(status=BatchStatus.IN_FLIGHT).exists()


# (id, unsubscribed since the snapshot, address, first name, last name)
PendingRow = tuple[int, bool, str, str | None, str | None]
# The targets of a batch just recorded, read with it (`batch_targets`).
CARRIED = "_carried_targets"


def _pending_after(campaign: Campaign, after: int) -> list[PendingRow]:
    """The next ≤500 pending deliveries, with what their send needs: one query
    per batch, not one to choose them and one to read them."""
    return list(
        Delivery.objects.filter(
            campaign=campaign, status=DeliveryStatus.PENDING, id__gt=after
        )
        .annotate(stopped=_unsubscribed(campaign, OuterRef("address")))
        .order_by("id")
        .values_list(
            "id",
            "stopped",
            "address",
            "recipient__first_name",
            "recipient__last_name",
        )[:BATCH_SIZE]
    )


def _suppress(campaign: Campaign, stopped: list[int]) -> None:
    done = Delivery.objects.filter(pk__in=stopped).update(
        status=DeliveryStatus.SUPPRESSED,
        error=_("Unsubscribed at dispatch time."),
    )
    counters.move(campaign.pk, DeliveryStatus.PENDING, DeliveryStatus.SUPPRESSED, done)


# The last batch number of the running dispatch, kept on its campaign instance.
LAST_NUMBER = "_last_batch_number"


def _take_number(campaign: Campaign) -> int:
    """The next batch number: read once per run, then counted here (the lease
    holder is the campaign's only writer of batches)."""
    last = getattr(campaign, LAST_NUMBER, None)
    if last is None:
        last = campaign.batches.aggregate(n=Max("number"))["n"] or 0
    setattr(campaign, LAST_NUMBER, last + 1)
    return int(last) + 1


def _record_batch(
    campaign: Campaign, pending: list[PendingRow], stopped: int
) -> DispatchBatch:
    number = _take_number(campaign)
    return DispatchBatch.objects.create(
        campaign=campaign,
        number=number,
        size=len(pending) - stopped,
        provider_tag=tags.batch_tag(campaign, number),
        merge_values=merge_dispatch.group_values(campaign),
        attempts=1,  # its first send follows the commit: one commit fewer
        first_delivery_id=pending[0][0],
        last_delivery_id=pending[-1][0],
    )


def _unsubscribed(campaign: Campaign, address: OuterRef) -> Exists:
    """EXISTS: the outer row's address is actively unsubscribed on this channel."""
    return Exists(
        Unsubscribe.objects.active().filter(
            channel=campaign.suppression_channel, address=address
        )
    )


def _target(address: str, first: str | None, last: str | None) -> Target:
    return Target(address, f"{first or ''} {last or ''}".strip())


def batch_targets(batch: DispatchBatch) -> list[Target]:
    """Whom the batch is sent to: as read when it was recorded, else its rows."""
    carried: list[Target] | None = getattr(batch, CARRIED, None)
    if carried is not None:
        return carried
    rows = (
        batch.pending_deliveries()
        .order_by("id")
        .values_list("address", "recipient__first_name", "recipient__last_name")
    )
    return [_target(*row) for row in rows]


def send_batch(
    campaign: Campaign,
    batch: DispatchBatch,
    adapter: ChannelAdapter,
    *,
    sleep: Sleep,
    keep_alive: KeepAlive | None = None,
    on_accept: OnAccept | None = None,
) -> None:
    """One HTTP send; retried only when the provider surely did not take it.

    What "surely" means per provider and answer is `transient.ANSWERS`. The lease is
    renewed around every back-off, so a long wait never lets another worker take
    over a campaign that is still alive here. `on_accept` writes the provider's
    acceptance (`accept` by default; the dispatch writes it behind, on PostgreSQL).
    """
    targets = merge_dispatch.batch_targets(campaign, batch) or batch_targets(batch)
    scheduled = campaign.scheduled_at if campaign.deferred_at_provider else None
    attempts = int(getattr(settings, "CAMPAIGN_SEND_ATTEMPTS", 8))
    renew = keep_alive or (lambda: None)
    for attempt in range(1, attempts + 1):
        if attempt > batch.attempts:  # the first is recorded with the batch
            DispatchBatch.objects.filter(pk=batch.pk).update(attempts=attempt)
        try:
            accepted = adapter.send_batch(
                targets=targets, tag=batch.provider_tag, scheduled_at=scheduled
            )
        except (
            errors.UnknownOutcome,
            errors.MalformedResponse,
            errors.ProviderTimeout,
        ):
            reconcile(batch, adapter)
            return
        except RETRYABLE as exc:
            if not _safe_to_retry(batch, adapter, exc):
                return
            if attempt == attempts:
                refuse(batch, exc)
                raise DispatchAborted(_provider_kept_failing(exc, attempts)) from exc
            logger.info(
                "Batch %s: %s; attempt %s of %s", batch.pk, exc, attempt, attempts
            )
            _wait(_backoff(attempt, exc), sleep=sleep, keep_alive=renew)
        except ADDRESS_REFUSALS as exc:
            if not _about_recipients(exc):
                refuse(batch, exc)
                raise DispatchAborted(_provider_failed(exc)) from exc
            # A refused request sent nothing: splitting it can never send twice.
            isolate_refused_addresses(
                campaign,
                batch,
                adapter,
                exc,
                sleep=sleep,
                keep_alive=keep_alive,
                on_accept=on_accept,
            )
            return
        except errors.ProviderError as exc:
            refuse(batch, exc)
            raise DispatchAborted(_provider_failed(exc)) from exc
        else:
            (on_accept or accept)(batch, accepted)
            return


def _about_recipients(exc: errors.ProviderError) -> bool:
    codes = RECIPIENT_CODES.get(exc.provider)
    return codes is None or exc.code in codes


def isolate_refused_addresses(
    campaign: Campaign,
    batch: DispatchBatch,
    adapter: ChannelAdapter,
    exc: errors.ProviderError,
    *,
    sleep: Sleep,
    keep_alive: KeepAlive | None,
    on_accept: OnAccept | None = None,
) -> None:
    """The provider refused the whole batch over some of its addresses: bisect.

    Each half becomes a batch of its own (recorded before its call, as any batch)
    and is sent again; a single refused address ends `failed` with the provider's
    reason (`suppressed`, with an unsubscribe recorded, when the provider says it
    is on its unsubscribe / STOP list). Three bad addresses in 500 cost about
    fifty requests instead of the campaign.
    """
    if batch.size <= 1:
        refuse_address(campaign, batch, exc)
        return
    for half in split_batch(campaign, batch, exc):
        if keep_alive:
            keep_alive()
        send_batch(
            campaign,
            half,
            adapter,
            sleep=sleep,
            keep_alive=keep_alive,
            on_accept=on_accept,
        )


@transaction.atomic
def split_batch(
    campaign: Campaign, batch: DispatchBatch, exc: errors.ProviderError
) -> list[DispatchBatch]:
    """Two new in-flight batches holding the refused batch's deliveries."""
    ids = list(batch.pending_deliveries().order_by("id").values_list("id", flat=True))
    middle = len(ids) // 2
    halves = []
    for part in (ids[:middle], ids[middle:]):
        if not part:
            continue
        number = _take_number(campaign)
        half = DispatchBatch.objects.create(
            campaign=campaign,
            number=number,
            size=len(part),
            provider_tag=tags.batch_tag(campaign, number),
            merge_values=batch.merge_values,
            first_delivery_id=part[0],
            last_delivery_id=part[-1],
        )
        halves.append(half)
    reason = _("Split to isolate the addresses the provider refused: %(error)s")
    DispatchBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.REFUSED, error=reason % {"error": technical(exc)}
    )
    return halves


@transaction.atomic
def refuse_address(
    campaign: Campaign, batch: DispatchBatch, exc: errors.ProviderError
) -> None:
    """One address the provider refuses: it fails (or is suppressed) alone."""
    if isinstance(exc, errors.AddressUnsubscribed):
        carried = batch.pending_deliveries()
        address = carried.values_list("address", flat=True).first()
        if address:
            _record_provider_unsubscribe(campaign, address, exc)
        DispatchBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.REFUSED, error=technical(exc)
        )
        done = carried.update(
            status=DeliveryStatus.SUPPRESSED, error=technical(exc), batch=batch
        )
        counters.move(
            batch.campaign_id, DeliveryStatus.PENDING, DeliveryStatus.SUPPRESSED, done
        )
        return
    refuse(batch, exc)


def _record_provider_unsubscribe(
    campaign: Campaign, address: str, exc: errors.ProviderError
) -> None:
    from unsubscribes.services import unsubscribe_add

    try:
        unsubscribe_add(
            channel=campaign.suppression_channel,
            address=address,
            source="provider",
            reason=str(exc)[:200],
        )
    except ValidationError:
        logger.warning("Could not record the provider's unsubscribe of %s", address)


def _safe_to_retry(
    batch: DispatchBatch, adapter: ChannelAdapter, exc: errors.ProviderError
) -> bool:
    """A 5xx may hide an accepted send: where the provider can tell, ask first."""
    if not isinstance(exc, MAY_HIDE_A_SEND) or not adapter.can_lookup_lost_batches:
        return True
    try:
        found = adapter.lookup_batch(tag=batch.provider_tag)
    except errors.ProviderError as lookup_failed:
        logger.warning("Lookup of batch %s failed: %s", batch, lookup_failed)
        found = []  # the send was refused with an error body: nothing to find
    if found:
        accept_from_lookup(batch, found)
        return False
    return True


def _backoff(attempt: int, exc: Exception) -> float:
    """Exponential back-off, at least the provider's `Retry-After`, both capped."""
    base = float(getattr(settings, "CAMPAIGN_RETRY_BASE_SECONDS", 1.0))
    cap = float(getattr(settings, "CAMPAIGN_RETRY_MAX_SECONDS", 60.0))
    retry_after = getattr(exc, "retry_after", None) or 0
    return min(cap, max(retry_after, base * 2 ** (attempt - 1)))


def _wait(seconds: float, *, sleep: Sleep, keep_alive: KeepAlive) -> None:
    """Sleep in slices shorter than a third of the lease, renewing it after each."""
    slice_seconds = max(lease_seconds() / 3, 0.05)
    left = seconds
    while left > 0:
        step = min(left, slice_seconds)
        sleep(step)
        left -= step
        keep_alive()


def _provider_kept_failing(exc: errors.ProviderError, attempts: int) -> str:
    return _("The provider kept failing after %(attempts)s attempts: %(error)s") % {
        "attempts": attempts,
        "error": technical(exc),
    }


def _provider_failed(exc: errors.ProviderError) -> str:
    return _("The provider refused or kept failing: %(error)s") % {
        "error": describe_refusal(exc)
    }


@transaction.atomic
def accept(batch: DispatchBatch, accepted: BatchAccepted) -> None:
    """The provider took the batch: its pending deliveries are `accepted`.

    The commit does not wait for the disk: the next batch's `in_flight` record (or
    the end of the dispatch) waits for both. Lost in a database crash, the batch
    stays `in_flight` and is reconciled, never re-sent blindly.
    """
    bulk_sql.commit_without_waiting_for_disk()
    now = timezone.now()
    size = max(batch.size, 1)
    unit_cost = None
    if accepted.cost is not None:  # rounded here, so both databases store the same
        unit_cost = counters.stored_cost(accepted.cost / size)
    DispatchBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.ACCEPTED,
        provider_message_id=accepted.message_id,
        cost=accepted.cost,
        sent_at=now,
        error="",
    )
    done = batch.pending_deliveries().update(
        status=DeliveryStatus.ACCEPTED,
        provider_message_id=accepted.message_id,
        cost=unit_cost,
        batch=batch,
    )
    moved: Counter[str] = Counter(
        {DeliveryStatus.PENDING: -done, DeliveryStatus.ACCEPTED: done}
    )
    cost = unit_cost * done if unit_cost is not None and done else None
    counters.apply(batch.campaign_id, moved, cost)


def _write_answer(answer: Answer) -> None:
    accept(*answer)


@transaction.atomic
def refuse(batch: DispatchBatch, exc: Exception) -> None:
    """The provider did not take the batch: its deliveries fail with the reason."""
    reason = describe_refusal(exc)
    DispatchBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.REFUSED, error=reason
    )
    done = batch.pending_deliveries().update(
        status=DeliveryStatus.FAILED, error=reason, batch=batch
    )
    counters.move(
        batch.campaign_id, DeliveryStatus.PENDING, DeliveryStatus.FAILED, done
    )


def reconcile_in_flight(campaign: Campaign, adapter: ChannelAdapter) -> None:
    """Batches left `in_flight` by a crashed worker: find out, never re-send blindly."""
    for batch in campaign.batches.filter(status=BatchStatus.IN_FLIGHT):
        reconcile(batch, adapter)


def reconcile(batch: DispatchBatch, adapter: ChannelAdapter) -> None:
    try:
        found = adapter.lookup_batch(tag=batch.provider_tag)
    except errors.ProviderError as exc:
        logger.warning("Lookup of batch %s failed: %s", batch, exc)
        found = None
    if found is None:
        mark_unknown(batch)
    elif found:
        accept_from_lookup(batch, found)
    else:
        requeue(batch)


@transaction.atomic
def mark_unknown(batch: DispatchBatch) -> None:
    reason = _(
        "The provider may have accepted this batch but its answer was lost, and it "
        "offers no way to check: not re-sent, to avoid sending twice."
    )
    DispatchBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.UNKNOWN, error=reason
    )
    done = batch.pending_deliveries().update(
        status=DeliveryStatus.UNKNOWN, error=reason, batch=batch
    )
    counters.move(
        batch.campaign_id, DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN, done
    )


@transaction.atomic
def requeue(batch: DispatchBatch) -> None:
    """The provider never got the batch: its deliveries go back to the queue.

    They are pending and owned by no batch already; the next sweep takes them.
    """
    DispatchBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.REFUSED, error=_("Never reached the provider; re-queued.")
    )


@transaction.atomic
def accept_from_lookup(batch: DispatchBatch, found: list[StatusUpdate]) -> None:
    """The lost batch is at the provider: take its message id from the lookup."""
    message_id = next((u.message_id for u in found if u.message_id), "")
    accept(batch, BatchAccepted(message_id=message_id, cost=None))
    apply_status_updates(batch, found)


def apply_status_updates(batch: DispatchBatch, updates: list[StatusUpdate]) -> int:
    """Write provider statuses onto the batch's deliveries (one bulk statement).

    The rows are read locked and written in one transaction, so the counters move
    by exactly what changed; the unsubscribes the provider signalled are recorded
    in it too, so a crash cannot keep the statuses and lose the signals (the next
    refresh would see no change and never record them).
    """
    by_address = {u.address: u for u in updates}
    changed: list[tuple[int, str, StatusUpdate, Decimal | None]] = []
    moved: Counter[str] = Counter()
    cost_delta, costed = Decimal(0), False
    with transaction.atomic():
        bulk_sql.commit_without_waiting_for_disk()  # lost: pulled again next time
        rows = (
            batch.owned_deliveries()
            .select_for_update()
            .values_list("id", "address", "status", "provider_status", "cost")
        )
        for pk, address, current, current_raw, cost in rows:
            update = by_address.get(address)
            if update is None:
                continue
            status = _local_status(update.status)
            if _changes(current, current_raw, status, update.raw):
                new_cost = cost
                if update.cost is not None:
                    new_cost = counters.stored_cost(update.cost)
                changed.append((pk, status, update, new_cost))
                moved[current] -= 1
                moved[status] += 1
                if new_cost is not None:
                    cost_delta += new_cost - (cost or 0)
                    costed = True
        bulk_sql.write_statuses(changed)
        signals_feed.feed_suppression(batch.campaign, _signals(changed))
        # Last: the campaign's counters row is shared by the batches written
        # side by side; its lock is held only until this commit.
        counters.apply(batch.campaign_id, moved, cost_delta if costed else None)
    return len(changed)


def _signals(
    changed: list[tuple[int, str, StatusUpdate, Decimal | None]],
) -> list[StatusUpdate]:
    """The changes that may feed the suppression list (STOP, not delivered)."""
    return [
        replace(u, status=status)
        for _pk, status, u, _cost in changed
        if u.stopped or status == DeliveryStatus.NOT_DELIVERED
    ]


KNOWN_STATUSES = frozenset(DeliveryStatus.values)  # `.values` builds a list per call


def _local_status(provider_status: str) -> str:
    """A provider 'waiting' on a handed-over delivery means accepted, not pending."""
    if provider_status == DeliveryStatus.PENDING:
        return DeliveryStatus.ACCEPTED
    if provider_status in KNOWN_STATUSES:
        return provider_status
    return DeliveryStatus.UNKNOWN


def _changes(current: str, current_raw: str, status: str, raw: str) -> bool:
    if current in (DeliveryStatus.SUPPRESSED, DeliveryStatus.CANCELLED):
        return False
    return (current, current_raw) != (status, raw[:64])


def finish(campaign: Campaign, owner: str, failed_reason: str = "") -> None:
    """Close the dispatch: what was never handed over fails with the reason."""
    now = timezone.now()
    with transaction.atomic():
        if failed_reason:
            done = Delivery.objects.filter(
                campaign=campaign, status=DeliveryStatus.PENDING
            ).update(status=DeliveryStatus.FAILED, error=failed_reason)
            counters.move(
                campaign.pk, DeliveryStatus.PENDING, DeliveryStatus.FAILED, done
            )
        status = _final_status(campaign, failed_reason)
        Campaign.objects.filter(pk=campaign.pk, lease_owner=owner).update(
            status=status,
            status_reason=failed_reason,
            dispatched_at=now,
            lease_until=None,
            lease_owner="",
        )


def _final_status(campaign: Campaign, failed_reason: str) -> str:
    if failed_reason:
        return CampaignStatus.FAILED
    if (
        campaign.deferred_at_provider
        and campaign.scheduled_at is not None  # deferred implies scheduled
        and campaign.scheduled_at > timezone.now()
    ):
        return CampaignStatus.SCHEDULED
    return CampaignStatus.SENT
