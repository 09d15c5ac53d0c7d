"""Reads about campaigns that need care (counts on big audiences, claimable work)."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from unsubscribes.models import Unsubscribe

from .models import Campaign, CampaignStatus


def campaign_audience_counts(*, campaign: Campaign) -> tuple[int, int]:
    """(recipients reachable on the channel, of which unsubscribed), two queries."""
    field = campaign.address_field
    reachable = campaign.audience.recipients.exclude(**{field: ""})
    blocked = Unsubscribe.objects.active().filter(
        channel=campaign.suppression_channel, address=OuterRef(field)
    )
    return reachable.count(), reachable.filter(Exists(blocked)).count()


def due_campaign_ids(limit: int = 50) -> list[int]:
    """Scheduled campaigns that are due; on PostgreSQL rows locked by another node
    are skipped, so several schedulers share the work."""
    now = timezone.now()
    due = Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED,
        dispatched_at__isnull=True,
        scheduled_at__lte=now,
    ).order_by("scheduled_at")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        return list(due.values_list("pk", flat=True)[:limit])


def recent_campaign_ids_to_refresh() -> list[int]:
    """Unsettled campaigns dispatched recently (past 48 h they get one last pass that
    settles what the provider never finalised as `unknown`)."""
    from .services import STATUS_REFRESH_WINDOW

    since = timezone.now() - STATUS_REFRESH_WINDOW * 2
    return list(
        Campaign.objects.filter(dispatched_at__gte=since, settled_at__isnull=True)
        .exclude(status__in=[CampaignStatus.CANCELLED, CampaignStatus.SENDING])
        .values_list("pk", flat=True)
    )
