"""Exactly-once dispatch logic with a scripted provider (live sandbox: elsewhere)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from campaigns import dispatch, services
from campaigns.channels import BatchAccepted, StatusUpdate
from campaigns.models import BatchStatus, CampaignStatus, DeliveryStatus
from partnerhub.providers import errors
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


class ScriptedProvider:
    """Records what it receives; `script` says how each send call ends."""

    def __init__(self, script=(), lookup=True):
        self.script = list(script)
        self.received: Counter[str] = Counter()
        self.by_tag: dict[str, list[str]] = {}
        self.can_lookup_lost_batches = lookup
        self.calls = 0

    def send_batch(self, *, targets, tag, scheduled_at):
        self.calls += 1
        outcome = self.script.pop(0) if self.script else "ok"
        addresses = [t.address for t in targets]
        if outcome in ("ok", "lost"):
            self.received.update(addresses)
            self.by_tag[tag] = addresses
        if outcome == "lost":
            raise errors.UnknownOutcome("answer lost")
        if isinstance(outcome, Exception):
            raise outcome
        return BatchAccepted(message_id=f"m-{tag}", cost=Decimal("0.5"))

    def lookup_batch(self, *, tag):
        if not self.can_lookup_lost_batches:
            return None
        return [
            StatusUpdate(a, "pending", "Waiting", message_id=f"m-{tag}")
            for a in self.by_tag.get(tag, [])
        ]

    def statuses(self, *, message_id):
        tag = message_id.removeprefix("m-")
        return [
            StatusUpdate(a, "not_delivered" if "bounce" in a else "delivered", "x")
            for a in self.by_tag.get(tag, [])
        ]

    def cancel(self, *, message_id):
        return None


@pytest.fixture
def provider(monkeypatch):
    box = {}

    def install(**kwargs):
        box["p"] = ScriptedProvider(**kwargs)
        monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: box["p"])
        monkeypatch.setattr(services, "adapter_for", lambda c, **kw: box["p"])
        return box["p"]

    return install


def scheduled_campaign(n, **kwargs):
    campaign = CampaignFactory(audience=audience_with(n), **kwargs)
    services.campaign_send(campaign=campaign)
    return campaign


def statuses(campaign):
    return Counter(campaign.deliveries.values_list("status", flat=True))


def test_sends_every_recipient_once_in_batches_of_500(provider):
    p = provider()
    campaign = scheduled_campaign(1203)
    result = dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    assert result.status == CampaignStatus.SENT
    assert p.calls == 3
    assert len(p.received) == 1203 and set(p.received.values()) == {1}
    assert statuses(campaign) == {DeliveryStatus.ACCEPTED: 1203}


def test_unsubscribed_addresses_are_suppressed_at_dispatch_time(provider):
    p = provider()
    campaign = scheduled_campaign(10)
    victim = campaign.audience.recipients.first().email
    Unsubscribe.objects.create(channel="email", address=victim)  # after scheduling
    dispatch.dispatch(campaign.pk)
    assert victim not in p.received
    assert campaign.deliveries.get(address=victim).status == DeliveryStatus.SUPPRESSED


def test_a_second_dispatch_of_the_same_campaign_sends_nothing(provider):
    p = provider()
    campaign = scheduled_campaign(20)
    assert dispatch.dispatch(campaign.pk).claimed
    assert not dispatch.dispatch(campaign.pk).claimed
    assert p.calls == 1


def test_lost_answer_without_lookup_ends_unknown_and_is_never_resent(provider):
    p = provider(script=["ok", "lost", "ok"], lookup=False)
    campaign = scheduled_campaign(1500)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    assert set(p.received.values()) == {1}
    counts = statuses(campaign)
    assert counts[DeliveryStatus.UNKNOWN] == 500
    assert counts[DeliveryStatus.ACCEPTED] == 1000
    unknown = campaign.deliveries.filter(status=DeliveryStatus.UNKNOWN).first()
    assert "not re-sent" in unknown.error


def test_lost_answer_with_lookup_is_reconciled_as_accepted(provider):
    p = provider(script=["lost"], lookup=True)
    campaign = scheduled_campaign(30, channel="sms")
    dispatch.dispatch(campaign.pk)
    assert statuses(campaign) == {DeliveryStatus.ACCEPTED: 30}
    assert (
        campaign.batches.get().provider_message_id
        == "m-" + campaign.batches.get().provider_tag
    )
    assert p.calls == 1


def test_crash_after_recording_a_batch_is_reconciled_not_resent(provider):
    p = provider(lookup=True)
    campaign = scheduled_campaign(700, channel="sms")
    # Simulate a worker killed right after the HTTP call left: batch in flight.
    assert dispatch.claim(campaign.pk, "dead-worker")
    campaign.refresh_from_db()
    dispatch.snapshot(campaign)
    batch = dispatch.next_batch(campaign)
    p.send_batch(
        targets=dispatch.batch_targets(batch), tag=batch.provider_tag, scheduled_at=None
    )
    campaign.__class__.objects.filter(pk=campaign.pk).update(
        lease_until=campaign.scheduled_at  # the dead worker's lease has expired
    )
    result = dispatch.dispatch(campaign.pk)
    assert result.claimed and result.status == CampaignStatus.SENT
    assert len(p.received) == 700 and set(p.received.values()) == {1}


def test_crash_before_the_call_left_requeues_the_batch(provider):
    p = provider(lookup=True)
    campaign = scheduled_campaign(50, channel="sms")
    assert dispatch.claim(campaign.pk, "dead-worker")
    campaign.refresh_from_db()
    dispatch.snapshot(campaign)
    dispatch.next_batch(campaign)  # recorded, never sent
    campaign.__class__.objects.filter(pk=campaign.pk).update(
        lease_until=campaign.scheduled_at
    )
    dispatch.dispatch(campaign.pk)
    assert len(p.received) == 50 and set(p.received.values()) == {1}
    assert campaign.batches.filter(status=BatchStatus.ACCEPTED).count() == 1


def test_rate_limits_back_off_then_succeed(provider):
    provider(
        script=[errors.RateLimited("slow down"), errors.ProviderUnavailable("503")]
    )
    campaign = scheduled_campaign(10)
    waits = []
    dispatch.dispatch(campaign.pk, sleep=waits.append)
    assert statuses(campaign) == {DeliveryStatus.ACCEPTED: 10}
    assert waits == [1.0, 2.0]


def test_a_provider_that_keeps_failing_fails_the_campaign_with_reason(provider):
    p = provider(script=[errors.ProviderUnavailable("503")] * 10, lookup=False)
    campaign = scheduled_campaign(600)
    result = dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    campaign.refresh_from_db()
    assert result.status == CampaignStatus.FAILED
    assert "kept failing" in campaign.status_reason
    assert statuses(campaign) == {DeliveryStatus.FAILED: 600}
    assert not p.received


def test_refused_for_credits_fails_the_campaign(provider):
    provider(script=[errors.InsufficientCredits("Crédit insuffisant", code=11)])
    campaign = scheduled_campaign(5)
    dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "Crédit insuffisant" in campaign.status_reason


def test_status_refresh_settles_the_campaign(provider):
    provider()
    campaign = scheduled_campaign(5)
    bounce = campaign.audience.recipients.first()
    bounce.email = "bounce@example.fr"
    bounce.save()
    dispatch.dispatch(campaign.pk)
    services.campaign_refresh_statuses(campaign=campaign)
    campaign.refresh_from_db()
    assert statuses(campaign) == {
        DeliveryStatus.DELIVERED: 4,
        DeliveryStatus.NOT_DELIVERED: 1,
    }
    assert campaign.settled_at is not None


def test_the_lease_is_renewed_during_a_long_back_off(provider, settings):
    """Another worker must not take over a campaign that is only waiting to retry."""
    settings.CAMPAIGN_DISPATCH_LEASE_SECONDS = 1
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 1.0
    busy = errors.ProviderBusy("Problème de mise en file d'attente", code=500)
    p = provider(script=[busy, busy, busy])
    campaign = scheduled_campaign(20)
    stolen = []

    def sleep(seconds):
        import time

        time.sleep(seconds)
        stolen.append(dispatch.claim(campaign.pk, "another-worker"))

    result = dispatch.dispatch(campaign.pk, sleep=sleep)
    assert result.status == CampaignStatus.SENT
    assert len(stolen) >= 6 and not any(stolen)  # 1 + 2 + 4 s in slices of 1/3 s
    assert len(p.received) == 20 and set(p.received.values()) == {1}


def test_retry_after_is_honoured_but_capped(provider, settings):
    settings.CAMPAIGN_RETRY_MAX_SECONDS = 30
    slow = errors.RateLimited("slow down")
    slow.retry_after = 3600
    provider(script=[slow])
    campaign = scheduled_campaign(5)
    waits = []
    dispatch.dispatch(campaign.pk, sleep=waits.append)
    assert sum(waits) == 30
    assert statuses(campaign) == {DeliveryStatus.ACCEPTED: 5}


def test_a_refused_key_fails_the_campaign_with_its_reason(provider):
    provider(script=[errors.InvalidApiKey("Clé API incorrecte", code=10)])
    campaign = scheduled_campaign(700)
    result = dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert result.status == CampaignStatus.FAILED
    assert "Clé API incorrecte" in campaign.status_reason
    assert statuses(campaign) == {DeliveryStatus.FAILED: 700}


def test_an_account_without_key_fails_the_campaign_instead_of_hanging(settings):
    """No adapter can be built: the campaign ends `failed` at once, never `sending`."""
    main = AccountFactory(provider="mail")
    keyless = AccountFactory(provider="mail", name="Agence", parent=main)
    campaign = CampaignFactory(audience=audience_with(3), account=keyless)
    services.campaign_send(campaign=campaign)
    result = dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert result.status == CampaignStatus.FAILED
    assert "no API key" in campaign.status_reason
    assert campaign.lease_owner == ""


def test_an_inactive_account_fails_the_campaign(settings):
    campaign = CampaignFactory(audience=audience_with(3))
    services.campaign_send(campaign=campaign)
    campaign.account.is_active = False
    campaign.account.save()
    result = dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert result.status == CampaignStatus.FAILED
    assert "inactive" in campaign.status_reason


def test_the_periodic_task_takes_over_a_campaign_whose_worker_died(
    provider, monkeypatch
):
    """Issue #11 failure 2: a `sending` campaign with an expired lease was never
    enqueued again; only `scheduled` ones were."""
    from datetime import timedelta

    from django.utils import timezone

    from campaigns import tasks

    p = provider()
    campaign = scheduled_campaign(1200)
    assert dispatch.claim(campaign.pk, "worker-that-dies")
    campaign.refresh_from_db()
    dispatch.snapshot(campaign)
    enqueued = []
    monkeypatch.setattr(services, "enqueue_dispatch", enqueued.append)

    tasks.dispatch_due_campaigns()
    assert enqueued == []  # the lease still runs: the worker may be alive

    type(campaign).objects.filter(pk=campaign.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    tasks.dispatch_due_campaigns()
    assert enqueued == [campaign.pk]
    result = dispatch.dispatch(campaign.pk)
    assert result.claimed and result.status == CampaignStatus.SENT
    assert len(p.received) == 1200 and set(p.received.values()) == {1}


class RefusingSomeAddresses(ScriptedProvider):
    """Refuses a whole batch (nothing sent) while it holds a listed address."""

    def __init__(self, refused, error):
        super().__init__()
        self.refused = refused
        self.error = error

    def send_batch(self, *, targets, tag, scheduled_at):
        if any(t.address in self.refused for t in targets):
            self.calls += 1
            raise self.error(
                "refused", provider="mailpartner", code=self.error_code, status=200
            )
        return super().send_batch(targets=targets, tag=tag, scheduled_at=scheduled_at)


def _refusing(monkeypatch, refused, error, code):
    provider = RefusingSomeAddresses(refused, error)
    provider.error_code = code
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    return provider


def test_refused_addresses_are_isolated_and_the_rest_is_sent(monkeypatch):
    campaign = CampaignFactory(audience=audience_with(1500))
    addresses = list(
        campaign.audience.recipients.order_by("id").values_list("email", flat=True)
    )
    bad = {addresses[10], addresses[700], addresses[1499]}
    p = _refusing(monkeypatch, bad, errors.InvalidAddress, 19)
    services.campaign_send(campaign=campaign)
    result = dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert result.status == CampaignStatus.SENT, campaign.status_reason
    assert statuses(campaign) == {
        DeliveryStatus.ACCEPTED: 1497,
        DeliveryStatus.FAILED: 3,
    }
    failed = campaign.deliveries.filter(status=DeliveryStatus.FAILED)
    assert set(failed.values_list("address", flat=True)) == bad
    assert all("refused" in e for e in failed.values_list("error", flat=True))
    assert len(p.received) == 1497 and set(p.received.values()) == {1}
    assert p.calls < 80  # bisection, not one request per address


def test_an_address_on_the_providers_stop_list_is_suppressed_and_recorded(
    monkeypatch,
):
    campaign = CampaignFactory(audience=audience_with(40))
    gone = campaign.audience.recipients.order_by("id")[5].email
    _refusing(monkeypatch, {gone}, errors.AddressUnsubscribed, 14)
    services.campaign_send(campaign=campaign)
    dispatch.dispatch(campaign.pk)
    assert statuses(campaign) == {
        DeliveryStatus.ACCEPTED: 39,
        DeliveryStatus.SUPPRESSED: 1,
    }
    row = Unsubscribe.objects.get(channel="email", address=gone)
    assert row.source == "provider"


def test_a_refusal_about_the_campaign_itself_is_not_split(monkeypatch):
    """Mail 24 (reply-to invalid) concerns the campaign, not a recipient."""
    campaign = CampaignFactory(audience=audience_with(600))
    everyone = set(campaign.audience.recipients.values_list("email", flat=True))
    p = _refusing(monkeypatch, everyone, errors.InvalidAddress, 24)
    services.campaign_send(campaign=campaign)
    result = dispatch.dispatch(campaign.pk)
    assert result.status == CampaignStatus.FAILED
    assert p.calls == 1


def test_a_batch_writes_no_lease_or_attempt_of_its_own(provider):
    """On PostgreSQL every commit waits for the disk (~7 ms): per batch, only the
    `in_flight` record does. The lease (120 s) is renewed at most every 20 s and the
    first attempt is written with the batch, not in commits of their own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = provider()
    campaign = scheduled_campaign(1500)
    with CaptureQueriesContext(connection) as queries:
        result = dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    assert result.batches_sent == 3 and len(p.received) == 1500
    sql = [q["sql"] for q in queries.captured_queries]
    renew = 'UPDATE "campaigns_campaign" SET "lease_until"'
    renewals = [s for s in sql if s.startswith(renew)]
    attempts = [s for s in sql if 'SET "attempts"' in s]
    assert (renewals, attempts) == ([], [])
    assert set(campaign.batches.values_list("attempts", flat=True)) == {1}
