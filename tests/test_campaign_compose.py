"""The compose flow: drafts per channel, preview, test-send, review, cancel, access."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns import dispatch, services
from campaigns import forms as compose_forms
from campaigns.forms import ReviewForm, SmsDraftForm
from campaigns.models import Campaign, CampaignStatus
from partnerhub.html import sanitise_preview
from partnerhub.providers import errors
from tests.campaign_factories import (
    AccountFactory,
    AudienceFactory,
    CampaignFactory,
    RecipientFactory,
    audience_with,
)
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


def paris_input(when):
    """What a datetime-local picker posts for `when`, in Paris wall-clock time."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def next_five_minutes(minutes_ahead=60):
    t = timezone.now() + timedelta(minutes=minutes_ahead)
    return t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0)


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def email_post(account, audience, **overrides):
    data = {
        "name": "Soldes d'hiver",
        "account": account.pk,
        "audience": audience.pk,
        "subject": "Les soldes",
        "sender": "news@example.fr",
        "sender_name": "Boutique",
        "html": "<p>Bonjour</p><a href='#UNSUBSCRIBE_LINK#'>stop</a>",
        "text": "Bonjour",
        "action": "save",
    }
    return {**data, **overrides}


def sms_post(account, audience, **overrides):
    data = {
        "name": "SMS soldes",
        "account": account.pk,
        "audience": audience.pk,
        "sender": "Boutique",
        "text": "Les soldes commencent demain",
        "add_stop": "on",
        "action": "save",
    }
    return {**data, **overrides}


# --- drafts: services ---------------------------------------------------------
def test_create_draft_checks_sms_sender_length_and_account_provider():
    mail = AccountFactory(provider="mail")
    with pytest.raises(ValidationError) as exc:
        services.campaign_create_draft(
            channel="sms",
            name="x",
            account=mail,
            audience=AudienceFactory(),
            sender="AB",
            text="ê" * 700,  # 10+ parts in Unicode only (GSM: substituted, 5)
            sms_encoding="unicode",
        )
    errors_by_field = exc.value.message_dict
    assert errors_by_field["sender"] == [str(services.SMS_SENDER_INVALID)]
    assert errors_by_field["text"] == [str(services.SMS_TOO_LONG)]
    assert errors_by_field["account"] == [str(services.WRONG_ACCOUNT)]
    assert not Campaign.objects.exists()


def test_only_drafts_can_be_updated():
    campaign = CampaignFactory(status=CampaignStatus.SCHEDULED)
    with pytest.raises(ValidationError) as exc:
        services.campaign_update_draft(campaign=campaign, subject="Autre")
    assert exc.value.code == "not_draft"
    campaign.refresh_from_db()
    assert campaign.subject == "Les soldes"


def test_update_draft_refuses_fields_that_belong_to_other_services():
    campaign = CampaignFactory()
    with pytest.raises(TypeError):
        services.campaign_update_draft(campaign=campaign, status="sent")


