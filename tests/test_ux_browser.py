"""Small screens in a real browser: at 390 px the page never scrolls sideways, the
campaign list and the deliveries table scroll inside their panel, the header is
short; at 1440 px the tables fit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with
from tests.factories import PASSWORD, UserFactory
from tests.test_campaign_pages import sent_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = """() => ({
  page: document.documentElement.scrollWidth,
  header: document.querySelector('#header').getBoundingClientRect().height,
  tables: Array.from(document.querySelectorAll('.ph-table-wrap')).map(
    w => [w.clientWidth, w.scrollWidth, getComputedStyle(w).overflowX]),
})"""


def login(page, live_server) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def measure(page, url: str) -> dict:
    page.goto(url)
    page.wait_for_selector("table.ph-table")
    return page.evaluate(WIDTHS)


def test_tables_scroll_inside_their_panel_at_390_px(
    page, live_server, screenshot
) -> None:
    campaign = sent_campaign(30, name="Soldes d'été", settled_at=timezone.now())
    CampaignFactory(name="Relance SMS avec un nom assez long", channel="sms")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server)
    for url, name in (
        ("/campaigns/", "ux-campaigns-390"),
        (f"/campaigns/{campaign.pk}/", "ux-campaign-390"),
    ):
        seen = measure(page, live_server.url + url)
        screenshot(name)
        assert seen["page"] <= 390, url  # nothing is clipped off the page
        assert seen["header"] < 110, url  # brand, user links and sections only
        client_width, scroll_width, overflow = seen["tables"][0]
        assert overflow == "auto"
        assert scroll_width > client_width  # the other columns are a swipe away


def test_tables_fit_at_1440_px(page, live_server) -> None:
    sent_campaign(5, name="Soldes d'été", settled_at=timezone.now())
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server)
    seen = measure(page, live_server.url + "/campaigns/")
    assert seen["page"] <= 1440
    client_width, scroll_width, _ = seen["tables"][0]
    assert scroll_width <= client_width


def test_review_button_follows_the_chosen_time(page, live_server) -> None:
    account = AccountFactory(provider="mail", credits=Decimal(100))
    campaign = CampaignFactory(account=account, audience=audience_with(44))
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/review/")
    button = page.locator("#confirm-button")
    assert button.inner_text() == "Send to 44 recipients now"
    page.check("input[name=mode][value=later]")
    assert button.inner_text() == "Schedule the send to 44 recipients"
    page.fill("input[name=scheduled_at]", "2030-12-02T00:30")
    assert button.inner_text() == (
        "Schedule the send to 44 recipients on 02/12 at 00:30"
    )
    page.check("input[name=mode][value=now]")
    assert button.inner_text() == "Send to 44 recipients now"
