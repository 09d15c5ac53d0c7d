"""The dispatch claim is a compare-and-set: two workers racing, one wins.

The race is forced (see `tests.race_helpers`): both claims run after a barrier
that both workers reach first. The second test proves the harness: a claim that
reads the status and then writes it, without the compare-and-set, lets both win.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import dispatch
from campaigns.models import Campaign, CampaignStatus
from tests.campaign_factories import CampaignFactory, audience_with
from tests.race_helpers import run_in_two_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock race is meaningful on PostgreSQL (CI's second pass)")


def due_campaign() -> Campaign:
    return CampaignFactory(
        audience=audience_with(1),
        status=CampaignStatus.SCHEDULED,
        scheduled_at=timezone.now(),
    )


def naive_claim(campaign_id: int, owner: str) -> bool:
    """Read, check, write: what the compare-and-set exists to prevent."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != CampaignStatus.SCHEDULED:
        return False
    updated = Campaign.objects.filter(pk=campaign_id).update(
        status=CampaignStatus.SENDING, lease_owner=owner
    )
    return updated == 1


def test_two_claims_racing_after_a_barrier_give_exactly_one_winner():
    campaign = due_campaign()
    wins = run_in_two_threads(lambda: dispatch.claim(campaign.pk, uuid.uuid4().hex))
    assert sorted(wins) == [False, True]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING


def test_the_forced_race_lets_a_claim_without_compare_and_set_win_twice():
    campaign = due_campaign()
    wins = run_in_two_threads(lambda: naive_claim(campaign.pk, uuid.uuid4().hex))
    assert wins == [True, True]
