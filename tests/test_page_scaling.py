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
