"""django-q2 tasks: thin wrappers loading ids and calling services (safe to rerun)."""

from __future__ import annotations

from . import dispatch, services


def dispatch_campaign(campaign_id: int) -> str:
    result = dispatch.dispatch(campaign_id)
    if result.batches_sent:
        services.campaign_refresh_account_credits(campaign_id=campaign_id)
    return f"campaign {campaign_id}: claimed={result.claimed} status={result.status}"


def dispatch_due_campaigns() -> str:
    """Every minute: enqueue due campaigns and take over abandoned ones."""
    result = services.campaigns_enqueue_due()
    return f"enqueued {len(result.enqueued)} campaign(s): {list(result.enqueued)}"


def refresh_recent_statuses() -> str:
    """Every few minutes: pull statuses of campaigns sent in the last 48 hours."""
    result = services.campaigns_refresh_recent()
    return (
        f"{sum(result.changed.values())} deliveries updated in "
        f"{len(result.changed)} campaign(s); {len(result.failed)} failed"
    )
