"""Stored campaign counters: moved by the 48-hour expiry, rebuilt by the command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from benchmarks import page_data
from campaigns import counters, services
from campaigns.models import Campaign, CampaignCounts
from tests.counter_checks import assert_counters_agree

pytestmark = pytest.mark.django_db

SMALL = page_data.Scale(campaigns=3, deliveries=40, unsubscribes=5)


def test_expiry_after_48_hours_moves_what_was_open_to_unknown() -> None:
    built = page_data.build(SMALL)
    Campaign.objects.filter(pk=built.big_campaign).update(
        dispatched_at=timezone.now() - timedelta(days=3)
    )
    campaign = Campaign.objects.get(pk=built.big_campaign)
    before = counters.stored(campaign.pk)
    assert before["accepted"] > 0

    services.campaign_refresh_statuses(campaign=campaign)

    after = counters.stored(campaign.pk)
    assert after["accepted"] == 0
    assert after["unknown"] == before["unknown"] + before["accepted"]
    assert_counters_agree()


def test_recount_command_reports_and_repairs_what_was_off(capsys) -> None:
    built = page_data.build(SMALL)
    CampaignCounts.objects.filter(pk=built.big_campaign).update(pending=7)

    call_command("recount_campaigns")

    out = capsys.readouterr().out
    assert f"Campaign {built.big_campaign}: " in out
    assert f"Campaign {built.small_campaign}: " not in out  # was right
    assert_counters_agree()
