"""Issue 16: one vocabulary of states and one number format, the same on the
campaign list, the campaign page, its live progress and the deliveries CSV, in
French and in English. One test per wrong state the issue lists."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import counters, services
from campaigns.models import (
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    DispatchBatch,
)
from tests.campaign_factories import AccountFactory, CampaignFactory
from tests.test_campaign_pages import sent_campaign

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"
# 00:30 in Paris on 2 December (winter: UTC+1)
LEAVES_AT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def page(client, campaign: Campaign, lang: str = "fr") -> str:
    url = reverse("campaigns:detail", args=[campaign.pk])
    return client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()


def listing(client, lang: str = "fr") -> str:
    """The rows of the campaign list (not the filters around them)."""
    url = reverse("campaigns:list")
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    return html[html.index("<tbody") : html.index("</tbody>")]


def progress(client, campaign: Campaign, lang: str = "fr") -> dict:
    url = reverse("campaigns:progress", args=[campaign.pk])
    return client.get(url, HTTP_ACCEPT_LANGUAGE=lang).json()["state"]


def text(html: str) -> str:
    """The page's text with entities of apostrophes undone, for readable asserts."""
    return html.replace("&#x27;", "'")


# --- "right after 'Envoyer maintenant' the campaign reads 'Programmée'" --------
def test_send_now_reads_sending_not_scheduled(marketing) -> None:
    campaign = CampaignFactory(
        status=CampaignStatus.SCHEDULED, scheduled_at=timezone.now()
    )
    html = page(marketing, campaign)
    assert ">Envoi en cours</span>" in html
    assert ">Programmée</span>" not in html
    assert 'data-status="scheduled" title="Envoi en cours">Envoi en cours' in (
        listing(marketing)
    )
    assert progress(marketing, campaign, "en")["label"] == "Sending"


# --- "handed to the provider for 00:30 shows '44 envois expédiés sur 44'" -----
def deferred_campaign(n: int = 44) -> Campaign:
    campaign = sent_campaign(
        n,
        status=CampaignStatus.SCHEDULED,
        statuses=[DeliveryStatus.ACCEPTED],
        deferred_at_provider=True,
        scheduled_at=LEAVES_AT,
        dispatched_at=LEAVES_AT - timedelta(minutes=37),
    )
    return campaign


def test_deferred_campaign_is_handed_to_the_provider_with_its_departure(
    marketing,
) -> None:
    campaign = deferred_campaign()
    html = text(page(marketing, campaign))
    assert "Confiée au fournisseur — départ le 02/12 à 00:30" in html
    assert "44 messages confiés au fournisseur, départ le 02/12 à 00:30" in html
    assert "expédiés" not in html and ">Expédiée<" not in html
    assert 'id="campaign-progress" max="100" value="0.0"' in html  # not left yet
    # the timeline names the hand-over and the departure, not a "dispatch"
    assert "Confiée au fournisseur</span> <time" in html
    assert "Départ chez le fournisseur</span> <time" in html
    row = listing(marketing)
    assert ">Confiée au fournisseur</span>" in row
    assert '<span class="ph-when-label">Départ</span> 02/12/2026 00:30' in row
    english = progress(marketing, campaign, "en")
    assert english["summary"] == ("Handed to the provider — leaves on 02/12 at 00:30")


# --- "a cancelled campaign still shows '44 expédiés (100 %)', a real cost,
# and is listed as 'Envoyée'" --------------------------------------------------
def test_campaign_cancelled_at_the_provider_left_nothing_and_cost_nothing(
    marketing,
) -> None:
    campaign = deferred_campaign()
    batch = DispatchBatch.objects.create(
        campaign=campaign, number=1, status="accepted", provider_message_id="m1"
    )
    campaign.deliveries.update(batch=batch)
    services._mark_batch_cancelled(batch)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.CANCELLED, cancelled_at=timezone.now()
    )
    assert counters.current(campaign).cost is None  # the billed cost went back
    html = text(page(marketing, campaign))
    assert "Annulée chez le fournisseur — aucun message envoyé (44 annulés)" in html
    assert "0 message parti sur 44" in html
    assert 'id="cost-actual">—<' in html
    row = listing(marketing)
    assert ">Annulée</span>" in row and "Envoyée" not in row
    assert '<span class="ph-when-label">Annulée</span>' in row


