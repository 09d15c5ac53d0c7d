"""The paying account's balance is read again right after a send and a cancel."""

from __future__ import annotations

import pytest

from campaigns import dispatch, services, tasks
from partnerhub import tasks as account_tasks
from partnerhub.models import ProviderAccount
from tests.campaign_factories import CampaignFactory, audience_with
from tests.test_campaign_dispatch import ScriptedProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "django_q.tasks.async_task",
        lambda func, *args, **kw: calls.append((func, args)),
    )
    return calls


def test_a_send_queues_a_credit_refresh_of_its_account(
    monkeypatch, queued, django_capture_on_commit_callbacks
):
    provider = ScriptedProvider()
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    campaign = CampaignFactory(audience=audience_with(3))
    services.campaign_send(campaign=campaign)
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch_campaign(campaign.pk)
    assert queued == [
        ("partnerhub.tasks.refresh_account_credits", (campaign.account_id,))
    ]


def test_the_refresh_task_reads_the_balance(sandbox_settings):
    account = ProviderAccount.objects.create(provider="mail", name="Main mail")
    assert "emails" in account_tasks.refresh_account_credits(account.pk)
    account.refresh_from_db()
    assert account.credits is not None and account.credits_checked_at is not None
