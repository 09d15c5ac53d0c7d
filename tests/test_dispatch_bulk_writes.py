"""The set-based writes of the dispatch engine keep the row-by-row behaviour.

`snapshot` is one INSERT ... SELECT, `next_batch` assigns a batch by id range and
`apply_status_updates` writes with executemany (for speed, see the benchmarks):
these pin down the rows they must produce.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from campaigns import bulk_sql, counters, dispatch
from campaigns.channels import StatusUpdate
from campaigns.models import Delivery, DeliveryStatus
from tests.campaign_factories import CampaignFactory, audience_with
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db
UNSUBSCRIBED = "Unsubscribed at dispatch time."


def campaign_of(n, **kwargs):
    return CampaignFactory(audience=audience_with(n), **kwargs)


def rows(campaign):
    return {
        d.address: d
        for d in Delivery.objects.filter(campaign=campaign).select_related("recipient")
    }


def test_snapshot_makes_one_pending_delivery_per_recipient_and_suppresses():
    campaign = campaign_of(6)
    recipients = list(campaign.audience.recipients.order_by("id"))
    Unsubscribe.objects.create(channel="email", address=recipients[1].email)
    gone = Unsubscribe.objects.create(channel="email", address=recipients[2].email)
    Unsubscribe.objects.filter(pk=gone.pk).update(removed_at=datetime.now(UTC))
    Unsubscribe.objects.create(channel="sms", address=recipients[3].email)

    dispatch.snapshot(campaign)

    found = rows(campaign)
    assert len(found) == 6
    assert {a for a, d in found.items() if d.status == "suppressed"} == {
        recipients[1].email
    }
    suppressed = found[recipients[1].email]
    assert suppressed.error == UNSUBSCRIBED
    for recipient in recipients:
        delivery = found[recipient.email]
        assert delivery.recipient == recipient
        assert delivery.batch_id is None and delivery.cost is None
        assert delivery.provider_status == delivery.provider_message_id == ""
        assert delivery.updated_at is not None
    assert {d.error for a, d in found.items() if a != suppressed.address} == {""}
    campaign.refresh_from_db()
    assert campaign.snapshot_done


def test_snapshot_resumed_after_a_partial_one_adds_only_the_missing_rows():
    campaign = campaign_of(5, channel="sms")
    first = campaign.audience.recipients.order_by("id").first()
    Delivery.objects.create(
        campaign=campaign, recipient=first, address=first.phone, error="kept"
    )
    campaign.audience.recipients.create(email="", phone="")  # unreachable by SMS

    dispatch.snapshot(campaign)

    reachable = campaign.audience.recipients.exclude(phone="")
    found = rows(campaign)
    assert set(found) == set(reachable.values_list("phone", flat=True))
    assert found[first.phone].error == "kept"


def test_next_batch_takes_500_in_id_order_and_skips_addresses_stopped_since():
    campaign = campaign_of(503)
    dispatch.snapshot(campaign)
    ordered = list(campaign.deliveries.order_by("id"))
    stopped = [ordered[10], ordered[501]]
    for delivery in stopped:
        Unsubscribe.objects.create(channel="email", address=delivery.address)

    first = dispatch.next_batch(campaign)
    second = dispatch.next_batch(campaign)

    assert dispatch.next_batch(campaign) is None
    assert (first.number, first.size, second.number, second.size) == (1, 499, 2, 2)
    assert set(first.pending_deliveries().values_list("id", flat=True)) == {
        d.pk for d in ordered[:500] if d != ordered[10]
    }
    assert set(second.pending_deliveries().values_list("id", flat=True)) == {
        ordered[500].pk,
        ordered[502].pk,
    }
    for delivery in stopped:
        delivery.refresh_from_db()
        assert (delivery.status, delivery.error) == ("suppressed", UNSUBSCRIBED)
        assert delivery.batch_id is None


def test_next_batch_skips_a_batch_whose_every_address_is_stopped():
    campaign = campaign_of(2)
    dispatch.snapshot(campaign)
    for delivery in campaign.deliveries.all():
        Unsubscribe.objects.create(channel="email", address=delivery.address)
    assert dispatch.next_batch(campaign) is None
    assert set(campaign.deliveries.values_list("status", flat=True)) == {"suppressed"}
    assert not campaign.batches.exists()


def test_status_updates_write_status_date_and_cost_and_keep_what_is_final():
    campaign = campaign_of(5)
    dispatch.snapshot(campaign)
    batch = dispatch.next_batch(campaign)
    campaign.deliveries.update(batch=batch)  # answered: the batch owns them
    a, b, c, d, e = campaign.deliveries.order_by("id")
    Delivery.objects.filter(pk__in=[a.pk, b.pk]).update(
        status="accepted", cost=Decimal("0.5")
    )
    Delivery.objects.filter(pk=d.pk).update(status="cancelled")
    counters.recount(campaign_id=campaign.pk)  # rows changed behind the services
    when = datetime(2026, 5, 4, 12, 30, tzinfo=UTC)
    updates = [
        StatusUpdate(a.address, "delivered", "Delivered", when),  # cost kept
        StatusUpdate(b.address, "not_delivered", "Not delivered", when, Decimal(2)),
        StatusUpdate(c.address, "pending", "Pending"),  # handed over: accepted
        StatusUpdate(d.address, "delivered", "Delivered", when),  # cancelled stays
        StatusUpdate(e.address, "made-up", "Weird"),  # unknown to us
        StatusUpdate("stranger@example.fr", "delivered", "Delivered", when),
    ]

    assert dispatch.apply_status_updates(batch, updates) == 4

    found = rows(campaign)
    assert (found[a.address].status, found[a.address].cost) == (
        "delivered",
        Decimal("0.5"),
    )
    assert found[a.address].provider_date == when
    assert found[a.address].provider_status == "Delivered"
    assert (found[b.address].status, found[b.address].cost) == (
        "not_delivered",
        Decimal(2),
    )
    assert (found[c.address].status, found[c.address].provider_date) == (
        "accepted",
        None,
    )
    assert found[d.address].status == "cancelled"
    assert found[a.address].updated_at > a.updated_at
    assert dispatch.apply_status_updates(batch, updates) == 0  # nothing new
    assert found[e.address].status == DeliveryStatus.UNKNOWN


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL array literals"
)
def test_array_literals_read_back_as_the_values_written():

    texts = ["Livré", 'say "hi"', "back\\slash", "a,b", "{braces}", "", None, "NULL"]
    when = datetime(2026, 5, 4, 12, 30, 15, 250000, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::numeric[], %s::timestamptz[], %s::bigint[]",
            [
                bulk_sql.array_literal(texts),
                bulk_sql.array_literal([Decimal("0.0105"), None, Decimal("2")]),
                bulk_sql.array_literal([when, None, when]),
                bulk_sql.array_literal([3, 10**12, 7]),
            ],
        )
        got = cursor.fetchone()
    assert got[0] == texts
    assert got[1] == [Decimal("0.0105"), None, Decimal("2")]
    assert got[2] == [when, None, when]
    assert got[3] == [3, 10**12, 7]
