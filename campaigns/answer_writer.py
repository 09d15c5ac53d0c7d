"""Writing a batch's answer while the next batch is recorded and sent (PostgreSQL).

A dispatch spends most of its time waiting: for the provider's answer, then for
the database to write that answer onto 500 deliveries, then for the next batch's
`in_flight` record to reach the disk. The answer's write needs nothing from what
follows and nothing that follows needs it, except at a few points (the sweep for
re-queued deliveries, the end of the dispatch): so on PostgreSQL it runs on a
second connection, in one thread behind the main one, at most one answer behind.

Exactly-once is unchanged: the batch was recorded `in_flight` (durably) before
its call; until its answer commits it is `in_flight`, so a worker killed in
between leaves it to the reconciliation, as one killed just before the write
did. An error in the thread is raised in the dispatch at the next `wait`.

SQLite has one writer at a time, and a caller already inside a transaction
(a test) has rows the second connection cannot see: both write inline.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connections, router

from .models import Delivery

Item = TypeVar("Item")


class AnswerWriter(Generic[Item]):
    """Runs `write(item)` inline, or in `depth` threads behind the caller.

    A dispatch writes one answer behind (depth 1); a status refresh, whose
    batches are independent, fetches and writes several at a time (their waits
    for the provider and the database overlap).
    """

    def __init__(
        self, write: Callable[[Item], None], *, behind: bool, depth: int = 1
    ) -> None:
        self._write = write
        self._depth = depth
        self._pool = ThreadPoolExecutor(depth, "answers") if behind else None
        self._running: deque[Future[None]] = deque()

    @classmethod
    def where_it_pays(
        cls, write: Callable[[Item], None], *, depth: int = 1
    ) -> AnswerWriter[Item]:
        """Behind on PostgreSQL outside a transaction, inline otherwise."""
        return cls(write, behind=writes_behind(), depth=depth)

    def submit(self, item: Item) -> None:
        """Write `item`'s answer: now, or once fewer than `depth` are running."""
        if self._pool is None:
            self._write(item)
            return
        while len(self._running) >= self._depth:
            self._running.popleft().result()
        self._running.append(self._pool.submit(self._write, item))

    def wait(self) -> None:
        """Every answer submitted is committed (or the first error raised here)."""
        try:
            while self._running:
                self._running.popleft().result()
        finally:
            for left in self._running:  # after an error: let the others finish
                left.exception()
            self._running.clear()

    def close(self) -> None:
        """Wait, then close the threads' database connections and the threads."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            self.wait()
        finally:
            _close_connections(pool, self._depth)


def _close_connections(pool: ThreadPoolExecutor, threads: int) -> None:
    """Each thread of the pool closes its own database connection.

    One task per thread; each waits at a barrier after closing, so no thread can
    take a second task and every thread runs one.
    """
    barrier = threading.Barrier(threads)

    def close_mine() -> None:
        connections.close_all()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)

    for _ in range(threads):
        pool.submit(close_mine)
    pool.shutdown(wait=True)


def writes_behind() -> bool:
    """PostgreSQL, outside any transaction, unless the setting turns it off."""
    if not getattr(settings, "CAMPAIGN_DISPATCH_WRITE_BEHIND", True):
        return False
    connection = connections[router.db_for_write(Delivery)]
    return connection.vendor == "postgresql" and not connection.in_atomic_block
