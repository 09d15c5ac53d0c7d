"""Personalised campaigns end to end: the live sandbox receives each recipient's text.

Email: recipients grouped by their values, one `variables` set per request; SMS:
each number its own text through `/bulk-send`; voice: one text per request. The
sandbox's `/_sandbox/messages` says what each address received, and how often.
"""

from __future__ import annotations

from collections import Counter

import pytest

from campaigns import dispatch, services
from campaigns.models import CampaignStatus, DeliveryStatus
from tests.campaign_factories import AudienceFactory, CampaignFactory, RecipientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
NAMES = ["Léa", "Hugo", "", "Chloé", "Jules"]


@pytest.fixture(autouse=True)
def _live(sandbox_settings, settings):
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0


def named_audience(n, *, city_every=3):
    """`n` recipients, first names cycling through NAMES (one in five empty)."""
    audience = AudienceFactory()
    for i in range(n):
        RecipientFactory(
            audience=audience,
            first_name=NAMES[i % len(NAMES)],
            last_name=f"Nom{i % 7}",
            attributes={"ville": "Lyon"} if i % city_every == 0 else {},
        )
    return audience


def expected_name(recipient):
    return recipient.first_name or "ami"


def test_personalised_email_sends_each_recipient_their_own_first_name(sandbox):
    audience = named_audience(1200)
    campaign = CampaignFactory(
        audience=audience,
        subject="Bonjour #FIRSTNAME#",
        html="<p>Bonjour #FIRSTNAME# de #VILLE#</p><a href='#UNSUBSCRIBE_LINK#'>x</a>",
        merge_fallbacks={"FIRSTNAME": "ami", "VILLE": "France"},
    )
    services.campaign_send(campaign=campaign)
    result = dispatch.dispatch(campaign.pk)
    assert result.status == CampaignStatus.SENT
    received = sandbox.messages("mail")
    assert len(received) == 1200
    for r in audience.recipients.all():
        assert received[r.email] == [f"Bonjour {expected_name(r)}"]
    # one request per (first name, city) group of at most 500: 10 groups here
    sends = sandbox.requests(provider="mail", path="/send")
    assert len(sends) == result.batches_sent == 10
    stored = [b.merge_values for b in campaign.batches.all()]
    assert {"FIRSTNAME": "ami", "VILLE": "France"} in stored
    assert {"FIRSTNAME": "Léa", "VILLE": "Lyon"} in stored


def test_personalised_sms_sends_each_number_its_own_text_via_bulk_send(sandbox):
    audience = named_audience(620)
    campaign = CampaignFactory(
        channel="sms",
        audience=audience,
        text="Bonjour #FIRSTNAME#, -20% ce week-end. STOP au 36180",
        merge_fallbacks={"FIRSTNAME": "ami"},
    )
    estimate = services.campaign_estimate(campaign=campaign)
    assert estimate.parts == 1
    services.campaign_send(campaign=campaign)
    result = dispatch.dispatch(campaign.pk)
    assert (result.status, result.batches_sent) == (CampaignStatus.SENT, 2)
    assert sandbox.requests(provider="sms", path="/send") == []
    assert len(sandbox.requests(provider="sms", path="/bulk-send")) == 2
    received = sandbox.messages("sms")
    for r in audience.recipients.all():
        expected = f"Bonjour {expected_name(r)}, -20% ce week-end. STOP au 36180"
        assert received[r.phone] == [expected]
    counts = Counter(campaign.deliveries.values_list("status", flat=True))
    assert counts == {DeliveryStatus.ACCEPTED: 620}


def test_sms_estimate_counts_each_recipients_own_parts(sandbox):
    audience = AudienceFactory()
    RecipientFactory(audience=audience, first_name="Al")
    RecipientFactory(audience=audience, first_name="Ă" * 5)  # Unicode: 70 a part
    text = "x" * 60 + " #FIRSTNAME#"
    campaign = CampaignFactory(
        channel="sms", audience=audience, text=text, sms_encoding="unicode"
    )
    estimate = services.campaign_estimate(campaign=campaign)
    # Unicode (70 a part): 63 and 66 characters, one part each
    assert (estimate.parts, estimate.recipients) == (1, 2)
    campaign.text = "x" * 66 + " #FIRSTNAME#"
    estimate = services.campaign_estimate(campaign=campaign)
    assert estimate.parts == 2  # 72 Unicode characters for the second one
    assert estimate.cost == services.unit_cost("sms") * 3


