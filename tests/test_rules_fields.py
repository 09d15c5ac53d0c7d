"""partnerhub.rules: one home for address normalisation, the SMS sender rule and
the refusal of control characters (issue #12 point 2, issue #17 point 4)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from campaigns import forms as compose_forms
from campaigns import services
from campaigns.forms import EmailDraftForm, SmsDraftForm
from campaigns.models import Campaign, Recipient
from campaigns.sms import GSM7_BASIC, GSM7_EXTENDED
from partnerhub import rules
from partnerhub.csvio import errors
from partnerhub.csvio.pipeline import iter_batches
from partnerhub.csvio.reader import open_csv
from partnerhub.providers.sms_charset import table_for_js
from tests.campaign_factories import AccountFactory, AudienceFactory
from unsubscribes import services as unsubscribe_services
from unsubscribes.models import Unsubscribe

COMPOSE_JS = Path(__file__).resolve().parent.parent / "static/campaigns/compose.js"
CONTROLS = ["\r", "\n", "\x00", "\t", "\u202e", "\u2066", "\u200f", "\x85"]


@pytest.mark.parametrize(
    ("channel", "typed", "stored"),
    [
        ("email", " Gone@Example.FR ", "gone@example.fr"),
        ("sms", "06 12 34 56 78", "+33612345678"),
        ("sms", "+33 (0)6 12 34 56 78", "+33612345678"),
        ("voice", "0033612345678", "+33612345678"),
    ],
)
def test_every_entry_point_stores_the_same_form(channel, typed, stored):
    assert rules.normalize_address(channel=channel, address=typed) == stored
    if channel != "voice":
        assert (
            unsubscribe_services.normalize_address(channel=channel, address=typed)
            == stored
        )
    form = compose_forms.TestSendForm({"address": typed}, channel=channel)
    assert form.is_valid() and form.cleaned_data["address"] == stored


@pytest.mark.parametrize("bad", ["", "nope", "12", "06 12"])
def test_unusable_addresses_are_refused_with_a_message(bad):
    for channel in ("email", "sms"):
        with pytest.raises(ValidationError) as caught:
            rules.normalize_address(channel=channel, address=bad)
        assert caught.value.messages[0] in (
            str(rules.INVALID_EMAIL),
            str(rules.INVALID_PHONE),
        )


@pytest.mark.parametrize("char", CONTROLS)
def test_single_line_fields_refuse_control_characters(char):
    with pytest.raises(ValidationError) as caught:
        rules.validate_single_line(f"Soldes{char}Bcc: x@y.fr")
    assert caught.value.code == "control_characters"
    rules.validate_single_line("Soldes d'hiver — 20 % « remise » é ü 😀")


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["subject", "sender_name", "name"])
def test_draft_service_refuses_header_injection(field):
    account = AccountFactory(provider="mail")
    fields = {
        "subject": "Soldes",
        "sender_name": "Boutique",
        "html": "<p>x</p>",
        field: "Soldes\r\nBcc: everyone@example.fr",
    }
    name = fields.pop("name", "Soldes")
    with pytest.raises(ValidationError) as caught:
        services.campaign_create_draft(
            channel="email",
            name=name,
            account=account,
            audience=AudienceFactory(),
            **fields,
        )
    assert field in caught.value.error_dict
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_compose_form_shows_the_control_character_error_in_place():
    account = AccountFactory(provider="mail")
    form = EmailDraftForm(
        {
            "name": "Soldes",
            "account": account.pk,
            "audience": AudienceFactory().pk,
            "subject": "Soldes\u202egnp.exe",
            "html": "<p>x</p>",
            "sender_name": "Boutique\n",
        },
        instance=Campaign(channel="email"),
    )
    assert not form.is_valid()
    assert set(form.errors) >= {"subject"}


@pytest.mark.django_db
def test_recipient_clean_normalises_and_refuses_bidi_names():
    recipient = Recipient(
        audience=AudienceFactory(), email="Gone@Example.FR", phone="06 12 34 56 78"
    )
    recipient.full_clean()
    assert (recipient.email, recipient.phone) == ("gone@example.fr", "+33612345678")
    recipient.first_name = "\u202eeiralC"
    with pytest.raises(ValidationError) as caught:
        recipient.full_clean()
    assert "first_name" in caught.value.error_dict


@pytest.mark.django_db
def test_unsubscribe_clean_normalises_the_address():
    row = Unsubscribe(channel="sms", address="06 12 34 56 78")
    row.full_clean()
    assert row.address == "+33612345678"


@pytest.mark.django_db
def test_sms_sender_rule_is_the_same_in_form_service_and_model():
    for bad in ("AB", "TWELVECHARSX", "Shop Now", "Bou-tique"):
        with pytest.raises(ValidationError):
            rules.validate_sms_sender(bad)
        form = SmsDraftForm(
            {"sender": bad, "text": "x"}, instance=Campaign(channel="sms")
        )
        form.is_valid()
        assert str(rules.SMS_SENDER_INVALID) in form.errors.get("sender", [])
        with pytest.raises(ValidationError) as caught:
            Campaign(channel="sms", sender=bad).clean()
        assert "sender" in caught.value.error_dict
    rules.validate_sms_sender("Boutique42")


def test_js_copies_of_the_sender_rule_and_gsm_tables_match():
    """compose.js mirrors the sender rule; the GSM table is served to it as JSON
    (no copy in the script), and the browser test compares lengths on samples."""
    source = COMPOSE_JS.read_text()
    sender = re.search(r"var SMS_SENDER = /\^(.*)\$/;", source)
    assert sender and sender.group(1) == rules.SMS_SENDER.pattern
    assert "GSM7_BASIC" not in source and "GSM7_EXTENDED" not in source
    served = table_for_js()
    assert set(served["kept"]) == (GSM7_BASIC | GSM7_EXTENDED | {"“"}) - set(
        "[^~|\\§"
    ) - set("{}]")
    assert set(served["extended"]) == GSM7_EXTENDED


def _import(data: bytes):
    batches = list(iter_batches(open_csv(io.BytesIO(data)), workers=1))
    rows = [row for batch in batches for row in batch.rows]
    errs = [error for batch in batches for error in batch.errors]
    return rows, errs


@pytest.mark.parametrize("char", ["\u202e", "\x0b", "\t"])
def test_csv_import_refuses_control_characters_in_names(char):
    data = (
        "email;first_name;last_name\n"
        f"ok@example.fr;Claire;Martin\n"
        f"bad@example.fr;Cl{char}aire;Martin\n"
        f'bad2@example.fr;Claire;"Mar\r\ntin"\n'
    ).encode()
    rows, errs = _import(data)
    assert [r.email for r in rows] == ["ok@example.fr"]
    assert [(e.line, e.code) for e in errs] == [
        (3, errors.CONTROL_CHARACTERS),
        (4, errors.CONTROL_CHARACTERS),
    ]
    assert errors.message_for(errors.CONTROL_CHARACTERS) != errors.CONTROL_CHARACTERS