# --- forms --------------------------------------------------------------------
def test_sms_form_leaves_the_stop_mention_to_the_provider_on_premium():
    """Premium: `isStopSms` appends it, so a typed mention is taken out (no double
    mention); Low Cost: "NoPub=STOP" is written once at the end of the text."""
    account = AccountFactory(provider="sms")
    audience = AudienceFactory()
    form = SmsDraftForm(
        sms_post(account, audience, text="Promo -20% STOP 36180"),
        instance=Campaign(channel="sms"),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["text"] == "Promo -20%"
    assert form.draft_fields()["sms_stop"] is True
    low_cost = sms_post(account, audience, text="Promo NoPub=STOP", sms_range="2")
    form = SmsDraftForm(low_cost, instance=Campaign(channel="sms"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["text"] == "Promo NoPub=STOP"
    unticked = sms_post(account, audience, text="Promo STOP au 36180")
    del unticked["add_stop"]
    form = SmsDraftForm(unticked, instance=Campaign(channel="sms"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["text"] == "Promo"


@pytest.mark.parametrize("sender", ["AB", "Boutique Paris", "TOOLONGSENDER", "é-shop"])
def test_sms_form_rejects_bad_senders_in_place(sender):
    form = SmsDraftForm(
        sms_post(AccountFactory(provider="sms"), AudienceFactory(), sender=sender),
        instance=Campaign(channel="sms"),
    )
    assert not form.is_valid()
    assert form.errors["sender"] == [str(services.SMS_SENDER_INVALID)]


def test_sms_form_offers_only_accounts_of_sms_partner_including_subaccounts():
    main = AccountFactory(provider="sms", name="Main")
    sub = AccountFactory(
        provider="sms", name="Agence Lyon", parent=main, encrypted_api_key="sub-key"
    )
    AccountFactory(provider="mail")
    AccountFactory(provider="sms", name="Off", parent=main, is_active=False)
    AccountFactory(provider="sms", name="Keyless", parent=main)  # cannot pay: hidden
    form = SmsDraftForm(instance=Campaign(channel="sms"))
    assert set(form.fields["account"].queryset) == {main, sub}


def test_test_send_form_validates_the_address_per_channel():
    assert not compose_forms.TestSendForm(
        {"test-address": "nope"}, channel="email", prefix="test"
    ).is_valid()
    assert not compose_forms.TestSendForm(
        {"test-address": "12"}, channel="sms", prefix="test"
    ).is_valid()
    form = compose_forms.TestSendForm(
        {"test-address": "06 12 34 56 78"}, channel="sms", prefix="test"
    )
    assert form.is_valid() and form.cleaned_data["address"] == "+33612345678"


def test_review_form_reads_the_picker_as_paris_time(settings):
    settings.TIME_ZONE = "UTC"  # whatever the server's zone
    form = ReviewForm(
        {"mode": "later", "scheduled_at": "2030-07-01T14:05", "confirm": "on"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["scheduled_at"].isoformat() == "2030-07-01T14:05:00+02:00"


# --- compose pages ------------------------------------------------------------
def test_new_campaign_without_channel_shows_the_channel_picker(marketing):
    response = marketing.get(reverse("campaigns:create"))
    assert response.status_code == 200
    for channel in ("email", "sms", "voice"):
        assert f"?channel={channel}" in response.content.decode()


def test_create_email_draft_and_edit_it(marketing):
    account = AccountFactory(provider="mail", credits=Decimal(100))
    audience = audience_with(3)
    response = marketing.post(
        reverse("campaigns:create") + "?channel=email", email_post(account, audience)
    )
    campaign = Campaign.objects.get()
    assert response.url == reverse("campaigns:edit", args=[campaign.pk])
    assert (campaign.channel, campaign.status) == ("email", CampaignStatus.DRAFT)
    assert campaign.created_by is not None
    page = marketing.get(response.url).content.decode()
    assert "3 recipients will receive it" in page
    assert "sandbox title=" in page and "srcdoc=" in page
    response = marketing.post(
        response.url, email_post(account, audience, subject="Nouveau", action="review")
    )
    assert response.url == reverse("campaigns:review", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.subject == "Nouveau"


def test_invalid_email_draft_keeps_everything_typed(marketing):
    account = AccountFactory(provider="mail")
    audience = AudienceFactory()
    post = email_post(account, audience, subject="", sender="not-an-email")
    post["html"] = "<p>Mon long texte</p>"
    response = marketing.post(reverse("campaigns:create") + "?channel=email", post)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mon long texte" in page
    assert "errornote" in page
    form = response.context["form"]
    assert set(form.errors) == {"subject", "sender"}
    assert form.missing_unsubscribe_link
    assert not Campaign.objects.exists()


def test_sms_draft_is_saved_with_the_stop_mention(marketing):
    account = AccountFactory(provider="sms")
    response = marketing.post(
        reverse("campaigns:create") + "?channel=sms",
        sms_post(account, audience_with(2)),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.sms_stop
    assert campaign.text == "Les soldes commencent demain"  # the provider adds it
    page = marketing.get(response.url).content.decode()
    assert "Les soldes commencent demain</textarea>" in page  # mention not repeated


def test_voice_compose_lists_the_accounts_audio_files(marketing, sandbox_settings):
    AccountFactory(provider="voice")
    response = marketing.get(reverse("campaigns:create") + "?channel=voice")
    choices = dict(response.context["form"].fields["voice_audio_token"].choices)
    assert len(choices) > 1  # the sandbox's validated files after "none"
    assert response.context["form"].audio_files_available


def test_voice_audio_list_is_cached_per_account_with_a_refresh_link(
    marketing, sandbox_settings
):
    AccountFactory(provider="voice")
    create = reverse("campaigns:create") + "?channel=voice"
    marketing.get(create)
    page = marketing.get(create).content.decode()
    assert len(sandbox_settings.requests(provider="voice", path="/audios")) == 1
    assert "Reload the list of audio files" in page
    marketing.get(create + "&refresh_audio=1")
    assert len(sandbox_settings.requests(provider="voice", path="/audios")) == 2


def test_voice_compose_still_opens_when_the_provider_is_down(marketing, settings):
    settings.VOICEPARTNER_API_URL = "http://127.0.0.1:9/v1"
    AccountFactory(provider="voice")
    response = marketing.get(reverse("campaigns:create") + "?channel=voice")
    assert response.status_code == 200
    assert "could not be read from Voice Partner" in response.content.decode()


def test_a_sent_campaign_is_not_editable(marketing):
    campaign = CampaignFactory(status=CampaignStatus.SENT)
    response = marketing.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        email_post(campaign.account, campaign.audience, subject="Changed"),
    )
    assert response.status_code == 200
    assert "can no longer be edited" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.subject == "Les soldes"


def test_audience_counts_endpoint_reports_unsubscribed(marketing):
    audience = audience_with(4)
    Unsubscribe.objects.create(
        channel="email", address=audience.recipients.first().email
    )
    RecipientFactory(audience=audience, email="")
    response = marketing.get(
        reverse("campaigns:audience_counts"),
        {"audience": audience.pk, "channel": "email"},
    )
    assert response.json() == {"recipients": 4, "unsubscribed": 1, "sendable": 3}
    bad = marketing.get(reverse("campaigns:audience_counts"), {"channel": "fax"})
    assert bad.status_code == 400


# --- preview ------------------------------------------------------------------
def test_preview_strips_scripts_and_event_handlers(marketing):
    html = (
        "<h1 style='color: red; position: fixed'>Soldes</h1>"
        "<script>alert(1)</script><img src='x.png' onerror='alert(2)'>"
        "<a href='javascript:alert(3)'>lien</a><form><input></form>"
    )
    response = marketing.post(reverse("campaigns:preview"), {"html": html})
    data = response.json()
    assert "<script" not in data["html"] and "alert(1)" not in data["html"]
    assert "onerror" not in data["html"]
    assert "javascript:" not in data["html"]
    assert "<form" not in data["html"] and "<input" not in data["html"]
    assert "color:red" in data["html"].replace(" ", "")
    assert "position" not in data["html"]
    assert data["missingUnsubscribe"] is True


def test_preview_keeps_the_unsubscribe_placeholder_link():
    cleaned = sanitise_preview("<a href='#UNSUBSCRIBE_LINK#'>stop</a>")
    assert 'href="#UNSUBSCRIBE_LINK#"' in cleaned


def test_preview_needs_post_and_csrf(client, marketing_user):
    client.force_login(marketing_user)
    assert client.get(reverse("campaigns:preview")).status_code == 405
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("campaigns:preview"), {"html": "<p>x</p>"})
    assert response.status_code == 403


# --- test send (live sandbox) ---------------------------------------------------
def test_test_send_goes_through_the_provider_tagged_test(marketing, sandbox_settings):
    campaign = CampaignFactory(audience=audience_with(2))
    post = email_post(
        campaign.account, campaign.audience, subject="Version 2", action="test"
    )
    post["test-address"] = "moi@example.fr"
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), post)
    assert response.status_code == 302
    sent = sandbox_settings.requests(provider="mail", path="/send")
    assert len(sent) == 1
    assert sent[0]["body"]["tag"] == "test"
    assert sent[0]["body"]["subject"] == "[TEST] Version 2"  # saved first
    assert campaign.deliveries.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_test_send_to_an_unsubscribed_address_needs_confirmation(
    marketing, sandbox_settings
):
    campaign = CampaignFactory(audience=audience_with(1))
    Unsubscribe.objects.create(channel="email", address="gone@example.fr")
    post = email_post(campaign.account, campaign.audience, action="test")
    post["test-address"] = "gone@example.fr"
    url = reverse("campaigns:test_send", args=[campaign.pk])
    response = marketing.post(url, post)
    assert response.status_code == 200
    test_form = response.context["test_form"]
    assert test_form.errors["confirm_unsubscribed"] == [
        str(services.TEST_ADDRESS_UNSUBSCRIBED)
    ]
    assert sandbox_settings.requests(provider="mail", path="/send") == []
    post["test-confirm_unsubscribed"] = "on"
    response = marketing.post(url, post, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert str(services.UNSUBSCRIBED_TEST_ADDRESS) in shown
    assert len(sandbox_settings.requests(provider="mail", path="/send")) == 1


def test_test_send_shows_provider_errors_clearly(marketing, monkeypatch):
    campaign = CampaignFactory(channel="sms", audience=audience_with(1))

    class Refusing:
        def test_send(self, *, address):
            raise errors.InsufficientCredits("Crédit insuffisant", code=11)

    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: Refusing())
    post = sms_post(campaign.account, campaign.audience, action="test")
    post["test-address"] = "+33612345678"
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), post)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert "The account has not enough credits." in shown
    assert "+33612345678" in response.content.decode()  # address kept


def test_a_slow_provider_does_not_hold_the_test_send_page(
    marketing, sandbox_settings, settings
):
    """One short try, never a retry: the page says so instead of waiting 60 s."""
    import time

    settings.PROVIDER_INTERACTIVE_TIMEOUT = 1.0
    sandbox_settings.set_faults(
        [{"provider": "mail", "path": "/send", "fault": "timeout", "delay": 5}]
    )
    campaign = CampaignFactory(audience=audience_with(1))
    post = email_post(campaign.account, campaign.audience, action="test")
    post["test-address"] = "moi@example.fr"
    started = time.monotonic()
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), post)
    took = time.monotonic() - started
    assert response.status_code == 200
    assert took < 4, took
    shown = [str(m) for m in response.context["messages"]]
    assert any("did not answer in time" in m for m in shown)
    assert len(sandbox_settings.requests(provider="mail", path="/send")) == 1


def test_sms_test_send_through_the_sandbox(marketing, sandbox_settings):
    campaign = CampaignFactory(channel="sms", audience=audience_with(1))
    post = sms_post(campaign.account, campaign.audience, action="test")
    post["test-address"] = "+33612345678"
    response = marketing.post(reverse("campaigns:test_send", args=[campaign.pk]), post)
    assert response.status_code == 302
    sent = sandbox_settings.requests(provider="sms", path="/send")
    assert sent[0]["body"]["tag"] == "test"
    assert sent[0]["body"]["isStopSms"] == 1
    assert "STOP" not in sent[0]["body"]["message"]


# --- review, schedule, send -----------------------------------------------------
def test_review_shows_recipients_after_suppression_and_cost(marketing):
    account = AccountFactory(provider="mail", credits=Decimal(100))
    campaign = CampaignFactory(account=account, audience=audience_with(5))
    Unsubscribe.objects.create(
        channel="email", address=campaign.audience.recipients.first().email
    )
    response = marketing.get(reverse("campaigns:review", args=[campaign.pk]))
    estimate = response.context["estimate"]
    assert (estimate.recipients, estimate.suppressed, estimate.cost) == (4, 1, 4)
    assert response.context["problem"] == ""
    assert 'id="review-form"' in response.content.decode()


def test_review_blocks_when_credits_are_short(marketing):
    account = AccountFactory(provider="mail", credits=Decimal(2))
    campaign = CampaignFactory(account=account, audience=audience_with(5))
    url = reverse("campaigns:review", args=[campaign.pk])
    page = marketing.get(url).content.decode()
    assert "Not enough credits" in page
    assert 'id="review-form"' not in page
    response = marketing.post(url, {"mode": "now", "confirm": "on"})
    assert "Not enough credits" in str(response.context["form"].non_field_errors())
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_review_requires_the_confirmation_box(marketing):
    campaign = CampaignFactory(audience=audience_with(2))
    response = marketing.post(
        reverse("campaigns:review", args=[campaign.pk]), {"mode": "now"}
    )
    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_send_now_queues_the_dispatch_and_opens_the_campaign_page(
    marketing, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(audience=audience_with(2))
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketing.post(
            reverse("campaigns:review", args=[campaign.pk]),
            {"mode": "now", "confirm": "on"},
        )
    assert response.status_code == 302
    assert response.url == reverse("campaigns:detail", args=[campaign.pk])
    assert len(callbacks) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


@pytest.mark.parametrize(
    ("when", "deferred", "message"),
    [
        (lambda: timezone.now() - timedelta(hours=1), False, services.IN_THE_PAST),
        (
            lambda: next_five_minutes() + timedelta(minutes=2),
            True,
            services.NOT_FIVE_MINUTES,
        ),
        (lambda: next_five_minutes(0) + timedelta(minutes=5), True, None),
    ],
)
def test_schedule_rules_show_on_the_date_field(marketing, when, deferred, message):
    campaign = CampaignFactory(audience=audience_with(2))
    post = {"mode": "later", "scheduled_at": paris_input(when()), "confirm": "on"}
    if deferred:
        post["deferred_at_provider"] = "on"
    response = marketing.post(reverse("campaigns:review", args=[campaign.pk]), post)
    assert response.status_code == 200
    shown = response.context["form"].errors["scheduled_at"]
    if message is not None:
        assert shown == [str(message)]
    else:  # within 10 minutes: too soon for the provider (or already past)
        assert shown[0] in {
            str(services.TOO_SOON_FOR_PROVIDER),
            str(services.IN_THE_PAST),
        }
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_schedule_later_in_paris_time(marketing):
    campaign = CampaignFactory(audience=audience_with(2))
    when = next_five_minutes(120)
    response = marketing.post(
        reverse("campaigns:review", args=[campaign.pk]),
        {"mode": "later", "scheduled_at": paris_input(when), "confirm": "on"},
        follow=True,
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert campaign.scheduled_at == when
    assert "is scheduled for" in " ".join(str(m) for m in response.context["messages"])


# --- cancel -------------------------------------------------------------------
def test_cancel_page_confirms_then_cancels_locally(marketing):
    campaign = CampaignFactory(audience=audience_with(2))
    services.campaign_schedule(campaign=campaign, scheduled_at=next_five_minutes())
    url = reverse("campaigns:cancel", args=[campaign.pk])
    assert "still waiting in PartnerHub" in marketing.get(url).content.decode()
    response = marketing.post(url, {})
    assert "confirm" in response.context["form"].errors
    response = marketing.post(url, {"confirm": "on"})
    assert response.url == reverse("campaigns:detail", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_cancel_refused_by_the_provider_is_a_clear_message(marketing, monkeypatch):
    from tests.test_campaign_services import CancellingProvider

    provider = CancellingProvider(refuse=errors.AlreadySent("déjà envoyé", code=7))
    monkeypatch.setattr(dispatch, "adapter_for", lambda c, **kw: provider)
    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: provider)
    campaign = CampaignFactory(audience=audience_with(2))
    services.campaign_schedule(
        campaign=campaign, scheduled_at=next_five_minutes(), deferred_at_provider=True
    )
    dispatch.dispatch(campaign.pk)
    response = marketing.post(
        reverse("campaigns:cancel", args=[campaign.pk]), {"confirm": "on"}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert str(services.CANCEL_REFUSED[errors.AlreadySent]) in shown
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_cancelling_a_draft_explains_why_not(marketing):
    campaign = CampaignFactory()
    response = marketing.post(
        reverse("campaigns:cancel", args=[campaign.pk]), {"confirm": "on"}, follow=True
    )
    assert str(services.CANNOT_CANCEL) in [str(m) for m in response.context["messages"]]


# --- permissions --------------------------------------------------------------
def compose_urls(campaign):
    pk = [campaign.pk]
    return [
        ("get", reverse("campaigns:create") + "?channel=email"),
        ("post", reverse("campaigns:create") + "?channel=email"),
        ("get", reverse("campaigns:edit", args=pk)),
        ("post", reverse("campaigns:edit", args=pk)),
        ("post", reverse("campaigns:preview")),
        ("get", reverse("campaigns:audience_counts")),
        ("post", reverse("campaigns:test_send", args=pk)),
        ("get", reverse("campaigns:review", args=pk)),
        ("post", reverse("campaigns:review", args=pk)),
        ("get", reverse("campaigns:cancel", args=pk)),
        ("post", reverse("campaigns:cancel", args=pk)),
    ]


@pytest.mark.parametrize("role", ["PEC operators"])
def test_users_without_campaign_permissions_get_403_everywhere(role_client, role):
    campaign = CampaignFactory(audience=audience_with(1))
    client = role_client(role)
    for method, url in compose_urls(campaign):
        response = getattr(client, method)(url, {"confirm": "on", "mode": "now"})
        assert response.status_code == 403, (method, url)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_view_only_permission_is_not_enough(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(user)
    campaign = CampaignFactory()
    for method, url in compose_urls(campaign):
        assert getattr(client, method)(url).status_code == 403, (method, url)


def test_marketing_and_admins_can_open_every_page(role_client):
    campaign = CampaignFactory(audience=audience_with(1))
    for role in ("Marketing", "Admins"):
        client = role_client(role)
        for name in ("edit", "review"):
            url = reverse(f"campaigns:{name}", args=[campaign.pk])
            assert client.get(url).status_code == 200, (role, name)