def test_personalised_voice_groups_numbers_by_their_text(sandbox):
    audience = named_audience(10)
    campaign = CampaignFactory(
        channel="voice", audience=audience, text="Bonjour #FIRSTNAME#",
        merge_fallbacks={"FIRSTNAME": "cher client"},
    )  # fmt: skip
    services.campaign_send(campaign=campaign)
    assert dispatch.dispatch(campaign.pk).status == CampaignStatus.SENT
    texts = sorted(r["body"]["text"] for r in sandbox.requests("voice", "/tts/send"))
    assert texts == [
        f"Bonjour {n}" for n in sorted(["Léa", "Hugo", "cher client", "Chloé", "Jules"])
    ]


@pytest.mark.parametrize(
    ("channel", "provider", "path", "rules"),
    [
        ("email", "mail", "/send", [{"fault": "lost_response", "count": 1}]),
        ("email", "mail", "/send", [{"fault": "http_500", "count": 2}]),
        ("email", "mail", "/send", [{"fault": "malformed", "count": 1}]),
        ("sms", "sms", "/bulk-send", [{"fault": "lost_response", "count": 2}]),
        ("sms", "sms", "/bulk-send", [{"fault": "http_500", "count": 3}]),
        ("sms", "sms", "/bulk-send", [{"fault": "malformed", "probability": 0.5}]),
    ],
)
def test_faults_on_a_personalised_campaign_never_send_twice_nor_the_wrong_text(
    sandbox, settings, channel, provider, path, rules
):
    settings.CAMPAIGN_SEND_ATTEMPTS = 5
    audience = named_audience(1700)
    campaign = CampaignFactory(
        channel=channel,
        audience=audience,
        subject="Pour #FIRSTNAME#",
        text="Bonjour #FIRSTNAME#. STOP au 36180",
        merge_fallbacks={"FIRSTNAME": "ami"},
    )
    services.campaign_send(campaign=campaign)
    rules = [{"provider": provider, "path": path, **rule} for rule in rules]
    sandbox.set_faults(rules, seed=7)
    result = dispatch.dispatch(campaign.pk, sleep=lambda seconds: None)
    sandbox.clear_faults()
    assert result.status == CampaignStatus.SENT, campaign.status_reason
    received = sandbox.messages(provider)
    field = "email" if channel == "email" else "phone"
    template = "Pour {}" if channel == "email" else "Bonjour {}. STOP au 36180"
    for r in audience.recipients.all():
        got = received.get(getattr(r, field), [])
        assert got in ([], [template.format(expected_name(r))]), got
    accepted = set(
        campaign.deliveries.filter(status=DeliveryStatus.ACCEPTED).values_list(
            "address", flat=True
        )
    )
    unknown = set(
        campaign.deliveries.filter(status=DeliveryStatus.UNKNOWN).values_list(
            "address", flat=True
        )
    )
    assert accepted <= set(received) <= accepted | unknown
    assert campaign.deliveries.filter(status=DeliveryStatus.PENDING).count() == 0


def test_a_value_carrying_markup_is_escaped_in_the_html_not_sent_as_variables(
    sandbox,
):
    """The provider pastes `variables` into the HTML as they are: an imported
    first name holding markup must reach the email as text, not as markup."""
    audience = AudienceFactory()
    RecipientFactory(audience=audience, first_name="<b>Zoé</b> & Cie")
    RecipientFactory(audience=audience, first_name="Hugo")
    campaign = CampaignFactory(
        audience=audience,
        subject="Bonjour #FIRSTNAME#",
        html="<p>Bonjour #FIRSTNAME#</p><a href='#UNSUBSCRIBE_LINK#'>x</a>",
        merge_fallbacks={"FIRSTNAME": "ami"},
    )
    services.campaign_send(campaign=campaign)
    assert dispatch.dispatch(campaign.pk).status == CampaignStatus.SENT
    bodies = [r["body"] for r in sandbox.requests(provider="mail", path="/send")]
    marked = next(b for b in bodies if "Zoé" in b["subject"])
    assert "<p>Bonjour &lt;b&gt;Zoé&lt;/b&gt; &amp; Cie</p>" in marked["htmlContent"]
    assert not marked.get("variables")
    assert marked["subject"] == "Bonjour <b>Zoé</b> & Cie"  # a subject is text
    plain = next(b for b in bodies if "Hugo" in b["subject"])
    assert plain["variables"] == {"firstname": "Hugo"}
    assert "#FIRSTNAME#" in plain["htmlContent"]
