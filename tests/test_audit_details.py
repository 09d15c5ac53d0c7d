"""The audit page shows details in the reader's words, not the stored keys."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from partnerhub.audit import Action, record
from tests.campaign_factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_scheduled_entry_reads_as_a_sentence_in_french(role_client, settings) -> None:
    campaign = CampaignFactory(name="Soldes")
    record(
        action=Action.CAMPAIGN_SCHEDULED,
        target=campaign,
        details={
            "recipients": 1566,
            "cost": "70.470",
            "scheduled_at": "2026-12-05T03:51:40.387969+00:00",
            "deferred": False,
        },
    )
    admins = role_client("Admins")
    admins.cookies["django_language"] = "fr"
    with translation.override("fr"):
        page = admins.get(reverse("audit:list")).content.decode()
    details = page.split('class="au-details">', 1)[1].split("</dl>", 1)[0]
    assert "<dt>Destinataires</dt><dd>1\xa0566</dd>" in details  # grouped
    assert "<dt>Coût estimé</dt><dd>70,47</dd>" in details
    assert "<dt>Prévue le</dt><dd>05/12/2026 04:51</dd>" in details  # Paris time
    assert "<dd>non</dd>" in details
    assert "scheduled_at" not in details and "False" not in details


def test_unknown_keys_are_still_shown(role_client) -> None:
    record(action=Action.ACCOUNT_CHANGED, details={"threshold": "40"})
    page = role_client("Admins").get(reverse("audit:list")).content.decode()
    assert "<dt>threshold</dt><dd>40</dd>" in page
