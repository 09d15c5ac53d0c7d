"""Unsubscribe pages: permissions, forms, import, export and the sync button."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from unsubscribes import services, tasks
from unsubscribes.models import Source, Unsubscribe, UnsubscribeSync

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"unsubscribes:{name}", args=args)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def row():
    return services.unsubscribe_add(channel="email", address="a@example.fr").unsubscribe


def pages(row):
    return [url("list"), url("add"), url("import"), url("export"),
            url("remove", row.pk)]  # fmt: skip


@pytest.mark.parametrize("role", ["Marketing", "Admins"])
def test_marketing_and_admins_open_every_page(role_client, role, row):
    client = role_client(role)
    for page in pages(row):
        assert client.get(page).status_code == 200, page


def test_pec_operators_get_403_everywhere(role_client, row):
    client = role_client("PEC operators")
    for page in pages(row):
        assert client.get(page).status_code == 403, page
    assert client.post(url("sync")).status_code == 403
    assert client.post(url("remove", row.pk)).status_code == 403
    assert (
        client.post(url("add"), {"channel": "email", "address": "b@x.fr"}).status_code
        == 403
    )
    admin = reverse("admin:unsubscribes_unsubscribe_changelist")
    assert client.get(admin).status_code == 403
    assert Unsubscribe.objects.count() == 1


def test_add_by_hand_normalises_and_reports(role_client):
    client = role_client("Marketing")
    data = {"channel": "sms", "address": "06 12 34 56 78", "reason": "appel"}
    response = client.post(url("add"), data, follow=True)
    assert "+33612345678 is unsubscribed." in texts(response)
    row = Unsubscribe.objects.get()
    assert (row.address, row.source, row.reason) == ("+33612345678", "manual", "appel")
    again = client.post(url("add"), data, follow=True)
    assert "+33612345678 was already unsubscribed." in texts(again)


def test_add_shows_errors_in_place(role_client):
    response = role_client("Marketing").post(
        url("add"), {"channel": "email", "address": "nope"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["address"] == [str(services.INVALID_EMAIL)]
    assert not Unsubscribe.objects.exists()


def test_remove_asks_then_removes(role_client, row):
    client = role_client("Marketing")
    confirm = client.get(url("remove", row.pk))
    assert (
        b"a@example.fr" in confirm.content and b'<form method="post"' in confirm.content
    )
    assert Unsubscribe.objects.active().count() == 1
    response = client.post(url("remove", row.pk), follow=True)
    assert "next sync" in texts(response)[0]
    assert Unsubscribe.objects.active().count() == 0


def test_import_page_shows_counts_and_invalid_lines(role_client):
    upload = SimpleUploadedFile(
        "list.csv", b"email\nx@example.fr\nbad\nx@example.fr\n", "text/csv"
    )
    response = role_client("Marketing").post(
        url("import"), {"channel": "email", "file": upload}
    )
    result = response.context["result"]
    assert (result.added, result.duplicates, len(result.invalid)) == (1, 1, 1)
    assert b"Lines not imported" in response.content and b"bad" in response.content


def test_import_of_an_unreadable_file_says_why(role_client):
    upload = SimpleUploadedFile("x.csv", b"PK\x03\x04binary", "text/csv")
    response = role_client("Marketing").post(
        url("import"), {"channel": "email", "file": upload}
    )
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert not Unsubscribe.objects.exists()


def test_export_is_a_safe_csv_of_the_filtered_list(role_client):
    services.unsubscribe_add(channel="email", address="e@example.fr", reason="=1+2")
    services.unsubscribe_add(channel="sms", address="0611111111")
    response = role_client("Marketing").get(url("export") + "?channel=email")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("channel;address;source;reason")
    assert len(lines) == 2 and "e@example.fr" in lines[1] and ";'=1+2;" in lines[1]
    assert response["Content-Disposition"].startswith("attachment;")


def test_list_filters_and_runs_a_constant_number_of_queries(
    role_client, django_assert_max_num_queries
):
    Unsubscribe.objects.bulk_create(
        Unsubscribe(channel="email", address=f"p{n}@example.fr", source=Source.CSV)
        for n in range(120)
    )
    services.unsubscribe_add(channel="sms", address="0611111111")
    client = role_client("Marketing")
    client.get(url("list"))  # warm the session and permission caches
    with django_assert_max_num_queries(8):
        response = client.get(url("list") + "?source=csv&page=2")
    assert response.context["page_obj"].paginator.count == 120
    assert len(response.context["page_obj"]) == 50
    assert b"+33611111111" not in response.content


def test_empty_list_explains_what_to_do(role_client):
    response = role_client("Marketing").get(url("list"))
    assert b"Nobody has unsubscribed yet" in response.content


@pytest.fixture
def queued_tasks(monkeypatch):
    """Tasks the pages enqueue (django-q2's async_task), instead of a broker."""
    queued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda func, *a, **kw: queued.append(func)
    )
    return queued


