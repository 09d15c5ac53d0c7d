"""The admin writes only through the services (issue #12 point 1).

Each of the first tests reproduces one bug of the issue with the request a
Marketing user made in the admin on the old code; the post carries every field
the old admin form had, so the old code accepted it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, Delivery, Recipient
from campaigns.selectors import campaign_audience_counts
from partnerhub import roles
from partnerhub.audit import Action, AuditEntry
from tests.campaign_factories import (
    AccountFactory,
    AudienceFactory,
    CampaignFactory,
    audience_with,
)
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


@pytest.fixture
def admins(role_client):
    return role_client("Admins")


def change_url(obj) -> str:
    return reverse(
        f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
    )


def campaign_post(campaign: Campaign, **changes) -> dict[str, object]:
    """Every field of the old campaign admin form, with `changes` applied."""
    data = {
        "name": campaign.name,
        "channel": campaign.channel,
        "account": campaign.account_id,
        "audience": campaign.audience_id,
        "sender": campaign.sender,
        "sender_name": campaign.sender_name,
        "subject": campaign.subject,
        "html": campaign.html,
        "text": campaign.text,
        "voice_lang": campaign.voice_lang,
        "voice_audio_token": campaign.voice_audio_token,
        "tag": campaign.tag,
        "voice_mode": campaign.voice_mode,
        "notification_email": campaign.notification_email,
        "reply_to": campaign.reply_to,
        "reply_to_name": campaign.reply_to_name,
        "sms_encoding": campaign.sms_encoding,
        "sms_range": campaign.sms_range,
        "sms_stop": "on" if campaign.sms_stop else "",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        "batches-TOTAL_FORMS": "0",
        "batches-INITIAL_FORMS": "0",
        "batches-MIN_NUM_FORMS": "0",
        "batches-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    data.update(changes)
    return data


def sent_campaign(n: int = 3) -> Campaign:
    campaign = CampaignFactory(audience=audience_with(n), status=CampaignStatus.SENT)
    Delivery.objects.bulk_create(
        Delivery(campaign=campaign, recipient=r, address=r.email, status="delivered")
        for r in campaign.audience.recipients.all()
    )
    return campaign


# --- the bugs of issue #12 --------------------------------------------------------
def test_sent_campaigns_subject_cannot_be_changed_in_the_admin(marketing):
    campaign = sent_campaign()
    response = marketing.post(
        change_url(campaign), campaign_post(campaign, subject="Changed after sending")
    )
    campaign.refresh_from_db()
    assert campaign.subject == "Les soldes"
    assert response.status_code == 403
    page = marketing.get(change_url(campaign))
    assert page.status_code == 200  # still visible, read-only
    assert b'name="subject"' not in page.content


def test_scheduled_campaigns_channel_and_audience_cannot_be_changed(marketing):
    campaign = CampaignFactory(
        audience=audience_with(2),
        status=CampaignStatus.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    other = audience_with(5)
    sms = AccountFactory(provider="sms")
    post = campaign_post(
        campaign,
        channel="sms",
        account=sms.pk,
        audience=other.pk,
        sender="PartnerHub",
        scheduled_at_0=timezone.now().strftime("%Y-%m-%d"),
        scheduled_at_1="23:00:00",
    )
    response = marketing.post(change_url(campaign), post)
    campaign.refresh_from_db()
    assert campaign.channel == "email"
    assert campaign.audience_id != other.pk
    assert response.status_code == 403


def test_a_draft_cannot_change_channel_in_the_admin_either(admins):
    campaign = CampaignFactory(audience=audience_with(1))
    sms = AccountFactory(provider="sms")
    response = admins.post(
        change_url(campaign), campaign_post(campaign, channel="sms", account=sms.pk)
    )
    campaign.refresh_from_db()
    assert campaign.channel == "email"
    assert response.status_code == 200  # the email campaign refuses an SMS account
    assert "account" in response.context["adminform"].form.errors


def test_sent_campaign_with_deliveries_cannot_be_deleted(marketing, admins):
    campaign = sent_campaign(4)
    url = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    for client in (marketing, admins):
        single = client.post(url, {"post": "yes"})
        assert Campaign.objects.filter(pk=campaign.pk).exists()
        assert single.status_code == 403
        bulk = client.post(
            reverse("admin:campaigns_campaign_changelist"),
            {
                "action": "delete_selected",
                ACTION_CHECKBOX_NAME: [campaign.pk],
                "post": "yes",
            },
        )
        assert bulk.status_code in (200, 302, 403)
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert campaign.deliveries.count() == 4


def test_deliveries_cannot_be_bulk_deleted_or_edited(marketing, admins):
    campaign = sent_campaign(3)
    delivery = campaign.deliveries.first()
    for client in (marketing, admins):
        response = client.post(
            reverse("admin:campaigns_delivery_changelist"),
            {
                "action": "delete_selected",
                ACTION_CHECKBOX_NAME: list(
                    campaign.deliveries.values_list("pk", flat=True)
                ),
                "post": "yes",
            },
        )
        assert response.status_code in (200, 302)
        assert campaign.deliveries.count() == 3
        delete = reverse("admin:campaigns_delivery_delete", args=[delivery.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        edit = client.post(change_url(delivery), {"status": "failed"})
        assert edit.status_code == 403
    assert campaign.deliveries.count() == 3
    assert campaign.deliveries.filter(status="delivered").count() == 3


def test_admin_has_no_add_campaign_that_skips_the_draft_checks(marketing, admins):
    mail = AccountFactory(provider="mail")
    audience = audience_with(1)
    post = campaign_post(
        Campaign(account=mail, audience=audience, channel="sms", name="Bypass"),
        sender="Shop Now!",  # an invalid SMS sender, on an email account
        text="x" * 2000,  # longer than 10 SMS
    )
    for client in (marketing, admins):
        response = client.post(reverse("admin:campaigns_campaign_add"), post)
        assert not Campaign.objects.exists()
        assert response.status_code == 403
    changelist = admins.get(reverse("admin:campaigns_campaign_changelist"))
    assert reverse("admin:campaigns_campaign_add").encode() not in changelist.content
    assert reverse("campaigns:create").encode() in changelist.content


def test_admin_stores_recipients_normalised_so_suppression_sees_them(marketing):
    audience = AudienceFactory()
    Unsubscribe.objects.create(channel="email", address="gone@example.fr")
    Unsubscribe.objects.create(channel="sms", address="+33612345678")
    response = marketing.post(
        reverse("admin:campaigns_recipient_add"),
        {
            "audience": audience.pk,
            "email": "Gone@Example.FR",
            "phone": "06 12 34 56 78",
            "first_name": "Claire",
            "last_name": "Martin",
            "attributes": "{}",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content
    recipient = Recipient.objects.get()
    assert (recipient.email, recipient.phone) == ("gone@example.fr", "+33612345678")
    for channel in ("email", "sms"):
        counts = campaign_audience_counts(
            campaign=Campaign(audience=audience, channel=channel)
        )
        assert counts == (1, 1), channel  # the one recipient is suppressed


def test_admin_refuses_a_recipient_with_a_header_breaking_name(marketing):
    response = marketing.post(
        reverse("admin:campaigns_recipient_add"),
        {
            "audience": AudienceFactory().pk,
            "email": "claire@example.fr",
            "first_name": "Claire\r\nBcc: all@example.fr",
            "attributes": "{}",
        },
    )
    assert response.status_code == 200
    assert "first_name" in response.context["adminform"].form.errors
    assert not Recipient.objects.exists()


def test_test_sms_to_a_stop_listed_number_typed_06_needs_confirmation(
    marketing, monkeypatch
):
    campaign = CampaignFactory(channel="sms", audience=audience_with(1))
    Unsubscribe.objects.create(channel="sms", address="+33612345678", source="reply")
    sent = []

    class Recording:
        def test_send(self, *, address):
            sent.append(address)
            return "msg-1"

    monkeypatch.setattr(services, "adapter_for", lambda c, **kw: Recording())
    post = {
        "name": campaign.name,
        "account": campaign.account_id,
        "audience": campaign.audience_id,
        "sender": "Boutique",
        "text": "Les soldes",
        "add_stop": "on",
        "action": "test",
        "test-address": "06 12 34 56 78",
    }
    url = reverse("campaigns:test_send", args=[campaign.pk])
    response = marketing.post(url, post)
    assert sent == []  # the old form passed "0612345678", unknown to the list
    assert response.status_code == 200
    assert response.context["test_form"].errors["confirm_unsubscribed"]
    post["test-confirm_unsubscribed"] = "on"
    response = marketing.post(url, post, follow=True)
    assert sent == ["+33612345678"]
    shown = [str(m) for m in response.context["messages"]]
    assert str(services.UNSUBSCRIBED_TEST_ADDRESS) in shown


# --- admin actions through the services --------------------------------------------
def action(client, name, campaigns, **extra):
    return client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": name, ACTION_CHECKBOX_NAME: [c.pk for c in campaigns], **extra},
    )


def test_send_now_action_confirms_then_queues_through_the_service(
    marketing, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(audience=audience_with(2))
    page = action(marketing, "send_now", [campaign])
    assert page.status_code == 200
    assert page.templates[0].name == "admin/campaigns/campaign/action_confirmation.html"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT  # nothing before confirming
    with django_capture_on_commit_callbacks() as callbacks:
        done = action(marketing, "send_now", [campaign], post="yes")
    assert done.status_code == 302
    assert len(callbacks) == 1  # the dispatch is queued, as from the review page
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_SENT)
    user = done.wsgi_request.user
    assert (entry.actor, entry.actor_name) == (user, user.get_username())
    assert entry.target_id == str(campaign.pk)


def test_send_now_action_reports_the_services_refusal(marketing):
    campaign = CampaignFactory(audience=AudienceFactory())  # nobody to send to
    response = action(marketing, "send_now", [campaign], post="yes")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any(str(services.EMPTY_AUDIENCE) in m for m in messages)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_schedule_action_asks_for_a_time_then_schedules(marketing):
    campaign = CampaignFactory(audience=audience_with(1))
    sent = sent_campaign(1)
    page = action(marketing, "schedule", [campaign, sent])
    assert page.status_code == 200 and b'name="scheduled_at"' in page.content
    notes = dict((c.pk, note) for c, note in page.context["rows"])
    assert notes == {campaign.pk: "", sent.pk: "Not a draft: left as it is."}
    past = action(
        marketing, "schedule", [campaign], post="yes", scheduled_at="2020-01-01T10:00"
    )
    assert past.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    when = timezone.localtime(timezone.now() + timedelta(days=2))
    action(
        marketing,
        "schedule",
        [campaign],
        post="yes",
        scheduled_at=when.strftime("%Y-%m-%dT%H:%M"),
    )
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_SCHEDULED).count() == 1


def test_cancel_action_cancels_a_scheduled_campaign(marketing):
    campaign = CampaignFactory(
        audience=audience_with(1),
        status=CampaignStatus.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    assert action(marketing, "cancel", [campaign]).status_code == 200
    action(marketing, "cancel", [campaign], post="yes")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert AuditEntry.objects.filter(action=Action.CAMPAIGN_CANCELLED).count() == 1


def test_duplicate_action_copies_a_sent_campaign_into_a_draft(marketing):
    campaign = sent_campaign(2)
    assert action(marketing, "duplicate", [campaign]).status_code == 200
    action(marketing, "duplicate", [campaign], post="yes")
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy.status == CampaignStatus.DRAFT
    assert (copy.subject, copy.audience_id) == (campaign.subject, campaign.audience_id)
    assert copy.name == f"{campaign.name} (copy)"
    assert copy.deliveries.count() == 0
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_DUPLICATED)
    assert entry.details["from"] == campaign.pk


def test_a_draft_edited_in_the_admin_goes_through_the_service(marketing):
    campaign = CampaignFactory(audience=audience_with(1))
    response = marketing.post(
        change_url(campaign), campaign_post(campaign, subject="Soldes\r\nBcc: x@y.fr")
    )
    assert response.status_code == 200
    assert "subject" in response.context["adminform"].form.errors
    response = marketing.post(
        change_url(campaign), campaign_post(campaign, subject="Nouvelles soldes")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.subject == "Nouvelles soldes"
    entry = AuditEntry.objects.get(action=Action.CAMPAIGN_EDITED)
    assert entry.details == {"fields": ["subject"]}


def test_unsubscribe_admin_adds_through_the_service_and_never_edits(admins):
    response = admins.post(
        reverse("admin:unsubscribes_unsubscribe_add"),
        {"channel": "sms", "address": "06 12 34 56 78", "reason": "phone call"},
    )
    assert response.status_code == 302
    row = Unsubscribe.objects.get()
    assert row.address == "+33612345678"
    assert AuditEntry.objects.filter(action=Action.UNSUBSCRIBE_ADDED).count() == 1
    edit = admins.post(change_url(row), {"channel": "sms", "address": "+33700000000"})
    assert edit.status_code == 403
    row.refresh_from_db()
    assert row.address == "+33612345678"


def test_marketing_admin_permissions_shrink_to_what_pages_do_not_offer():
    marketing = {
        p.codename for p in Group.objects.get(name=roles.MARKETING).permissions.all()
    }
    admins = {
        p.codename for p in Group.objects.get(name=roles.ADMINS).permissions.all()
    }
    # Pages need these; the admin adds audiences and recipients one by one.
    assert {
        "add_campaign",
        "change_campaign",
        "add_audience",
        "add_recipient",
        "add_unsubscribe",
        "delete_unsubscribe",
    } <= marketing
    assert (
        not {
            "delete_campaign",
            "change_unsubscribe",
            "view_auditentry",
        }
        & marketing
    )
    records = {"delivery", "dispatchbatch", "creditsnapshot", "smsreply", "auditentry"}
    for perms in (marketing, admins):
        writes = {p for p in perms if p.split("_", 1)[1] in records}
        assert not {p for p in writes if not p.startswith("view_")}
    assert {"view_delivery", "view_auditentry", "delete_campaign"} <= admins
