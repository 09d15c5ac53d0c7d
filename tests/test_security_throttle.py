"""Login throttling that a shared address cannot turn into a lock-out (issue #17.3).

Counts are per (username, client address) with growing waits, the client address
is read through trusted proxies only, the counts are shared by every process (the
database cache), and admins see and lift lock-outs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from partnerhub import throttle
from partnerhub.models import LoginLockout
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/admin/login/"
PROXY = "10.0.0.5"


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 60


def post_login(client, username: str, password: str, **meta: str):
    meta.setdefault("REMOTE_ADDR", PROXY)
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **meta
    )


def test_nineteen_colleagues_behind_one_proxy_do_not_lock_out_the_twentieth(
    client,
) -> None:
    """Today's address counter locked everyone behind the proxy out."""
    users = [UserFactory(username=f"user{n}", groups=["Marketing"]) for n in range(20)]
    for user in users[:19]:
        for _ in range(2):  # two typos each, every one from the proxy's address
            response = post_login(client, user.username, "typo")
            assert "Too many failed" not in response.content.decode()
    assert post_login(client, users[19].username, PASSWORD).status_code == 302


def test_the_client_address_is_read_through_trusted_proxies_only(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = type("R", (), {})()
    request.META = {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7",
    }
    assert throttle.client_address(request) == "203.0.113.7"  # the proxy's hop
    request.META = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert throttle.client_address(request) == "198.51.100.9"  # forged: ignored
    request.META = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-ip"}
    assert throttle.client_address(request) == PROXY


def test_a_guesser_behind_the_proxy_waits_while_the_user_signs_in(
    client, settings
) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    UserFactory(username="ana", groups=["Marketing"])
    for _ in range(5):
        post_login(client, "ana", "guess", HTTP_X_FORWARDED_FOR="203.0.113.7")
    guesser = post_login(client, "ana", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert "Too many failed sign-in attempts" in guesser.content.decode()
    ana = post_login(client, "ana", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert ana.status_code == 302


def test_waits_grow_with_each_failure_after_the_limit(monkeypatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(throttle.time, "time", lambda: now[0])
    request = type("R", (), {"META": {"REMOTE_ADDR": "192.0.2.1"}})()
    for _ in range(4):
        throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 0
    throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 60
    now[0] += 61
    assert throttle.locked_for(request, "ana") == 0  # a wait, not a lock
    throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 120
    lockout = LoginLockout.objects.get(username="ana", address="192.0.2.1")
    assert lockout.failures == 6


SCRIPT = """
import sys, django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
if sys.argv[1] == "create":
    User.objects.create_user("ana", password="right-password-12", is_staff=True)
client = Client()
for password in sys.argv[2:]:
    response = client.post("/admin/login/", {"username": "ana", "password": password},
                           REMOTE_ADDR="192.0.2.1", HTTP_ACCEPT_LANGUAGE="en")
    throttled = "Too many failed" in response.content.decode()
    print(response.status_code, "throttled" if throttled else "checked")
"""


@pytest.mark.slow
def test_two_processes_share_the_counts(tmp_path) -> None:
    """Each process alone sees fewer failures than the limit; together they pass it."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "LOGIN_FAILURE_LIMIT": "5",
    }

    def run(*argv: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, *argv], env=env, cwd=ROOT, capture_output=True,
            text=True, check=False, timeout=180,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout.split("\n")

    run("manage.py", "migrate", "--verbosity", "0")
    first = run("-c", SCRIPT, "create", "w1", "w2", "w3")
    second = run("-c", SCRIPT, "reuse", "w4", "w5", "right-password-12")
    assert first[:3] == ["200 checked"] * 3
    assert second[:2] == ["200 checked"] * 2
    assert second[2] == "200 throttled"  # the 6th attempt waits, in another process


def test_admins_see_lockouts_and_lift_them(client, admins_user) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    for _ in range(5):
        post_login(client, "ana", "guess", REMOTE_ADDR="192.0.2.8")
    lockout = LoginLockout.objects.get(username="ana", address="192.0.2.8")
    client.force_login(admins_user)
    page = client.get("/admin/partnerhub/loginlockout/?state=current")
    assert page.status_code == 200
    assert "192.0.2.8" in page.content.decode()
    response = client.post(
        "/admin/partnerhub/loginlockout/",
        {"action": "unlock", "_selected_action": [lockout.pk]},
        follow=True,
    )
    assert "1 lock-out lifted." in response.content.decode()
    assert not LoginLockout.objects.exists()
    client.logout()
    assert (
        post_login(client, "ana", PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302
    )


def test_marketing_cannot_see_lockouts(role_client) -> None:
    client = role_client("Marketing")
    assert client.get("/admin/partnerhub/loginlockout/").status_code == 403