def test_sync_button_queues_the_sync_and_the_page_follows_it(
    role_client, sandbox_settings, queued_tasks, django_capture_on_commit_callbacks
):
    """No provider call inside the web request (issue #11: "Sync now" held a
    request for 64 s when SMS Partner timed out)."""
    services.unsubscribe_add(channel="email", address="s@example.fr")
    client = role_client("Marketing")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("sync"), follow=True)
    assert queued_tasks == ["unsubscribes.tasks.sync_unsubscribes"]
    assert sandbox_settings.requests() == []
    assert "started in the background" in texts(response)[0]
    assert b"waiting for a worker" in response.content
    status = client.get(url("sync_status")).json()
    assert status == {"channels": {"email": "queued", "sms": "queued"}, "busy": True}

    tasks.sync_unsubscribes()  # what the worker runs

    status = client.get(url("sync_status")).json()
    assert status == {"channels": {"email": "done", "sms": "done"}, "busy": False}
    assert UnsubscribeSync.objects.get(channel="email").pushed == 1
    assert b"1 pushed" in client.get(url("list")).content  # the last-sync panel


def test_a_sync_stopped_by_a_provider_fault_shows_on_the_page(
    role_client, sandbox_settings
):
    sandbox_settings.set_faults([{"provider": "sms", "fault": "http_500"}])
    tasks.sync_unsubscribes()
    response = role_client("Marketing").get(url("list"))
    assert b"interrupted" in response.content


def test_admin_delete_is_a_removal_pushed_later(admin_client, row):
    admin_url = reverse("admin:unsubscribes_unsubscribe_delete", args=[row.pk])
    admin_client.post(admin_url, {"post": "yes"})
    row.refresh_from_db()
    assert row.removed_at is not None


def test_admin_add_normalises(admin_client):
    admin_url = reverse("admin:unsubscribes_unsubscribe_add")
    data = {"channel": "email", "address": "Big@Example.FR", "source": "manual"}
    admin_client.post(admin_url, data)
    assert Unsubscribe.objects.get().address == "big@example.fr"


@pytest.mark.parametrize("model", ["unsubscribe", "unsubscribesync", "smsreply"])
def test_admin_pages_open_for_marketing(role_client, model):
    page = reverse(f"admin:unsubscribes_{model}_changelist")
    assert role_client("Marketing").get(page).status_code == 200


def test_dashboard_card_shows_counts_and_sync_health(role_client):
    services.unsubscribe_add(channel="sms", address="0611111111")
    UnsubscribeSync.objects.create(channel="email", error="boom")
    response = role_client("Marketing").get(reverse("admin:index"))
    assert b"Last sync interrupted by a provider error." in response.content
    pec = role_client("PEC operators").get(reverse("admin:index"))
    assert b"Last sync interrupted" not in pec.content


def test_admin_action_queues_the_sync(
    admin_client, row, queued_tasks, django_capture_on_commit_callbacks
):
    changelist = reverse("admin:unsubscribes_unsubscribe_changelist")
    data = {"action": "sync_now", "_selected_action": [row.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(changelist, data, follow=True)
    assert any("started in the background" in m for m in texts(response))
    assert queued_tasks == ["unsubscribes.tasks.sync_unsubscribes"]
