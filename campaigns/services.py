"""Business actions on campaigns: schedule, send, cancel, refresh, test-send.

Each is one keyword-only function; user-fixable problems raise `ValidationError`
with the messages below (tests reuse them), provider refusals raise the typed
provider errors. Provider calls never run inside a database transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.clients import errors
from unsubscribes.selectors import is_unsubscribed

from . import dispatch
from .channels import ChannelAdapter, StatusUpdate, adapter_for
from .models import (
    FINAL_DELIVERY_STATUSES,
    BatchStatus,
    Campaign,
    CampaignStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    DispatchBatch,
)
from .sms import sms_length

NOT_DRAFT = _("Only a draft campaign can be scheduled or sent.")
EMPTY_AUDIENCE = _("The audience has no recipient reachable on this channel.")
IN_THE_PAST = _("The scheduled time is in the past.")
NOT_FIVE_MINUTES = _("The provider schedules on 5-minute steps (e.g. 14:05, 14:10).")
TOO_SOON_FOR_PROVIDER = _("A deferred send must be at least 10 minutes ahead.")
NOT_ENOUGH_CREDITS = _(
    "Not enough credits: this campaign needs about %(needed)s, the account has "
    "%(available)s."
)
CANNOT_CANCEL = _("Only a scheduled campaign can be cancelled.")
ALREADY_DISPATCHING = _(
    "The campaign is being dispatched right now; try again shortly."
)
CANCEL_REFUSED = {
    errors.AlreadySent: _("The provider has already sent it: too late to cancel."),
    errors.TooLateToCancel: _(
        "The provider refuses: less than 5 minutes before the scheduled time."
    ),
}
INCOMPLETE_CONTENT = {
    Channel.EMAIL: _("An email needs a subject and an HTML body."),
    Channel.SMS: _("An SMS needs a text."),
    Channel.VOICE: _("A voice message needs a text or an audio file."),
}
SMS_TOO_LONG = _("The SMS is longer than 10 parts.")
SMS_SENDER_INVALID = _(
    "An SMS sender has 3 to 11 letters or digits, no spaces or special characters."
)

SMS_SENDER = re.compile(r"[A-Za-z0-9]{3,11}")
# Unit prices used for the estimate, in the unit of each provider's credits.
DEFAULT_UNIT_COST = {"email": "1", "sms": "0.045", "voice": "0.15"}
STATUS_REFRESH_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Estimate:
    recipients: int
    suppressed: int
    parts: int
    cost: Decimal
    available: Decimal | None

    @property
    def enough_credits(self) -> bool:
        return self.available is None or self.cost <= self.available


def campaign_estimate(*, campaign: Campaign) -> Estimate:
    """Recipients after suppression, cost and the account's last known credits."""
    from .selectors import campaign_audience_counts

    reachable, suppressed = campaign_audience_counts(campaign=campaign)
    parts = sms_length(campaign.text).parts if campaign.channel == Channel.SMS else 1
    prices = {**DEFAULT_UNIT_COST, **getattr(settings, "CAMPAIGN_UNIT_COST", {})}
    cost = Decimal(prices[campaign.channel]) * (reachable - suppressed) * max(parts, 1)
    return Estimate(
        reachable - suppressed, suppressed, parts, cost, campaign.account.credits
    )


def _validate_ready(campaign: Campaign) -> Estimate:
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(NOT_DRAFT, code="not_draft")
    _validate_content(campaign)
    estimate = campaign_estimate(campaign=campaign)
    if estimate.recipients == 0:
        raise ValidationError(EMPTY_AUDIENCE, code="empty_audience")
    if not estimate.enough_credits:
        raise ValidationError(
            NOT_ENOUGH_CREDITS,
            code="credits",
            params={"needed": estimate.cost, "available": estimate.available},
        )
    return estimate


