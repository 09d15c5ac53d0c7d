"""Scheduling, sending, cancelling and test-sending campaigns through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import dispatch, services
from campaigns.channels import BatchAccepted
from campaigns.models import CampaignStatus, DeliveryStatus
from campaigns.sms import sms_length
from partnerhub.providers import errors
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


def next_five_minutes(minutes_ahead: int = 30):
    t = timezone.now() + timedelta(minutes=minutes_ahead)
    return t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0)


class CancellingProvider:
    can_lookup_lost_batches = False

    def __init__(self, refuse=None):
        self.refuse = refuse
        self.sent = []
        self.cancelled = []

    def send_batch(self, *, targets, tag, scheduled_at):
        self.sent.append((tag, scheduled_at))
        return BatchAccepted(message_id=f"m-{tag}", cost=Decimal(1))

    def cancel(self, *, message_id):
        if self.refuse:
            raise self.refuse
        self.cancelled.append(message_id)

    def lookup_batch(self, *, tag):
        return None

    def test_send(self, *, address):
        self.sent.append(("test", address))
        return "t-1"


@pytest.fixture
def provider(monkeypatch):
    def install(**kwargs):
        p = CancellingProvider(**kwargs)
        monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: p)
        monkeypatch.setattr(services, "adapter_for", lambda c, **kw: p)
        return p

    return install


def test_only_drafts_with_content_and_recipients_can_be_sent():
    empty = CampaignFactory(audience=audience_with(0))
    with pytest.raises(ValidationError) as exc:
        services.campaign_send(campaign=empty)
    assert exc.value.messages == [str(services.EMPTY_AUDIENCE)]
    no_subject = CampaignFactory(audience=audience_with(2), subject="")
    with pytest.raises(ValidationError, match="subject"):
        services.campaign_send(campaign=no_subject)


def test_sending_is_blocked_when_credits_are_short():
    account = AccountFactory(provider="mail", credits=Decimal(3))
    campaign = CampaignFactory(audience=audience_with(5), account=account)
    with pytest.raises(ValidationError) as exc:
        services.campaign_send(campaign=campaign)
    assert exc.value.code == "credits"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_send_now_enqueues_dispatch_after_commit(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(audience=audience_with(2))
    with django_capture_on_commit_callbacks() as callbacks:
        services.campaign_send(campaign=campaign)
    assert len(callbacks) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_schedule_rejects_past_times_and_off_step_deferred_times():
    campaign = CampaignFactory(audience=audience_with(2))
    with pytest.raises(ValidationError, match="past"):
        services.campaign_schedule(
            campaign=campaign, scheduled_at=timezone.now() - timedelta(minutes=1)
        )
    off_step = next_five_minutes() + timedelta(minutes=2)
    with pytest.raises(ValidationError) as exc:
        services.campaign_schedule(
            campaign=campaign, scheduled_at=off_step, deferred_at_provider=True
        )
    assert exc.value.code == "five_minutes"


def test_a_scheduled_campaign_cancelled_before_its_time_never_reaches_the_provider(
    provider,
):
    p = provider()
    campaign = CampaignFactory(audience=audience_with(3))
    services.campaign_schedule(campaign=campaign, scheduled_at=next_five_minutes())
    services.campaign_cancel(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert not dispatch.dispatch(campaign.pk).claimed
    assert p.sent == []


def test_deferred_campaign_is_cancelled_at_the_provider(provider):
    p = provider()
    campaign = CampaignFactory(audience=audience_with(3))
    when = next_five_minutes(60)
    services.campaign_schedule(
        campaign=campaign, scheduled_at=when, deferred_at_provider=True
    )
    dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and campaign.dispatched_at
    assert p.sent[0][1] == when
    outcome = services.campaign_cancel(campaign=campaign)
    assert outcome.cancelled_at_provider == 1 and not outcome.refusals
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert set(campaign.deliveries.values_list("status", flat=True)) == {
        DeliveryStatus.CANCELLED
    }


def test_provider_refusal_to_cancel_is_a_clear_message(provider):
    provider(refuse=errors.TooLateToCancel("moins de 5 minutes", code=6))
    campaign = CampaignFactory(audience=audience_with(3))
    services.campaign_schedule(
        campaign=campaign, scheduled_at=next_five_minutes(60), deferred_at_provider=True
    )
    dispatch.dispatch(campaign.pk)
    outcome = services.campaign_cancel(campaign=campaign)
    assert outcome.refusals == (str(services.CANCEL_REFUSED[errors.TooLateToCancel]),)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_test_send_warns_about_unsubscribed_addresses(provider):
    p = provider()
    campaign = CampaignFactory(audience=audience_with(1))
    Unsubscribe.objects.create(channel="email", address="gone@example.fr")
    outcome = services.campaign_test_send(campaign=campaign, address="gone@example.fr")
    assert outcome.warning
    assert p.sent == [("test", "gone@example.fr")]
    assert campaign.deliveries.count() == 0


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),
        ("é" * 160, "GSM-7", 1),
        # Without isUnicode the provider substitutes: still GSM-7 (§2.3).
        ("ê" * 160, "GSM-7", 1),
        ("œ" * 81, "GSM-7", 2),
        ("«Noël»", "GSM-7", 1),
    ],
)
def test_sms_length_counts_parts_like_the_operators(text, encoding, parts):
    length = sms_length(text)
    assert (length.encoding, length.parts) == (encoding, parts)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("ê" * 70, 1), ("ê" * 71, 2), ("😀" * 35, 1), ("😀" * 36, 2)],
)
def test_sms_length_in_unicode_counts_utf16_units(text, parts):
    length = sms_length(text, unicode=True)
    assert (length.encoding, length.parts) == ("Unicode", parts)


def test_an_email_estimate_is_in_the_paying_accounts_unit():
    """A Mail main account counts emails; a Mail sub-account is funded in euros:
    the estimate is compared with the credits in their own unit, never across."""
    main = AccountFactory(provider="mail")
    main.credits, main.credits_unit = Decimal("100"), "emails"
    main.save()
    sub = AccountFactory(provider="mail", name="Agence", parent=main)
    sub.credits, sub.credits_unit = Decimal("0.50"), "EUR"
    sub.save()
    on_main = services.campaign_estimate(
        campaign=CampaignFactory(account=main, audience=audience_with(150))
    )
    assert (on_main.cost, on_main.unit, on_main.enough_credits) == (
        Decimal(150),
        "emails",
        False,
    )
    on_sub = services.campaign_estimate(
        campaign=CampaignFactory(account=sub, audience=audience_with(150))
    )
    assert (on_sub.cost, on_sub.unit, on_sub.enough_credits) == (
        Decimal("0.150"),
        "EUR",
        True,
    )
    assert on_sub.unit_label == "€"
