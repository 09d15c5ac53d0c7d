"""Login throttling that a shared address cannot turn into a lock-out (issue #17.3).

Counts are per (username, client address) with growing waits, the client address
is read through trusted proxies only, the counts are shared by every process (a
database table, counted atomically), and admins see and lift lock-outs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from partnerhub import throttle
from partnerhub.models import LoginFailureCount, LoginLockout
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


def run_on_sqlite_file(tmp_path: Path, *argv: str) -> list[str]:
    """Run Python with the production SQLite setup (a file: WAL, busy timeout)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "LOGIN_FAILURE_LIMIT": "5",
        "LOGIN_LOCKOUT_MAX_SECONDS": str(10**9),
    }
    out = subprocess.run(
        [sys.executable, *argv], env=env, cwd=ROOT, capture_output=True,
        text=True, check=False, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")


@pytest.mark.slow
def test_two_processes_share_the_counts(tmp_path) -> None:
    """Each process alone sees fewer failures than the limit; together they pass it."""
    run_on_sqlite_file(tmp_path, "manage.py", "migrate", "--verbosity", "0")
    first = run_on_sqlite_file(tmp_path, "-c", SCRIPT, "create", "w1", "w2", "w3")
    second = run_on_sqlite_file(
        tmp_path, "-c", SCRIPT, "reuse", "w4", "w5", "right-password-12"
    )
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


# --- counting is atomic: parallel wrong passwords all count --------------------------
ATTACKER = "192.0.2.66"
NOW = 1_800_000_000.0


def request_from(address: str):
    return type("R", (), {"META": {"REMOTE_ADDR": address}})()


def stored_failures() -> dict[str, int]:
    """Failures by counter kind ("pair" or "user") of the stored rows."""
    rows = LoginFailureCount.objects.values_list("key", "failures")
    return {key.split(":")[0]: failures for key, failures in rows}


def wrong_passwords_in_parallel(times: int, username: str = "ana") -> None:
    """`times` failures at once, each thread on its own database connection.

    Every thread connects, then waits at a barrier, so their reads and writes of
    the counts overlap as much as parallel web workers' would.
    """
    barrier = threading.Barrier(times, timeout=30)
    request = request_from(ATTACKER)

    def one() -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            throttle.record_failure(request, username)
        finally:
            connection.close()

    with ThreadPoolExecutor(times) as pool:
        for future in [pool.submit(one) for _ in range(times)]:
            future.result()


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_wrong_passwords_all_count(settings, monkeypatch) -> None:
    if connection.vendor == "sqlite":
        pytest.skip(
            "The SQLite test database is in memory with a shared cache: parallel "
            "writers fail at once with 'database table is locked' (no busy wait). "
            "test_parallel_wrong_passwords_all_count_on_sqlite runs this on a file."
        )
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 10**9  # no ceiling: each count waits its own
    monkeypatch.setattr(throttle.time, "time", lambda: NOW)
    wrong_passwords_in_parallel(20)
    assert stored_failures() == {"pair": 20, "user": 20}
    assert throttle.locked_for(request_from(ATTACKER), "ana") == throttle.delay_for(
        20, 5
    )
    pair = LoginLockout.objects.get(username="ana", address=ATTACKER)
    assert pair.failures == 20
    everywhere = LoginLockout.objects.get(username="ana", address="")
    assert everywhere.failures == 20  # the username-wide limit (4 x 5) is reached


PARALLEL_SCRIPT = """
import django
django.setup()
from partnerhub.models import LoginFailureCount, LoginLockout
from tests.test_security_throttle import wrong_passwords_in_parallel
wrong_passwords_in_parallel(20)
print(sorted(LoginFailureCount.objects.values_list("failures", flat=True)))
print(sorted(LoginLockout.objects.values_list("failures", flat=True)))
"""


@pytest.mark.slow
def test_parallel_wrong_passwords_all_count_on_sqlite(tmp_path) -> None:
    """SQLite as deployed (a file in WAL mode, writers queue on a busy timeout)."""
    run_on_sqlite_file(tmp_path, "manage.py", "migrate", "--verbosity", "0")
    counts, lockouts = run_on_sqlite_file(tmp_path, "-c", PARALLEL_SCRIPT)[:2]
    assert counts == "[20, 20]"  # the pair and the username-wide counter
    assert lockouts == "[20, 20]"


@pytest.fixture
def hour_window_clock(settings, monkeypatch) -> list[float]:
    """Failures remembered for an hour; the throttle's clock is `clock[0]`,
    starting at NOW, moved on by the test."""
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 3600
    clock = [NOW]
    monkeypatch.setattr(throttle.time, "time", lambda: clock[0])
    return clock


# --- counts are forgotten after the window, and cleared by a success ---------------
def test_counts_are_forgotten_a_window_after_the_last_failure(
    hour_window_clock: list[float],
) -> None:
    now = hour_window_clock
    request = request_from(ATTACKER)
    for _ in range(4):
        throttle.record_failure(request, "ana")
    now[0] += 3599
    throttle.record_failure(request, "ana")  # the fifth: a wait
    assert throttle.locked_for(request, "ana") == 60
    now[0] += 3599  # over an hour after the first four, not after the last
    throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 120  # the sixth: doubled
    now[0] += 3600  # an hour after the last failure: all forgotten
    assert throttle.locked_for(request, "ana") == 0
    for _ in range(4):  # counted from one again: four stay under the limit of five
        throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 0
    assert stored_failures() == {"pair": 4, "user": 4}


def test_expired_counts_are_swept_when_a_new_count_starts(
    hour_window_clock: list[float],
) -> None:
    now = hour_window_clock
    throttle.record_failure(request_from(ATTACKER), "ana")
    throttle.record_failure(request_from(ATTACKER), "bob")
    now[0] += 1800
    throttle.record_failure(request_from(ATTACKER), "bob")  # bob's rows now live on
    now[0] += 1800
    throttle.record_failure(request_from(ATTACKER), "cleo")  # new rows: a sweep
    alive = {
        key
        for name in ("bob", "cleo")
        for key in (c.key for c in throttle.counters(name, ATTACKER))
    }
    assert set(LoginFailureCount.objects.values_list("key", flat=True)) == alive


def test_a_success_clears_the_pair_and_username_counts(monkeypatch) -> None:
    monkeypatch.setattr(throttle.time, "time", lambda: NOW)
    request, elsewhere = request_from(ATTACKER), request_from("198.51.100.4")
    for _ in range(4):
        throttle.record_failure(request, "ana")
    for _ in range(3):
        throttle.record_failure(elsewhere, "ana")
    throttle.record_success(request, "ana")
    assert LoginFailureCount.objects.get().failures == 3  # the other pair's
    for _ in range(4):  # counted from zero again
        throttle.record_failure(request, "ana")
    assert throttle.locked_for(request, "ana") == 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Wait 1 minute, then try again"),
        ("fr", "Patientez 1 minute puis réessayez"),
    ],
)
def test_the_wait_reads_in_the_singular_for_one_minute(
    client, language: str, expected: str
) -> None:
    for _ in range(6):  # the fifth failure starts a 60 s wait; the sixth is told
        response = post_login(client, "nobody", "wrong", HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert expected in page and "1 minutes" not in page
