"""The suppression list is checked when a campaign leaves, not only at import."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import dispatch, services
from campaigns.models import Campaign, CampaignStatus, DeliveryStatus
from tests.campaign_factories import CampaignFactory, audience_with
from unsubscribes import selectors
from unsubscribes import services as unsubscribe_services

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _live(sandbox_settings, settings):
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0
    settings.SMS_REPLY_WEBHOOK_TOKEN = "hook-token"


def scheduled(channel):
    campaign = CampaignFactory(channel=channel, audience=audience_with(6))
    when = timezone.now() + timedelta(hours=2)
    services.campaign_schedule(campaign=campaign, scheduled_at=when)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    return campaign


def run_when_due(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT, campaign.status_reason


def sent_bodies(sandbox, provider):
    return json.dumps([r["body"] for r in sandbox.requests(provider=provider)])


def test_email_unsubscribed_after_scheduling_is_not_sent(sandbox):
    campaign = scheduled("email")
    target = campaign.audience.recipients.order_by("id")[2].email
    unsubscribe_services.unsubscribe_add(channel="email", address=target.upper())
    run_when_due(campaign)
    bodies = sent_bodies(sandbox, "mail")
    assert target not in bodies
    others = campaign.audience.recipients.exclude(email=target)
    assert all(r.email in bodies for r in others)
    assert (
        target not in sandbox.recipients("mail")
        and len(sandbox.recipients("mail")) == 5
    )
    assert campaign.deliveries.get(address=target).status == DeliveryStatus.SUPPRESSED


def test_sms_stop_reply_received_after_scheduling_is_honoured(client, sandbox):
    campaign = scheduled("sms")
    target = campaign.audience.recipients.order_by("id")[0].phone
    payload = {"type": "stop", "phone_number": target, "text": "STOP", "message_id": 9}
    hook = reverse("unsubscribes:sms_reply_hook", args=["hook-token"])
    assert (
        client.post(hook, payload, content_type="application/json").status_code == 200
    )
    run_when_due(campaign)
    assert target not in sent_bodies(sandbox, "sms")
    assert (
        target not in sandbox.recipients("sms") and len(sandbox.recipients("sms")) == 5
    )


def test_is_unsubscribed_for_test_sends():
    assert not selectors.is_unsubscribed(channel="email", address="t@example.fr")
    unsubscribe_services.unsubscribe_add(channel="email", address="T@example.fr")
    assert selectors.is_unsubscribed(channel="email", address="t@example.fr")
    assert not selectors.is_unsubscribed(channel="sms", address="t@example.fr")
