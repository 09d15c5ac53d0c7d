"""Marketing staff compose, test, schedule, cancel and send campaigns in chromium."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus
from campaigns.sms import STOP_MENTION, sms_length
from tests.campaign_factories import AccountFactory, audience_with
from tests.factories import PASSWORD, UserFactory
from unsubscribes.models import Unsubscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMS_SAMPLES = [
    "",
    "Bonjour",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "€" * 80,
    "€" * 81,
    "[promo] {code} ~ ^ | \\",
    "é" * 160,
    "ê" * 70,
    "ê" * 71,
    "Soldes 🎉 -30 %",
    "🎉" * 35,
    "🎉" * 36,
    "Ligne:br:suivante :euro: 5",
    "Œuvre « spéciale » — ça marche ?",
    "x" * 1531,
]


@pytest.fixture
def live(sandbox_settings, settings, monkeypatch):
    """Dispatch runs inline (django-q2 sync mode) against the live sandbox."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0
    return sandbox_settings


def login(page, live_server):
    UserFactory(username="marketer", groups=["Marketing"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def paris_in(minutes):
    when = timezone.localtime(timezone.now() + timedelta(minutes=minutes))
    when = when.replace(minute=when.minute - when.minute % 5, second=0)
    return when.strftime("%Y-%m-%dT%H:%M")


def messages_text(page):
    return page.locator(".messagelist").inner_text()


def fill_common(page, name, account, audience, sendable):
    page.fill("#id_name", name)
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.wait_for_function(
        "s => document.getElementById('audience-counts').dataset.sendable === s",
        arg=str(sendable),
    )


def fill_email(page, account, audience, name="Newsletter de décembre"):
    fill_common(page, name, account, audience, 4)
    page.fill("#id_subject", "Nos offres de décembre")
    page.fill("#id_sender", "news@example.fr")
    page.fill("#id_sender_name", "Boutique Démo")
    page.locator("#id_html").fill("")
    page.locator("#id_html").press_sequentially(
        "<h1>Bonjour</h1><p>Des offres <b>exclusives</b>.</p>"
        "<img src=x onerror=alert(1)><script>alert(2)</script>",
        delay=2,
    )
    page.fill("#id_text", "Bonjour, des offres exclusives.")


def csv_rows(download):
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(content), delimiter=";"))


def wait_progress_complete(page):
    """Dispatch over: nothing pending any more. The bar counts only messages
    that left, so with an unsubscribed recipient it ends below 100 %."""
    page.wait_for_function(
        "() => { const p = document.getElementById('campaign-progress');"
        " const pending = document.querySelector("
        "'#campaign-counters tr[data-status=pending] [data-count]');"
        " return p && Number(p.value) > 0 && pending"
        " && pending.textContent.trim() === '0'; }",
        timeout=20_000,
    )