def test_campaign_cancelled_before_dispatch_says_no_message_was_sent(
    marketing,
) -> None:
    campaign = CampaignFactory(
        status=CampaignStatus.CANCELLED, cancelled_at=timezone.now()
    )
    assert "Annulée — aucun message envoyé" in page(marketing, campaign)
    english = progress(marketing, campaign, "en")
    assert english["summary"] == "Cancelled — no message sent"


# --- "a failed one has an 'Expédiée' step"; errors in provider jargon ---------
FAILED_REASON = (
    "The provider refused or kept failing: ProviderUnavailable: mailpartner "
    "unreadable answer (HTTP 500)"
)


def test_failed_campaign_says_what_happened_and_what_to_do(
    marketing, role_client
) -> None:
    campaign = sent_campaign(
        4,
        status=CampaignStatus.FAILED,
        status_reason=FAILED_REASON,
        statuses=[DeliveryStatus.FAILED],
    )
    html = text(page(marketing, campaign))
    assert (
        "Échec — Mail Partner n'a pas répondu correctement (incident de son "
        "côté, erreur 500)."
    ) in html
    assert "Réessayez dans quelques minutes en dupliquant la campagne" in html
    assert "Envoi interrompu (échec)</span>" in html and ">Expédiée<" not in html
    assert "unreadable answer" not in html  # the jargon is for admins only
    admin_html = page(role_client("Admins"), campaign)
    assert "unreadable answer (HTTP 500)" in admin_html
    english = progress(marketing, campaign, "en")
    assert english["summary"] == (
        "Failed — Mail Partner did not answer properly (a fault on its side, "
        "error 500)."
    )


# --- "Voice campaigns show 'Délivré 0,0 %' then 'Inconnu'" --------------------
def test_voice_campaign_says_the_provider_reports_no_call_results(
    marketing,
) -> None:
    campaign = sent_campaign(
        3,
        channel="voice",
        account=AccountFactory(provider="voice", credits_unit="EUR"),
        statuses=[DeliveryStatus.ACCEPTED],
        settled_at=timezone.now(),
    )
    html = text(page(marketing, campaign))
    assert "Voice Partner ne communique pas le résultat des appels." in html
    assert 'data-field="state_rate">—<' in html
    assert 'data-status="delivered"' not in html  # no "Délivré 0,0 %" row
    assert 'data-key="delivered"' not in html  # nor funnel step
    row = listing(marketing)
    assert 'title="Voice Partner ne communique pas le résultat des appels.">—<' in row
    assert progress(marketing, campaign, "en")["rate"] == "—"


# --- "unsettled email campaigns also show '0,0 %'" -----------------------------
def test_unsettled_campaign_shows_pending_not_zero_percent(marketing) -> None:
    campaign = sent_campaign(3, statuses=[DeliveryStatus.ACCEPTED])
    assert 'data-field="state_rate">en attente<' in page(marketing, campaign)
    row = listing(marketing)
    assert ">en attente</span></td>" in row and f"0,0{NBSP}%" not in row
    assert progress(marketing, campaign, "en")["rate"] == "pending"


# --- "An SMS campaign estimated 5,94 € cost 5,02 € with no explanation" --------
def test_estimated_and_actual_cost_are_explained(marketing) -> None:
    campaign = sent_campaign(2, statuses=[DeliveryStatus.DELIVERED])
    Campaign.objects.filter(pk=campaign.pk).update(estimated_cost=Decimal("5.94"))
    CampaignCounts.objects.filter(pk=campaign.pk).update(cost=Decimal("5.02"))
    html = text(page(marketing, campaign))
    assert f'id="cost-estimated">5,94{NBSP}€<' in html
    assert f'id="cost-actual">5,02{NBSP}€<' in html
    assert f"0,92{NBSP}€ de moins que l'estimation." in html
    assert "coût réel est ce que le fournisseur a facturé" in html
    english = text(page(marketing, campaign, "en"))
    assert f"0.92{NBSP}€ less than estimated." in english


# --- numbers: one format on the list, the page and the CSV ---------------------
def big_counts(campaign: Campaign, *, delivered: int, cost: str) -> None:
    CampaignCounts.objects.update_or_create(
        campaign=campaign,
        defaults={"delivered": delivered, "cost": Decimal(cost)},
    )


