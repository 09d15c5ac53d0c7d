"""The acceptance tour: every page, as each role, at 1440 and 390 px, in French and
English, on the demo data; a screenshot of each, and no 500, 404 or console error.

As a test it seeds the demo into the test database and serves it with the live
server (screenshots in `$TOUR_SCREENSHOTS`, else a temporary folder). As a script it
tours a running demo (`scripts/run`) and keeps the screenshots for a person to look
at, page by page:

    TOUR_URL=http://127.0.0.1:8000 TOUR_SCREENSHOTS=var/tour \\
        DEBUG=1 .venv/bin/python tests/test_browser_tour.py

(the script reads the same database as the server, to find the demo's objects).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

WIDTHS = (1440, 390)
LANGUAGES = ("fr", "en")
# What the page itself must not do: scroll sideways (a table or card too wide).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@dataclass(frozen=True)
class Stop:
    """One page of the tour and the answer it must give."""

    name: str
    path: str
    status: int = 200


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)


def stops_for(role: str) -> list[Stop]:
    """The pages a user of `role` reaches from the navigation, with the demo's ids."""
    from campaigns.models import Audience, Campaign, CampaignStatus
    from partnerhub.models import ProviderAccount
    from pec.models import PecMailbox, PecSend

    if role == "pec":
        box = PecMailbox.objects.filter(operators__username="pec").first()
        stops = [Stop("home", "/admin/"), Stop("pec-home", "/pec/")]
        if box is not None:
            stops += [
                Stop("pec-mailbox", f"/pec/mailboxes/{box.pk}/"),
                Stop("pec-inbox", f"/pec/mailboxes/{box.pk}/inbox/"),
            ]
        stops.append(Stop("pec-compose", "/pec/new/"))
        for send in PecSend.objects.filter(mailbox=box).order_by("created_at"):
            stops.append(Stop(f"pec-send-{send.pk}", f"/pec/sends/{send.pk}/"))
        stops.append(Stop("forbidden-campaigns", "/campaigns/", 403))
        return stops

    def campaign(**filters: Any) -> Campaign | None:
        return Campaign.objects.filter(**filters).order_by("-created_at").first()

    stops = [
        Stop("home", "/admin/"),
        Stop("campaigns", "/campaigns/"),
        Stop("campaigns-failed", "/campaigns/?status=failed"),
    ]
    shown = {
        "email-sent": campaign(channel="email", status=CampaignStatus.SENT),
        "sms-sent": campaign(channel="sms", status=CampaignStatus.SENT),
        "voice-sent": campaign(channel="voice", status=CampaignStatus.SENT),
        "failed": campaign(status=CampaignStatus.FAILED),
        "cancelled": campaign(status=CampaignStatus.CANCELLED),
        "scheduled": campaign(status=CampaignStatus.SCHEDULED),
        "draft": campaign(status=CampaignStatus.DRAFT, channel="email"),
    }
    for label, row in shown.items():
        if row is not None:
            stops.append(Stop(f"campaign-{label}", f"/campaigns/{row.pk}/"))
    draft, scheduled = shown["draft"], shown["scheduled"]
    if draft is not None:
        stops += [
            Stop("compose-edit", f"/campaigns/{draft.pk}/edit/"),
            Stop("compose-review", f"/campaigns/{draft.pk}/review/"),
        ]
    if scheduled is not None:
        stops.append(Stop("campaign-cancel", f"/campaigns/{scheduled.pk}/cancel/"))
    stops += [
        Stop(f"compose-new-{channel}", f"/campaigns/new/?channel={channel}")
        for channel in ("email", "sms", "voice")
    ]
    audience = Audience.objects.order_by("name").first()
    stops.append(Stop("audiences", "/audiences/"))
    if audience is not None:
        stops += [
            Stop("audience", f"/audiences/{audience.pk}/"),
            Stop("audience-import", f"/audiences/{audience.pk}/import/"),
        ]
    stops += [
        Stop("unsubscribes", "/unsubscribes/"),
        Stop("unsubscribes-add", "/unsubscribes/add/"),
        Stop("unsubscribes-import", "/unsubscribes/import/"),
        Stop("not-found", "/campaigns/999999/", 404),
    ]
    if role == "marketing":
        return [*stops, Stop("forbidden-accounts", "/accounts/", 403)]
    main = ProviderAccount.objects.filter(parent=None, provider="sms").first()
    sub = ProviderAccount.objects.filter(parent__isnull=False).first()
    stops += [
        Stop("accounts", "/accounts/"),
        Stop("account-moves", "/accounts/moves/"),
        Stop("audit", "/audit/"),
        Stop("pec-home", "/pec/"),
        Stop("admin-campaigns", "/admin/campaigns/campaign/"),
        Stop("admin-users", "/admin/auth/user/"),
        Stop("admin-tasks", "/admin/django_q/success/"),
        Stop("admin-schedules", "/admin/django_q/schedule/"),
    ]
    for label, account in (("main", main), ("sub", sub)):
        if account is not None:
            stops.append(Stop(f"account-{label}", f"/accounts/{account.pk}/"))
    return stops