def _validate_content(campaign: Campaign) -> None:
    complete = {
        Channel.EMAIL: bool(campaign.subject and campaign.html),
        Channel.SMS: bool(campaign.text.strip()),
        Channel.VOICE: bool(campaign.text.strip() or campaign.voice_audio_token),
    }[campaign.channel]
    if not complete:
        raise ValidationError(INCOMPLETE_CONTENT[campaign.channel], code="content")
    if campaign.channel == Channel.SMS:
        if sms_length(campaign.text).too_long:
            raise ValidationError(SMS_TOO_LONG, code="sms_length")
        if campaign.sender and not SMS_SENDER.fullmatch(campaign.sender):
            raise ValidationError(SMS_SENDER_INVALID, code="sms_sender")


def _validate_time(scheduled_at: datetime, *, deferred: bool) -> None:
    now = timezone.now()
    if scheduled_at <= now:
        raise ValidationError(IN_THE_PAST, code="past")
    if deferred:
        if scheduled_at.minute % 5 or scheduled_at.second:
            raise ValidationError(NOT_FIVE_MINUTES, code="five_minutes")
        if scheduled_at < now + timedelta(minutes=10):
            raise ValidationError(TOO_SOON_FOR_PROVIDER, code="too_soon")


def campaign_schedule(
    *, campaign: Campaign, scheduled_at: datetime, deferred_at_provider: bool = False
) -> Campaign:
    """Plan a draft for later; a deferred one is handed to the provider right away."""
    _validate_time(scheduled_at, deferred=deferred_at_provider)
    return _queue(campaign, scheduled_at, deferred=deferred_at_provider)


def campaign_send(*, campaign: Campaign) -> Campaign:
    """Send a draft now: queued for the worker once this transaction commits."""
    return _queue(campaign, timezone.now(), deferred=False)


@transaction.atomic
def _queue(campaign: Campaign, when: datetime, *, deferred: bool) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    estimate = _validate_ready(campaign)
    campaign.scheduled_at = when
    campaign.deferred_at_provider = deferred
    campaign.estimated_cost = estimate.cost
    campaign.status = CampaignStatus.SCHEDULED
    campaign.full_clean()
    campaign.save()
    if deferred or when <= timezone.now():
        transaction.on_commit(lambda: enqueue_dispatch(campaign.pk))
    return campaign


def enqueue_dispatch(campaign_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "campaigns.tasks.dispatch_campaign",
        campaign_id,
        task_name=f"dispatch-campaign-{campaign_id}",
    )


@dataclass(frozen=True)
class CancelOutcome:
    cancelled_at_provider: int
    refusals: tuple[str, ...]


def campaign_cancel(*, campaign: Campaign) -> CancelOutcome:
    """Cancel a scheduled campaign, at the provider too if it was handed over deferred.

    A campaign still waiting locally is cancelled by a compare-and-set, so the worker
    can never dispatch it afterwards. Provider refusals come back as messages.
    """
    now = timezone.now()
    local = Campaign.objects.filter(
        pk=campaign.pk,
        status=CampaignStatus.SCHEDULED,
        dispatch_started_at__isnull=True,
    ).update(status=CampaignStatus.CANCELLED, cancelled_at=now)
    if local:
        return CancelOutcome(0, ())
    campaign.refresh_from_db()
    if campaign.status == CampaignStatus.SENDING:
        raise ValidationError(ALREADY_DISPATCHING, code="sending")
    if campaign.status != CampaignStatus.SCHEDULED or not campaign.deferred_at_provider:
        raise ValidationError(CANNOT_CANCEL, code="not_scheduled")
    return _cancel_at_provider(campaign)


