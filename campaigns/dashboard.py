"""Dashboard cards about campaigns (for users who may view them)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerhub.dashboard import Card, register

from .models import Campaign, CampaignStatus


@register("campaigns.view_campaign")
def campaign_cards(user: Any) -> list[Card]:
    counts = Campaign.objects.aggregate(
        sending=Count("pk", filter=Q(status=CampaignStatus.SENDING)),
        scheduled=Count("pk", filter=Q(status=CampaignStatus.SCHEDULED)),
        failed=Count("pk", filter=Q(status=CampaignStatus.FAILED)),
    )
    url = reverse("admin:campaigns_campaign_changelist")
    in_flight = counts["sending"] + counts["scheduled"]
    return [
        Card(
            title=_("Campaigns in flight"),
            value=str(in_flight),
            detail=_("%(sending)s sending, %(scheduled)s scheduled") % counts
            if in_flight
            else _("No campaign is sending or scheduled."),
            url=url,
            tone="ok" if in_flight else "neutral",
        ),
        Card(
            title=_("Failed campaigns"),
            value=str(counts["failed"]),
            detail=_("See the reason on each campaign.") if counts["failed"] else "",
            url=url + "?status__exact=failed",
            tone="danger" if counts["failed"] else "neutral",
        ),
    ]
