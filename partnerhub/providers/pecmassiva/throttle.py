"""Pacing of POST /send: the provider takes at most one request per second per token.

The client calls `throttle.wait(token_key)` before every send. `SendThrottle` is the
whole interface so a shared (Redis or database) implementation can replace the
in-process one when several workers send with one token. Keys are hashes of the
token, never the token itself, because a shared store would otherwise hold it in clear.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Protocol

# The provider measures arrival times; a little margin absorbs network jitter so two
# sends paced exactly one second apart on our side cannot land 0.99 s apart on theirs.
DEFAULT_MIN_INTERVAL = 1.1


class SendThrottle(Protocol):
    def wait(self, token_key: str) -> None:
        """Block until a send with this token may leave, and reserve that slot."""
        ...


def token_key(token: str) -> str:
    """A stable, non-reversible key for a token (safe to store or log)."""
    return "pecmassiva:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:24]


class InProcessSendThrottle:
    """One slot per `min_interval` per key, shared by every thread of this process.

    A caller reserves the next free slot under the lock and sleeps outside it, so
    sends with other tokens are never held up and concurrent callers queue in order.
    """

    def __init__(
        self,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, token_key: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(token_key, now))
            self._next_slot[token_key] = slot + self.min_interval
        if slot > now:
            self._sleep(slot - now)


_process_throttle = InProcessSendThrottle()


def process_throttle() -> InProcessSendThrottle:
    """The throttle every client of this process shares by default."""
    return _process_throttle
