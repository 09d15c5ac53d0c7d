"""Campaign list, campaign page and progress JSON: content, filters, query counts,
permissions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import counters
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Recipient,
)
from tests.campaign_factories import AccountFactory, AudienceFactory, CampaignFactory

pytestmark = pytest.mark.django_db

# 6 delivered, 2 not delivered, 1 accepted, 1 suppressed out of every 10.
STATUS_CYCLE = (
    [DeliveryStatus.DELIVERED] * 6
    + [DeliveryStatus.NOT_DELIVERED] * 2
    + [DeliveryStatus.ACCEPTED, DeliveryStatus.SUPPRESSED]
)


def sent_campaign(
    n: int,
    *,
    statuses: list[str] | None = None,
    status: str = CampaignStatus.SENT,
    **kwargs: object,
) -> Campaign:
    """A dispatched campaign with `n` recipients and deliveries, built in bulk."""
    audience = AudienceFactory()
    Recipient.objects.bulk_create(
        Recipient(
            audience=audience,
            email=f"client{i}@example.fr",
            first_name="Zoé",
            last_name=f"Martin{i}",
        )
        for i in range(n)
    )
    now = timezone.now()
    kwargs.setdefault("dispatched_at", now - timedelta(hours=1))
    # costs below are euros: a sub-account paying in euros (the Mail main
    # account counts e-mails)
    if "account" not in kwargs:
        kwargs["account"] = AccountFactory(
            provider="mail",
            name="Mail €",
            parent=AccountFactory(provider="mail"),
            credits_unit="EUR",
        )
    campaign = CampaignFactory(
        audience=audience,
        status=status,
        snapshot_done=True,
        dispatch_started_at=now - timedelta(hours=1, minutes=2),
        estimated_cost=Decimal("12.5"),
        **kwargs,
    )
    add_deliveries(campaign, statuses or STATUS_CYCLE)
    return campaign


def add_deliveries(campaign: Campaign, statuses: list[str]) -> None:
    recipients = campaign.audience.recipients.order_by("pk").values_list("pk", "email")
    cycle = itertools.cycle(statuses)
    when = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)  # 10:30 in Paris (summer)
    Delivery.objects.bulk_create(
        (
            Delivery(
                campaign=campaign,
                recipient_id=pk,
                address=email,
                status=(state := next(cycle)),
                provider_status={"delivered": "Delivered"}.get(state, ""),
                cost=Decimal("0.0105") if state != DeliveryStatus.SUPPRESSED else None,
                provider_date=when,
                provider_message_id="msg-1",
            )
            for pk, email in recipients
        ),
        batch_size=2000,
    )
    counters.recount(campaign_id=campaign.pk)  # rows written behind the services


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


# --- list -------------------------------------------------------------------
def test_list_shows_campaigns_with_their_figures(marketing) -> None:
    campaign = sent_campaign(20, name="Soldes d'été")
    CampaignFactory(name="Brouillon SMS", channel="sms")
    response = marketing.get(reverse("campaigns:list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Soldes d&#x27;été" in html and "Brouillon SMS" in html
    assert reverse("campaigns:detail", args=[campaign.pk]) in html
    # 12 of 18 handed to the provider were delivered (the 2 suppressed are not).
    assert "66,7\u00a0%" in html
    assert 'class="ph-badge ph-badge-ok" data-status="sent"' in html
    assert "0,19" in html  # 18 x 0.0105, the actual cost


def test_list_shows_times_in_paris(marketing) -> None:
    sent_campaign(1, dispatched_at=datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
    page = marketing.get(reverse("campaigns:list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert "11/01/2026 00:30" in page.content.decode()


def test_list_empty_state_explains_what_campaigns_are(marketing) -> None:
    html = marketing.get(reverse("campaigns:list")).content.decode()
    assert 'class="ph-empty"' in html and "No campaign yet." in html
    assert 'class="ph-table"' not in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"channel": "sms"}, "Texto", "Mail"),
        ({"status": "draft"}, "Texto", "Mail"),
        ({"q": "mai"}, "Mail", "Texto"),
        ({"date_from": "2026-03-01"}, "Mail", "Texto"),
        ({"date_to": "2026-02-28"}, "Texto", "Mail"),
    ],
)
def test_list_filters(marketing, query, shown, hidden) -> None:
    sent_campaign(3, name="Mail", dispatched_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    draft = CampaignFactory(name="Texto", channel="sms")
    Campaign.objects.filter(pk=draft.pk).update(
        created_at=datetime(2026, 2, 28, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    )
    html = marketing.get(reverse("campaigns:list"), query).content.decode()
    assert f">{shown}</a>" in html
    assert f">{hidden}</a>" not in html


def test_list_bad_date_filter_shows_an_error_not_a_500(marketing) -> None:
    sent_campaign(1)
    response = marketing.get(reverse("campaigns:list"), {"date_from": "31/02/x"})
    assert response.status_code == 200
    assert 'class="ph-error"' in response.content.decode()


def test_list_sorts_by_delivered_rate(marketing) -> None:
    sent_campaign(10, name="Low", statuses=[DeliveryStatus.NOT_DELIVERED])
    sent_campaign(10, name="High", statuses=[DeliveryStatus.DELIVERED])
    html = marketing.get(reverse("campaigns:list"), {"sort": "-delivered_rate"})
    html = html.content.decode()
    assert html.index(">High</a>") < html.index(">Low</a>")


def many_campaigns(count: int, deliveries_each: int) -> None:
    """`count` campaigns sharing one audience, each with its deliveries, in bulk."""
    account = AccountFactory()
    audience = AudienceFactory()
    Recipient.objects.bulk_create(
        Recipient(audience=audience, email=f"r{i}@example.fr")
        for i in range(deliveries_each)
    )
    recipients = list(audience.recipients.values_list("pk", "email"))
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            name=f"C{i}",
            channel="email",
            account=account,
            audience=audience,
            status=CampaignStatus.SENT,
            snapshot_done=True,
            dispatched_at=timezone.now(),
        )
        for i in range(count)
    )
    Delivery.objects.bulk_create(
        (
            Delivery(campaign=c, recipient_id=pk, address=email, status="delivered")
            for c in campaigns
            for pk, email in recipients
        ),
        batch_size=5000,
    )
    for campaign in campaigns:
        counters.recount(campaign_id=campaign.pk)


def count_queries(client, url, query=None) -> int:
    cache.clear()  # audience sizes are cached a minute: count every view cold
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, query or {}).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_constant_with_10000_deliveries(marketing) -> None:
    url = reverse("campaigns:list")
    many_campaigns(1, 1)
    few = count_queries(marketing, url)
    many_campaigns(60, 10_000 // 60 + 1)  # 10,020 deliveries, 3 pages of campaigns
    assert Delivery.objects.count() > 10_000
    assert count_queries(marketing, url) == few
    assert count_queries(marketing, url, {"page": 2, "sort": "recipients"}) == few
    assert few <= 12


# --- campaign page ------------------------------------------------------------
def test_campaign_page_shows_header_counters_chart_cost_and_timeline(
    marketing,
) -> None:
    campaign = sent_campaign(
        20,
        name="Rentrée",
        subject="C'est la rentrée",
        settled_at=timezone.now(),
        scheduled_at=datetime(2026, 9, 1, 6, 0, tzinfo=UTC),
    )
    url = reverse("campaigns:detail", args=[campaign.pk])
    html = marketing.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Rentrée" in html and "C&#x27;est la rentrée" in html
    # 18 of 20 left: the 2 suppressed never did
    assert 'id="campaign-progress"' in html and 'value="90.0"' in html
    # counters by status: 12 delivered out of 20
    assert 'data-status="delivered"' in html
    assert 'role="img"' in html and 'id="campaign-funnel"' in html
    assert "<caption>" in html
    assert "12,50" in html  # estimated cost
    assert "0,19" in html  # actual cost
    assert "01/09/2026 08:00" in html  # scheduled time in Paris
    assert 'data-live="false"' in html  # settled: nothing to poll
    assert reverse("campaigns:export", args=[campaign.pk]) in html


def test_campaign_page_of_a_draft_has_empty_states(marketing) -> None:
    campaign = CampaignFactory()
    html = marketing.get(reverse("campaigns:detail", args=[campaign.pk]))
    html = html.content.decode()
    assert "ph-empty" in html
    assert 'id="campaign-progress"' not in html


def test_failed_campaign_shows_its_reason(marketing) -> None:
    campaign = sent_campaign(
        2, status=CampaignStatus.FAILED, status_reason="Crédits insuffisants"
    )
    html = marketing.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert "Crédits insuffisants" in html.content.decode()


@pytest.mark.parametrize(
    ("query", "count"),
    [({"status": "not_delivered"}, 4), ({"q": "CLIENT1"}, 11), ({}, 20)],
)
def test_deliveries_table_filters(marketing, query, count) -> None:
    campaign = sent_campaign(20)
    response = marketing.get(reverse("campaigns:detail", args=[campaign.pk]), query)
    assert len(response.context["table"].rows) == count


def test_deliveries_search_by_french_phone(marketing) -> None:
    campaign = CampaignFactory(channel="sms", status=CampaignStatus.SENT)
    Delivery.objects.create(campaign=campaign, address="+33612345678")
    Delivery.objects.create(campaign=campaign, address="+33699999999")
    url = reverse("campaigns:detail", args=[campaign.pk])
    response = marketing.get(url, {"q": "06 12 34"})
    assert [r.record.address for r in response.context["table"].rows] == [
        "+33612345678"
    ]


def test_campaign_page_query_count_is_constant_with_10000_deliveries(
    marketing,
) -> None:
    small = sent_campaign(1)
    big = sent_campaign(10_000)
    few = count_queries(marketing, reverse("campaigns:detail", args=[small.pk]))
    url = reverse("campaigns:detail", args=[big.pk])
    assert count_queries(marketing, url) == few
    assert count_queries(marketing, url, {"page": 50, "status": "delivered"}) == few
    assert few <= 14


def test_unknown_campaign_is_a_404(marketing) -> None:
    assert marketing.get(reverse("campaigns:detail", args=[999])).status_code == 404


# --- progress JSON ------------------------------------------------------------
def test_progress_json_counts_and_percentages(marketing) -> None:
    campaign = sent_campaign(
        10,
        status=CampaignStatus.SENDING,
        statuses=[DeliveryStatus.PENDING] * 3
        + [DeliveryStatus.ACCEPTED] * 5
        + [DeliveryStatus.DELIVERED] * 2,
    )
    data = marketing.get(reverse("campaigns:progress", args=[campaign.pk])).json()
    assert data["total"] == 10
    assert data["counts"]["pending"] == 3 and data["counts"]["failed"] == 0
    assert data["percent_dispatched"] == 70.0
    assert data["percent_settled"] == 20.0
    assert data["campaign_status"] == "sending" and data["live"] is True
    assert [step["count"] for step in data["funnel"]] == [10, 7, 2]


def test_progress_stops_being_live_once_settled(marketing) -> None:
    campaign = sent_campaign(2, settled_at=timezone.now())
    data = marketing.get(reverse("campaigns:progress", args=[campaign.pk])).json()
    assert data["live"] is False and data["campaign_status"] == "sent"


# --- permissions --------------------------------------------------------------
def campaign_urls(pk: int) -> list[str]:
    return [
        reverse("campaigns:list"),
        reverse("campaigns:detail", args=[pk]),
        reverse("campaigns:progress", args=[pk]),
        reverse("campaigns:export", args=[pk]),
    ]


def test_pec_operators_get_403_everywhere(role_client) -> None:
    campaign = sent_campaign(2)
    client = role_client("PEC operators")
    for url in campaign_urls(campaign.pk):
        assert client.get(url).status_code == 403, url


def test_admins_can_open_everything(role_client) -> None:
    campaign = sent_campaign(2)
    client = role_client("Admins")
    for url in campaign_urls(campaign.pk):
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_login(client) -> None:
    campaign = sent_campaign(2)
    for url in campaign_urls(campaign.pk):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- links to the compose flow ------------------------------------------------
def test_buttons_follow_the_campaign_status(marketing) -> None:
    draft = CampaignFactory()
    scheduled = CampaignFactory(
        status=CampaignStatus.SCHEDULED, scheduled_at=timezone.now()
    )
    sent = sent_campaign(1)
    page = marketing.get(reverse("campaigns:detail", args=[draft.pk])).content
    assert reverse("campaigns:edit", args=[draft.pk]).encode() in page
    assert reverse("campaigns:review", args=[draft.pk]).encode() in page
    page = marketing.get(reverse("campaigns:detail", args=[scheduled.pk])).content
    assert reverse("campaigns:cancel", args=[scheduled.pk]).encode() in page
    assert reverse("campaigns:edit", args=[scheduled.pk]).encode() not in page
    page = marketing.get(reverse("campaigns:detail", args=[sent.pk])).content
    for name in ("edit", "review", "cancel"):
        assert reverse(f"campaigns:{name}", args=[sent.pk]).encode() not in page


def test_new_campaign_buttons_per_channel(marketing) -> None:
    html = marketing.get(reverse("campaigns:list")).content.decode()
    for channel in ("email", "sms", "voice"):
        assert f'{reverse("campaigns:create")}?channel={channel}"' in html
