"""django-q2 tasks: thin wrappers loading ids and calling services (safe to rerun)."""

from __future__ import annotations

import logging

from . import dispatch, services
from .models import Campaign
from .selectors import recent_campaign_ids_to_refresh

logger = logging.getLogger(__name__)


def dispatch_campaign(campaign_id: int) -> str:
    result = dispatch.dispatch(campaign_id)
    return f"campaign {campaign_id}: claimed={result.claimed} status={result.status}"


def dispatch_due_campaigns() -> int:
    """Every minute: dispatch due campaigns (each claimed by compare-and-set)."""
    services.campaigns_mark_deferred_sent()
    ids = services.campaigns_dispatch_due()
    for campaign_id in ids:
        services.enqueue_dispatch(campaign_id)
    return len(ids)


def refresh_recent_statuses() -> int:
    """Every few minutes: pull statuses of campaigns sent in the last 48 hours."""
    changed = 0
    for campaign in Campaign.objects.filter(pk__in=recent_campaign_ids_to_refresh()):
        try:
            changed += services.campaign_refresh_statuses(campaign=campaign)
        except Exception:  # one provider failing must not stop the others
            logger.exception("Status refresh failed for campaign %s", campaign.pk)
    return changed
