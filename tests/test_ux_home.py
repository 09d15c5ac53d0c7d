"""Home: a dashboard for Marketing (quick actions, last campaigns with their delivery
rate, the existing cards), the model list folded away, one navigation per page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import DeliveryStatus
from tests.campaign_factories import CampaignFactory
from tests.test_campaign_pages import sent_campaign

pytestmark = pytest.mark.django_db


def home(client) -> str:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_marketing_home_is_a_dashboard(role_client) -> None:
    sent_campaign(
        4,
        name="Soldes d'été",
        settled_at=timezone.now(),
        statuses=[DeliveryStatus.DELIVERED] * 3 + [DeliveryStatus.NOT_DELIVERED],
    )
    CampaignFactory(name="Brouillon SMS", channel="sms")
    page = home(role_client("Marketing"))
    create = reverse("campaigns:create")
    for channel in ("email", "sms", "voice"):
        assert f'href="{create}?channel={channel}"' in page
    assert f'href="{reverse("audiences:list")}">Import recipients' in page
    recent = page.split("Last campaigns", 1)[1].split("</section>", 1)[0]
    assert "Soldes d&#x27;été" in recent and "Brouillon SMS" in recent
    assert "75.0%" in recent  # its delivery rate, as the campaign list shows it
    # The cards other work added are still there.
    for title in ("Credits", "Campaigns in flight", "Failed campaigns", "Unsubscribed"):
        assert title in page
    # The list of models is a folded menu, not the page; no "Recent actions".
    assert '<details class="ph-panel ph-backoffice">' in page
    assert page.index("ph-backoffice") > page.index("ph-cards")
    assert "Recent actions" not in page


def test_home_without_campaigns_invites_to_create_one(role_client) -> None:
    page = home(role_client("Marketing"))
    assert "No campaign yet: create the first one" in page


def test_pec_operators_get_no_campaign_actions_or_panel(role_client) -> None:
    page = home(role_client("PEC operators"))
    assert "Last campaigns" not in page
    assert "?channel=email" not in page


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("Marketing", "/campaigns/"),
        ("Marketing", "/audiences/"),
        ("Marketing", "/unsubscribes/"),
        ("PEC operators", "/pec/"),
        ("Admins", "/pec/"),
        ("Admins", "/campaigns/"),
    ],
)
def test_product_pages_show_one_navigation(role_client, role, url) -> None:
    page = role_client(role).get(url).content.decode()
    assert 'class="ph-nav"' in page
    assert 'id="nav-sidebar"' not in page


def test_admin_pages_keep_the_model_sidebar(role_client) -> None:
    page = role_client("Admins").get("/admin/campaigns/campaign/").content.decode()
    assert 'id="nav-sidebar"' in page
