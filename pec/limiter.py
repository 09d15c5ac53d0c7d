"""One PEC Massiva request per second per token, across every worker and node.

The provider counts requests per bearer token, so the pacing must be shared by all
processes that hold the token: Redis when `REDIS_URL` is set (one atomic script,
Redis' own clock), the database otherwise (one row per token, updated under a
row lock). A caller reserves the next free slot and sleeps outside any lock, so
callers queue in order and nobody holds a transaction while waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.db import transaction


def min_interval() -> float:
    """Seconds between two requests with one token (1 s plus a jitter margin)."""
    return float(settings.PEC_MIN_INTERVAL_SECONDS)


class DatabaseLimiter:
    """Slots kept in `PecRateSlot` rows; wall-clock time, shared by every process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep

    def reserve(self, key: str) -> float:
        """Book the next slot for `key`; returns how long to wait for it."""
        from .models import PecRateSlot

        interval = min_interval()
        with transaction.atomic():
            row, _ = PecRateSlot.objects.select_for_update().get_or_create(key=key)
            now = self._clock()
            slot = max(now, row.next_slot)
            row.next_slot = slot + interval
            row.save(update_fields=["next_slot"])
        return max(0.0, slot - now)

    def wait(self, token_key: str) -> None:
        delay = self.reserve(token_key)
        if delay > 0:
            self._sleep(delay)


# KEYS[1] = slot key; ARGV[1] = interval in microseconds. Returns the wait in µs.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local interval = tonumber(ARGV[1])
local ttl = math.ceil(interval / 1000) + 60000
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', ttl)
return slot - now
"""


class RedisLimiter:
    """Slots kept in Redis; the script runs atomically on Redis' own clock."""

    def __init__(
        self, url: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_RESERVE)
        self._sleep = sleep

    def reserve(self, key: str) -> float:
        interval_us = int(min_interval() * 1_000_000)
        waited = self._script(keys=["partnerhub:" + key], args=[interval_us])
        return max(0.0, int(waited) / 1_000_000)

    def wait(self, token_key: str) -> None:
        delay = self.reserve(token_key)
        if delay > 0:
            self._sleep(delay)


@cache
def _redis_limiter(url: str) -> RedisLimiter:
    return RedisLimiter(url)


def shared_limiter() -> DatabaseLimiter | RedisLimiter:
    """The limiter every PEC call goes through, chosen from the settings."""
    url = settings.REDIS_URL
    return _redis_limiter(url) if url else DatabaseLimiter()
