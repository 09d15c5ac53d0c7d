"""A new user's first steps in a real browser: log in, fail, see the dashboard."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_login_page_is_shown_to_visitors(page, live_server, screenshot) -> None:
    page.goto(live_server.url + "/")
    assert "/admin/login/" in page.url
    assert page.locator("#site-name").inner_text().strip().endswith("PartnerHub")
    screenshot("login")


def test_wrong_password_shows_a_clear_message(page, live_server, screenshot) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    login(page, live_server, "ana", "not-the-password")
    # Wait for the answer page: `is_visible()` right after the click raced it.
    page.wait_for_selector(".errornote", state="visible")
    assert "/admin/login/" in page.url
    screenshot("login-failed")


def test_dashboard_after_login(page, live_server, screenshot) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    login(page, live_server, "ana")
    page.wait_for_selector(".ph-cards")
    assert page.url.rstrip("/").endswith("/admin")
    screenshot("dashboard-marketing")


def test_marketing_user_cannot_open_task_admin(page, live_server) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    login(page, live_server, "ana")
    response = page.goto(f"{live_server.url}/admin/django_q/schedule/")
    assert response.status == 403
