"""Business actions on campaigns: draft, schedule, send, cancel, refresh, test-send.

Each is one keyword-only function; user-fixable problems raise `ValidationError`
with the messages below (tests reuse them), provider refusals raise the typed
provider errors. Provider calls never run inside a database transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub import formatting, rules
from partnerhub.audit import Action, record
from partnerhub.models import ProviderAccount
from partnerhub.provider_messages import explain, technical
from partnerhub.providers import errors
from partnerhub.rules import (  # noqa: F401 - messages re-exported for views/tests
    EMAIL_SENDER_INVALID,
    SMS_SENDER,
    SMS_SENDER_INVALID,
)
from unsubscribes.selectors import is_unsubscribed

from . import attachments, counters, dispatch, merge_fields, options, quiet_hours
from .answer_writer import AnswerWriter
from .channels import ChannelAdapter, StatusUpdate, adapter_for
from .models import (
    Audience,
    BatchStatus,
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    DispatchBatch,
    Recipient,
    SmsRange,
)
from .sms import LOW_COST_STOP, campaign_sms_length, max_parts

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrPromise

    # Who acts: `request.user` on the pages and in the admin, None for PartnerHub
    # itself; `record` writes an anonymous user as no one.
    Actor = User | AnonymousUser | None

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
INCOMPLETE_CONTENT: dict[str, StrPromise] = {
    Channel.EMAIL: _("An email needs a subject and an HTML body."),
    Channel.SMS: _("An SMS needs a text."),
    Channel.VOICE: _("A voice message needs a text or an audio file."),
}
SMS_TOO_LONG = _("The SMS is longer than 10 parts.")
LOW_COST_TOO_LONG = _(
    "Low Cost sends one SMS only: %(characters)s characters as sent, at most "
    "%(max)s (“%(mention)s” included). Shorten the text or choose Premium."
)

NOT_EDITABLE = _("Only a draft can be edited: this campaign is already %(status)s.")
WRONG_ACCOUNT = _("This account belongs to another provider than the channel's.")
INACTIVE_ACCOUNT = _("This account is deactivated.")
TEST_ADDRESS_UNSUBSCRIBED = _(
    "This address is unsubscribed. Tick the confirmation to send the test anyway."
)

# Which provider serves each channel (a campaign's account must be of it).
CHANNEL_PROVIDER: dict[str, str] = {
    Channel.EMAIL: "mail",
    Channel.SMS: "sms",
    Channel.VOICE: "voice",
}
# What a draft may change; everything else (status, schedule, leases) belongs to
# the send/schedule/dispatch services.
DRAFT_FIELD_ORDER = (
    "name",
    "account",
    "audience",
    "sender",
    "sender_name",
    "subject",
    "html",
    "text",
    "voice_lang",
    "voice_audio_token",
    "tag",
    "voice_mode",
    "notification_email",
    "reply_to",
    "reply_to_name",
    "sms_encoding",
    "sms_range",
    "sms_stop",
    "merge_fallbacks",
)
DRAFT_FIELDS = frozenset(DRAFT_FIELD_ORDER)
# Unit prices used for the estimate, in the unit of each provider's credits.
DEFAULT_UNIT_COST = {
    "email": "1",
    "sms": "0.045",
    "voice": "0.15",
    "voicemail": "0.15",  # per number, providers.md §3 `/campaign/send` example
}
STATUS_REFRESH_WINDOW = timedelta(hours=48)
AUDIO_FILES_CACHE_SECONDS = 300
# Delivery statuses that may still change (everything else is final).
OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.ACCEPTED)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Estimate:
    """The cost in the paying account's own unit, so the two can be compared."""

    recipients: int
    suppressed: int
    parts: int
    cost: Decimal
    available: Decimal | None
    unit: str = "EUR"  # "emails" (a Mail main account's credits) or a currency

    @property
    def enough_credits(self) -> bool:
        return self.available is None or self.cost <= self.available

    @property
    def unit_label(self) -> str:
        return str(_("emails")) if self.unit == EMAILS else "€"


EMAILS = "emails"


