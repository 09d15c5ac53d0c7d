"""The shared limiter: one PEC Massiva request per second per token across workers.

The proof: two worker processes dispatch a burst of 20 PECs with one token; at the
sandbox, successive POST /send are at least 1 s apart and none is refused (429).
Run with the database limiter (SQLite file shared by both processes) and with the
Redis one when a Redis server answers.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pec.limiter import DatabaseLimiter

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("PEC_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.mark.django_db
def test_database_limiter_books_one_slot_per_interval_per_token(settings) -> None:
    settings.PEC_MIN_INTERVAL_SECONDS = 1.1
    clock = FakeClock()
    limiter = DatabaseLimiter(clock=clock, sleep=clock.sleep)
    waits = [limiter.reserve("token-a") for _ in range(3)]
    assert waits == pytest.approx([0.0, 1.1, 2.2])
    assert limiter.reserve("token-b") == 0.0  # another token is not held up
    clock.now += 10
    assert limiter.reserve("token-a") == 0.0


@pytest.mark.django_db
def test_a_late_request_pushes_the_next_one_back(settings) -> None:
    """Slots are booked 1.1 s apart, but what counts is when requests leave."""
    settings.PEC_MIN_INTERVAL_SECONDS = 1.1
    clock = FakeClock()
    limiter = DatabaseLimiter(clock=clock, sleep=clock.sleep)
    assert limiter.reserve("k") == 0.0  # A: slot 1000.0
    assert limiter.reserve("k") == pytest.approx(1.1)  # B: slot 1001.1
    clock.now = 1000.5  # A overslept on a busy machine
    assert limiter.claim("k") == 0.0  # A leaves at 1000.5
    clock.now = 1001.1  # B wakes on time ...
    assert limiter.claim("k") == pytest.approx(0.5)  # ... and must wait 0.5 s more
    clock.now = 1001.6
    assert limiter.claim("k") == 0.0


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:
        return False


def test_redis_limiter_books_one_slot_per_interval(settings) -> None:
    if not redis_available():
        pytest.skip("no Redis server")
    from pec.limiter import RedisLimiter

    settings.PEC_MIN_INTERVAL_SECONDS = 1.1
    limiter = RedisLimiter(REDIS_URL)
    key = f"test-limiter-{os.getpid()}"
    waits = [limiter.reserve(key) for _ in range(3)]
    assert waits[0] < 0.05
    assert waits[1] == pytest.approx(1.1, abs=0.05)
    assert waits[2] == pytest.approx(2.2, abs=0.05)
    from pec.limiter import LimiterBusy

    with pytest.raises(LimiterBusy):
        limiter.reserve(key, max_wait=1.0)
    assert limiter.reserve(key) == pytest.approx(3.3, abs=0.05)  # not booked


def burst(sandbox, tmp_path: Path, redis_url: str = "") -> list[dict]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'burst.sqlite3'}",
        "REDIS_URL": redis_url,
        "PECMASSIVA_API_URL": sandbox.pec_url,
        "PECMASSIVA_TOKEN": sandbox.pec_token,
        "LOG_LEVEL": "WARNING",
    }
    run = [sys.executable, "-m", "tests.pec_burst"]
    subprocess.run([*run, "prepare", "20"], cwd=ROOT, env=env, check=True)
    workers = [
        subprocess.Popen([*run, "work", str(k)], cwd=ROOT, env=env) for k in (0, 1)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    everything = sandbox.requests()
    sends = [r for r in sandbox.requests("pec", "/send") if r["method"] == "POST"]
    if len(sends) != 20:  # say what else reached the sandbox meanwhile
        print([(r["seq"], r["provider"], r["method"], r["path"], r["status"])
               for r in everything])  # fmt: skip
    return sends


def assert_paced(requests: list[dict]) -> None:
    seen = [(r["seq"], round(r["time"] % 1000, 3), r["status"]) for r in requests]
    assert len(requests) == 20, seen
    assert [r["status"] for r in requests] == [201] * 20  # none refused
    times = sorted(r["time"] for r in requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(
        f"20 sends in {times[-1] - times[0]:.2f} s; "
        f"gaps {min(gaps):.3f}-{max(gaps):.3f} s"
    )
    assert min(gaps) >= 1.0, gaps


@pytest.mark.slow
def test_two_workers_burst_of_20_with_the_database_limiter(sandbox, tmp_path) -> None:
    assert_paced(burst(sandbox, tmp_path))


@pytest.mark.slow
def test_two_workers_burst_of_20_with_the_redis_limiter(sandbox, tmp_path) -> None:
    if not redis_available():
        pytest.skip("no Redis server")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("partnerhub:*pecmassiva:*"):
        client.delete(key)
    assert_paced(burst(sandbox, tmp_path, REDIS_URL))


@pytest.mark.django_db
def test_a_page_does_not_wait_behind_a_long_queue(settings) -> None:
    from pec.limiter import LimiterBusy

    settings.PEC_MIN_INTERVAL_SECONDS = 1.1
    clock = FakeClock()
    limiter = DatabaseLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(10):  # ten queued sends booked the next 11 s
        limiter.reserve("token-a")
    with pytest.raises(LimiterBusy):
        limiter.reserve("token-a", max_wait=8.0)
    assert limiter.reserve("token-a") == pytest.approx(11.0)  # nothing was booked


@pytest.mark.django_db
def test_inbox_page_says_the_account_is_busy_instead_of_hanging(
    client, settings, sandbox_settings
) -> None:
    import time

    from partnerhub.providers.pecmassiva import token_key
    from pec.models import PecRateSlot
    from tests.factories import UserFactory
    from tests.pec_helpers import mailbox

    settings.REDIS_URL = ""  # the database limiter, whose slot this test books
    user = UserFactory(username="op", groups=["PEC operators"])
    box = mailbox(operators=[user])
    PecRateSlot.objects.create(
        key=token_key(settings.PECMASSIVA_TOKEN), next_slot=time.time() + 60
    )
    client.force_login(user)
    started = time.monotonic()
    html = client.get(f"/pec/mailboxes/{box.pk}/inbox/").content.decode()
    assert time.monotonic() - started < 5
    assert "Other PEC requests are queued" in html
    assert sandbox_settings.requests("pec") == []
