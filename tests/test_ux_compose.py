"""Compose: the only account preselected, a review that shows the message and says
what the button does, and "Duplicate" on every campaign page."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.models import Campaign, CampaignStatus
from partnerhub.audit import Action, AuditEntry
from partnerhub.models import ProviderAccount
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def account_options(html: str) -> list[str]:
    select = html.split('name="account"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option[^>]*>", select)


# --- the only account is preselected ----------------------------------------------
def test_the_only_account_is_selected_and_the_first_save_succeeds(marketing) -> None:
    account = AccountFactory(provider="sms", credits=Decimal(10))
    audience = audience_with(2)
    url = reverse("campaigns:create") + "?channel=sms"
    options = account_options(marketing.get(url).content.decode())
    assert options == [f'<option value="{account.pk}" selected>']
    # What the browser posts from that page, the user having touched only the
    # name, audience and text:
    response = marketing.post(
        url,
        {
            "name": "Soldes",
            "account": account.pk,
            "audience": audience.pk,
            "text": "Les soldes commencent",
            "add_stop": "on",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert Campaign.objects.get().account == account


def test_several_accounts_still_ask_which_one_pays(marketing, settings) -> None:
    settings.DEBUG = True  # the demo's derived key encrypts the sub-account's key
    main = AccountFactory(provider="sms")
    ProviderAccount.objects.create(
        provider="sms", parent=main, name="Agence Lyon", encrypted_api_key="stored"
    )
    page = marketing.get(reverse("campaigns:create") + "?channel=sms").content
    options = account_options(page.decode())
    assert options[0] == '<option value="" selected>'
    assert len(options) == 3


# --- review shows the message and the action --------------------------------------
def test_email_review_shows_the_sanitised_html_in_a_sandboxed_frame(marketing) -> None:
    campaign = CampaignFactory(
        audience=audience_with(2),
        html="<p>Bonjour Claire</p><script>alert(1)</script>"
        "<a href='#UNSUBSCRIBE_LINK#'>stop</a>",
    )
    page = marketing.get(reverse("campaigns:review", args=[campaign.pk])).content
    page = page.decode()
    frame = page.split('id="preview-frame"', 1)[1].split("></iframe>", 1)[0]
    assert frame.startswith(' class="ph-review-frame" sandbox title=')
    assert "Bonjour Claire" in frame
    assert "script" not in frame
    assert "The message as recipients will see it" in page


def test_sms_and_voice_reviews_show_the_text(marketing) -> None:
    sms = CampaignFactory(
        channel="sms", audience=audience_with(1), text="Promo -20% STOP au 36180"
    )
    voice = CampaignFactory(
        channel="voice", sender="", audience=audience_with(1), text="Bonjour, ici"
    )
    sms_page = marketing.get(reverse("campaigns:review", args=[sms.pk])).content
    voice_page = marketing.get(reverse("campaigns:review", args=[voice.pk])).content
    assert b'id="review-sms-text">Promo -20% STOP au 36180</p>' in sms_page
    assert b'id="review-voice-text">Bonjour, ici</blockquote>' in voice_page


def confirm_button(page: str) -> str:
    return page.split('id="confirm-button"', 1)[1].split("</button>", 1)[0]


def test_the_final_button_says_what_will_happen(marketing) -> None:
    AccountFactory(provider="mail", credits=Decimal(100))
    many = CampaignFactory(audience=audience_with(44))
    one = CampaignFactory(audience=audience_with(1))
    button = confirm_button(
        marketing.get(reverse("campaigns:review", args=[many.pk])).content.decode()
    )
    assert button.endswith(">Send to 44 recipients now")
    assert (
        'data-label-later="Schedule the send to 44 recipients on %(date)s at '
        '%(time)s"' in button
    )
    single = confirm_button(
        marketing.get(reverse("campaigns:review", args=[one.pk])).content.decode()
    )
    assert single.endswith(">Send to 1 recipient now")


def test_the_final_button_in_french(marketing, settings) -> None:
    settings.LANGUAGE_CODE = "fr"
    AccountFactory(provider="mail", credits=Decimal(100))
    campaign = CampaignFactory(audience=audience_with(44))
    with translation.override("fr"):
        page = marketing.get(
            reverse("campaigns:review", args=[campaign.pk]),
            HTTP_ACCEPT_LANGUAGE="fr",
        ).content.decode()
    button = html.unescape(confirm_button(page))
    assert button.endswith(">Envoyer à 44 destinataires maintenant")
    assert "Programmer l'envoi à 44 destinataires le %(date)s à %(time)s" in button


def test_a_bound_schedule_keeps_the_schedule_wording(marketing) -> None:
    campaign = CampaignFactory(audience=audience_with(3))
    response = marketing.post(
        reverse("campaigns:review", args=[campaign.pk]), {"mode": "later"}
    )
    assert confirm_button(response.content.decode()).endswith(
        ">Schedule the send to 3 recipients"
    )


# --- duplicate ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "status",
    [
        CampaignStatus.DRAFT,
        CampaignStatus.SENT,
        CampaignStatus.CANCELLED,
        CampaignStatus.FAILED,
    ],
)
def test_every_campaign_page_offers_duplicate(marketing, status) -> None:
    campaign = CampaignFactory(audience=audience_with(1), status=status)
    action = reverse("campaigns:duplicate", args=[campaign.pk])
    detail = marketing.get(reverse("campaigns:detail", args=[campaign.pk])).content
    edit = marketing.get(reverse("campaigns:edit", args=[campaign.pk])).content
    assert f'action="{action}"'.encode() in detail
    assert f'action="{action}"'.encode() in edit  # the draft form or the locked page


def test_duplicate_makes_a_draft_through_the_service_and_opens_it(marketing) -> None:
    campaign = CampaignFactory(
        audience=audience_with(2), status=CampaignStatus.FAILED, subject="Soldes"
    )
    response = marketing.post(reverse("campaigns:duplicate", args=[campaign.pk]))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response.url == reverse("campaigns:edit", args=[copy.pk])
    assert (copy.status, copy.subject) == (CampaignStatus.DRAFT, "Soldes")
    assert copy.name == f"{campaign.name} (copy)"
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_DUPLICATED)
    assert entry.details["from"] == campaign.pk


def test_duplicate_needs_post_and_the_compose_permissions(
    marketing, role_client
) -> None:
    campaign = CampaignFactory(audience=audience_with(1))
    url = reverse("campaigns:duplicate", args=[campaign.pk])
    assert marketing.get(url).status_code == 405
    assert role_client("PEC operators").post(url).status_code == 403
    assert Campaign.objects.count() == 1


def test_duplicate_of_a_campaign_whose_account_was_disabled_says_why(
    marketing,
) -> None:
    campaign = CampaignFactory(audience=audience_with(1), status=CampaignStatus.SENT)
    campaign.account.is_active = False
    campaign.account.save()
    response = marketing.post(
        reverse("campaigns:duplicate", args=[campaign.pk]), follow=True
    )
    assert "could not be duplicated" in response.content.decode()
    assert Campaign.objects.count() == 1