def campaign_estimate(*, campaign: Campaign) -> Estimate:
    """Recipients after suppression, cost and the account's last known credits."""
    from .selectors import campaign_audience_counts

    reachable, suppressed = campaign_audience_counts(campaign=campaign)
    sms = campaign.channel == Channel.SMS
    parts = campaign_sms_length(campaign).parts if sms else 1
    messages = (reachable - suppressed) * max(parts, 1)
    if campaign.channel == Channel.SMS and merge_fields.is_personalised(campaign):
        parts, messages = _personalised_sms_parts(campaign)
    account = campaign.account
    price = account_unit_price(account=account, channel=options.price_key(campaign))
    cost = price * messages
    return Estimate(
        reachable - suppressed,
        suppressed,
        parts,
        cost,
        account.credits,
        account_unit(account=account),
    )


def _personalised_sms_parts(campaign: Campaign) -> tuple[int, int]:
    """(most parts of one text, SMS in all): each recipient's own text counted.

    Recipients are grouped by their values in the database, so a text is
    rendered and measured once per distinct set of values, not per recipient.
    """
    from .selectors import campaign_sendable_recipients

    plan = merge_fields.plan_for(campaign)
    assert plan is not None  # personalised
    most, total = 0, 0
    recipients = campaign_sendable_recipients(campaign=campaign)
    for values, count in merge_fields.grouped_values(plan, recipients):
        text = merge_fields.render(campaign.text, values)
        parts = max(campaign_sms_length(campaign, text).parts, 1)
        most, total = max(most, parts), total + parts * count
    return most, total


def account_unit(*, account: ProviderAccount) -> str:
    """The unit of the account's credits: a Mail main account counts emails."""
    return formatting.account_unit(account)


def account_unit_label(*, account: ProviderAccount) -> str:
    return str(_("emails")) if account_unit(account=account) == EMAILS else "€"


def account_credits_text(*, account: ProviderAccount) -> str:
    """The balance as the reader's language writes it: 1 000 000 emails, 12,50 €."""
    if account.credits is None:
        return ""
    places = 0 if account_unit(account=account) == EMAILS else 2
    return formatting.number(account.credits, places)


def account_unit_price(*, account: ProviderAccount, channel: str) -> Decimal:
    """Price of one message (one SMS part) in the unit of the account's credits."""
    if channel == Channel.EMAIL and account_unit(account=account) != EMAILS:
        return email_price_eur()  # a Mail sub-account is funded in euros
    return unit_cost(channel)


def email_price_eur() -> Decimal:
    """Price of one email in euros (for sub-accounts funded in euros). INFERRED:
    the provider shows a main account's `balance` as credits x 0.001 €."""
    return Decimal(str(getattr(settings, "CAMPAIGN_EMAIL_PRICE_EUR", "0.001")))


@transaction.atomic
def campaign_create_draft(
    *,
    channel: str,
    name: str,
    account: ProviderAccount,
    audience: Audience,
    created_by: Actor = None,
    attachments_changes: attachments.AttachmentChanges | None = None,
    **content: str,
) -> Campaign:
    """A new draft: checked like a campaign about to be reviewed, never sent."""
    campaign = Campaign(
        channel=channel,
        name=name,
        account=account,
        audience=audience,
        # the author is a signed-in user; PartnerHub itself (anonymous) is no one
        created_by=created_by if isinstance(created_by, User) else None,
    )
    _apply_draft_fields(campaign, content)
    _validate_draft(campaign)
    campaign.save()
    _save_attachments(campaign, attachments_changes)
    record(action=Action.CAMPAIGN_CREATED, actor=created_by, target=campaign)
    return campaign


@transaction.atomic
def campaign_update_draft(
    *,
    campaign: Campaign,
    actor: Actor = None,
    attachments_changes: attachments.AttachmentChanges | None = None,
    **fields: object,
) -> Campaign:
    """Change a draft's content; a campaign already queued or sent stays as it is."""
    campaign = _locked_draft(campaign)
    before = {name: getattr(campaign, name) for name in fields}
    _apply_draft_fields(campaign, fields)
    _validate_draft(campaign)
    campaign.save()
    changed = sorted(n for n in fields if getattr(campaign, n) != before[n])
    if _save_attachments(campaign, attachments_changes):
        changed.append("attachments")
    if changed:
        record(
            action=Action.CAMPAIGN_EDITED,
            actor=actor,
            target=campaign,
            details={"fields": changed},
        )
    return campaign