def test_email_campaign_compose_test_schedule_cancel_then_send(
    page, live_server, live, screenshot
):
    account = AccountFactory(provider="mail", credits=Decimal(1000))
    audience = audience_with(5)
    Unsubscribe.objects.create(
        channel="email", address=audience.recipients.first().email
    )
    login(page, live_server)

    page.goto(f"{live_server.url}/campaigns/new/")
    screenshot("compose-channel-picker")
    page.click("a[href='?channel=email']")
    page.wait_for_selector("#compose-form")
    fill_email(page, account, audience)
    counts = page.locator("#audience-counts").inner_text()
    assert "4 recipients will receive it" in counts and "1 unsubscribed" in counts
    preview = page.frame_locator("#preview-frame")
    preview.locator("h1").wait_for()
    assert preview.locator("h1").inner_text() == "Bonjour"
    assert preview.locator("b").inner_text() == "exclusives"
    frame_html = page.locator("#preview-frame").get_attribute("srcdoc")
    assert "onerror" not in frame_html and "<script" not in frame_html
    assert page.locator("#preview-frame").get_attribute("sandbox") == ""
    assert page.locator("#unsubscribe-warning").is_visible()
    estimate = page.locator("#cost-estimate").inner_text()
    assert "Estimated cost: 4 emails." in estimate
    assert "The account has 1,000 emails." in estimate  # grouped, no decimals
    screenshot("compose-email-missing-unsubscribe")
    page.locator("#id_html").press("End")
    page.click("button[data-insert='#UNSUBSCRIBE_LINK#']")
    assert page.locator("#unsubscribe-warning").is_hidden()
    page.click("button[name=action][value=save]")
    assert "Draft saved" in messages_text(page)
    campaign = Campaign.objects.get()
    assert "#UNSUBSCRIBE_LINK#" in campaign.html

    # A test to an unsubscribed address needs the explicit confirmation.
    page.fill("#id_test-address", audience.recipients.first().email)
    page.click("button[value=test]")
    page.wait_for_selector("#field-test-confirm_unsubscribed .errorlist")
    screenshot("compose-email-test-unsubscribed")
    page.fill("#id_test-address", "moi@example.fr")
    page.click("button[value=test]")
    assert "Test sent to moi@example.fr" in messages_text(page)
    screenshot("compose-email-test-sent")
    tests = live.requests(provider="mail", path="/send")
    assert [r["body"]["tag"] for r in tests] == ["test"]

    page.click("button[name=action][value=review]")
    page.wait_for_selector("#review-form")
    assert page.locator("#review-recipients").inner_text() == "4"
    assert page.locator("#schedule-fields").is_hidden()
    page.check("input[name=mode][value=later]")
    page.fill("#id_scheduled_at", paris_in(-60))
    page.check("#id_confirm")
    page.click("#confirm-button")
    assert "past" in page.locator("#field-scheduled_at .errorlist").inner_text()
    screenshot("review-email-error")
    page.check("input[name=mode][value=later]")
    page.fill("#id_scheduled_at", paris_in(180))
    page.check("#id_confirm")
    screenshot("review-email")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    assert "is scheduled for" in messages_text(page)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/cancel/")
    screenshot("cancel-email")
    page.check("#id_confirm")
    page.click("button.ph-button-danger")
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    assert "is cancelled" in messages_text(page)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED

    # Compose again and send now: the campaign page follows it to the end.
    page.goto(f"{live_server.url}/campaigns/new/?channel=email")
    fill_email(page, account, audience, name="Newsletter — envoi immédiat")
    page.locator("#id_html").press("End")
    page.click("button[data-insert='#UNSUBSCRIBE_LINK#']")
    page.click("button[name=action][value=review]")
    page.wait_for_selector("#review-form")
    page.check("#id_confirm")
    page.click("#confirm-button")
    second = Campaign.objects.exclude(pk=campaign.pk).get()
    page.wait_for_url(re.compile(rf"/campaigns/{second.pk}/$"))
    assert "is being sent" in messages_text(page)
    wait_progress_complete(page)
    screenshot("detail-email-sent")
    assert len(live.recipients("mail")) == 4 + 1  # audience minus 1, plus the test

    with page.expect_download() as download:
        page.click("#export-csv")
    rows = csv_rows(download.value)
    by_address = {row[0]: row for row in rows[1:]}
    assert set(audience.recipients.values_list("email", flat=True)) == set(by_address)
    suppressed = by_address[audience.recipients.first().email]
    assert "uppress" in suppressed[3]  # the unsubscribed one was never sent


