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


def dispatch_due_campaigns() -> str:
    """Every minute: enqueue due campaigns and take over abandoned ones."""
    result = services.campaigns_enqueue_due()
    return f"enqueued {len(result.enqueued)} campaign(s): {list(result.enqueued)}"


def refresh_recent_statuses() -> int:
    """Every few minutes: pull statuses of campaigns sent in the last 48 hours."""
    changed = 0
    for campaign in Campaign.objects.filter(pk__in=recent_campaign_ids_to_refresh()):
        try:
            changed += services.campaign_refresh_statuses(campaign=campaign)
        except Exception:  # one provider failing must not stop the others
            logger.exception("Status refresh failed for campaign %s", campaign.pk)
    return changed
