"""SMS text, encoding, STOP and range as SMS Partner applies them (§2.3)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.channels import Target, adapter_for
from campaigns.models import Campaign, CampaignStatus, SmsEncoding, SmsRange
from campaigns.sms import (
    LOW_COST_STOP,
    STOP_MENTION,
    campaign_sms_length,
    gsm_render,
    sms_length,
)
from campaigns.views.compose import provider_error_message
from partnerhub.providers import errors
from partnerhub.providers.sms_charset import CONFIRMED
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with

pytestmark = pytest.mark.django_db


# --- the table --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Bœuf", "Boeuf"),
        ("« Noël »", "“ Noel “"),  # ë is not GSM-7 (INFERRED: accent dropped)
        ("[promo]", "(promo)"),
        ("a^b~c|d\\e¨f§g", "abcdefg"),
        ("Prix :euro: 5", "Prix € 5"),
        ("l\u2019été", "l'été"),
        ("Soldes 🎉", "Soldes ?"),
    ],
)
def test_gsm_render_applies_the_providers_substitutions(typed, sent):
    assert gsm_render(typed) == sent


def test_the_confirmed_rules_are_exactly_the_spec_examples():
    """providers.md §2.3 lists these; everything else in the table is INFERRED."""
    assert CONFIRMED == {
        "[": "(", "œ": "oe", "«": "“", "»": "“",
        "^": "", "~": "", "|": "", "\\": "", "¨": "", "§": "",
    }  # fmt: skip


def test_sms_length_counts_the_sent_text_and_the_providers_mention():
    assert sms_length("œ" * 80).characters == 160  # one positional argument
    assert sms_length("a" * 147).parts == 1
    stopped = sms_length("a" * 147, provider_stop=True)
    assert (stopped.characters, stopped.parts) == (161, 2)
    assert stopped.text.endswith(f" {STOP_MENTION}")
    assert sms_length("", provider_stop=True).parts == 0  # no mention on nothing


# --- campaigns: estimate, limits, what goes on the wire -----------------------------
def sms_campaign(**fields):
    account = AccountFactory(provider="sms")
    account.credits = Decimal(100)
    account.save()
    return CampaignFactory(
        channel="sms", account=account, audience=audience_with(3), **fields
    )


def test_the_estimate_counts_the_mention_the_provider_appends():
    premium = sms_campaign(text="a" * 147, sms_stop=True)
    assert services.campaign_estimate(campaign=premium).parts == 2
    premium.sms_stop = False
    assert services.campaign_estimate(campaign=premium).parts == 1
    # Low Cost: the mention is in the text already, never appended twice.
    low = sms_campaign(
        text=f"{'a' * 149} {LOW_COST_STOP}", sms_stop=True, sms_range=SmsRange.LOW_COST
    )
    length = campaign_sms_length(low)
    assert (length.characters, length.parts) == (160, 1)
    assert services.campaign_estimate(campaign=low).parts == 1


def test_low_cost_refuses_more_than_one_sms_with_a_clear_message():
    with pytest.raises(ValidationError) as caught:
        services.campaign_create_draft(
            channel="sms",
            name="Low cost",
            account=AccountFactory(provider="sms"),
            audience=audience_with(1),
            text=f"{'a' * 150} {LOW_COST_STOP}",
            sms_range=SmsRange.LOW_COST,
            sms_stop=True,
        )
    [message] = caught.value.message_dict["text"]
    assert "Low Cost sends one SMS only: 161 characters" in message
    assert not Campaign.objects.exists()


def test_the_adapter_sends_range_encoding_and_stop_flags(sandbox_settings):
    premium = sms_campaign(text="Bœuf", sms_stop=True, sms_encoding=SmsEncoding.UNICODE)
    adapter_for(premium).send_batch(
        targets=[Target("+33612345678")], tag="t1", scheduled_at=None
    )
    body = sandbox_settings.requests(provider="sms", path="/send")[-1]["body"]
    assert (body["gamme"], body["isUnicode"], body["isStopSms"]) == (1, 1, 1)
    assert body["message"] == "Bœuf"
    low = sms_campaign(
        text=f"Promo {LOW_COST_STOP}", sms_stop=True, sms_range=SmsRange.LOW_COST
    )
    adapter_for(low).test_send(address="+33612345678")
    body = sandbox_settings.requests(provider="sms", path="/send")[-1]["body"]
    assert body["gamme"] == 2
    assert "isStopSms" not in body and "isUnicode" not in body
    assert body["message"] == f"Promo {LOW_COST_STOP}"


def test_code_42_from_the_provider_reads_as_a_sentence(sandbox_settings):
    """Saved before the rule existed (or edited in the admin): the provider's
    refusal is shown as what to do, not as a bare code."""
    low = sms_campaign(text="a" * 200, sms_range=SmsRange.LOW_COST)
    with pytest.raises(errors.ProviderError) as caught:
        adapter_for(low, interactive=True).test_send(address="+33612345678")
    assert caught.value.code == 42
    message = provider_error_message(caught.value)
    assert "Low Cost SMS is one SMS of 160 characters at most" in message
    not_eligible = errors.AccessDenied("Gamme non éligible", provider="smspartner")
    not_eligible.code = 51
    assert "not eligible for the Low Cost range" in provider_error_message(not_eligible)


def test_migration_moves_the_written_stop_mention_of_drafts_to_the_flag():
    migration = importlib.import_module(
        "campaigns.migrations.0008_sms_encoding_range_and_stop"
    )
    draft = sms_campaign(text="Promo -20% STOP au 36180")
    sent = sms_campaign(text="Promo STOP 36180", status=CampaignStatus.SENT)
    migration.stop_mention_to_flag(apps, None)
    draft.refresh_from_db()
    sent.refresh_from_db()
    assert (draft.text, draft.sms_stop) == ("Promo -20%", True)
    assert (sent.text, sent.sms_stop) == ("Promo STOP 36180", False)


def test_the_stop_help_follows_the_reader_language_not_the_first_request() -> None:
    """A lazy translation %-formatted at import froze the first language seen."""
    from django.utils import translation

    from campaigns.forms import SmsDraftForm

    field = SmsDraftForm.base_fields["add_stop"]
    with translation.override("fr"):
        french = str(field.help_text)
    with translation.override("en"):
        english = str(field.help_text)
    assert english.startswith("Required by law") and "STOP" in english
    assert french.startswith("Obligatoire") and french != english