def test_sms_campaign_with_parts_counter_then_send_now(
    page, live_server, live, screenshot
):
    account = AccountFactory(provider="sms", credits=Decimal(50))
    audience = audience_with(4)
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=sms")
    page.wait_for_selector("#compose-form")

    for text in SMS_SAMPLES:  # the JS counter and campaigns/sms.py agree
        for unicode in (False, True):  # (more in test_browser_sms_encoding.py)
            js = page.evaluate(
                "([t, u]) => window.PartnerHubSms.smsLength(t, {unicode: u})",
                [text, unicode],
            )
            py = sms_length(text, unicode=unicode)
            assert (js["encoding"], js["characters"], js["parts"], js["perPart"]) == (
                py.encoding,
                py.characters,
                py.parts,
                py.per_part,
            ), text

    fill_common(page, "SMS soldes", account, audience, 4)
    page.fill("#id_sender", "AB")
    assert page.locator("#sender-live").is_visible()
    screenshot("compose-sms-bad-sender")
    page.fill("#id_sender", "Boutique")
    assert page.locator("#sender-live").is_hidden()
    text = "Les soldes d'hiver commencent demain : -30 % sur tout le magasin ! " * 2
    page.fill("#id_text", text)
    counter = page.locator("#sms-counter")
    expected = sms_length(text.rstrip(), provider_stop=True)  # isStopSms
    assert counter.get_attribute("data-parts") == str(expected.parts) == "1"
    page.fill("#id_text", text * 2)
    expected = sms_length((text * 2).rstrip(), provider_stop=True)
    assert counter.get_attribute("data-parts") == str(expected.parts) == "2"
    assert f"{expected.characters} characters" in counter.inner_text()
    cost = page.locator("#cost-estimate").inner_text()
    assert "0.36 € (2 SMS x 4 recipients x 0.045)" in cost
    page.fill("#id_text", text + " 🎉")  # GSM: the provider mangles it, no switch
    assert counter.get_attribute("data-encoding") == "GSM-7"
    page.fill("#id_text", text)
    assert page.locator("#sms-preview").inner_text().endswith(STOP_MENTION)
    screenshot("compose-sms")
    page.click("button[name=action][value=save]")
    assert "Draft saved" in messages_text(page)
    campaign = Campaign.objects.get()

    page.fill("#id_test-address", "06 12 34 56 78")
    page.click("button[value=test]")
    assert "Test sent to +33612345678" in messages_text(page)  # as stored
    assert live.requests(provider="sms", path="/send")[0]["body"]["tag"] == "test"
    screenshot("compose-sms-test-sent")

    # Scheduled and handed to the provider ahead of time, then cancelled there.
    page.click("button[name=action][value=review]")
    page.wait_for_selector("#review-form")
    page.check("input[name=mode][value=later]")
    page.fill("#id_scheduled_at", paris_in(180))
    page.check("#id_deferred_at_provider")
    page.check("#id_confirm")
    screenshot("review-sms")
    page.click("#confirm-button")
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    campaign.refresh_from_db()
    assert campaign.deferred_at_provider and campaign.dispatched_at
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/cancel/")
    assert (
        "already handed to the provider" in page.locator("form.ph-confirm").inner_text()
    )
    screenshot("cancel-sms-deferred")
    page.check("#id_confirm")
    page.click("button.ph-button-danger")
    page.wait_for_url(re.compile(rf"/campaigns/{campaign.pk}/$"))
    assert "is cancelled" in messages_text(page)
    assert live.requests(provider="sms", path="/message-cancel")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED

    # Compose again, send now, follow it to the end.
    page.goto(f"{live_server.url}/campaigns/new/?channel=sms")
    fill_common(page, "SMS soldes — maintenant", account, audience, 4)
    page.fill("#id_sender", "Boutique")
    page.fill("#id_text", text)
    page.click("button[name=action][value=review]")
    page.wait_for_selector("#review-form")
    page.check("#id_confirm")
    page.click("#confirm-button")
    second = Campaign.objects.exclude(pk=campaign.pk).get()
    page.wait_for_url(re.compile(rf"/campaigns/{second.pk}/$"))
    wait_progress_complete(page)
    screenshot("detail-sms-sent")
    assert len(live.recipients("sms")) == 4 + 1  # the audience and the test
    sent = live.requests(provider="sms", path="/send")[-1]["body"]
    assert sent["message"] == text.rstrip()  # the provider appends the mention
    assert sent["isStopSms"] == 1 and sent["gamme"] == 1
    assert sent["sender"] == "Boutique"
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = csv_rows(download.value)
    phones = audience.recipients.values_list("phone", flat=True)
    # "+33…" starts like a formula: the export defuses it for Excel.
    assert {row[0] for row in rows[1:]} == {f"'{phone}" for phone in phones}


def test_review_blocks_when_the_account_lacks_credits(page, live_server, screenshot):
    account = AccountFactory(provider="sms", credits=Decimal("0.05"))
    campaign = Campaign.objects.create(
        name="Trop cher",
        channel="sms",
        account=account,
        audience=audience_with(10),
        sender="Boutique",
        text="Promo STOP 36180",
    )
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/review/")
    assert "Not enough credits" in page.locator("#review-problem").inner_text()
    assert page.locator("#review-form").count() == 0
    screenshot("review-sms-not-enough-credits")


def test_voice_compose_page(page, live_server, live, screenshot):
    AccountFactory(provider="voice", credits=Decimal(20))
    audience_with(3)
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=voice")
    options = page.locator("#id_voice_audio_token option")
    assert options.count() > 1
    page.click("button[name=action][value=save]")
    assert page.locator(".errornote").is_visible()
    screenshot("compose-voice-errors")


def test_a_refused_sender_is_explained_once_and_nothing_typed_is_lost(
    page, live_server
):
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=sms")
    page.fill("#id_sender", "A b!")
    page.fill("#id_text", "Bonjour 😀 offre")
    page.click("button[name=action][value=save]")
    page.wait_for_selector("#id_sender_error")
    sender_rule = page.locator("#field-sender .errorlist, #sender-live").filter(
        has_text="3"
    )
    assert sender_rule.count() == 1  # the server's message, not also the live one
    assert page.input_value("#id_sender") == "A b!"
    assert page.input_value("#id_text") == "Bonjour 😀 offre"
    page.fill("#id_sender", "A b")
    assert page.locator("#id_sender_error").is_hidden()
    assert page.locator("#sender-live").is_visible()