@pytest.mark.parametrize(
    ("lang", "recipients", "cost", "rate"),
    [
        ("fr", f"1{NBSP}000{NBSP}000", f"1{NBSP}234,57{NBSP}€", f"100,0{NBSP}%"),
        ("en", "1,000,000", f"1,234.57{NBSP}€", "100.0%"),
    ],
)
def test_list_numbers_have_separators_units_and_two_decimals(
    marketing, lang, recipients, cost, rate
) -> None:
    campaign = sent_campaign(0, settled_at=timezone.now())
    big_counts(campaign, delivered=1_000_000, cost="1234.5678")
    row = listing(marketing, lang)
    assert f'<td class="ph-num">{recipients}</td>' in row
    assert f'<td class="ph-num">{rate}</td>' in row
    assert f'<td class="ph-num">{cost}</td>' in row


def test_a_mail_main_account_counts_emails_not_euros(marketing) -> None:
    main = AccountFactory(provider="mail")
    campaign = sent_campaign(0, account=main, settled_at=timezone.now())
    big_counts(campaign, delivered=1_000_000, cost="1000000.000")
    assert f"1{NBSP}000{NBSP}000{NBSP}e-mails</td>" in listing(marketing)
    html = page(marketing, campaign, "en")
    assert f'id="cost-actual">1,000,000{NBSP}e-mails<' in html
    assert "1,000,000 messages sent out of 1,000,000" in html


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [
        ("fr", "1 message parti sur 1", "2 messages partis sur 2"),
        ("en", "1 message sent out of 1", "2 messages sent out of 2"),
    ],
)
def test_counts_use_plural_forms(marketing, lang, one, many) -> None:
    single = sent_campaign(1, statuses=[DeliveryStatus.DELIVERED])
    double = sent_campaign(2, statuses=[DeliveryStatus.DELIVERED])
    assert one in page(marketing, single, lang)
    assert many in page(marketing, double, lang)


def csv_rows(client, campaign: Campaign, lang: str, **query) -> list[list[str]]:
    url = reverse("campaigns:export", args=[campaign.pk])
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=lang)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    delimiter = "," if query.get("delimiter") == "comma" else ";"
    return list(csv.reader(io.StringIO(body), delimiter=delimiter))


def sms_deliveries() -> Campaign:
    campaign = sent_campaign(
        2, statuses=[DeliveryStatus.DELIVERED, DeliveryStatus.NOT_DELIVERED]
    )
    Delivery.objects.filter(campaign=campaign).update(cost=Decimal("0.0450"))
    Delivery.objects.filter(campaign=campaign, status="not_delivered").update(
        provider_status="Bounced"
    )
    return campaign


@pytest.mark.parametrize(
    ("lang", "query", "expected"),
    [
        (
            "fr",
            {},
            ["Coût (€)", "Délivré", "0,045", "Rejeté par le destinataire", "serveur"],
        ),
        (
            "en",
            {"delimiter": "comma"},
            ["Cost (€)", "Delivered", "0.045", "Bounced", "mail server refused"],
        ),
    ],
)
def test_csv_has_the_pages_words_and_a_number_excel_reads(
    marketing, lang, query, expected
) -> None:
    header, first, second = csv_rows(marketing, sms_deliveries(), lang, **query)
    cost_header, delivered, price, bounced, reason = expected
    assert header[5] == cost_header
    assert first[4] == delivered and first[5] == price
    assert second[4] == bounced and reason in second[7]


def test_voice_and_list_words_match_the_progress_poll(marketing) -> None:
    """The live poll speaks the page's words (no "expédiés" creeping back)."""
    campaign = deferred_campaign(3)
    state = progress(marketing, campaign)
    assert state["label"] == "Confiée au fournisseur"
    assert state["progress"].startswith("3 messages confiés au fournisseur")
    html = page(marketing, campaign)
    assert f">{state['progress']}</span>" in html


def test_admin_lists_show_balances_with_units_and_the_pages_state_words(
    admin_client,
) -> None:
    AccountFactory(provider="mail", credits=Decimal("1000000.000"))
    deferred_campaign(1)
    url = reverse("admin:partnerhub_provideraccount_changelist")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"1{NBSP}000{NBSP}000{NBSP}e-mails" in html
    assert "1000000" not in html
    url = reverse("admin:campaigns_campaign_changelist")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Confiée au fournisseur" in html