def _save_attachments(
    campaign: Campaign, changes: attachments.AttachmentChanges | None
) -> bool:
    """Email files added or removed with the draft, in its transaction."""
    if changes is None or not (changes.add or changes.remove):
        return False
    try:
        attachments.apply_changes(campaign, changes)
    except ValidationError as exc:
        raise ValidationError({"new_attachments": exc.error_list}) from None
    return True


def _locked_draft(campaign: Campaign) -> Campaign:
    """The campaign row, locked, if it is still a draft; `ValidationError` if not."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(
            NOT_EDITABLE,
            code="not_draft",
            params={"status": campaign.get_status_display().lower()},
        )
    return campaign


def campaign_validate_draft(*, campaign: Campaign) -> None:
    """The draft checks of create/update, for forms that bind before saving."""
    _validate_draft(campaign)


COPY_NAME = _("%(name)s (copy)")


def campaign_duplicate(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """A new draft with the same content, whatever the original's status."""
    fields = {name: getattr(campaign, name) for name in DRAFT_FIELDS}
    name = str(COPY_NAME % {"name": campaign.name})
    fields["name"] = name[: Campaign._meta.get_field("name").max_length]
    with transaction.atomic():
        copy = campaign_create_draft(
            channel=campaign.channel, created_by=actor, **fields
        )
        attachments.copy_attachments(source=campaign, target=copy)
        record(
            action=Action.CAMPAIGN_DUPLICATED,
            actor=actor,
            target=copy,
            details={"from": campaign.pk, "from_name": campaign.name},
        )
    return copy


@transaction.atomic
def campaign_delete_draft(*, campaign: Campaign, actor: Actor = None) -> None:
    """Delete a draft; anything scheduled or sent is kept with its deliveries."""
    campaign = _locked_draft(campaign)
    record(action=Action.CAMPAIGN_DELETED, actor=actor, target=campaign)
    campaign.delete()


