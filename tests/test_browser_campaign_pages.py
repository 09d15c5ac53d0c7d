"""Following campaigns in a real browser: list, campaign page, live progress, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from campaigns import counters
from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from tests.campaign_factories import CampaignFactory
from tests.factories import PASSWORD, UserFactory
from tests.test_campaign_pages import sent_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".ph-cards")  # the dashboard


def test_list_campaign_page_chart_and_csv(page, live_server, screenshot) -> None:
    campaign = sent_campaign(
        120, name="Soldes d'été", settled_at=timezone.now(), tag="soldes"
    )
    CampaignFactory(name="Relance SMS", channel="sms")
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/")
    page.wait_for_selector("table.ph-table")
    assert page.locator(".ph-nav a[aria-current=page]").inner_text() == "Campaigns"
    assert page.locator("table.ph-table tbody tr").count() == 2
    screenshot("campaigns-list")

    page.click("text=Soldes d'été")
    page.wait_for_selector("#campaign-funnel-chart rect")
    assert page.locator("#campaign-funnel-chart rect").count() == 3
    assert page.locator("#campaign-funnel-chart").get_attribute("role") == "img"
    delivered = page.locator(
        "#campaign-counters tr[data-status=delivered] [data-count]"
    )
    assert delivered.inner_text() == "72"
    # 108 of 120 left: the 12 suppressed never did
    assert page.locator("#campaign-progress").get_attribute("value") == "90.0"
    assert page.locator("#deliveries table.ph-table tbody tr").count() == 50
    screenshot("campaign-sent")

    page.select_option("#deliveries select[name=status]", "not_delivered")
    page.click("#deliveries button[type=submit]")
    page.wait_for_url("**status=not_delivered**")
    assert page.locator("#deliveries table.ph-table tbody tr").count() == 24

    with page.expect_download() as info:
        page.click("#export-csv")
    text = info.value.path().read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == 121 and rows[1][0] == "client0@example.fr"
    assert rows[1][6].endswith("+02:00")  # provider date in Paris summer time
    assert campaign.pk


def move(campaign: Campaign, count: int, status: str) -> None:
    """What the dispatcher and the status refresh do, from the test thread."""
    ids = campaign.deliveries.order_by("pk").values_list("pk", flat=True)[:count]
    Delivery.objects.filter(pk__in=list(ids)).update(status=status)
    counters.recount(campaign_id=campaign.pk)  # as their transactions do


def progress_value(page) -> float:
    return float(page.locator("#campaign-progress").get_attribute("value") or 0)


def test_progress_bar_follows_a_sending_campaign(page, live_server, screenshot) -> None:
    campaign = sent_campaign(
        40,
        name="Envoi en cours",
        status=CampaignStatus.SENDING,
        statuses=[DeliveryStatus.PENDING],
        dispatched_at=None,
    )
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    assert progress_value(page) == 0
    assert page.locator("#campaign-live-note").is_visible()

    move(campaign, 10, DeliveryStatus.ACCEPTED)
    page.wait_for_function("document.getElementById('campaign-progress').value === 25")
    move(campaign, 30, DeliveryStatus.ACCEPTED)
    page.wait_for_function("document.getElementById('campaign-progress').value === 75")
    accepted = page.locator("#campaign-counters tr[data-status=accepted] [data-count]")
    assert accepted.inner_text() == "30"
    assert page.locator("[data-field=state_rate]").inner_text() == "pending"
    screenshot("campaign-sending")

    move(campaign, 40, DeliveryStatus.DELIVERED)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SENT,
        dispatched_at=timezone.now(),
        settled_at=timezone.now(),
    )
    page.wait_for_function(
        "document.getElementById('campaign-status').dataset.status === 'sent'"
    )
    assert progress_value(page) == 100
    assert page.locator("#campaign-status").inner_text() == "Sent"
    # the page's words move with it (campaigns/states.py, not the script's own)
    progress_text = page.locator("[data-field=state_progress]").inner_text()
    assert progress_text == "40 messages sent out of 40"
    assert page.locator("[data-field=state_rate]").inner_text() == "100.0%"
    assert not page.locator("#campaign-rate-note").is_visible()
    assert not page.locator("#campaign-live-note").is_visible()  # polling stopped
    funnel = page.locator("#campaign-funnel tr[data-key=delivered] [data-count]")
    assert funnel.inner_text() == "40"
