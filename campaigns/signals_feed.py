"""Provider signals feed the suppression list: STOP flags and hard bounces.

Status answers carry `stopMail` / `stopSMS` (the person unsubscribed or answered
STOP at the provider) and final `not delivered` statuses (a hard bounce for an
email). Both become unsubscribes, source "provider", with the reason, so the next
campaign skips the address even before the next list sync. Only the deliveries
whose status changed in this pass are read: an unsubscribe removed by hand is not
added back by a later refresh of an old campaign.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext as _

from .channels import StatusUpdate
from .models import Campaign, Channel, Delivery, DeliveryStatus


def bounce_limit() -> int:
    """Hard bounces of one email address before it is suppressed (0: never)."""
    return int(getattr(settings, "UNSUBSCRIBE_AFTER_BOUNCES", 1))


def feed_suppression(campaign: Campaign, changed: list[StatusUpdate]) -> int:
    """Record the unsubscribes the provider signalled; returns how many."""
    reasons: dict[str, str] = {}
    for update in changed:
        if update.stopped:
            reasons[update.address] = _("Unsubscribed at the provider (STOP).")
    bounced = [
        u
        for u in changed
        if campaign.channel == Channel.EMAIL
        and u.status == DeliveryStatus.NOT_DELIVERED
        and u.address not in reasons
    ]
    for update in _past_the_limit(bounced):
        reasons[update.address] = _("Hard bounce (provider status: %(status)s).") % {
            "status": update.raw or update.status
        }
    if reasons:
        _unsubscribe(campaign, reasons)
    return len(reasons)


def _past_the_limit(bounced: list[StatusUpdate]) -> list[StatusUpdate]:
    limit = bounce_limit()
    if limit <= 0 or not bounced:
        return []
    if limit == 1:
        return bounced
    counts = dict(
        Delivery.objects.filter(
            address__in=[u.address for u in bounced],
            campaign__channel=Channel.EMAIL,
            status=DeliveryStatus.NOT_DELIVERED,
        )
        .values_list("address")
        .annotate(n=Count("pk"))
        .values_list("address", "n")
    )
    return [u for u in bounced if counts.get(u.address, 0) >= limit]


def _unsubscribe(campaign: Campaign, reasons: dict[str, str]) -> None:
    """All of a batch's signals in one transaction (invalid addresses are logged)."""
    from unsubscribes.models import Source
    from unsubscribes.services import unsubscribes_add_many

    unsubscribes_add_many(
        channel=campaign.suppression_channel, reasons=reasons, source=Source.PROVIDER
    )
