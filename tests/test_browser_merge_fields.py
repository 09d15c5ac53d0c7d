"""A personalised email in chromium: insert #FIRSTNAME#, preview and test as a
chosen recipient, see who gets the fallback; the test email carries the name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import Campaign
from tests.campaign_factories import AccountFactory, AudienceFactory, RecipientFactory
from tests.test_browser_campaign_compose import live, login, messages_text  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_personalised_email_preview_and_test_send_show_a_real_first_name(
    page,
    live_server,
    live,  # noqa: F811 - the fixture imported above
    screenshot,
):
    account = AccountFactory(provider="mail", credits=Decimal(1000))
    audience = AudienceFactory(name="Clients")
    RecipientFactory(
        audience=audience, first_name="Camille", attributes={"ville": "Lyon"}
    )
    RecipientFactory(audience=audience, first_name="Hugo", attributes={})
    RecipientFactory(audience=audience, first_name="", attributes={"ville": "Nice"})
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=email")
    page.fill("#id_name", "Noël")
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.wait_for_selector("button.ph-merge-insert[data-field=VILLE]")
    page.fill("#id_subject", "Joyeux Noël, ")
    page.locator("#id_subject").press("End")
    page.click("button.ph-merge-insert[data-field=FIRSTNAME]")
    page.locator("#id_html").fill("<h1>Bonjour </h1><a href='#UNSUBSCRIBE_LINK#'>x</a>")
    page.locator("#id_html").evaluate("t => t.setSelectionRange(12, 12)")
    page.click("button.ph-merge-insert[data-field=FIRSTNAME]")
    assert page.locator("#id_subject").input_value() == "Joyeux Noël, #FIRSTNAME#"
    assert "<h1>Bonjour #FIRSTNAME#</h1>" in page.locator("#id_html").input_value()

    preview = page.frame_locator("#preview-frame")
    preview.locator("h1", has_text="Camille").wait_for()
    subject = page.locator("#merge-subject-preview")
    assert subject.inner_text() == "Subject: Joyeux Noël, Camille"
    warning = page.locator("#merge-warnings")
    assert "1 of 3 recipients have no value for #FIRSTNAME#" in warning.inner_text()
    page.fill("#id_fallback_FIRSTNAME", "ami")
    assert "they get its fallback" in warning.inner_text()
    third = audience.recipients.get(first_name="")
    page.select_option("#merge-sample", str(third.pk))
    preview.locator("h1", has_text="Bonjour ami").wait_for()
    hugo = audience.recipients.get(first_name="Hugo")
    page.select_option("#merge-sample", str(hugo.pk))
    preview.locator("h1", has_text="Bonjour Hugo").wait_for()
    screenshot("compose-email-merge-fields")
    page.click("button[name=action][value=save]")
    assert "Draft saved" in messages_text(page)
    campaign = Campaign.objects.get()
    assert campaign.merge_fallbacks == {"FIRSTNAME": "ami"}

    page.select_option("#merge-sample", str(hugo.pk))
    page.fill("#id_test-address", "moi@example.fr")
    page.click("button[value=test]")
    assert "Test sent to moi@example.fr" in messages_text(page)
    assert page.locator("#merge-sample").input_value() == str(hugo.pk)
    assert live.messages("mail")["moi@example.fr"] == ["[TEST] Joyeux Noël, Hugo"]
    body = live.requests(provider="mail", path="/send")[-1]["body"]
    assert body["variables"] == {"firstname": "Hugo"}


def test_an_unknown_merge_field_is_a_clear_error_and_nothing_is_lost(
    page,
    live_server,
    live,  # noqa: F811 - the fixture imported above
    screenshot,
):
    account = AccountFactory(provider="sms", credits=Decimal(1000))
    audience = AudienceFactory(name="Clients SMS")
    RecipientFactory(audience=audience, first_name="Léa")
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=sms")
    page.fill("#id_name", "Soldes")
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.wait_for_selector("button.ph-merge-insert[data-field=FIRSTNAME]")
    page.fill("#id_text", "Bonjour #PRENOM#, -20% ce week-end")
    page.click("button[name=action][value=save]")
    error = page.locator("#field-text .errorlist").inner_text()
    assert "#PRENOM# is not a merge field of this audience" in error
    assert "#FIRSTNAME#, #LASTNAME#" in error
    assert (
        page.locator("#id_text").input_value() == "Bonjour #PRENOM#, -20% ce week-end"
    )
    page.fill("#id_text", "Bonjour #FIRSTNAME#, -20% ce week-end")
    page.locator("#sms-preview", has_text="Bonjour Léa").wait_for()
    screenshot("compose-sms-merge-fields")
