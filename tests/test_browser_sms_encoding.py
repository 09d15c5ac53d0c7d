"""The SMS composer shows and counts the text as SMS Partner will send it.

GSM (default): the provider replaces `œ`→`oe`, `«»`→`“`, `[`→`(`, removes
`^ ~ | \\ ¨ §` and mangles emoji (providers.md §2.3); Unicode keeps everything.
The script counts with the table the server serves, so both must agree.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from campaigns.models import Campaign, SmsEncoding, SmsRange
from campaigns.sms import LOW_COST_STOP, STOP_MENTION, gsm_render, sms_length
from tests.campaign_factories import AccountFactory, audience_with
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NASTY = [
    "",
    "Bonjour",
    "a" * 160,
    "a" * 161,
    "a" * 147,  # + " STOP au 36180" = 161: the mention makes a second part
    "a" * 306,
    "a" * 307,
    "€" * 80,
    "€" * 81,
    "[promo] {code} ~ ^ | \\ ¨ §",
    "Bœuf « maison » — l\u2019été… ça marche ?",
    "Œuvre « spéciale » : 20 €",
    "é" * 160,
    "ê" * 70,
    "ê" * 71,
    "Soldes 🎉 -30 %",
    "🎉" * 35,
    "🎉" * 36,
    "👍🏽 famille 👨‍👩‍👧",
    "Ligne:br:suivante :euro: 5",
    "a\r\nb\nc",
    "\u00a0!\u202f?\t«\u00a0oui\u00a0»",
    "日本語 Ελληνικά кириллица",
    "x" * 1531,
    "^" * 200,
]


def login(page, live_server):
    UserFactory(username="marketer", groups=["Marketing"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def open_sms_compose(page, live_server):
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/new/?channel=sms")
    page.wait_for_selector("#compose-form")


def test_js_and_python_counters_agree_on_nasty_texts(page, live_server):
    open_sms_compose(page, live_server)
    for text in NASTY:
        for unicode in (False, True):
            for stop in (False, True):
                options = {
                    "unicode": unicode,
                    "providerStop": stop,
                    "stopMention": STOP_MENTION,
                }
                js = page.evaluate(
                    "([t, o]) => window.PartnerHubSms.smsLength(t, o)", [text, options]
                )
                py = sms_length(text, unicode=unicode, provider_stop=stop)
                assert (
                    js["encoding"],
                    js["characters"],
                    js["parts"],
                    js["perPart"],
                    js["text"],
                ) == (py.encoding, py.characters, py.parts, py.per_part, py.text), (
                    text,
                    unicode,
                    stop,
                )


def test_compose_sms_counter_and_preview_in_gsm_then_unicode(
    page, live_server, sandbox_settings, screenshot
):
    account = AccountFactory(provider="sms", credits=Decimal(50))
    audience = audience_with(3)
    open_sms_compose(page, live_server)
    page.fill("#id_name", "Bœuf")
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.wait_for_function(
        "() => document.getElementById('audience-counts').dataset.sendable === '3'"
    )
    text = "Bœuf « maison » 🎉 [promo] ^ -20 %"
    page.fill("#id_text", text)
    counter = page.locator("#sms-counter")
    bubble = page.locator("#sms-preview")

    # GSM (default): substituted text, changed characters marked, mention added.
    gsm = sms_length(text, provider_stop=True)
    assert gsm_render(text) == "Boeuf “ maison “ ? (promo)  -20 %"
    assert counter.get_attribute("data-encoding") == "GSM-7"
    assert counter.get_attribute("data-characters") == str(gsm.characters)
    assert f"{gsm.characters} characters · GSM-7 · 1 SMS" in counter.inner_text()
    assert bubble.get_attribute("data-text") == gsm.text
    assert bubble.get_attribute("data-text").endswith(f" {STOP_MENTION}")
    marked = bubble.locator("mark.ph-sms-changed").all_inner_texts()
    assert marked == ["oe", "“", "“", "?", "(", ")"]
    assert bubble.locator("del.ph-sms-removed").all_inner_texts() == ["^"]
    assert page.locator("#sms-changes").is_visible()
    assert (
        "0.14 € (1 SMS x 3 recipients x 0.045)"
        in page.locator("#cost-estimate").inner_text()
    )
    screenshot("compose-sms-gsm-substitutions")

    # Unicode: everything kept, UTF-16 units (the emoji counts two).
    page.check("input[name=sms_encoding][value=unicode]")
    uni = sms_length(text, unicode=True, provider_stop=True)
    assert counter.get_attribute("data-encoding") == "Unicode"
    assert counter.get_attribute("data-characters") == str(uni.characters)
    assert bubble.get_attribute("data-text") == f"{text} {STOP_MENTION}"
    assert bubble.locator("mark, del").count() == 0
    assert page.locator("#sms-changes").is_hidden()
    assert (
        "activated it for the account"
        in page.locator("#field-sms_encoding").inner_text()
    )
    screenshot("compose-sms-unicode")
    page.fill("#id_text", text * 2)
    two = sms_length(text * 2, unicode=True, provider_stop=True)
    assert counter.get_attribute("data-parts") == str(two.parts) == "2"
    assert (
        "0.27 € (2 SMS x 3 recipients" in page.locator("#cost-estimate").inner_text()
    )  # 2 x 3

    page.click("button[name=action][value=save]")
    page.wait_for_selector(".messagelist")
    campaign = Campaign.objects.get()
    assert campaign.sms_encoding == SmsEncoding.UNICODE
    assert campaign.text == text * 2 and campaign.sms_stop
    page.fill("#id_test-address", "0612345678")
    page.click("button[value=test]")
    page.wait_for_selector(".messagelist")
    body = sandbox_settings.requests(provider="sms", path="/send")[-1]["body"]
    assert body["isUnicode"] == 1 and body["isStopSms"] == 1
    assert body["message"] == text * 2


def test_compose_low_cost_writes_nopub_and_keeps_to_160_characters(
    page, live_server, screenshot
):
    account = AccountFactory(provider="sms", credits=Decimal(50))
    audience = audience_with(2)
    open_sms_compose(page, live_server)
    page.fill("#id_name", "Low cost")
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.select_option("#id_sms_range", str(SmsRange.LOW_COST.value))
    page.fill("#id_text", "Promo œufs")
    bubble = page.locator("#sms-preview")
    assert bubble.get_attribute("data-text") == f"Promo oeufs {LOW_COST_STOP}"
    counter = page.locator("#sms-counter")
    fits = "a" * (160 - len(LOW_COST_STOP) - 1)
    page.fill("#id_text", fits)
    assert counter.get_attribute("data-characters") == "160"
    assert "ph-error" not in (counter.get_attribute("class") or "")
    page.fill("#id_text", fits + "b")
    assert "Too long for Low Cost" in counter.inner_text()
    screenshot("compose-sms-low-cost-too-long")
    page.click("button[name=action][value=save]")
    page.wait_for_selector(".errornote")
    assert "Low Cost sends one SMS only" in page.locator("#field-text").inner_text()
    assert page.locator("#id_text").input_value() == fits + "b"  # nothing lost
    assert not Campaign.objects.exists()
    page.fill("#id_text", fits)
    page.click("button[name=action][value=save]")
    page.wait_for_selector(".messagelist")
    campaign = Campaign.objects.get()
    assert campaign.sms_range == SmsRange.LOW_COST
    assert campaign.text == f"{fits} {LOW_COST_STOP}"
    assert page.locator("#id_text").input_value() == fits  # mention not repeated


def test_compose_sms_with_a_merge_field(page, live_server):
    """`#FIRSTNAME#` (issue #15 point 1) is offered once an audience is chosen;
    the preview shows a recipient's first name after the provider's substitutions."""
    account = AccountFactory(provider="sms", credits=Decimal(50))
    audience = audience_with(2)
    open_sms_compose(page, live_server)
    page.select_option("#id_account", str(account.pk))
    page.select_option("#id_audience", str(audience.pk))
    page.wait_for_selector("button.ph-merge-insert[data-field=FIRSTNAME]")
    page.fill("#id_text", "Bonjour #FIRSTNAME#, bœuf « maison » 🎉")
    bubble = page.locator("#sms-preview")
    page.wait_for_function(
        "() => !document.getElementById('sms-preview').textContent"
        ".includes('#FIRSTNAME#')"
    )
    shown = bubble.inner_text()
    assert re.search(r"Bonjour \w+, boeuf “ maison “ \?", shown), shown
    page.check("input[name=sms_encoding][value=unicode]")
    assert "bœuf « maison » 🎉" in bubble.inner_text()
