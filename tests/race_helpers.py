"""Force two workers' campaign claims to overlap: both wait at a barrier placed
just before each thread's first UPDATE of a campaign, so whatever each read
before (nothing, for a compare-and-set) is read before either writes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from campaigns.models import Campaign


@contextmanager
def barrier_before_first_campaign_update(parties: int = 2) -> Iterator[None]:
    barrier = threading.Barrier(parties, timeout=20)
    seen = threading.local()
    original = QuerySet.update

    def update(self: QuerySet, **kwargs: Any) -> int:
        if self.model is Campaign and not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return original(self, **kwargs)

    QuerySet.update = update  # type: ignore[method-assign]
    try:
        yield
    finally:
        QuerySet.update = original  # type: ignore[method-assign]


def run_in_two_threads(work: Callable[[], Any]) -> list[Any]:
    """`work()` in two threads at once (inside the barrier); their results."""
    results: list[Any] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(work())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    with barrier_before_first_campaign_update():
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return results
