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
    return [r for r in sandbox.requests("pec", "/send") if r["method"] == "POST"]


def assert_paced(requests: list[dict]) -> None:
    assert len(requests) == 20
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
    for key in client.scan_iter("partnerhub:pecmassiva:*"):
        client.delete(key)
    assert_paced(burst(sandbox, tmp_path, REDIS_URL))
