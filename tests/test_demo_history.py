"""First run: the demo gives every page a history, quickly and only once, and the
compose page starts with an account chosen so the first save works."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from campaigns.models import (
    Audience,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Recipient,
)
from partnerhub import demo_data
from partnerhub.models import CreditSnapshot, ProviderAccount
from pec.models import PecReceipt
from tests.counter_checks import assert_counters_agree
from unsubscribes.models import Source, Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Any) -> float:
    """The demo as `manage.py demo` seeds it; returns how long it took."""
    settings.DEBUG = True  # the demo's derived key encrypts the sub-accounts' keys
    started = time.monotonic()
    demo_data.ensure_demo_logins()
    demo_data.ensure_demo_data()
    return time.monotonic() - started


def test_demo_has_thousands_of_recipients_in_a_few_audiences(demo) -> None:
    assert 3 <= Audience.objects.count() <= 4
    assert Recipient.objects.count() >= 3000
    sample = Recipient.objects.exclude(email="").exclude(phone="").first()
    assert sample is not None
    assert sample.phone.startswith(("+336", "+337"))
    assert "exemple" not in sample.email and "@" in sample.email


def test_demo_history_has_settled_campaigns_on_every_channel(demo) -> None:
    sent = Campaign.objects.filter(status=CampaignStatus.SENT)
    assert set(sent.values_list("channel", flat=True)) == {"email", "sms", "voice"}
    assert all(c.settled_at and c.dispatched_at for c in sent)
    days = {c.dispatched_at.date() for c in sent}
    assert len(days) >= 5  # spread over the past weeks
    open_states = [DeliveryStatus.PENDING, DeliveryStatus.ACCEPTED]
    open_ = Delivery.objects.filter(campaign__in=sent, status__in=open_states)
    assert set(open_.values_list("campaign__channel", flat=True)) == {"voice"}
    bounced = Delivery.objects.filter(
        campaign__channel="email", status=DeliveryStatus.NOT_DELIVERED
    )
    assert bounced.exists()
    assert not bounced.filter(error="").exists()  # each bounce says why
    assert_counters_agree()


def test_demo_has_a_cancelled_and_a_failed_campaign_with_a_reason(demo) -> None:
    cancelled = Campaign.objects.get(status=CampaignStatus.CANCELLED)
    assert cancelled.cancelled_at and not cancelled.deliveries.exists()
    failed = Campaign.objects.get(status=CampaignStatus.FAILED)
    assert "dupliquez" in failed.status_reason  # says what to do
    assert (
        failed.deliveries.exclude(status=DeliveryStatus.SUPPRESSED)
        .filter(status=DeliveryStatus.FAILED)
        .exists()
    )


def test_demo_unsubscribes_come_from_providers_by_hand_and_bounces(demo) -> None:
    sources = dict(Unsubscribe.objects.values_list("source").annotate(n=Count("pk")))
    assert sources[Source.MANUAL] > 0 and sources[Source.PROVIDER] > 0
    assert Unsubscribe.objects.filter(reason__contains="Bounced").exists()
    assert Unsubscribe.objects.filter(reason__contains="STOP").exists()
    # later campaigns skip who unsubscribed earlier
    assert Delivery.objects.filter(status=DeliveryStatus.SUPPRESSED).exists()


def test_demo_has_credit_trends_and_pec_receipts(demo) -> None:
    for account in ProviderAccount.objects.exclude(provider="pec"):
        assert CreditSnapshot.objects.filter(account=account).count() > 10
    assert PecReceipt.objects.exists()


def test_demo_is_fast_and_runs_once(demo) -> None:
    assert demo < 30  # seconds, on a loaded shared machine (about 3 s alone)
    counts = (
        Recipient.objects.count(),
        Campaign.objects.count(),
        Delivery.objects.count(),
    )
    demo_data.ensure_demo_data()
    assert (
        Recipient.objects.count(),
        Campaign.objects.count(),
        Delivery.objects.count(),
    ) == counts


def test_compose_starts_with_the_usual_account_and_the_first_save_works(
    demo, client
) -> None:
    """The demo has three SMS accounts; the last SMS campaign's payer is chosen."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="marketing"))
    url = reverse("campaigns:create") + "?channel=sms"
    page = client.get(url).content.decode()
    usual = Campaign.objects.filter(channel="sms").order_by("-created_at").first()
    assert usual is not None
    select = page.split('name="account"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{usual.account_id}" selected>' in select
    audience = Audience.objects.first()
    assert audience is not None
    response = client.post(
        url,
        {
            "name": "Premier essai",
            "account": usual.account_id,  # what the browser posts as preselected
            "audience": audience.pk,
            "text": "Bonjour",
            "add_stop": "on",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert Campaign.objects.get(name="Premier essai").account_id == usual.account_id


def test_home_charts_the_demo_history_per_channel(demo, client) -> None:
    from django.contrib.auth import get_user_model

    from campaigns.models import BatchStatus, DispatchBatch
    from campaigns.volume import daily_volume

    client.force_login(get_user_model().objects.get(username="marketing"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Messages sent in the last 30 days" in page
    volumes = {v.channel: v for v in daily_volume()}
    assert all(volumes[c].total > 0 for c in ("email", "sms", "voice"))
    in_window = DispatchBatch.objects.filter(
        status=BatchStatus.ACCEPTED,
        campaign__dispatched_at__gte=timezone.now() - timedelta(days=29),
    )
    assert sum(v.total for v in volumes.values()) == sum(b.size for b in in_window)
    assert f"{volumes['voice'].total:,} messages in 30 days" in page
    assert page.count("<rect ") == 3 * 30  # one bar a day per channel


def test_campaign_list_buttons_say_what_the_home_says(demo, client) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="marketing"))
    page = client.get(reverse("campaigns:list")).content.decode()
    for label in ("New email campaign", "New SMS campaign", "New voice campaign"):
        assert label in page
    assert "New Voice campaign" not in page


def test_pec_operator_home_offers_a_new_pec(demo, client) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="pec"))
    page = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("pec:compose")}">New PEC</a>' in page
    assert f'href="{reverse("pec:home")}">My PEC mailboxes</a>' in page
    assert "New email campaign" not in page
