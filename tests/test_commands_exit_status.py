"""Operator commands exit non-zero, with a one-line reason, when the work failed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns import dispatch, services
from campaigns.models import CampaignStatus
from partnerhub.providers import errors
from tests.campaign_factories import CampaignFactory, audience_with
from tests.test_campaign_dispatch import ScriptedProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def refusing_provider(monkeypatch):
    provider = ScriptedProvider(
        script=[errors.InsufficientCredits("Crédits insuffisants", code=11)]
    )
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    return provider


def test_send_campaign_exits_non_zero_when_the_campaign_fails(refusing_provider):
    campaign = CampaignFactory(audience=audience_with(3))
    out = StringIO()
    with pytest.raises(CommandError, match="Crédits insuffisants"):
        call_command("send_campaign", campaign.pk, stdout=out)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "failed" in out.getvalue()


def test_send_campaign_exits_zero_when_sent(monkeypatch):
    provider = ScriptedProvider()
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    campaign = CampaignFactory(audience=audience_with(3))
    call_command("send_campaign", campaign.pk, stdout=StringIO())
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_refresh_credits_exits_non_zero_when_a_provider_is_unreachable(settings):
    for name in ("MAILPARTNER", "SMSPARTNER", "VOICEPARTNER"):
        setattr(settings, f"{name}_API_URL", "http://127.0.0.1:9/none/v1")
    settings.PROVIDER_TIMEOUT = (0.2, 0.2)
    err = StringIO()
    with pytest.raises(CommandError, match=r"3 account\(s\) could not be refreshed"):
        call_command("refresh_credits", stdout=StringIO(), stderr=err)
    assert err.getvalue().count("\n") == 3


def test_refresh_statuses_exits_non_zero_when_a_campaign_cannot_be_refreshed(
    monkeypatch,
):
    provider = ScriptedProvider()
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    campaign = CampaignFactory(audience=audience_with(2))
    call_command("send_campaign", campaign.pk, stdout=StringIO())

    def broken(*, message_id):
        raise errors.ProviderUnavailable("HTTP 503", provider="mailpartner")

    provider.statuses = broken
    with pytest.raises(CommandError, match=r"1 campaign\(s\) could not be refreshed"):
        call_command("refresh_statuses", stdout=StringIO(), stderr=StringIO())
