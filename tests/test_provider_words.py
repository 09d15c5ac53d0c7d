"""Issue 16, words: provider errors told as what happened and what to do, provider
statuses and bounce reasons translated, plural forms, and French admin pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns import dispatch
from campaigns.models import Delivery, DeliveryStatus, DispatchBatch
from partnerhub.provider_messages import explain, status_label, technical
from partnerhub.providers import errors
from tests.campaign_factories import audience_with
from tests.test_campaign_pages import sent_campaign

pytestmark = pytest.mark.django_db

UNREADABLE = errors.ProviderUnavailable(
    "unreadable answer (HTTP 500)", provider="mailpartner", status=500
)
NO_CREDIT = errors.InsufficientCredits(
    "Crédit insuffisant", provider="smspartner", code=11
)


@pytest.mark.parametrize(
    ("exc", "lang", "sentence", "advice"),
    [
        (
            UNREADABLE,
            "en",
            "Mail Partner did not answer properly (a fault on its side, error 500).",
            "No message was lost.",
        ),
        (
            UNREADABLE,
            "fr",
            "Mail Partner n'a pas répondu correctement (incident de son côté, "
            "erreur 500).",
            "Aucun message n'est perdu.",
        ),
        (
            NO_CREDIT,
            "fr",
            "Crédit insuffisant sur le compte SMS Partner.",
            "Ajoutez du crédit au compte fournisseur",
        ),
        (
            errors.InvalidApiKey("bad key", provider="voicepartner", code=10),
            "en",
            "Voice Partner refused the API key of the provider account.",
            "An admin must check the key",
        ),
        (
            errors.HostUnreachable("Connection refused", provider="smspartner"),
            "fr",
            "PartnerHub n'a pas pu joindre SMS Partner.",
            "Rien n'a été envoyé.",
        ),
    ],
)
def test_provider_errors_become_sentences_with_what_to_do(
    exc, lang, sentence, advice
) -> None:
    stored = technical(exc)
    with translation.override(lang):
        told = explain(stored)
    assert told.sentence == sentence
    assert told.advice.startswith(advice)
    assert told.detail == stored  # the jargon is kept for admins and logs


def test_reasons_stored_before_the_type_prefix_are_still_explained() -> None:
    with translation.override("en"):
        told = explain("mailpartner unreadable answer (HTTP 502)")
    assert told.sentence.startswith("Mail Partner did not answer properly")
    assert "error 502" in told.sentence


def test_a_reason_partnerhub_wrote_itself_is_shown_as_it_is() -> None:
    told = explain("No final status from the provider within 48 hours.")
    assert str(told) == "No final status from the provider within 48 hours."


def test_dispatch_stores_the_type_so_the_page_can_explain_it(role_client) -> None:
    campaign = sent_campaign(2, statuses=[DeliveryStatus.PENDING])
    batch = DispatchBatch.objects.create(campaign=campaign, number=1, size=2)
    campaign.deliveries.update(batch=batch)
    dispatch.refuse(batch, NO_CREDIT)
    assert set(campaign.deliveries.values_list("error", flat=True)) == {
        "InsufficientCredits: smspartner Crédit insuffisant (code 11)"
    }
    url = reverse("campaigns:detail", args=[campaign.pk])
    html = role_client("Marketing").get(url, HTTP_ACCEPT_LANGUAGE="fr")
    html = html.content.decode().replace("&#x27;", "'")
    assert "Crédit insuffisant sur le compte SMS Partner." in html
    assert "(code 11)" not in html


def test_provider_statuses_and_bounce_reasons_are_translated(role_client) -> None:
    campaign = sent_campaign(
        2, statuses=[DeliveryStatus.DELIVERED, DeliveryStatus.NOT_DELIVERED]
    )
    Delivery.objects.filter(campaign=campaign, status="not_delivered").update(
        provider_status="Bounced"
    )
    url = reverse("campaigns:detail", args=[campaign.pk])
    html = role_client("Marketing").get(url, HTTP_ACCEPT_LANGUAGE="fr")
    html = html.content.decode().replace("&#x27;", "'")
    assert "<td >Délivré</td>" in html and "<td >Delivered</td>" not in html
    assert "<td >Rejeté par le destinataire</td>" in html
    assert "Le serveur de messagerie du destinataire a refusé l'e-mail" in html
    with translation.override("en"):
        assert status_label("UNDELIV") == "Not delivered"
        assert status_label("Numéro introuvable") == "Numéro introuvable"


@pytest.mark.parametrize(
    ("size", "unsubscribed", "recipients_words", "unsubscribed_words"),
    [
        (1, 1, "1</span> destinataire<", "1</span> désinscrit (conservé"),
        (2, 2, "2</span> destinataires<", "2</span> désinscrits (conservés"),
    ],
)
def test_audience_counts_use_plural_forms(
    role_client, size, unsubscribed, recipients_words, unsubscribed_words
) -> None:
    from unsubscribes.services import unsubscribe_add

    audience = audience_with(size)
    for recipient in audience.recipients.all()[:unsubscribed]:
        unsubscribe_add(channel="email", address=recipient.email, source="manual")
    url = reverse("audiences:detail", args=[audience.pk])
    html = role_client("Marketing").get(url, HTTP_ACCEPT_LANGUAGE="fr")
    html = html.content.decode()
    assert recipients_words in html and unsubscribed_words in html


def test_admin_add_page_reads_like_a_product_in_french(admin_client) -> None:
    url = reverse("admin:campaigns_audience_add")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ajout de audience" not in html
    assert "Ajouter\u00a0: audience" in html


def test_task_pages_are_in_french(admin_client) -> None:
    url = reverse("admin:django_q_schedule_changelist")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Tâches planifiées" in html
    from django.utils import timezone
    from django_q.models import Task

    now = timezone.now()
    Task.objects.create(
        id="a" * 32, name="n", func="f", started=now, stopped=now, success=True
    )
    url = reverse("admin:django_q_success_changelist")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Durée" in html and "Time Taken" not in html
    assert "Relancer les tâches sélectionnées" in html
