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

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connections, router

from .models import Delivery

Item = TypeVar("Item")


class AnswerWriter(Generic[Item]):
    """Runs `write(item)` inline, or in one thread behind the caller."""

    def __init__(self, write: Callable[[Item], None], *, behind: bool) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(1, "answers") if behind else None
        self._running: Future[None] | None = None

    @classmethod
    def for_dispatch(cls, write: Callable[[Item], None]) -> AnswerWriter[Item]:
        return cls(write, behind=writes_behind())

    def submit(self, item: Item) -> None:
        """Write `item`'s answer: now, or once the previous one is written."""
        if self._pool is None:
            self._write(item)
            return
        self.wait()
        self._running = self._pool.submit(self._write, item)

    def wait(self) -> None:
        """Every answer submitted is committed (or its error raised here)."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def close(self) -> None:
        """Wait, then close the thread's database connection and the thread."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            self.wait()
        finally:
            pool.submit(connections.close_all).result()
            pool.shutdown()


def writes_behind() -> bool:
    """PostgreSQL, outside any transaction, unless the setting turns it off."""
    if not getattr(settings, "CAMPAIGN_DISPATCH_WRITE_BEHIND", True):
        return False
    connection = connections[router.db_for_write(Delivery)]
    return connection.vendor == "postgresql" and not connection.in_atomic_block
