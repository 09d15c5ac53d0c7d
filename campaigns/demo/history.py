"""Past campaigns with settled deliveries, written through the dispatch's bulk paths.

Each sent campaign goes the way a real one went: the snapshot (`dispatch.snapshot`,
suppressing who had unsubscribed by then), batches of 500 accepted by the provider,
then the provider's final statuses (`bulk_sql.write_statuses`) and the counters
rebuilt from the rows (`counters.recount`). Only the clock is faked: the dates are
moved into the past afterwards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_noop

from partnerhub.audit import Action, AuditEntry, record
from unsubscribes.models import Source, Unsubscribe

from .. import bulk_sql, counters, dispatch
from ..channels import StatusUpdate
from ..models import (
    Audience,
    BatchStatus,
    Campaign,
    CampaignStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    DispatchBatch,
)
from ..services import account_unit, account_unit_price

BATCH_SIZE = 500
PARIS = ZoneInfo("Europe/Paris")
# Why an email did not arrive, as the receiving servers say it (demo wording).
BOUNCE_REASONS = (
    ("Bounced", "Adresse inexistante : le serveur de destination répond 550 5.1.1."),
    ("Bounced", "Domaine introuvable : aucun serveur de messagerie pour ce domaine."),
    ("Not delivered", "Boîte pleine (452 4.2.2), nouvelles tentatives épuisées."),
    ("Not delivered", "Refusé comme indésirable par le serveur de destination."),
)
SMS_FAILURES = (
    "Numéro inexistant ou plus attribué.",
    "Téléphone éteint ou hors réseau pendant 48 heures.",
)
# Unsubscribe reasons: stored in English, translated where they are shown.
HARD_BOUNCE = gettext_noop("Hard bounce (provider status: Bounced).")
STOP_REASON = gettext_noop("Unsubscribed at the provider (STOP).")


@dataclass
class Past:
    """One campaign of the history: what it was and how its sends ended."""

    name: str
    channel: str
    audience: str
    days_ago: float
    content: dict[str, Any]
    delivered: float = 0.95  # share of handed-over messages delivered
    stop: float = 0.0  # share of delivered SMS answered by STOP
    parts: int = 1
    hour: int = 10  # Paris time the send left (minutes: 30)

    @property
    def moment(self) -> datetime:
        """`days_ago` at `hour`:30 in Paris, as a person would have planned it."""
        day = timezone.localtime(timezone.now(), PARIS) - timedelta(days=self.days_ago)
        return day.replace(hour=self.hour, minute=30, second=0, microsecond=0)


@dataclass(frozen=True)
class Context:
    """Who pays, who receives, who wrote it."""

    accounts: dict[str, Any]  # provider → main account
    audiences: dict[str, Audience]
    author: Any


def sent(past: Past, *, context: Context, rng: random.Random) -> Campaign:
    """A campaign sent `days_ago`, its statuses settled by the provider."""
    at = past.moment
    row = campaign(past, context=context, status=CampaignStatus.SENDING)
    dispatch.snapshot(row)
    unit_cost = account_unit_price(account=row.account, channel=past.channel)
    unit_cost *= past.parts
    _accept_in_batches(row, at, unit_cost)
    _settle(row, past, at, rng)
    counters.recount(campaign_id=row.pk)
    handed = Delivery.objects.filter(campaign=row, batch__isnull=False).count()
    _dates(
        row,
        at,
        status=CampaignStatus.SENT,
        estimated_cost=unit_cost * handed,
        settled_at=at + timedelta(hours=30),
    )
    details = {
        "recipients": handed,
        "cost": str(unit_cost * handed),
        "unit": account_unit(account=row.account),
    }
    audit(Action.CAMPAIGN_SENT, row, context.author, at, details)
    return row


def failed(past: Past, *, context: Context, reason: str, error: str) -> Campaign:
    """The provider refused every batch: nothing left, every delivery says why."""
    at = past.moment
    row = campaign(past, context=context, status=CampaignStatus.SENDING)
    dispatch.snapshot(row)
    DispatchBatch.objects.create(
        campaign=row,
        number=1,
        status=BatchStatus.REFUSED,
        size=0,
        attempts=3,
        error=error,
        provider_tag=f"c{row.pk}-1",
    )
    Delivery.objects.filter(campaign=row, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, error=error
    )
    counters.recount(campaign_id=row.pk)
    _dates(row, at, status=CampaignStatus.FAILED, status_reason=reason)
    audit(Action.CAMPAIGN_SENT, row, context.author, at, {"recipients": 0})
    return row


def cancelled(past: Past, *, context: Context) -> Campaign:
    """Scheduled, then cancelled before its time: no message left."""
    at = past.moment
    row = campaign(past, context=context, status=CampaignStatus.CANCELLED)
    scheduled, cancelled_at = at - timedelta(days=1, hours=1), at - timedelta(hours=3)
    Campaign.objects.filter(pk=row.pk).update(
        created_at=at - timedelta(days=1, hours=2),
        scheduled_at=at,
        cancelled_at=cancelled_at,
    )
    when = {"scheduled_at": at.isoformat(), "deferred": False}
    audit(Action.CAMPAIGN_SCHEDULED, row, context.author, scheduled, when)
    audit(Action.CAMPAIGN_CANCELLED, row, context.author, cancelled_at)
    return row


def campaign(past: Past, *, context: Context, status: str) -> Campaign:
    """The campaign row as the compose page would have saved it."""
    provider = {"email": "mail", "sms": "sms", "voice": "voice"}[past.channel]
    row = Campaign.objects.create(
        name=past.name,
        channel=past.channel,
        account=context.accounts[provider],
        audience=context.audiences[past.audience],
        status=status,
        created_by=context.author,
        **past.content,
    )
    created = past.moment - timedelta(days=1, hours=2) if past.days_ago > 0 else None
    audit(Action.CAMPAIGN_CREATED, row, context.author, created)
    return row


def audit(action: str, target: Any, actor: Any, at: datetime | None,
          details: dict[str, Any] | None = None) -> None:  # fmt: skip
    """An audit entry as the service would have written it, dated `at`."""
    entry = record(action=action, target=target, actor=actor, details=details)
    if at is not None:
        AuditEntry.objects.filter(pk=entry.pk).update(at=at)


def _accept_in_batches(
    campaign: Campaign, at: datetime, unit_cost: Decimal
) -> list[DispatchBatch]:
    """Pending deliveries handed over 500 at a time, each batch accepted."""
    ids = list(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chunks = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
    batches = DispatchBatch.objects.bulk_create(
        DispatchBatch(
            campaign=campaign,
            number=number,
            status=BatchStatus.ACCEPTED,
            provider_message_id=f"{campaign.channel[:1]}{campaign.pk:04d}{number:03d}"
            f"{int(at.timestamp()) % 100000:05d}",
            provider_tag=f"c{campaign.pk}-{number}",
            size=len(chunk),
            cost=unit_cost * len(chunk),
            attempts=1,
            sent_at=at + timedelta(seconds=20 * number),
            first_delivery_id=chunk[0],
            last_delivery_id=chunk[-1],
        )
        for number, chunk in enumerate(chunks, start=1)
    )
    for batch, chunk in zip(batches, chunks, strict=True):
        Delivery.objects.filter(id__in=chunk).update(
            batch=batch,
            status=DeliveryStatus.ACCEPTED,
            provider_message_id=batch.provider_message_id,
            cost=counters.stored_cost(unit_cost),
        )
    return batches


def _settle(campaign: Campaign, past: Past, at: datetime, rng: random.Random) -> None:
    """Final provider statuses; voice reports none, so its calls stay accepted."""
    if past.channel == Channel.VOICE:
        return
    rows = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.ACCEPTED)
    changed: list[tuple[int, str, StatusUpdate, Decimal | None]] = []
    errors: dict[str, list[int]] = {}
    stopped: list[str] = []
    for pk, address, cost in rows.values_list("id", "address", "cost"):
        when = at + timedelta(minutes=rng.randint(1, 240))
        if rng.random() < past.delivered:
            update = StatusUpdate(address, DeliveryStatus.DELIVERED, "Delivered", when)
            if rng.random() < past.stop:
                stopped.append(address)
        else:
            raw, reason = _failure(past.channel, rng)
            update = StatusUpdate(address, DeliveryStatus.NOT_DELIVERED, raw, when)
            errors.setdefault(reason, []).append(pk)
        changed.append((pk, update.status, update, cost))
    bulk_sql.write_statuses(changed)
    for reason, ids in errors.items():
        for i in range(0, len(ids), BATCH_SIZE):
            Delivery.objects.filter(id__in=ids[i : i + BATCH_SIZE]).update(error=reason)
    _provider_unsubscribes(campaign, errors, stopped, at)


def _failure(channel: str, rng: random.Random) -> tuple[str, str]:
    if channel == Channel.EMAIL:
        return rng.choice(BOUNCE_REASONS)
    return "Not delivered", rng.choice(SMS_FAILURES)


def _provider_unsubscribes(campaign: Campaign, errors: dict[str, list[int]],
                           stopped: list[str], at: datetime) -> None:  # fmt: skip
    """What the provider signalled: hard bounces (email) and STOP answers (SMS)."""
    hard = [ids for reason, ids in errors.items() if "550" in reason]
    bounced = Delivery.objects.filter(id__in=[i for ids in hard for i in ids][:400])
    rows = [(a, HARD_BOUNCE) for a in bounced.values_list("address", flat=True)]
    rows += [(a, STOP_REASON) for a in stopped]
    channel = campaign.suppression_channel
    created = Unsubscribe.objects.bulk_create(
        (
            Unsubscribe(
                channel=channel,
                address=address,
                source=Source.PROVIDER,
                reason=reason,
                provider_id=f"demo-{channel}-{i}",
            )
            for i, (address, reason) in enumerate(rows)
        ),
        ignore_conflicts=True,
    )
    moment = at + timedelta(hours=6)
    Unsubscribe.objects.filter(
        channel=channel, address__in=[u.address for u in created]
    ).update(created_at=moment, synced_at=moment + timedelta(hours=1))


def _dates(campaign: Campaign, at: datetime, **fields: Any) -> None:
    """Move the campaign into the past: created the day before, sent at `at`."""
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=at - timedelta(days=1, hours=2),
        scheduled_at=at,
        dispatch_started_at=at,
        dispatched_at=at + timedelta(minutes=2),
        **fields,
    )
    DispatchBatch.objects.filter(campaign=campaign).update(created_at=at)
