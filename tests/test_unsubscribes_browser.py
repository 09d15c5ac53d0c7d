"""Marketing keeps the suppression list in a real browser, against the sandbox."""

from __future__ import annotations

import pytest

from partnerhub.providers.factory import get_mailpartner_client, get_smspartner_client
from tests.factories import PASSWORD, UserFactory
from unsubscribes import tasks
from unsubscribes.models import Unsubscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/unsubscribes/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_add_sync_see_provider_entries_and_export(
    page, live_server, sandbox_settings, screenshot
):
    UserFactory(username="ana", groups=["Marketing"])
    get_mailpartner_client().unsubscribe_add(email="From.Provider@example.fr")
    get_smspartner_client().stop_add(phone_number="0698765432")
    login(page, live_server, "ana")
    page.wait_for_selector(".ph-empty")
    screenshot("unsubscribes-empty")

    page.click("text=Add an unsubscribe")
    page.check("input[name=channel][value=email]")
    page.fill("#id_address", "not an email")
    page.click(".un-form button[type=submit]")
    assert page.locator(".errorlist").is_visible()
    screenshot("unsubscribes-add-error")
    page.fill("#id_address", "Claire.Martin@Example.fr")
    page.fill("#id_reason", "Asked by phone")
    page.click(".un-form button[type=submit]")
    page.wait_for_selector("text=claire.martin@example.fr is unsubscribed.")
    assert page.locator(".un-table tbody tr").count() == 1

    page.click("text=Sync now")
    page.wait_for_selector("text=The sync has started in the background")
    assert page.locator("text=waiting for a worker").count() == 2
    screenshot("unsubscribes-sync-queued")
    tasks.sync_unsubscribes()  # what the worker runs; the page polls, then reloads
    page.wait_for_selector(".un-sync .ph-badge-ok >> nth=1", timeout=15_000)
    rows = page.locator(".un-table tbody")
    assert "from.provider@example.fr" in rows.inner_text()
    assert "+33698765432" in rows.inner_text()
    assert page.locator(".un-table .ph-badge-ok").count() == 3  # all synced
    assert page.locator(".un-sync .ph-badge-ok").count() == 2
    screenshot("unsubscribes-after-sync")
    listed = {e.email for e in get_mailpartner_client().unsubscribe_list()}
    assert "claire.martin@example.fr" in listed

    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "claire.martin@example.fr" in content and "+33698765432" in content
    assert content.splitlines()[0].startswith("channel;address")


def test_remove_with_confirmation_and_import(
    page, live_server, sandbox_settings, screenshot, tmp_path
):
    UserFactory(username="ana", groups=["Marketing"])
    login(page, live_server, "ana")
    csv_file = tmp_path / "stop.csv"
    csv_file.write_text(
        "email;nom\nun@example.fr;A\npas-un-email;B\ndeux@example.fr;C\n"
    )
    page.click("text=Import a CSV")
    page.check("input[name=channel][value=email]")
    page.set_input_files("#id_file", str(csv_file))
    page.click(".un-form button[type=submit]")
    page.wait_for_selector(".un-result")
    assert page.locator(".un-added").inner_text() == "2"
    assert page.locator(".un-invalid").inner_text() == "1"
    screenshot("unsubscribes-import-result")

    page.click("text=Back to the list")
    page.locator(".un-table tr", has_text="un@example.fr").locator(
        "text=Remove"
    ).click()
    page.wait_for_selector("text=Yes, remove it")
    screenshot("unsubscribes-remove-confirm")
    page.click("text=Yes, remove it")
    page.wait_for_selector(".messagelist")
    assert Unsubscribe.objects.active().count() == 1
    page.select_option("#id_state", "removal_pending")
    page.click("text=Filter")
    assert "un@example.fr" in page.locator(".un-table tbody").inner_text()
    screenshot("unsubscribes-filtered")