def tour(browser: Any, base_url: str, out: Path, role: str, password: str) -> Findings:
    """Log in as `role` in each language and width, visit every stop."""
    found = Findings()
    stops = stops_for(role)
    for language in LANGUAGES:
        for width in WIDTHS:
            context = browser.new_context(
                locale="fr-FR" if language == "fr" else "en-GB",
                viewport={"width": width, "height": 900},
            )
            context.add_cookies(
                [{"name": "django_language", "value": language, "url": base_url}]
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            _login(page, base_url, role, password)
            for stop in stops:
                _visit(page, base_url, stop, out / f"{role}-{language}-{width}", found)
            context.close()
    return found


def _login(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def _visit(page: Any, base_url: str, stop: Stop, prefix: Path, found: Findings) -> None:
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not _expected(message.text, stop):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(base_url + stop.path)
    page.wait_for_load_state("networkidle")
    where = f"{prefix.name} {stop.name} ({stop.path})"
    status = response.status if response is not None else 0
    if status != stop.status:
        found.problems.append(f"{where}: HTTP {status}, expected {stop.status}")
    overflow = page.evaluate(OVERFLOW) if stop.status == 200 else 0
    if overflow > 1:
        found.problems.append(f"{where}: the page scrolls sideways by {overflow} px")
    found.problems += [f"{where}: console: {text}" for text in errors]
    path = prefix.parent / f"{prefix.name}-{stop.name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    found.shots.append(path)
    page.remove_listener("console", on_console)


def _expected(text: str, stop: Stop) -> bool:
    """The browser logs the 403/404 answer itself; that one is the point."""
    return stop.status != 200 and "Failed to load resource" in text


# --- as a test ------------------------------------------------------------------
@pytest.fixture
def demo(settings: Any, sandbox_settings: Any) -> None:
    from partnerhub import demo_data

    settings.DEBUG = True  # the demo's key encrypts the sub-accounts' keys
    demo_data.ensure_demo_logins()
    demo_data.ensure_demo_data()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["marketing", "admin", "pec"])
def test_every_page_answers_cleanly_for_each_role(
    role, demo, browser, live_server, tmp_path
) -> None:
    from partnerhub.demo_data import DEMO_PASSWORD

    out = Path(os.environ.get("TOUR_SCREENSHOTS") or tmp_path)
    found = tour(browser, live_server.url, out, role, DEMO_PASSWORD)
    assert len(found.shots) >= 4 * 5
    assert found.problems == []


# --- as a script ------------------------------------------------------------------
def main() -> int:
    import django
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    django.setup()
    from partnerhub.demo_data import DEMO_PASSWORD
    from tests.conftest import CHROMIUM

    base_url = os.environ.get("TOUR_URL", "http://127.0.0.1:8000").rstrip("/")
    out = Path(os.environ.get("TOUR_SCREENSHOTS", "var/tour"))
    roles = os.environ.get("TOUR_ROLES", "marketing,admin,pec").split(",")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        for role in roles:
            found = tour(browser, base_url, out, role, DEMO_PASSWORD)
            problems += found.problems
            print(f"{role}: {len(found.shots)} screenshots in {out}")
        browser.close()
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
