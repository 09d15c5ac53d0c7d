"""Per-campaign delivery counters (`CampaignCounts`), moved in the same transaction
as the deliveries they count.

Every write that changes a delivery's status or cost reports what it changed
here, as a delta applied with `F()` (atomic, no read). A campaign whose row does
not exist yet is counted from its deliveries once, inside the same transaction,
so the counters are right from the first change whatever came before.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce

from .models import Campaign, CampaignCounts, Delivery, DeliveryStatus

STATUSES = frozenset(DeliveryStatus.values)
COST_STEP = Decimal("0.0001")  # a delivery's cost is stored to 4 decimals


def stored_cost(value: Decimal) -> Decimal:
    """The cost as the delivery row keeps it (rounded as Django rounds on save)."""
    return value.quantize(COST_STEP)


def move(campaign_id: int, source: str, target: str, moved: int) -> None:
    """`moved` deliveries went from status `source` to `target`."""
    if moved:
        apply(campaign_id, Counter({source: -moved, target: moved}))


def apply(campaign_id: int, deltas: Counter[str], cost: Decimal | None = None) -> None:
    """Add `deltas` (status → change) and `cost` to the campaign's counters."""
    changes: dict[str, object] = {
        status: F(status) + delta
        for status, delta in deltas.items()
        if delta and status in STATUSES
    }
    if cost is not None:
        changes["cost"] = Coalesce(F("cost"), Decimal(0)) + cost
    if not changes:
        return
    # No savepoint: nothing here is rolled back alone (two round trips per batch).
    with transaction.atomic(savepoint=False):
        if not CampaignCounts.objects.filter(pk=campaign_id).update(**changes):
            recount(campaign_id=campaign_id)  # first change: count what is there


def recount(*, campaign_id: int) -> CampaignCounts:
    """The counters rebuilt from the deliveries (one GROUP BY over the campaign)."""
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), cost=Sum("cost"))
    )
    counts: dict[str, object] = {status: 0 for status in STATUSES}
    costs = []
    for row in rows:
        if row["status"] in STATUSES:
            counts[row["status"]] = row["n"]
        if row["cost"] is not None:
            costs.append(row["cost"])
    cost = sum(costs, Decimal(0)) if costs else None
    counters, _created = CampaignCounts.objects.update_or_create(
        campaign_id=campaign_id, defaults={**counts, "cost": cost}
    )
    return counters


def stored(campaign_id: int) -> dict[str, int]:
    """The counters as stored (all zeros when the campaign has none yet)."""
    found = CampaignCounts.objects.filter(pk=campaign_id).first()
    return (found or CampaignCounts(campaign_id=campaign_id)).by_status()


def current(campaign: Campaign) -> CampaignCounts:
    """The stored counters, or zeros for a campaign that has none yet (a draft)."""
    try:
        return CampaignCounts.objects.get(pk=campaign.pk)
    except CampaignCounts.DoesNotExist:
        return CampaignCounts(campaign=campaign)