def _apply_draft_fields(campaign: Campaign, fields: Mapping[str, object]) -> None:
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise TypeError(f"not draft fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(campaign, name, value)


def _validate_draft(campaign: Campaign) -> None:
    """Field errors keyed by field name, so forms show them in place."""
    problems: dict[str, list[ValidationError]] = {}
    try:
        campaign.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        problems.update(exc.error_dict)
    for field, error in _channel_problems(campaign):
        problems.setdefault(field, []).append(error)
    if problems:
        raise ValidationError(problems)


def _channel_problems(campaign: Campaign) -> list[tuple[str, ValidationError]]:
    found: list[tuple[str, ValidationError]] = []
    account = campaign.account if campaign.account_id else None
    if account is not None:
        if account.provider != CHANNEL_PROVIDER.get(campaign.channel):
            found.append(("account", ValidationError(WRONG_ACCOUNT, code="account")))
        elif not account.is_active:
            found.append(
                ("account", ValidationError(INACTIVE_ACCOUNT, code="inactive"))
            )
    # The sender rules are checked by `Campaign.clean()` (partnerhub.rules).
    found += options.option_problems(campaign)
    if campaign.channel == Channel.SMS:
        found += [("text", error) for error in _sms_length_problems(campaign)]
    for field, message in merge_fields.problems(campaign):
        found.append((field, ValidationError(message, code="merge_field")))
    return found


def _sms_length_problems(campaign: Campaign) -> list[ValidationError]:
    """More than 10 parts (code 52), or more than one on Low Cost (code 42)."""
    length = campaign_sms_length(campaign)
    if length.parts <= max_parts(campaign):
        return []
    if campaign.sms_range == SmsRange.LOW_COST:
        message = LOW_COST_TOO_LONG % {
            "characters": length.characters,
            "max": length.per_part,
            "mention": LOW_COST_STOP,
        }
        return [ValidationError(message, code="low_cost_length")]
    return [ValidationError(SMS_TOO_LONG, code="sms_length")]


def voice_audio_files(
    *, account: ProviderAccount, refresh: bool = False
) -> list[tuple[str, str]] | None:
    """(token, label) of the account's validated audio files; None if unreachable.

    The compose page must still open when Voice Partner is down: the text-to-speech
    part works without the list. The list is kept for a few minutes per account
    (files change rarely; `/audios` is rate-limited); `refresh` asks again.
    """
    from django.core.cache import cache

    from partnerhub.providers.factory import get_voicepartner_client

    key = f"voice-audio-files:{account.pk}"
    if not refresh and (cached := cache.get(key)) is not None:
        return [tuple(pair) for pair in cached]  # type: ignore[misc]
    try:
        files = get_voicepartner_client(account, interactive=True).audios()
    except (errors.ProviderError, ValueError):
        return None
    found = [
        (f.token, f"{f.name} ({f.duration})" if f.duration else f.name) for f in files
    ]
    cache.set(key, found, AUDIO_FILES_CACHE_SECONDS)
    return found


def unit_cost(channel: str) -> Decimal:
    """Price of one message (one SMS part) in the account's credits."""
    prices = {**DEFAULT_UNIT_COST, **getattr(settings, "CAMPAIGN_UNIT_COST", {})}
    return Decimal(prices[channel])


def campaign_blocking_problem(*, campaign: Campaign) -> str:
    """Why this draft cannot be sent yet (content, audience, credits), or ''."""
    try:
        _validate_ready(campaign)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def _validate_ready(campaign: Campaign) -> Estimate:
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(NOT_DRAFT, code="not_draft")
    _validate_content(campaign)
    estimate = campaign_estimate(campaign=campaign)
    if estimate.recipients == 0:
        raise ValidationError(EMPTY_AUDIENCE, code="empty_audience")
    if estimate.parts > max_parts(campaign):  # a recipient's own text, personalised
        raise ValidationError(SMS_TOO_LONG, code="sms_length")
    if not estimate.enough_credits:
        raise ValidationError(
            NOT_ENOUGH_CREDITS,
            code="credits",
            params={"needed": estimate.cost, "available": estimate.available},
        )
    return estimate


def _validate_content(campaign: Campaign) -> None:
    by_channel: dict[str, bool] = {
        Channel.EMAIL: bool(campaign.subject and campaign.html),
        Channel.SMS: bool(campaign.text.strip()),
        Channel.VOICE: bool(campaign.text.strip() or campaign.voice_audio_token),
    }
    if not by_channel[campaign.channel]:
        raise ValidationError(INCOMPLETE_CONTENT[campaign.channel], code="content")
    option_problems = options.option_problems(campaign)
    if option_problems:
        raise option_problems[0][1]
    if campaign.channel == Channel.SMS:
        for problem in _sms_length_problems(campaign):
            raise problem
        rules.validate_sms_sender(campaign.sender)


def _validate_time(scheduled_at: datetime, *, deferred: bool, channel: str) -> None:
    now = timezone.now()
    if scheduled_at <= now:
        raise ValidationError(IN_THE_PAST, code="past")
    if deferred:
        if scheduled_at.minute % 5 or scheduled_at.second:
            raise ValidationError(NOT_FIVE_MINUTES, code="five_minutes")
        if scheduled_at < now + timedelta(minutes=10):
            raise ValidationError(TOO_SOON_FOR_PROVIDER, code="too_soon")
        if quiet_hours.refuses_deferred(channel=channel, when=scheduled_at):
            raise ValidationError(
                quiet_hours.DEFERRED_IN_QUIET_HOURS, code="quiet_hours"
            )


def campaign_schedule(
    *,
    campaign: Campaign,
    scheduled_at: datetime,
    deferred_at_provider: bool = False,
    actor: Actor = None,
) -> Campaign:
    """Plan a draft for later; a deferred one is handed to the provider right away."""
    _validate_time(
        scheduled_at, deferred=deferred_at_provider, channel=campaign.channel
    )
    return _queue(campaign, scheduled_at, deferred=deferred_at_provider, actor=actor)


def campaign_send(*, campaign: Campaign, actor: Actor = None) -> Campaign:
    """Send a draft now: queued for the worker once this transaction commits."""
    return _queue(campaign, timezone.now(), deferred=False, actor=actor, now=True)


@transaction.atomic
def _queue(
    campaign: Campaign,
    when: datetime,
    *,
    deferred: bool,
    actor: Actor,
    now: bool = False,
) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    estimate = _validate_ready(campaign)
    campaign.scheduled_at = when
    campaign.deferred_at_provider = deferred
    campaign.estimated_cost = estimate.cost
    campaign.status = CampaignStatus.SCHEDULED
    campaign.full_clean()
    campaign.save()
    action = Action.CAMPAIGN_SENT if now else Action.CAMPAIGN_SCHEDULED
    details = {
        "recipients": estimate.recipients,
        "cost": str(estimate.cost),
        "unit": estimate.unit,  # the audit trail shows "70,47 €" or "700 e-mails"
    }
    if not now:
        details.update(scheduled_at=when.isoformat(), deferred=deferred)
    record(action=action, actor=actor, target=campaign, details=details)
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


def campaign_cancel(*, campaign: Campaign, actor: Actor = None) -> CancelOutcome:
    """Cancel a scheduled campaign, at the provider too if it was handed over deferred.

    A campaign still waiting locally is cancelled by a compare-and-set, so the worker
    can never dispatch it afterwards. Provider refusals come back as messages.
    """
    now = timezone.now()
    with transaction.atomic():
        local = Campaign.objects.filter(
            pk=campaign.pk,
            status=CampaignStatus.SCHEDULED,
            dispatch_started_at__isnull=True,
        ).update(status=CampaignStatus.CANCELLED, cancelled_at=now)
        if local:
            record(action=Action.CAMPAIGN_CANCELLED, actor=actor, target=campaign)
            return CancelOutcome(0, ())
    campaign.refresh_from_db()
    if campaign.status == CampaignStatus.SENDING:
        raise ValidationError(ALREADY_DISPATCHING, code="sending")
    if campaign.status != CampaignStatus.SCHEDULED or not campaign.deferred_at_provider:
        raise ValidationError(CANNOT_CANCEL, code="not_scheduled")
    outcome = _cancel_at_provider(campaign)
    if outcome.cancelled_at_provider:
        campaign_refresh_account_credits(campaign_id=campaign.pk)
    record(
        action=Action.CAMPAIGN_CANCELLED,
        actor=actor,
        target=campaign,
        details={
            "at_provider": outcome.cancelled_at_provider,
            "refusals": list(outcome.refusals),
        },
    )
    return outcome


def campaign_refresh_account_credits(*, campaign_id: int) -> None:
    """The paying account's balance moved (send, cancel): read it again, later."""
    from partnerhub.services import account_refresh_credits_later

    account_id = Campaign.objects.values_list("account_id", flat=True).get(
        pk=campaign_id
    )
    account_refresh_credits_later(account_id=account_id)


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
            known = CANCEL_REFUSED.get(type(exc))
            refusals.append(str(known or explain(technical(exc))))
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
    """Cancelled at the provider: nothing left, so nothing is billed either (the
    provider gives the credit back); the cost leaves the campaign's total."""
    DispatchBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.CANCELLED)
    for status in OPEN_DELIVERY_STATUSES:
        rows = batch.owned_deliveries().filter(status=status)
        billed = rows.aggregate(total=Sum("cost"))["total"]
        done = rows.update(status=DeliveryStatus.CANCELLED, cost=None)
        moved: Counter[str] = Counter(
            {str(status): -done, DeliveryStatus.CANCELLED.value: done}
        )
        counters.apply(batch.campaign_id, moved, -billed if billed else None)
    costed = Delivery.objects.filter(campaign_id=batch.campaign_id, cost__isnull=False)
    if not costed.exists():  # nothing billed at all: no cost, as a recount says
        CampaignCounts.objects.filter(pk=batch.campaign_id).update(cost=None)


