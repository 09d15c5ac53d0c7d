"""Channel options in the app: forms, services, review page, dispatch (sandbox).

Mail reply-to, attachments and tag; SMS tag beside the per-batch tags; Voice
voicemail drop with its own price and cancel; the quiet-hours warning and codes
22/23 (issue #15, point 6).
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns import attachments, dispatch, quiet_hours, services, tags
from campaigns.forms import EmailDraftForm, SmsDraftForm, VoiceDraftForm
from campaigns.models import Campaign, CampaignAttachment, CampaignStatus
from campaigns.options import VOICEMAIL_NEEDS_AUDIO, VOICEMAIL_NEEDS_EMAIL
from partnerhub import rules
from partnerhub.providers import errors
from partnerhub.sandbox.voicepartner import DEMO_AUDIOS
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with

pytestmark = pytest.mark.django_db
PARIS = quiet_hours.PARIS
AUDIO = DEMO_AUDIOS[0][1]
PDF_BYTES = b"%PDF-1.4\n% devis\n"


def pdf(name="Devis 2026.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def email_post(campaign, **overrides):
    data = {
        "name": campaign.name,
        "account": campaign.account.pk,
        "audience": campaign.audience.pk,
        "subject": "Les soldes",
        "sender": "news@example.fr",
        "sender_name": "Boutique",
        "reply_to": "",
        "reply_to_name": "",
        "html": "<p>Bonjour</p><a href='#UNSUBSCRIBE_LINK#'>stop</a>",
        "text": "Bonjour",
        "tag": "",
        "action": "save",
    }
    return {**data, **overrides}


def email_form(campaign, files=None, **overrides):
    return EmailDraftForm(
        email_post(campaign, **overrides), files or {}, instance=campaign
    )


def edit(marketing, campaign, **overrides):
    url = reverse("campaigns:edit", args=[campaign.pk])
    return marketing.post(url, email_post(campaign, **overrides))


# --- reply-to -----------------------------------------------------------------
def test_reply_to_is_checked_by_the_rules_module_and_stored_normalised(marketing):
    campaign = CampaignFactory()
    form = email_form(campaign, reply_to="pas une adresse")
    assert not form.is_valid()
    assert form.errors["reply_to"] == [str(rules.REPLY_TO_INVALID)]
    response = edit(
        marketing, campaign, reply_to=" Service@Boutique.FR ", reply_to_name="SAV"
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.reply_to, campaign.reply_to_name) == ("service@boutique.fr", "SAV")


def test_the_service_refuses_a_bad_reply_to_whatever_the_caller():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as caught:
        services.campaign_update_draft(campaign=campaign, reply_to="x@")
    assert caught.value.message_dict["reply_to"] == [str(rules.REPLY_TO_INVALID)]


def test_reply_to_name_refuses_control_characters():
    form = email_form(CampaignFactory(), reply_to="a@b.fr", reply_to_name="SAV\r\nBcc:")
    assert not form.is_valid() and "reply_to_name" in form.errors


# --- attachments: form --------------------------------------------------------
def test_attachment_is_stored_apart_and_shown_on_the_review_page(marketing):
    campaign = CampaignFactory(account=AccountFactory(credits=Decimal(100)))
    url = reverse("campaigns:edit", args=[campaign.pk])
    response = marketing.post(url, {**email_post(campaign), "new_attachments": pdf()})
    assert response.status_code == 302
    stored = campaign.attachments.get()
    assert (stored.filename, stored.content_type, stored.size) == (
        "Devis 2026.pdf",
        "application/pdf",
        len(PDF_BYTES),
    )
    assert bytes(stored.content) == PDF_BYTES
    review = marketing.get(reverse("campaigns:review", args=[campaign.pk]))
    assert "Devis 2026.pdf (17\xa0bytes)" in review.content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("outil.exe", b"MZ\x90\x00"),
            "“outil.exe”: the provider only takes these file types:",
        ),
        (
            SimpleUploadedFile("faux.pdf", b"MZ\x90\x00 not a pdf"),
            "“faux.pdf” does not contain what its extension says (.pdf)",
        ),
        (
            SimpleUploadedFile("gros.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024)),
            "“gros.pdf” is 5.0\xa0MB: the provider takes at most 5.0\xa0MB per file.",
        ),
        (SimpleUploadedFile("vide.txt", b""), None),
        (
            SimpleUploadedFile("binaire.txt", b"abc\x00def"),
            "“binaire.txt” does not contain what its extension says (.txt)",
        ),
    ],
)
def test_bad_attachments_get_a_clear_message_and_nothing_is_saved(
    marketing, upload, message
):
    campaign = CampaignFactory()
    url = reverse("campaigns:edit", args=[campaign.pk])
    post = {**email_post(campaign, subject="Changé"), "new_attachments": upload}
    response = marketing.post(url, post)
    assert response.status_code == 200
    shown = response.context["form"].errors["new_attachments"]
    if message:
        assert any(e.startswith(message) for e in shown), shown
    assert not CampaignAttachment.objects.exists()
    campaign.refresh_from_db()
    assert campaign.subject == "Les soldes"  # the draft as a whole was not saved
    assert "Changé" in response.content.decode()  # what was typed is kept


def test_at_most_three_attachments_counting_those_kept(marketing):
    campaign = CampaignFactory()
    url = reverse("campaigns:edit", args=[campaign.pk])
    files = [pdf(f"f{n}.pdf") for n in range(3)]
    assert marketing.post(url, {**email_post(campaign), "new_attachments": files})
    assert campaign.attachments.count() == 3
    response = marketing.post(
        url, {**email_post(campaign), "new_attachments": pdf("f4.pdf")}
    )
    assert response.context["form"].errors["new_attachments"] == [
        "At most 3 attachments per email: remove one before adding more."
    ]
    first = campaign.attachments.first()
    post = {
        **email_post(campaign),
        "new_attachments": pdf("f4.pdf"),
        "remove_attachments": [first.pk],
    }
    assert marketing.post(url, post).status_code == 302
    names = sorted(campaign.attachments.values_list("filename", flat=True))
    assert names == ["f1.pdf", "f2.pdf", "f4.pdf"]


def test_the_service_checks_the_count_too():
    campaign = CampaignFactory()
    changes = attachments.AttachmentChanges(add=[pdf(f"{n}.pdf") for n in range(4)])
    with pytest.raises(ValidationError) as caught:
        services.campaign_update_draft(campaign=campaign, attachments_changes=changes)
    assert "new_attachments" in caught.value.message_dict
    assert not CampaignAttachment.objects.exists()


def test_duplicate_copies_the_attachments_and_the_options():
    campaign = CampaignFactory(reply_to="sav@boutique.fr", tag="soldes")
    services.campaign_update_draft(
        campaign=campaign,
        attachments_changes=attachments.AttachmentChanges(add=[pdf()]),
    )
    copy = services.campaign_duplicate(campaign=campaign)
    assert (copy.reply_to, copy.tag) == ("sav@boutique.fr", "soldes")
    assert bytes(copy.attachments.get().content) == PDF_BYTES
    assert campaign.attachments.count() == 1  # the original keeps its own


def test_wire_name_drops_the_extension_and_folders():
    assert attachments.wire_name("C:\\Users\\moi\\Devis v1.2.pdf") == "Devis v1-2"
    assert attachments.wire_name("../../etc/passwd.txt") == "passwd"


# --- tags -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("form_class", "channel", "tag", "valid"),
    [
        (EmailDraftForm, "email", "soldes-hiver_26", True),
        (EmailDraftForm, "email", "ab", False),  # Mail: 3 to 20
        (EmailDraftForm, "email", "Soldes", False),
        (EmailDraftForm, "email", "a" * 21, False),
        (SmsDraftForm, "sms", "ab", True),  # SMS: up to 20
        (SmsDraftForm, "sms", "soldes hiver", False),
        (SmsDraftForm, "sms", "soldés", False),
    ],
)
def test_tag_follows_the_providers_rule(form_class, channel, tag, valid):
    campaign = CampaignFactory(channel=channel)
    data = {
        **email_post(campaign, tag=tag),
        "sender": "Boutique" if channel == "sms" else "news@example.fr",
        "add_stop": "on",
    }
    form = form_class(data, {}, instance=campaign)
    assert form.is_valid() is valid, form.errors
    if not valid:
        assert form.errors["tag"] == [str(rules.TAG_INVALID[channel])]


def test_sms_batch_tag_keeps_its_unique_part_after_the_users_prefix():
    campaign = CampaignFactory(channel="sms", tag="soldes-hiver-2026")
    tag = tags.batch_tag(campaign, 3)
    assert tag.endswith(f"-ph{campaign.pk}b3") and tag.startswith("soldes")
    assert len(tag) <= 20
    campaign.pk = 12345678  # a big campaign: the prefix gives way, never the id
    assert tags.batch_tag(campaign, 1234) == "sold-ph12345678b1234"
    campaign.pk = 123456789012
    assert tags.batch_tag(campaign, 12345) == "ph123456789012b12345"


# --- dispatch through the sandbox ----------------------------------------------
def test_email_batches_carry_reply_to_attachments_and_the_campaign_tag(
    sandbox_settings,
):
    campaign = CampaignFactory(
        audience=audience_with(3), reply_to="sav@boutique.fr", tag="soldes"
    )
    changes = attachments.AttachmentChanges(add=[pdf("Conditions.pdf")])
    services.campaign_update_draft(campaign=campaign, attachments_changes=changes)
    services.campaign_send(campaign=campaign)
    assert dispatch.dispatch(campaign.pk).status == CampaignStatus.SENT
    body = sandbox_settings.requests(provider="mail", path="/send")[-1]["body"]
    assert body["replyTo"] == {"email": "sav@boutique.fr"}
    assert body["tag"] == "soldes"
    (sent,) = body["attachments"]
    assert sent["filename"] == "Conditions"
    assert sent["contentType"] == "application/pdf"
    assert base64.b64decode(sent["base64Content"]) == PDF_BYTES


def test_email_test_send_carries_the_attachments(marketing, sandbox_settings):
    campaign = CampaignFactory(audience=audience_with(1))
    url = reverse("campaigns:test_send", args=[campaign.pk])
    post = {
        **email_post(campaign, action="test"),
        "new_attachments": pdf(),
        "test-address": "moi@example.fr",
    }
    assert marketing.post(url, post).status_code == 302
    body = sandbox_settings.requests(provider="mail", path="/send")[-1]["body"]
    assert body["tag"] == "test"
    assert [a["filename"] for a in body["attachments"]] == ["Devis 2026"]


def test_sms_batches_are_tagged_with_the_users_prefix(sandbox_settings):
    campaign = CampaignFactory(channel="sms", audience=audience_with(2), tag="promo")
    services.campaign_send(campaign=campaign)
    assert dispatch.dispatch(campaign.pk).status == CampaignStatus.SENT
    body = sandbox_settings.requests(provider="sms", path="/send")[-1]["body"]
    assert body["tag"] == f"promo-ph{campaign.pk}b1"
    assert campaign.batches.get().provider_tag == body["tag"]


def test_a_lost_sms_answer_is_found_by_the_prefixed_tag(sandbox_settings, settings):
    settings.CAMPAIGN_RETRY_BASE_SECONDS = 0
    campaign = CampaignFactory(channel="sms", audience=audience_with(3), tag="promo")
    sandbox_settings.set_faults(
        [{"provider": "sms", "path": "/send", "fault": "lost_response", "count": 1}]
    )
    services.campaign_send(campaign=campaign)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    received = sandbox_settings.recipients("sms")
    assert len(received) == 3 and set(received.values()) == {1}
    lookups = sandbox_settings.requests(provider="sms", path="/bulk-status-by-tag")
    assert lookups[0]["query"]["tag"] == f"promo-ph{campaign.pk}b1"


# --- voice: voicemail drop --------------------------------------------------------
def voice_post(campaign, **overrides):
    data = {
        "name": campaign.name,
        "account": campaign.account.pk,
        "audience": campaign.audience.pk,
        "voice_mode": "voicemail",
        "text": "",
        "voice_lang": "fr",
        "voice_audio_token": AUDIO,
        "notification_email": "equipe@boutique.fr",
    }
    return {**data, **overrides}


def test_voicemail_drop_needs_an_audio_file_and_an_address_to_notify(marketing):
    campaign = CampaignFactory(channel="voice", text="")
    url = reverse("campaigns:edit", args=[campaign.pk])
    response = marketing.post(
        url, voice_post(campaign, voice_audio_token="", notification_email="")
    )
    form = response.context["form"]
    assert form.errors["voice_audio_token"] == [str(VOICEMAIL_NEEDS_AUDIO)]
    assert form.errors["notification_email"] == [str(VOICEMAIL_NEEDS_EMAIL)]
    form = VoiceDraftForm(
        voice_post(campaign, notification_email="pas-une-adresse"),
        instance=campaign,
        audio_files=[(AUDIO, "bienvenue")],
    )
    assert form.is_valid()  # the address is checked by the service (rules)
    with pytest.raises(ValidationError) as caught:
        services.campaign_update_draft(campaign=campaign, **form.draft_fields())
    assert caught.value.message_dict["notification_email"] == [str(rules.INVALID_EMAIL)]


def test_voicemail_drop_has_its_own_price_in_the_estimate(settings):
    settings.CAMPAIGN_UNIT_COST = {"voice": "0.10", "voicemail": "0.15"}
    campaign = CampaignFactory(
        channel="voice",
        audience=audience_with(4),
        voice_audio_token=AUDIO,
        notification_email="equipe@boutique.fr",
    )
    assert services.campaign_estimate(campaign=campaign).cost == Decimal("0.40")
    campaign.voice_mode = "voicemail"
    assert services.campaign_estimate(campaign=campaign).cost == Decimal("0.60")


def voicemail_campaign(n=3):
    return CampaignFactory(
        channel="voice",
        audience=audience_with(n),
        voice_mode="voicemail",
        voice_audio_token=AUDIO,
        notification_email="equipe@boutique.fr",
        text="",
    )


def test_voicemail_campaign_goes_through_campaign_send(sandbox_settings):
    campaign = voicemail_campaign()
    services.campaign_send(campaign=campaign)
    assert dispatch.dispatch(campaign.pk).status == CampaignStatus.SENT
    assert sandbox_settings.requests(provider="voice", path="/tts/send") == []
    (sent,) = sandbox_settings.requests(provider="voice", path="/campaign/send")
    assert sent["body"]["tokenAudio"] == AUDIO
    assert sent["body"]["emailForNotification"] == "equipe@boutique.fr"
    assert campaign.batches.get().cost == Decimal("0.45")


def test_deferred_voicemail_campaign_is_cancelled_at_the_provider(sandbox_settings):
    campaign = voicemail_campaign()
    when = timezone.now() + timedelta(minutes=40)
    when = when.replace(minute=when.minute - when.minute % 5, second=0, microsecond=0)
    services.campaign_schedule(
        campaign=campaign, scheduled_at=when, deferred_at_provider=True
    )
    dispatch.dispatch(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED, campaign.status_reason
    outcome = services.campaign_cancel(campaign=campaign)
    assert outcome.cancelled_at_provider == 1 and not outcome.refusals
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    (cancel,) = sandbox_settings.requests(provider="voice", path="/campaign/cancel")
    assert cancel["status"] == 200


def test_review_page_shows_the_voicemail_mode(marketing):
    campaign = voicemail_campaign()
    page = marketing.get(reverse("campaigns:review", args=[campaign.pk]))
    assert "Voicemail drop" in page.content.decode()
    assert "equipe@boutique.fr" in page.content.decode()


# --- quiet hours ------------------------------------------------------------------
def test_french_public_holidays_include_the_easter_based_ones():
    assert quiet_hours.easter_sunday(2026) == date(2026, 4, 5)
    assert quiet_hours.easter_sunday(2027) == date(2027, 3, 28)
    days = quiet_hours.french_public_holidays(2026)
    assert len(days) == 11
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)} <= days
    assert date(2026, 7, 14) in days and date(2026, 4, 5) not in days


@pytest.mark.parametrize(
    ("when", "quiet"),
    [
        (datetime(2026, 12, 2, 7, 59, tzinfo=PARIS), True),  # Wednesday, early
        (datetime(2026, 12, 2, 8, 0, tzinfo=PARIS), False),
        (datetime(2026, 12, 2, 19, 59, tzinfo=PARIS), False),
        (datetime(2026, 12, 2, 20, 0, tzinfo=PARIS), True),
        (datetime(2026, 12, 6, 11, 0, tzinfo=PARIS), True),  # Sunday
        (datetime(2026, 12, 25, 11, 0, tzinfo=PARIS), True),  # Christmas, Friday
        (datetime(2026, 5, 14, 11, 0, tzinfo=PARIS), True),  # Ascension
    ],
)
def test_quiet_hours(when, quiet):
    assert quiet_hours.is_quiet(when) is quiet


def test_next_delivery_skips_sundays_and_holidays():
    saturday_night = datetime(2026, 12, 26, 21, 0, tzinfo=PARIS)
    assert quiet_hours.next_delivery(saturday_night) == datetime(
        2026, 12, 28, 8, 0, tzinfo=PARIS
    )
    # Thursday 31 December, 22:00: Friday 1 January is a holiday, then Saturday.
    new_year = datetime(2026, 12, 31, 22, 0, tzinfo=PARIS)
    assert quiet_hours.next_delivery(new_year) == datetime(
        2027, 1, 2, 8, 0, tzinfo=PARIS
    )


def next_weekday(weekday, hour):
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() != weekday or day in quiet_hours.french_public_holidays(
        day.year
    ):
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time()).replace(hour=hour)


@pytest.mark.parametrize(
    ("channel", "weekday", "hour", "warned"),
    [
        ("sms", 6, 10, True),  # Sunday morning
        ("email", 2, 21, True),  # Wednesday evening
        ("email", 2, 10, False),
        ("voice", 6, 10, False),  # no such rule for voice
    ],
)
def test_review_page_warns_for_the_chosen_time(
    marketing, channel, weekday, hour, warned
):
    campaign = CampaignFactory(channel=channel, audience=audience_with(1))
    when = next_weekday(weekday, hour)
    response = marketing.post(
        reverse("campaigns:review", args=[campaign.pk]),
        {"mode": "later", "scheduled_at": when.strftime("%Y-%m-%dT%H:%M")},
    )  # not confirmed: the page comes back with the warning
    page = response.content.decode()
    assert ('id="review-quiet-hours"' in page) is warned
    if warned:
        assert "the provider queues it until the next working day" in page


def sms_campaign_with_credits() -> Any:
    return CampaignFactory(
        channel="sms",
        audience=audience_with(1),
        account=AccountFactory(provider="sms", credits=Decimal(10)),
    )


def confirm_for_sunday_10h(marketing, campaign, **fields: Any) -> Any:
    """The review page confirmed for next Sunday 10:00 (a quiet time)."""
    when = next_weekday(6, 10)
    return marketing.post(
        reverse("campaigns:review", args=[campaign.pk]),
        {
            "mode": "later",
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "confirm": "on",
            **fields,
        },
        follow=True,
    )


def test_scheduling_into_quiet_hours_says_so_after_the_send_is_planned(marketing):
    campaign = sms_campaign_with_credits()
    response = confirm_for_sunday_10h(marketing, campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    shown = [str(m) for m in response.context["messages"]]
    assert any(str(quiet_hours.QUEUED_SENTENCE) in m for m in shown), shown


def test_an_sms_handed_to_the_provider_for_a_sunday_is_refused_on_the_review_page(
    marketing,
):
    """SMS Partner refuses it (codes 22/23): the time field says why and how to fix
    it; nothing is planned."""
    campaign = sms_campaign_with_credits()
    response = confirm_for_sunday_10h(marketing, campaign, deferred_at_provider="on")
    assert response.status_code == 200
    errors_shown = response.context["form"].errors["scheduled_at"]
    assert errors_shown == [str(quiet_hours.DEFERRED_IN_QUIET_HOURS)]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_codes_22_23_on_a_test_send_are_shown_as_the_rule(marketing, monkeypatch):
    campaign = CampaignFactory(channel="sms", audience=audience_with(1))

    class Quiet:
        def test_send(self, *, address, merge=None):
            raise errors.QuietHours("8h-22h", code=22, provider="smspartner")

    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: Quiet())
    post = {
        "name": campaign.name,
        "account": campaign.account.pk,
        "audience": campaign.audience.pk,
        "sender": "Boutique",
        "text": "Soldes",
        "tag": "",
        "test-address": "+33612345678",
    }
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), post)
    shown = [str(m) for m in response.context["messages"]]
    assert str(quiet_hours.REFUSED_SENTENCE) in shown


def test_codes_22_23_in_a_dispatch_are_shown_as_the_rule(monkeypatch):
    campaign = CampaignFactory(channel="sms", audience=audience_with(2))

    class Quiet:
        can_lookup_lost_batches = True

        def send_batch(self, **kwargs):
            raise errors.QuietHours("Dimanche", code=23, provider="smspartner")

    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: Quiet())
    services.campaign_send(campaign=campaign)
    dispatch.dispatch(campaign.pk, sleep=lambda s: None)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    sentence = str(quiet_hours.REFUSED_SENTENCE)
    assert sentence in campaign.status_reason
    assert {d.error for d in campaign.deliveries.all()} == {sentence}


def test_campaign_model_defaults_keep_old_campaigns_as_calls():
    assert Campaign().voice_mode == "call"
