"""One PEC Massiva request per second per token, across every worker and node.

The provider counts requests per bearer token, so the pacing must be shared by all
processes that hold the token: Redis when `REDIS_URL` is set (one atomic script,
Redis' own clock), the database otherwise (one row per token, updated under a
row lock). Two short steps, no lock held while sleeping:

1. *reserve*: book the next free slot and sleep until it, so callers queue in order;
2. *claim*: just before the request, record "one leaves now" unless the previous one
   actually left less than an interval ago (it was late: a busy CPU oversleeps), in
   which case wait the difference and claim again.

So the spacing holds between the moments requests really leave, not only between
booked slots.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.db import transaction


class LimiterBusy(Exception):
    """The next free slot is further away than the caller is willing to wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next PEC Massiva slot in {wait:.1f} s")
        self.wait = wait


def min_interval() -> float:
    """Seconds between two requests with one token (1 s plus a jitter margin)."""
    return float(settings.PEC_MIN_INTERVAL_SECONDS)


class _Limiter:
    """Book a slot (`reserve`), then claim it when the request really leaves
    (`claim`); `wait` does both, sleeping as long as the backend says."""

    _sleep: Callable[[float], None]

    def reserve(self, key: str, max_wait: float | None = None) -> float:
        raise NotImplementedError

    def claim(self, key: str) -> float:
        raise NotImplementedError

    def wait(self, token_key: str, max_wait: float | None = None) -> None:
        delay = self.reserve(token_key, max_wait)
        while True:
            if delay > 0:
                self._sleep(delay)
            delay = self.claim(token_key)
            if delay <= 0:
                return


class DatabaseLimiter(_Limiter):
    """Slots kept in `PecRateSlot` rows; wall-clock time, shared by every process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep

    def reserve(self, key: str, max_wait: float | None = None) -> float:
        """Book the next slot for `key`; returns how long to wait for it.

        With `max_wait`, a slot further away is not booked: `LimiterBusy` instead.
        """
        from .models import PecRateSlot

        interval = min_interval()
        with transaction.atomic():
            row, _ = PecRateSlot.objects.select_for_update().get_or_create(key=key)
            now = self._clock()
            slot = max(now, row.next_slot)
            if max_wait is not None and slot - now > max_wait:
                raise LimiterBusy(slot - now)
            row.next_slot = slot + interval
            row.save(update_fields=["next_slot"])
        return max(0.0, slot - now)

    def claim(self, key: str) -> float:
        """Record a request leaving now; or the wait left if the last one is close."""
        from .models import PecRateSlot

        interval = min_interval()
        with transaction.atomic():
            row, _ = PecRateSlot.objects.select_for_update().get_or_create(key=key)
            now = self._clock()
            due = row.last_sent + interval
            if now < due:
                return due - now
            row.last_sent = now
            row.save(update_fields=["last_sent"])
        return 0.0


# KEYS[1] = last-sent key; ARGV[1] = interval in µs. Returns the wait left in µs
# (0: claimed, the request may leave now).
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local interval = tonumber(ARGV[1])
if now < last + interval then
  return last + interval - now
end
redis.call('SET', KEYS[1], tostring(now), 'PX', math.ceil(interval / 1000) + 60000)
return 0
"""

# KEYS[1] = slot key; ARGV[1] = interval, ARGV[2] = max wait (-1: none), in µs.
# Returns the wait in µs, or -(wait) - 1 when it exceeds the max (nothing booked).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
if max_wait >= 0 and slot - now > max_wait then
  return -(slot - now) - 1
end
local ttl = math.ceil(interval / 1000) + 60000
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', ttl)
return slot - now
"""


class RedisLimiter(_Limiter):
    """Slots kept in Redis; the script runs atomically on Redis' own clock."""

    def __init__(
        self, url: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_RESERVE)
        self._claim = self._redis.register_script(_CLAIM)
        self._sleep = sleep

    def reserve(self, key: str, max_wait: float | None = None) -> float:
        interval_us = int(min_interval() * 1_000_000)
        limit_us = -1 if max_wait is None else int(max_wait * 1_000_000)
        waited = int(
            self._script(keys=["partnerhub:" + key], args=[interval_us, limit_us])
        )
        if waited < 0:
            raise LimiterBusy((-waited - 1) / 1_000_000)
        return waited / 1_000_000

    def claim(self, key: str) -> float:
        interval_us = int(min_interval() * 1_000_000)
        left = int(self._claim(keys=["partnerhub:sent:" + key], args=[interval_us]))
        return left / 1_000_000


@cache
def _redis_limiter(url: str) -> RedisLimiter:
    return RedisLimiter(url)


def shared_limiter() -> DatabaseLimiter | RedisLimiter:
    """The limiter every PEC call goes through, chosen from the settings."""
    url = settings.REDIS_URL
    return _redis_limiter(url) if url else DatabaseLimiter()