# Batches refreshed side by side on PostgreSQL: while one waits for the provider's
# answer, the others parse theirs and write it. Measured at 100,000 on 2 cores
# (`benchmarks/status_refresh.py`): 5.0 s one at a time, 3.9-4.5 s two, 2.5-4.2 s
# three; four or six did no better.
REFRESH_BATCHES_AT_ONCE = 3


def campaign_refresh_statuses(*, campaign: Campaign) -> int:
    """Pull `bulk-status` for every accepted batch; settle the campaign when done.

    On PostgreSQL the batches are refreshed `REFRESH_BATCHES_AT_ONCE` at a time,
    each fetched and written in its own thread (`AnswerWriter`: the batches share
    no row; each moves the campaign's counters last, in its own short
    transaction; the provider session is the process's shared, thread-safe
    pool); every write is in before the campaign is settled.
    """
    from .selectors import batches_still_open

    adapter = adapter_for(campaign)
    changed: list[int] = []

    def refresh(batch: DispatchBatch) -> None:
        updates = _batch_statuses(adapter, batch)
        changed.append(dispatch.apply_status_updates(batch, updates))

    writer = AnswerWriter.where_it_pays(refresh, depth=REFRESH_BATCHES_AT_ONCE)
    batches = campaign.batches.filter(status=BatchStatus.ACCEPTED)
    still_open = batches_still_open(campaign=campaign)
    try:
        for batch in batches.order_by("number"):
            if batch.pk in still_open:
                writer.submit(batch)
    finally:
        writer.close()
    _settle_if_done(campaign, has_statuses=campaign.channel != Channel.VOICE)
    return sum(changed)


