"""The audit trail: written by the services, read on the Admins' page, the CSV
export and each campaign's timeline (issue #12 point 3)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from partnerhub.audit import Action, AuditEntry, record
from tests.campaign_factories import AccountFactory, CampaignFactory, audience_with
from tests.factories import UserFactory
from tests.import_helpers import make_csv, run_import
from unsubscribes import services as unsubscribe_services
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_campaign_life_is_recorded_with_who_did_it():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    account = AccountFactory(provider="mail")
    campaign = services.campaign_create_draft(
        channel="email",
        name="Soldes",
        account=account,
        audience=audience_with(2),
        created_by=alice,
        subject="Soldes",
        html="<p>x</p>",
    )
    services.campaign_update_draft(campaign=campaign, actor=bob, subject="Soldes !")
    services.campaign_update_draft(campaign=campaign, actor=bob, subject="Soldes !")
    services.campaign_schedule(
        campaign=campaign,
        scheduled_at=timezone.now() + timedelta(days=1),
        actor=bob,
    )
    services.campaign_cancel(campaign=campaign, actor=alice)
    copy = services.campaign_duplicate(campaign=campaign, actor=bob)
    assert actions() == [
        Action.CAMPAIGN_CREATED,
        Action.CAMPAIGN_EDITED,  # the second save changed nothing: not recorded
        Action.CAMPAIGN_SCHEDULED,
        Action.CAMPAIGN_CANCELLED,
        Action.CAMPAIGN_CREATED,
        Action.CAMPAIGN_DUPLICATED,
    ]
    who = list(AuditEntry.objects.order_by("id").values_list("actor_name", flat=True))
    assert who == ["alice", "bob", "bob", "alice", "bob", "bob"]
    edited = AuditEntry.objects.get(action=Action.CAMPAIGN_EDITED)
    assert edited.details == {"fields": ["subject"]}
    duplicated = AuditEntry.objects.get(action=Action.CAMPAIGN_DUPLICATED)
    assert duplicated.target_id == str(copy.pk)
    assert duplicated.details["from"] == campaign.pk


def test_a_refused_action_records_nothing():
    campaign = CampaignFactory(audience=audience_with(0))
    with pytest.raises(Exception):  # noqa: B017 - ValidationError: empty audience
        services.campaign_send(campaign=campaign, actor=UserFactory())
    assert actions() == []


def test_an_import_records_file_audience_and_counts():
    user = UserFactory(username="importer")
    audience = audience_with(0)
    content = make_csv(
        [["email", "first_name"], ["a@x.fr", "A"], ["A@X.FR", "A"], ["bad", "B"]]
    )
    run_import(audience, content, user=user)
    entry = AuditEntry.objects.get(action=Action.AUDIENCE_IMPORTED)
    assert (entry.actor_name, entry.target_type, entry.target_id) == (
        "importer",
        "audience",
        str(audience.pk),
    )
    assert entry.details["file"] == "list.csv"
    assert (entry.details["created"], entry.details["duplicates"]) == (1, 1)
    assert entry.details["invalid"] == 1


def test_unsubscribes_added_removed_and_imported_are_recorded(client):
    user = UserFactory(username="carole")
    added = unsubscribe_services.unsubscribe_add(
        channel="sms", address="06 12 34 56 78", actor=user
    )
    unsubscribe_services.unsubscribe_add(channel="sms", address="+33612345678")
    unsubscribe_services.unsubscribe_remove(unsubscribe=added.unsubscribe, actor=user)
    unsubscribe_services.unsubscribes_import_csv(
        channel="email",
        file=io.BytesIO(b"email\ngone@example.fr\nbad\n"),
        actor=user,
        file_name="stops.csv",
    )
    assert actions() == [
        Action.UNSUBSCRIBE_ADDED,  # the second add changed nothing
        Action.UNSUBSCRIBE_REMOVED,
        Action.UNSUBSCRIBES_IMPORTED,
    ]
    imported = AuditEntry.objects.get(action=Action.UNSUBSCRIBES_IMPORTED)
    assert imported.details["file"] == "stops.csv"
    assert (imported.details["added"], imported.details["invalid"]) == (1, 1)


def test_a_stop_reply_is_recorded_as_partnerhub(client, settings):
    settings.SMS_REPLY_WEBHOOK_TOKEN = "tok-for-tests"
    client.post(
        reverse("unsubscribes:sms_reply_hook", args=["tok-for-tests"]),
        json.dumps({"type": "stop", "phone_number": "0612345678", "text": "STOP"}),
        content_type="application/json",
    )
    assert Unsubscribe.objects.get().address == "+33612345678"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.who) == (
        Action.UNSUBSCRIBE_ADDED,
        None,
        "PartnerHub",
    )


def test_pages_pass_the_logged_in_user(role_client):
    marketing = role_client("Marketing")
    response = marketing.post(
        reverse("unsubscribes:add"),
        {"channel": "email", "address": "Gone@Example.FR", "reason": ""},
    )
    entry = AuditEntry.objects.get()
    assert entry.actor == response.wsgi_request.user
    assert entry.target_label.endswith("gone@example.fr")


# --- the page ---------------------------------------------------------------------
def some_entries() -> None:
    alice = UserFactory(username="alice")
    campaign = CampaignFactory(name="Soldes d'hiver")
    record(action=Action.CAMPAIGN_CREATED, actor=alice, target=campaign)
    record(
        action=Action.CAMPAIGN_SENT,
        actor=UserFactory(username="bob"),
        target=campaign,
        details={"recipients": 12},
    )
    record(action=Action.UNSUBSCRIBE_ADDED, target_type="unsubscribe")


def test_only_admins_open_the_audit_page(role_client):
    url = reverse("audit:list")
    assert role_client("Marketing").get(url).status_code == 403
    assert role_client("Marketing").get(reverse("audit:export")).status_code == 403
    response = role_client("Admins").get(url)
    assert response.status_code == 200
    assert b"Nothing recorded yet" in response.content


def test_audit_page_filters(role_client):
    some_entries()
    admins = role_client("Admins")
    url = reverse("audit:list")
    page = admins.get(url)
    assert page.context["page_obj"].paginator.count == 3
    assert b"Soldes d&#x27;hiver" in page.content
    by_action = admins.get(url, {"action": Action.CAMPAIGN_SENT})
    assert [e.actor_name for e in by_action.context["page_obj"]] == ["bob"]
    by_user = admins.get(url, {"q": "ali"})
    assert [e.action for e in by_user.context["page_obj"]] == [Action.CAMPAIGN_CREATED]
    by_type = admins.get(url, {"target_type": "unsubscribe"})
    assert by_type.context["page_obj"].paginator.count == 1
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = admins.get(url, {"since": tomorrow})
    assert later.context["page_obj"].paginator.count == 0
    assert b"No entry matches these filters." in later.content


def test_audit_export_is_the_filtered_csv(role_client):
    some_entries()
    response = role_client("Admins").get(
        reverse("audit:export"), {"action": Action.CAMPAIGN_SENT, "delimiter": "comma"}
    )
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "When",
        "Who",
        "Action",
        "Object type",
        "Object id",
        "Object",
        "Details",
    ]
    assert len(rows) == 2
    assert rows[1][1:4] == ["bob", "Campaign sent", "campaign"]
    assert json.loads(rows[1][6]) == {"recipients": 12}


def test_campaign_page_timeline_shows_its_own_entries(role_client):
    some_entries()
    campaign = Campaign.objects.get()
    other = CampaignFactory(name="Other")
    record(action=Action.CAMPAIGN_CANCELLED, actor=UserFactory(), target=other)
    response = role_client("Marketing").get(
        reverse("campaigns:detail", args=[campaign.pk])
    )
    labels = [str(label) for label, _when in response.context["timeline"]]
    assert "Campaign created by alice" in labels
    assert "Campaign sent by bob" in labels
    assert not any("cancelled" in label.lower() for label in labels)
    assert "Created" not in labels  # told by the entry, not repeated
