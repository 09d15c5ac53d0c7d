"""The list and detail pages on the page benchmark's data, built small: query
counts that do not grow with the rows, no COUNT over deliveries where counters
serve, last pages read from the end, and the counters' recount command."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import page_data, pages
from campaigns.models import CampaignCounts, Delivery
from partnerhub import paging
from tests.counter_checks import assert_counters_agree

pytestmark = pytest.mark.django_db

SMALL = page_data.Scale(
    campaigns=12, deliveries=120, unsubscribes=30, sends=40, moves=150
)
LARGER = page_data.Scale(
    campaigns=12, deliveries=900, unsubscribes=200, sends=400, moves=1500
)


@pytest.fixture
def admin_client(client, admins_user):
    client.force_login(admins_user)
    return client


def queries(client, url: str) -> list[str]:
    cache.clear()  # audience sizes are cached: measure every page cold
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries]


def test_every_benchmarked_page_has_the_same_query_count_at_both_sizes(
    admin_client,
) -> None:
    small = pages.pages(page_data.build(SMALL), page_data.build_more(SMALL))
    larger = pages.pages(page_data.build(LARGER), page_data.build_more(LARGER))
    for (label, url_small), (_, url_larger) in zip(small, larger, strict=True):
        assert len(queries(admin_client, url_small)) == len(
            queries(admin_client, url_larger)
        ), label


def test_campaign_pages_never_count_deliveries(admin_client) -> None:
    built = page_data.build(SMALL)
    counting = re.compile(r'COUNT\(.*FROM "campaigns_delivery"', re.S)
    for url in (
        "/campaigns/",
        f"/campaigns/{built.big_campaign}/",
        f"/campaigns/{built.big_campaign}/?status=delivered&page=3",
        f"/campaigns/{built.big_campaign}/progress.json",
    ):
        assert not [q for q in queries(admin_client, url) if counting.search(q)], url


def test_last_page_of_deliveries_is_read_from_the_end_in_id_order(
    admin_client,
) -> None:
    built = page_data.build(SMALL)
    response = admin_client.get(f"/campaigns/{built.big_campaign}/?page=999")
    shown = [row.record.pk for row in response.context["table"].page.object_list]
    ids = list(
        Delivery.objects.filter(campaign_id=built.big_campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert shown == ids[100:]  # 120 deliveries, 50 a page: page 3 holds the last 20
    page_two = admin_client.get(f"/campaigns/{built.big_campaign}/?page=2")
    assert [r.record.pk for r in page_two.context["table"].page.object_list] == (
        ids[50:100]
    )


def test_recount_command_repairs_counters_gone_wrong() -> None:
    built = page_data.build(SMALL)
    CampaignCounts.objects.filter(pk=built.big_campaign).update(delivered=0, cost=None)
    call_command("recount_campaigns", "--campaign", str(built.big_campaign))
    assert_counters_agree()


def test_search_count_stops_at_the_cap(admin_client, monkeypatch) -> None:
    monkeypatch.setattr(paging, "COUNT_CAP", 50)
    built = page_data.build(SMALL)
    url = f"/campaigns/{built.big_campaign}/?q=client"
    response = admin_client.get(url)
    paginator = response.context["table"].paginator
    assert paginator.capped
    assert paginator.count == 50
    assert len(response.context["table"].page.object_list) == 50
    counts = [
        q
        for q in queries(admin_client, url)
        if "COUNT(" in q and '"campaigns_delivery"' in q
    ]
    assert counts
    assert all("LIMIT 51" in q for q in counts), counts


def test_only_pages_near_either_end_are_served(admin_client, monkeypatch) -> None:
    monkeypatch.setattr(paging, "MAX_DEPTH", 100)  # 2 pages of 50 from each end
    built = page_data.build(LARGER)  # 900 deliveries: 18 pages
    url = f"/campaigns/{built.big_campaign}/"
    ids = list(
        Delivery.objects.filter(campaign_id=built.big_campaign)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def page(number: int):
        return admin_client.get(url, {"page": number}).context["table"].page

    assert page(2).next_page_number() == 17
    assert page(17).previous_page_number() == 2
    middle = page(10)  # not served: the nearest end's page instead
    assert middle.number == 17
    assert [row.record.pk for row in middle.object_list] == ids[800:850]
    assert len(queries(admin_client, f"{url}?page=10")) == len(
        queries(admin_client, url)
    )


def plan(rows) -> str:
    return rows.explain() if connection.vendor == "sqlite" else ""


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's plan; PostgreSQL has trigrams"
)
def test_searches_read_an_index_on_sqlite() -> None:
    from campaigns.audiences.selectors import audience_recipients
    from campaigns.filters import DeliveryFilter
    from campaigns.models import Audience, Campaign
    from unsubscribes.selectors import unsubscribes_filtered

    built = page_data.build(SMALL)
    campaign = Campaign.objects.get(pk=built.big_campaign)
    deliveries = DeliveryFilter(
        {"q": "Client1"}, queryset=campaign.deliveries.order_by("pk")
    ).qs
    audience = Audience.objects.get(pk=built.big_audience)
    for rows, seek in (
        (deliveries, "address>?"),
        (
            audience_recipients(audience=audience, search="client1", flags=False),
            "email>?",
        ),
        (
            audience_recipients(audience=audience, search="06 12", flags=False),
            "phone>?",
        ),
        (unsubscribes_filtered(search="client1"), "address>?"),
    ):
        found = plan(rows[:50])
        assert seek in found, found  # a range on the index, not every row read
        assert "TEMP B-TREE" not in found, found  # in the index's order
    assert [d.address for d in deliveries] == sorted(
        a
        for a in campaign.deliveries.values_list("address", flat=True)
        if a.startswith("client1")
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_searches_have_trigram_indexes_on_postgresql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'")
        names = {row[0] for row in cursor.fetchall()}
    assert "delivery_address_trgm" not in names  # its writes cost the dispatch
    assert {
        "recipient_email_trgm",
        "recipient_phone_trgm",
        "recipient_first_name_trgm",
        "recipient_last_name_trgm",
        "unsubscribe_address_trgm",
        "unsubscribe_reason_trgm",
    } <= names


@pytest.mark.django_db
def test_recipient_search_finds_one_address_and_fragments_in_id_order() -> None:
    """The two search paths (an address typed: its unique index; a fragment:
    anywhere on PostgreSQL, in id order whichever order expression the selector
    chose; by prefix in address order on SQLite) return the right rows."""
    from django.db import connection

    from campaigns.audiences.selectors import audience_recipients
    from campaigns.models import Audience, Recipient

    audience = Audience.objects.create(name="Search paths")
    Recipient.objects.bulk_create(
        Recipient(audience=audience, email=f"client{n}@exemple.fr", last_name="Durand")
        for n in range(30)
    )
    exact = audience_recipients(audience=audience, search="client17@exemple.fr")
    assert [r.email for r in exact] == ["client17@exemple.fr"]
    fragment = list(audience_recipients(audience=audience, search="client1"))
    emails = [r.email for r in fragment]
    if connection.vendor == "postgresql":
        assert [r.pk for r in fragment] == sorted(r.pk for r in fragment)
    assert sorted(emails) == sorted(
        f"client{n}@exemple.fr" for n in (1, *range(10, 20))
    )


@pytest.mark.django_db
def test_delivery_search_finds_addresses_and_on_postgresql_names() -> None:
    """An address typed finds its delivery on both databases; on PostgreSQL a
    fragment finds the deliveries of recipients who have it anywhere in their
    e-mail, phone or names (their trigram indexes), in id order, and an exact
    address still finds a delivery whose recipient is gone."""
    from campaigns import dispatch
    from campaigns.filters import DeliveryFilter
    from campaigns.models import Audience, Campaign, Recipient
    from tests.campaign_factories import CampaignFactory

    audience = Audience.objects.create(name="Delivery search")
    Recipient.objects.bulk_create(
        Recipient(
            audience=audience,
            email=f"client{n}@exemple.fr",
            phone=f"+3361234{n:04d}",
            last_name="Dupont" if n % 10 == 3 else "Durand",
        )
        for n in range(40)
    )
    other = CampaignFactory(audience=Audience.objects.create(name="Other"))
    Recipient.objects.create(
        audience=other.audience, email="client3@exemple.fr", last_name="Dupont"
    )
    campaign: Campaign = CampaignFactory(audience=audience)
    for each in (campaign, other):
        dispatch.snapshot(each)
    Recipient.objects.filter(email="client5@exemple.fr").delete()

    def found(q: str) -> list[str]:
        rows = DeliveryFilter(
            {"q": q}, queryset=campaign.deliveries.order_by("pk"), campaign=campaign
        ).qs
        return [d.address for d in rows]

    assert found("client17@exemple.fr") == ["client17@exemple.fr"]
    assert found("client5@exemple.fr") == ["client5@exemple.fr"]  # recipient gone
    if connection.vendor == "postgresql":
        dupont = [f"client{n}@exemple.fr" for n in (3, 13, 23, 33)]
        assert found("dupont") == dupont  # by name, this campaign's only
        assert found("ient3") == [
            f"client{n}@exemple.fr" for n in (3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39)
        ]
        assert found("06 12 34 00 1") == [
            f"client{n}@exemple.fr" for n in range(10, 20)
        ]
    else:
        assert found("client3") == sorted(
            f"client{n}@exemple.fr" for n in (3, *range(30, 40))
        )
