"""Channel options in chromium: an email with reply-to, tag and attachments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import Campaign
from tests.campaign_factories import AccountFactory, audience_with
from tests.test_browser_campaign_compose import (
    fill_common,
    fill_email,
    login,
    messages_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_email_with_reply_to_tag_and_attachments(
    page, live_server, sandbox_settings, tmp_path, screenshot
):
    account = AccountFactory(provider="mail", credits=Decimal(1000))
    audience = audience_with(4)
    program = tmp_path / "outil.exe"
    program.write_bytes(b"MZ\x90\x00")
    offer = tmp_path / "Offre décembre.pdf"
    offer.write_bytes(b"%PDF-1.4\n% offre\n")
    login(page, live_server)

    page.goto(f"{live_server.url}/campaigns/new/?channel=email")
    fill_email(page, account, audience)
    page.fill("#id_reply_to", "SAV@Boutique.fr")
    page.fill("#id_reply_to_name", "Service client")
    page.fill("#id_tag", "Soldes Noel")
    page.set_input_files("#id_new_attachments", [str(program)])
    page.click("button[name=action][value=save]")
    errors = page.locator("#field-tag .errorlist").inner_text()
    assert "lowercase letters, digits, - or _" in errors
    assert "“outil.exe”: the provider only takes these file types" in (
        page.locator("#field-new_attachments .errorlist").inner_text()
    )
    assert page.input_value("#id_reply_to") == "SAV@Boutique.fr"  # nothing lost
    help_text = page.locator("#field-new_attachments .ph-help").inner_text()
    assert help_text.startswith("At most 3 files of 5 MB each")
    assert not Campaign.objects.exists()
    screenshot("compose-email-attachment-refused")

    page.fill("#id_tag", "soldes-noel")
    page.set_input_files("#id_new_attachments", [str(offer)])
    page.click("button[name=action][value=save]")
    assert "Draft saved" in messages_text(page)
    campaign = Campaign.objects.get()
    assert (campaign.reply_to, campaign.tag) == ("sav@boutique.fr", "soldes-noel")
    assert (
        page.locator("#field-remove_attachments")
        .inner_text()
        .strip()
        .startswith("Attached files")
    )

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/review/")
    assert "Offre décembre.pdf" in page.locator("#review-attachments").inner_text()
    assert "sav@boutique.fr" in page.locator("#review-reply-to").inner_text()
    assert page.locator("#review-tag").inner_text() == "soldes-noel"
    screenshot("review-email-options")

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/edit/")
    page.check("#field-remove_attachments input[type=checkbox]")
    page.click("button[name=action][value=save]")
    assert "Draft saved" in messages_text(page)
    assert not campaign.attachments.exists()


def test_voicemail_drop_composed_with_its_own_price(
    page, live_server, sandbox_settings, settings, screenshot
):
    settings.CAMPAIGN_UNIT_COST = {"voice": "0.10", "voicemail": "0.15"}
    account = AccountFactory(provider="voice", credits=Decimal(20))
    audience = audience_with(4)
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=voice")
    fill_common(page, "Relance répondeur", account, audience, 4)
    page.fill("#id_text", "Bonjour")
    page.wait_for_function(
        "() => document.getElementById('cost-estimate').textContent.includes('0.4 ')"
    )
    page.check("input[name=voice_mode][value=voicemail]")
    assert "Estimated cost: 0.6 €" in page.locator("#cost-estimate").inner_text()
    page.fill("#id_text", "")
    page.click("button[name=action][value=save]")
    assert (
        "enter the address to notify"
        in page.locator("#field-notification_email .errorlist").inner_text()
    )
    assert page.is_checked("input[name=voice_mode][value=voicemail]")
    page.select_option("#id_voice_audio_token", index=1)
    page.fill("#id_notification_email", "equipe@boutique.fr")
    page.click("button[name=action][value=review]")
    assert "Voicemail drop" in page.locator("#review-voice-mode").inner_text()
    assert "0.6" in page.locator("#review-cost").inner_text()
    screenshot("review-voicemail-drop")
