"""Merge fields: what a text uses, what an audience offers, checks and rendering,
and the compose page's fallbacks, sample recipients and test send."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns import merge_fields, services
from campaigns.models import Campaign
from tests.campaign_factories import (
    AccountFactory,
    AudienceFactory,
    CampaignFactory,
    RecipientFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def audience_with_columns():
    audience = AudienceFactory()
    RecipientFactory(
        audience=audience,
        first_name="Léa",
        attributes={"ville": "Lyon", "code postal": "69001"},
    )
    RecipientFactory(audience=audience, first_name="", attributes={"ville": ""})
    RecipientFactory(audience=audience, first_name="Hugo", attributes={})
    return audience


def test_placeholders_are_read_once_in_order_and_provider_ones_left_to_it():
    text = "#FIRSTNAME# #VILLE# #FIRSTNAME# #UNSUBSCRIBE_LINK# #lower# #A B#"
    assert merge_fields.placeholders(text, "email") == ["FIRSTNAME", "VILLE"]
    assert merge_fields.placeholders(text, "sms") == [
        "FIRSTNAME",
        "VILLE",
        "UNSUBSCRIBE_LINK",
    ]


def test_render_fills_known_fields_and_leaves_the_others():
    text = "Bonjour #FIRSTNAME#, #UNSUBSCRIBE_LINK# #OTHER#"
    filled = merge_fields.render(text, {"FIRSTNAME": "Léa"})
    assert filled == "Bonjour Léa, #UNSUBSCRIBE_LINK# #OTHER#"


def test_imported_columns_become_upper_case_fields_without_accents():
    assert merge_fields.field_name("code postal") == "CODE_POSTAL"
    assert merge_fields.field_name("Prénom d'usage") == "PRENOM_D_USAGE"
    fields = merge_fields.audience_fields(audience_with_columns())
    assert fields == {
        "FIRSTNAME": "first_name",
        "LASTNAME": "last_name",
        "CODE_POSTAL": "attr:code postal",
        "VILLE": "attr:ville",
    }


def test_an_unknown_merge_field_is_refused_with_the_available_ones():
    audience = audience_with_columns()
    with pytest.raises(ValidationError) as exc:
        services.campaign_create_draft(
            channel="sms",
            name="x",
            account=AccountFactory(provider="sms"),
            audience=audience,
            sender="Boutique",
            text="Bonjour #PRENOM# de #VILLE#",
        )
    message = exc.value.message_dict["text"][0]
    assert message == (
        "#PRENOM# is not a merge field of this audience. Available: "
        "#FIRSTNAME#, #LASTNAME#, #CODE_POSTAL#, #VILLE#."
    )
    assert not Campaign.objects.exists()


def test_an_email_may_use_the_providers_placeholders_but_at_most_8_fields():
    audience = AudienceFactory()
    RecipientFactory(audience=audience, attributes={f"c{i}": "x" for i in range(9)})
    fields = "".join(f"#C{i}#" for i in range(9))
    common = {
        "channel": "email",
        "name": "x",
        "account": AccountFactory(provider="mail"),
        "audience": audience,
        "subject": "Pour #FIRSTNAME#",
    }
    services.campaign_create_draft(html="<a href='#UNSUBSCRIBE_LINK#'>x</a>", **common)
    with pytest.raises(ValidationError) as exc:
        services.campaign_create_draft(html=fields, **common)
    assert "at most 8 different merge fields" in exc.value.message_dict["html"][0]


def test_values_use_the_fallback_when_empty():
    audience = audience_with_columns()
    campaign = CampaignFactory(
        channel="sms",
        audience=audience,
        text="#FIRSTNAME# #VILLE#",
        merge_fallbacks={"FIRSTNAME": "ami", "VILLE": "France"},
    )
    lea, empty, hugo = audience.recipients.order_by("id")
    assert merge_fields.recipient_values(campaign, lea) == {
        "FIRSTNAME": "Léa",
        "VILLE": "Lyon",
    }
    assert merge_fields.recipient_values(campaign, empty) == {
        "FIRSTNAME": "ami",
        "VILLE": "France",
    }
    assert merge_fields.recipient_values(campaign, hugo)["VILLE"] == "France"
    reachable = audience.recipients.all()
    assert merge_fields.empty_counts(campaign, reachable) == {
        "FIRSTNAME": 1,
        "VILLE": 2,
    }


def test_a_campaign_without_merge_fields_keeps_the_plain_path():
    campaign = CampaignFactory(html="<p>Bonjour</p>#UNSUBSCRIBE_LINK#", subject="x")
    assert merge_fields.plan_for(campaign) is None
    assert not merge_fields.is_personalised(campaign)


def test_audience_summary_counts_empty_values_in_a_constant_number_of_queries(
    django_assert_max_num_queries,
):
    audience = audience_with_columns()
    with django_assert_max_num_queries(3):
        summary = merge_fields.audience_summary(audience, "email", samples=2)
    assert summary.total == 3
    assert summary.empty == {
        "FIRSTNAME": 1,
        "LASTNAME": 0,
        "CODE_POSTAL": 2,
        "VILLE": 2,
    }
    assert [s.values["FIRSTNAME"] for s in summary.samples] == ["Léa", ""]


def test_merge_fields_json_answers_the_audience_fields(marketing):
    audience = audience_with_columns()
    url = reverse("campaigns:merge_fields")
    data = marketing.get(url, {"channel": "sms", "audience": audience.pk}).json()
    assert data["fields"] == ["FIRSTNAME", "LASTNAME", "CODE_POSTAL", "VILLE"]
    assert data["empty"]["VILLE"] == 2 and data["total"] == 3
    assert data["samples"][0]["values"]["VILLE"] == "Lyon"
    assert marketing.get(url, {"channel": "fax", "audience": 1}).status_code == 400


def test_merge_fields_json_needs_the_compose_permissions(role_client):
    client = role_client("PEC operators")
    url = reverse("campaigns:merge_fields")
    assert client.get(url, {"channel": "sms", "audience": 1}).status_code == 403


def test_compose_saves_the_fallbacks_and_shows_the_fields(marketing):
    audience = audience_with_columns()
    account = AccountFactory(provider="sms")
    data = {
        "name": "SMS",
        "account": account.pk,
        "audience": audience.pk,
        "sender": "Boutique",
        "text": "Bonjour #FIRSTNAME#",
        "action": "save",
        "merge_panel": "1",
        "fallback-FIRSTNAME": "  cher\n client ",
        "fallback-VILLE": "",
        "fallback-bad name": "x",
    }
    url = reverse("campaigns:create") + "?channel=sms"
    response = marketing.post(url, data)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.merge_fallbacks == {"FIRSTNAME": "cher client"}
    page = marketing.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    assert 'data-field="CODE_POSTAL"' in page
    assert 'name="fallback-FIRSTNAME" value="cher client"' in page
    copy = services.campaign_duplicate(campaign=campaign)
    assert copy.merge_fallbacks == {"FIRSTNAME": "cher client"}


def test_test_send_uses_the_chosen_sample_recipient(
    marketing, sandbox_settings, sandbox
):
    audience = audience_with_columns()
    campaign = CampaignFactory(
        channel="sms",
        audience=audience,
        text="Bonjour #FIRSTNAME# de #VILLE#",
        merge_fallbacks={"VILLE": "France"},
    )
    hugo = audience.recipients.get(first_name="Hugo")
    data = {
        "name": campaign.name,
        "account": campaign.account.pk,
        "audience": audience.pk,
        "sender": campaign.sender,
        "text": campaign.text,
        "merge_panel": "1",
        "fallback-VILLE": "France",
        "test-address": "0612345678",
        "test-sample": str(hugo.pk),
    }
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), data)
    assert response.status_code == 302
    assert f"?sample={hugo.pk}" in response["Location"]
    assert sandbox.messages("sms") == {"+33612345678": ["Bonjour Hugo de France"]}
    # without a choice, the audience's first recipient
    services.campaign_test_send(campaign=campaign, address="0612345679")
    assert sandbox.messages("sms")["+33612345679"] == ["Bonjour Léa de Lyon"]


def test_review_shows_the_first_recipients_text_and_who_gets_a_fallback(marketing):
    audience = audience_with_columns()
    account = AccountFactory(provider="sms", credits=100)
    campaign = CampaignFactory(
        channel="sms",
        account=account,
        audience=audience,
        text="Bonjour #FIRSTNAME# de #VILLE#",
        merge_fallbacks={"FIRSTNAME": "ami"},
    )
    page = marketing.get(reverse("campaigns:review", args=[campaign.pk]))
    text = page.content.decode()
    assert "Personalised with #FIRSTNAME#, #VILLE#" in text
    assert "For Léa Martin: “Bonjour Léa de Lyon”" in text
    assert "1 recipient has no value for #FIRSTNAME#: they get “ami”." in text
    assert "2 recipients have no value for #VILLE# and it has no fallback" in text


def test_review_phone_shows_the_first_recipients_text_as_the_provider_sends_it(
    marketing,
):
    """The phone bubble on the review page is that recipient's own text after the
    GSM substitutions, not the template with its placeholders."""
    audience = audience_with_columns()
    account = AccountFactory(provider="sms", credits=100)
    campaign = CampaignFactory(
        channel="sms",
        account=account,
        audience=audience,
        text="Bœuf pour #FIRSTNAME#",
        merge_fallbacks={"FIRSTNAME": "ami"},
    )
    page = marketing.get(reverse("campaigns:review", args=[campaign.pk]))
    bubble = page.content.decode().split('id="review-sms-text">')[1].split("</p>")[0]
    assert bubble.startswith("Boeuf pour Léa") and "#FIRSTNAME#" not in bubble