def _batch_statuses(
    adapter: ChannelAdapter, batch: DispatchBatch
) -> list[StatusUpdate]:
    """By message id; a batch recovered by tag (its answer was lost) has none."""
    if batch.provider_message_id:
        return adapter.statuses(message_id=batch.provider_message_id)
    return adapter.lookup_batch(tag=batch.provider_tag) or []


def _settle_if_done(campaign: Campaign, *, has_statuses: bool) -> None:
    """Settled: nothing left open, or the 48 h window is over (then `unknown`)."""
    open_states: list[str] = [DeliveryStatus.PENDING, DeliveryStatus.ACCEPTED]
    if not has_statuses:
        open_states = [DeliveryStatus.PENDING]
    still_open = Delivery.objects.filter(campaign=campaign, status__in=open_states)
    window_over = (
        campaign.dispatched_at is not None
        and campaign.dispatched_at < timezone.now() - STATUS_REFRESH_WINDOW
    )
    if window_over:
        _expire_open(campaign, open_states)
    elif still_open.exists():
        return
    Campaign.objects.filter(pk=campaign.pk, settled_at__isnull=True).update(
        settled_at=timezone.now()
    )


@transaction.atomic
def _expire_open(campaign: Campaign, open_states: list[str]) -> None:
    """Past the window, what is still open ends `unknown` (counters moved along)."""
    for status in open_states:
        done = Delivery.objects.filter(campaign=campaign, status=status).update(
            status=DeliveryStatus.UNKNOWN,
            error=_("No final status from the provider within 48 hours."),
        )
        counters.move(campaign.pk, status, DeliveryStatus.UNKNOWN, done)


@dataclass(frozen=True)
class TestSendOutcome:
    message_id: str
    warning: str = ""


UNSUBSCRIBED_TEST_ADDRESS = _(
    "This address is unsubscribed: the test was sent because you asked for it."
)


def campaign_test_send(
    *,
    campaign: Campaign,
    address: str,
    allow_unsubscribed: bool = True,
    sample: Recipient | None = None,
) -> TestSendOutcome:
    """Send the campaign's content to one address, tagged `test`, not counted.

    An unsubscribed address is refused unless `allow_unsubscribed`: a test to a
    colleague who once unsubscribed is legitimate, but only when asked for.
    Merge fields are filled with the values of `sample` (a recipient of the
    audience; the first one when not chosen), as that recipient would get them.
    """
    _validate_content(campaign)
    address = rules.normalize_address(channel=campaign.channel, address=address)
    unsubscribed = is_unsubscribed(
        channel=campaign.suppression_channel, address=address
    )
    if unsubscribed and not allow_unsubscribed:
        raise ValidationError(TEST_ADDRESS_UNSUBSCRIBED, code="unsubscribed")
    warning = str(UNSUBSCRIBED_TEST_ADDRESS) if unsubscribed else ""
    # A person waits on the page: one short try, never a retry (a retried send
    # could arrive twice); a slow provider is reported, not waited for.
    merge = None
    if merge_fields.is_personalised(campaign):
        if sample is None or sample.audience_id != campaign.audience_id:
            sample = merge_fields.sample_recipients(campaign, limit=1).first()
        merge = merge_fields.recipient_values(campaign, sample)
    adapter = adapter_for(campaign, interactive=True)
    message_id = adapter.test_send(address=address, merge=merge)
    return TestSendOutcome(message_id, warning)


