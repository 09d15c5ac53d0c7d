"""Leftovers of #16: home cards and page counters through the one formatter, labels
that say what they are for, demo reasons that translate, a first demo sync that
reads sensibly."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.dashboard import campaign_cards
from campaigns.demo.history import HARD_BOUNCE
from campaigns.models import CampaignStatus
from pec.dashboard import mailbox_cards
from tests.campaign_factories import CampaignFactory
from tests.factories import UserFactory
from tests.pec_helpers import mailbox
from unsubscribes.dashboard import unsubscribe_cards
from unsubscribes.models import Source, Unsubscribe

pytestmark = pytest.mark.django_db
GROUPED = {"en": "1,234", "fr": "1\u00a0234"}


def _many_unsubscribes(n: int = 1234) -> None:
    Unsubscribe.objects.bulk_create(
        Unsubscribe(channel="email", address=f"p{i}@example.fr", source=Source.MANUAL)
        for i in range(n)
    )


def _card(cards: list, title: str) -> Any:
    return next(c for c in cards if c.title == title)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_unsubscribe_card_groups_thousands(language: str) -> None:
    _many_unsubscribes()
    with translation.override(language):
        card = unsubscribe_cards(UserFactory())[0]
    assert card.value == GROUPED[language]
    assert card.rows[0][1] == GROUPED[language]


def test_in_flight_card_says_each_state_with_plurals() -> None:
    CampaignFactory(status=CampaignStatus.SENDING)
    with translation.override("fr"):
        card = campaign_cards(UserFactory())[0]
    assert card.value == "1"
    assert card.detail == "1 en cours d'envoi, 0 programmée"
    with translation.override("en"):
        assert campaign_cards(UserFactory())[0].detail == "1 sending, 0 scheduled"


@pytest.mark.parametrize(("language", "shown"), [("en", "0.2%"), ("fr", "0,2\u00a0%")])
def test_pec_card_quota_is_a_localised_percent(language: str, shown: str) -> None:
    user = UserFactory(is_superuser=True)
    box = mailbox(operators=[user])
    box.quota_usage, box.quota_limit = 2078, 1048576  # as the gauge: 0,2 %, not 0 %
    box.save()
    with translation.override(language):
        rows = dict(mailbox_cards(user)[0].rows)
    assert any(shown == value for value in rows.values()), rows


@pytest.mark.parametrize("language", ["en", "fr"])
def test_unsubscribe_page_counts_with_separators(role_client, language) -> None:
    _many_unsubscribes()
    page = role_client("Marketing").get(
        reverse("unsubscribes:list"), HTTP_ACCEPT_LANGUAGE=language
    )
    assert f"· {GROUPED[language]} " in page.content.decode()


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "Hard bounce (provider status: Bounced)."),
        ("fr", "Rejet définitif (statut du fournisseur\u00a0: Bounced)."),
    ],
)
def test_demo_reasons_show_in_the_reader_language(role_client, language, reason):
    Unsubscribe.objects.create(
        channel="email", address="a@example.fr", source=Source.PROVIDER,
        reason=HARD_BOUNCE,
    )  # fmt: skip
    page = role_client("Marketing").get(
        reverse("unsubscribes:list"), HTTP_ACCEPT_LANGUAGE=language
    )
    assert reason in page.content.decode()


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["CSV for Excel (French)", "Standard CSV (commas)"]),
        ("fr", ["CSV pour Excel (français)", "CSV standard (virgules)"]),
    ],
)
def test_audience_exports_say_what_they_are_for(role_client, language, labels):
    from tests.campaign_factories import AudienceFactory

    audience = AudienceFactory()
    page = role_client("Marketing").get(
        reverse("audiences:detail", args=[audience.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    html = page.content.decode()
    assert all(label in html for label in labels)
    assert "(;)" not in html


@pytest.mark.parametrize(
    ("unit", "language", "shown"),
    [
        ("EUR", "fr", "70,47\u00a0€"),
        ("EUR", "en", "70.47\u00a0€"),
        ("emails", "fr", "1\u00a0700\u00a0e-mails"),
    ],
)
def test_audit_cost_carries_its_unit(role_client, unit, language, shown) -> None:
    from partnerhub.audit import Action, record

    cost = "70.470" if unit == "EUR" else "1700"
    record(
        action=Action.CAMPAIGN_SENT,
        target=CampaignFactory(),
        details={"recipients": 3, "cost": cost, "unit": unit},
    )
    page = role_client("Admins").get(
        reverse("audit:list"), HTTP_ACCEPT_LANGUAGE=language
    )
    details = page.content.decode().split('class="au-details">', 1)[1]
    details = details.split("</dl>", 1)[0]
    assert f"<dd>{shown}</dd>" in details
    assert "<dt>unit</dt>" not in details