def _cancel_at_provider(campaign: Campaign) -> CancelOutcome:
    adapter = adapter_for(campaign)
    refusals: list[str] = []
    cancelled = 0
    for batch in campaign.batches.filter(status=BatchStatus.ACCEPTED):
        try:
            adapter.cancel(message_id=batch.provider_message_id)
        except errors.AlreadyCancelled:
            pass  # e.g. a retried cancel whose first answer was lost: it is done
        except errors.CancelRefused as exc:
            refusals.append(str(CANCEL_REFUSED.get(type(exc), exc)))
            continue
        _mark_batch_cancelled(batch)
        cancelled += 1
    if cancelled and not refusals:
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.CANCELLED, cancelled_at=timezone.now()
        )
    return CancelOutcome(cancelled, tuple(dict.fromkeys(refusals)))


@transaction.atomic
def _mark_batch_cancelled(batch: DispatchBatch) -> None:
    DispatchBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.CANCELLED)
    batch.deliveries.exclude(status__in=FINAL_DELIVERY_STATUSES).update(
        status=DeliveryStatus.CANCELLED
    )


def campaign_refresh_statuses(*, campaign: Campaign) -> int:
    """Pull `bulk-status` for every accepted batch; settle the campaign when done."""
    adapter = adapter_for(campaign)
    changed = 0
    batches = campaign.batches.filter(status=BatchStatus.ACCEPTED)
    for batch in batches.order_by("number"):
        open_deliveries = batch.deliveries.exclude(status__in=FINAL_DELIVERY_STATUSES)
        if not open_deliveries.exists():
            continue
        changed += dispatch.apply_status_updates(batch, _batch_statuses(adapter, batch))
    _settle_if_done(campaign, has_statuses=campaign.channel != Channel.VOICE)
    return changed


def _batch_statuses(
    adapter: ChannelAdapter, batch: DispatchBatch
) -> list[StatusUpdate]:
    """By message id; a batch recovered by tag (its answer was lost) has none."""
    if batch.provider_message_id:
        return adapter.statuses(message_id=batch.provider_message_id)
    return adapter.lookup_batch(tag=batch.provider_tag) or []


def _settle_if_done(campaign: Campaign, *, has_statuses: bool) -> None:
    """Settled: nothing left open, or the 48 h window is over (then `unknown`)."""
    open_states = [DeliveryStatus.PENDING, DeliveryStatus.ACCEPTED]
    if not has_statuses:
        open_states = [DeliveryStatus.PENDING]
    still_open = Delivery.objects.filter(campaign=campaign, status__in=open_states)
    window_over = (
        campaign.dispatched_at is not None
        and campaign.dispatched_at < timezone.now() - STATUS_REFRESH_WINDOW
    )
    if window_over:
        still_open.update(
            status=DeliveryStatus.UNKNOWN,
            error=_("No final status from the provider within 48 hours."),
        )
    elif still_open.exists():
        return
    Campaign.objects.filter(pk=campaign.pk, settled_at__isnull=True).update(
        settled_at=timezone.now()
    )


@dataclass(frozen=True)
class TestSendOutcome:
    message_id: str
    warning: str = ""


UNSUBSCRIBED_TEST_ADDRESS = _(
    "This address is unsubscribed: the test was sent because you asked for it."
)


def campaign_test_send(*, campaign: Campaign, address: str) -> TestSendOutcome:
    """Send the campaign's content to one address, tagged `test`, not counted."""
    _validate_content(campaign)
    channel = campaign.suppression_channel
    warning = (
        str(UNSUBSCRIBED_TEST_ADDRESS)
        if is_unsubscribed(channel=channel, address=address)
        else ""
    )
    message_id = adapter_for(campaign).test_send(address=address)
    return TestSendOutcome(message_id, warning)


def campaigns_dispatch_due() -> list[int]:
    """Ids of scheduled campaigns whose time has come (claimed later, one by one)."""
    from .selectors import due_campaign_ids

    return due_campaign_ids()


def campaigns_mark_deferred_sent() -> int:
    """Deferred campaigns whose provider-side time has passed are now sent."""
    return Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED,
        deferred_at_provider=True,
        dispatched_at__isnull=False,
        scheduled_at__lte=timezone.now(),
    ).update(status=CampaignStatus.SENT)
