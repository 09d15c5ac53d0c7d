"""Shared fixtures: role users, network guard, headless chromium through Playwright."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.signals import connection_created

from tests.factories import UserFactory


def _readers_take_no_table_locks(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The test database on SQLite is in memory with a shared cache, so the live
    server's threads and the test share it through table locks: a page polling an
    import's progress could make the import's next write fail at once with
    "database table is locked" (SQLITE_LOCKED has no busy wait). Production SQLite
    is a file in WAL mode, where readers never block the writer; uncommitted reads
    give the shared cache that same behaviour."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.connection.execute("PRAGMA read_uncommitted = 1")


connection_created.connect(_readers_take_no_table_locks)

pytest_plugins = ["tests.sandbox_fixture"]

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM
# calls from it (the live server runs in its own thread anyway).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


# --- a stray network call fails the test instead of reaching the internet -----
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise RuntimeError(f"Tests may not reach the network (tried {host}).")
    return _real_connect(self, address)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any, request: pytest.FixtureRequest) -> None:
    """Each test gets its own empty in-memory cache.

    Without it, values cached in one test (or in Redis by an earlier run) could
    leak into a later test. Sign-in failure counts are database rows
    (partnerhub/throttle.py), which each test's database isolation already clears.
    """
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


@pytest.fixture(autouse=True)
def _english_by_default(settings: Any) -> Iterator[None]:
    """Tests read English; French (the product's default) has tests of its own.

    `test_translations.py` sets `LANGUAGE_CODE` back to French to check the
    catalogue and pages in French.
    """
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# --- users by role ------------------------------------------------------------
@pytest.fixture
def marketing_user(db: None) -> Any:
    return UserFactory(username="marketer", groups=["Marketing"])


@pytest.fixture
def admins_user(db: None) -> Any:
    return UserFactory(username="boss", groups=["Admins"])


@pytest.fixture
def pec_user(db: None) -> Any:
    return UserFactory(username="pecop", groups=["PEC operators"])


@pytest.fixture
def role_client(client: Any) -> Any:
    """`role_client("Marketing")` → a test client logged in as a user of that role."""

    def login(role: str) -> Any:
        client.force_login(UserFactory(groups=[role]))
        return client

    return login


# --- browser ------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "Debian's chromium is required in CI (scripts/test installs it)."
            )
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; on failure a screenshot is saved in test-artifacts/.

    It bypasses the Content-Security-Policy, because Playwright's string predicates
    (`wait_for_function("…")`) run through eval; tests/test_security_csp.py loads
    the pages with the policy enforced.
    """
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 860}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True
        )
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Any:
    """`screenshot("name")` keeps a full-page picture of the current page for review."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, "rep_" + report.when, report)
    return report


# Test modules that change deliveries only through dispatch and the services: at
# the end of each of their tests the stored counters must equal a recount.
COUNTED_MODULES = frozenset(
    {
        "tests.test_campaign_counters",
        "tests.test_campaign_dispatch",
        "tests.test_campaign_services",
        "tests.test_dispatch_bulk_writes",
        "tests.test_unsubscribes_dispatch",
    }
)


@pytest.fixture(autouse=True)
def _counters_agree(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test: every campaign's stored counters match its deliveries."""
    yield
    counted = request.module.__name__ in COUNTED_MODULES
    if not counted or request.node.get_closest_marker("django_db") is None:
        return
    from tests.counter_checks import assert_counters_agree

    assert_counters_agree()