def campaigns_recount(
    *, campaign_ids: list[int] | None = None
) -> list[tuple[int, dict[str, int], dict[str, int]]]:
    """Rebuild the delivery counters from the deliveries, one campaign per transaction.

    Returns (campaign id, counts before, counts after) for each campaign, so the
    command can say which were off.
    """
    if campaign_ids is None:
        campaign_ids = list(Campaign.objects.values_list("pk", flat=True))
    done = []
    for campaign_id in campaign_ids:
        with transaction.atomic():
            before = counters.stored(campaign_id)
            after = counters.recount(campaign_id=campaign_id)
        done.append((campaign_id, before, after.by_status()))
    return done


def campaigns_dispatch_due() -> list[int]:
    """Ids of campaigns to dispatch now (each claimed later, by compare-and-set).

    Scheduled campaigns whose time has come, and `sending` ones whose worker
    stopped renewing its lease (killed, machine lost): those are taken over here,
    so a dead worker's campaign resumes within one lease plus one period of the
    every-minute task plus one 30 s scheduler cycle, on any broker.
    """
    from .selectors import abandoned_campaign_ids, due_campaign_ids

    return [*due_campaign_ids(), *abandoned_campaign_ids()]


@dataclass(frozen=True)
class RecentRefresh:
    changed: dict[int, int]  # campaign id -> deliveries updated
    failed: dict[int, str]  # campaign id -> provider error


def campaigns_refresh_recent() -> RecentRefresh:
    """The periodic status refresh: every campaign sent in the last 48 hours.

    One provider failing must not stop the others: its error is reported and
    the next run tries again.
    """
    from .selectors import recent_campaign_ids_to_refresh

    changed: dict[int, int] = {}
    failed: dict[int, str] = {}
    ids = recent_campaign_ids_to_refresh()
    for campaign in Campaign.objects.filter(pk__in=ids).select_related("account"):
        try:
            changed[campaign.pk] = campaign_refresh_statuses(campaign=campaign)
        except (errors.ProviderError, ValueError) as exc:  # ValueError: no key
            logger.warning(
                "Status refresh failed for campaign %s: %s", campaign.pk, exc
            )
            failed[campaign.pk] = str(exc)
    return RecentRefresh(changed=changed, failed=failed)


@dataclass(frozen=True)
class DueDispatch:
    marked_sent: int
    enqueued: tuple[int, ...]


def campaigns_enqueue_due() -> DueDispatch:
    """The every-minute job: settle deferred sends, enqueue what is due or abandoned."""
    marked = campaigns_mark_deferred_sent()
    ids = campaigns_dispatch_due()
    for campaign_id in ids:
        enqueue_dispatch(campaign_id)
    return DueDispatch(marked_sent=marked, enqueued=tuple(ids))


def campaigns_mark_deferred_sent() -> int:
    """Deferred campaigns whose provider-side time has passed are now sent."""
    return Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED,
        deferred_at_provider=True,
        dispatched_at__isnull=False,
        scheduled_at__lte=timezone.now(),
    ).update(status=CampaignStatus.SENT)


# --- audiences and recipients (the admin's only write path) -------------------


@transaction.atomic
def audience_save(*, audience: Audience, actor: Actor = None) -> Audience:
    """Create or rename an audience (its recipients come by import or one by one)."""
    audience.full_clean()
    audience.save()
    record(action=Action.AUDIENCE_SAVED, actor=actor, target=audience)
    return audience


@transaction.atomic
def audience_delete(*, audience: Audience, actor: Actor = None) -> None:
    """Delete an audience and its recipients; one used by a campaign is protected."""
    record(
        action=Action.AUDIENCE_DELETED,
        actor=actor,
        target=audience,
        details={"recipients": audience.recipients.count()},
    )
    audience.delete()


@transaction.atomic
def recipient_save(*, recipient: Recipient, actor: Actor = None) -> Recipient:
    """Create or change one recipient, addresses normalised by `Recipient.clean()`."""
    recipient.full_clean()
    recipient.save()
    record(
        action=Action.RECIPIENT_SAVED,
        actor=actor,
        target=recipient,
        details={"audience": recipient.audience_id},
    )
    return recipient


@transaction.atomic
def recipient_delete(*, recipient: Recipient, actor: Actor = None) -> None:
    record(
        action=Action.RECIPIENT_DELETED,
        actor=actor,
        target=recipient,
        details={"audience": recipient.audience_id},
    )
    recipient.delete()
