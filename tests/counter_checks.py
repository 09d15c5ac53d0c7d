"""The check that stored campaign counters agree with the deliveries they count."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from campaigns import counters
from campaigns.models import Campaign, CampaignCounts, Delivery


def recounted(campaign_id: int) -> tuple[dict[str, int], Decimal | None]:
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), cost=Sum("cost"))
    )
    counts = {status: 0 for status in counters.STATUSES}
    costs = [row["cost"] for row in rows if row["cost"] is not None]
    counts.update({row["status"]: row["n"] for row in rows})
    return counts, sum(costs, Decimal(0)).quantize(
        counters.COST_STEP
    ) if costs else None


def assert_counters_agree() -> None:
    """Every campaign with deliveries has counters, equal to a recount."""
    for campaign_id in Campaign.objects.values_list("pk", flat=True):
        counts, cost = recounted(campaign_id)
        stored = CampaignCounts.objects.filter(pk=campaign_id).first()
        if stored is None:
            assert not any(counts.values()), f"campaign {campaign_id}: no counters"
            continue
        assert stored.by_status() == counts, f"campaign {campaign_id}"
        stored_cost = (
            None if stored.cost is None else stored.cost.quantize(counters.COST_STEP)
        )
        assert stored_cost == cost, (
            f"campaign {campaign_id} cost {stored_cost} != {cost}"
        )
