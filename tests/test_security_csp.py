"""Content-Security-Policy enforced in Chromium on the main pages (issue #17.6).

Every page is loaded with the policy the server sends; any violation Chromium
reports (an inline script or handler, a remote resource) fails the test. The
email preview, a srcdoc frame, inherits the policy: a tracking pixel in an email
is never requested, and the page says images are not loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from campaigns.models import CampaignStatus
from tests.campaign_factories import AudienceFactory, CampaignFactory
from tests.factories import PASSWORD, UserFactory
from tests.test_campaign_pages import sent_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A page that enforces the policy (the suite's `page` bypasses it)."""
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 860}, bypass_csp=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@dataclass
class ImageHost:
    """A remote image server, to the browser: it records each path asked of it."""

    url: str
    requested: list[str] = field(default_factory=list)


@pytest.fixture
def image_host() -> Iterator[ImageHost]:
    host = ImageHost(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.requested.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield host
    server.shutdown()
    server.server_close()


def watch(page) -> list[str]:
    """Collects CSP violations reported on the console of any frame."""
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return violations


def login(page, live_server) -> None:
    UserFactory(username="boss", groups=["Admins"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".ph-cards")


def test_main_pages_run_under_the_policy_without_violation(page, live_server) -> None:
    violations = watch(page)
    audience = AudienceFactory(name="Clients")
    draft = CampaignFactory(name="Brouillon", audience=audience)
    sent = sent_campaign(5, name="Envoyée", status=CampaignStatus.SENT)
    response = page.goto(f"{live_server.url}/admin/login/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    login(page, live_server)
    pages = [
        "/admin/",
        "/campaigns/",
        f"/campaigns/{sent.pk}/",
        "/campaigns/new/?channel=email",
        "/campaigns/new/?channel=sms",
        "/campaigns/new/?channel=voice",
        f"/campaigns/{draft.pk}/edit/",
        f"/campaigns/{draft.pk}/review/",
        "/audiences/",
        f"/audiences/{audience.pk}/",
        f"/audiences/{audience.pk}/import/",
        "/unsubscribes/",
        "/unsubscribes/add/",
        "/unsubscribes/import/",
        "/admin/partnerhub/provideraccount/",
        "/admin/partnerhub/loginlockout/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
    ]
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_language_menu_works_without_an_inline_handler(page, live_server) -> None:
    violations = watch(page)
    page.goto(f"{live_server.url}/admin/login/")
    with page.expect_navigation():
        page.select_option("#ph-lang-select", "fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    with page.expect_navigation():
        page.select_option("#ph-lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []


def test_the_email_preview_loads_no_remote_image(page, live_server, image_host) -> None:
    """No request for the images leaves the browser: the host that serves them
    counts what reaches it. (Chromium's own request events also list what its
    Content-Security-Policy blocked before any connection, and when it reports
    the block varies, so they cannot tell.)"""
    pixel = f"{image_host.url}/pixel.gif"
    background = f"{image_host.url}/background.png"
    draft = CampaignFactory(
        html=f'<p>Bonjour</p><img src="{pixel}" alt="">'
        f'<table><tr><td style="background-image: url({background})">x</td></tr>'
        "</table><a href='#UNSUBSCRIBE_LINK#'>stop</a>"
    )
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/edit/")
    frame = page.frame_locator("#preview-frame")
    frame.locator("img").wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    assert image_host.requested == []
    note = page.locator("#preview-images-note").inner_text()
    assert note == "Images are not loaded in the preview."


def test_without_the_policy_the_same_preview_would_fetch_the_pixel(
    browser, live_server, image_host
) -> None:
    """The control for the test above: without the policy, the host sees the fetch."""
    context = browser.new_context(locale="en-GB", bypass_csp=True)
    page = context.new_page()
    pixel = f"{image_host.url}/pixel.gif"
    draft = CampaignFactory(html=f'<p>Hi</p><img src="{pixel}" alt="">')
    login(page, live_server)
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/edit/")
    page.frame_locator("#preview-frame").locator("img").wait_for(state="attached")
    page.wait_for_load_state("networkidle")
    context.close()
    assert "/pixel.gif" in image_host.requested
