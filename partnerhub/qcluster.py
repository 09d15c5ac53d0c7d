"""A django-q2 cluster that stops on SIGTERM/SIGINT within a bounded grace.

django-q2's own stop waits for every worker to finish its current task, so a
worker in the middle of a long dispatch or import kept `qcluster` alive for
minutes after its "stopping" line (and left a zombie behind when the sentinel
died first). Here a stop still lets workers finish for `Q_STOP_GRACE_SECONDS`;
past that, every process of the cluster is terminated, then killed, and reaped.

Cutting a task short is safe by design: dispatch is crash-safe (its lease expires
and another worker takes over; a batch in flight is reconciled, never re-sent
blindly) and an import that stops leaves its audience untouched and is failed
by the stale-import sweep.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from django.conf import settings
from django_q.cluster import Cluster

logger = logging.getLogger(__name__)


def grace_seconds() -> float:
    return float(getattr(settings, "Q_STOP_GRACE_SECONDS", 20.0))


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, children before grandchildren (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            continue


def end_process_tree(pid: int, *, patience: float = 3.0) -> list[int]:
    """SIGTERM every descendant of `pid`, then SIGKILL what is left; reap them."""
    pids = descendants(pid)
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and descendants(pid):
        _reap()
        time.sleep(0.1)
    _signal_all(descendants(pid), signal.SIGKILL)
    _reap()
    return pids


def _reap() -> None:
    """Collect our own exited children so none stays a zombie."""
    while True:
        try:
            child, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if child == 0:
            return


class GracefulCluster(Cluster):
    """`Cluster` whose stop is bounded: finish within the grace, or be ended."""

    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    def sig_handler(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping.is_set():
            return  # a second signal (Ctrl-C then SIGTERM): the watchdog runs
        self._stopping.set()
        grace = grace_seconds()
        logger.info("Stopping the cluster; workers have %s s to finish.", grace)
        threading.Thread(target=self._watchdog, args=(grace,), daemon=True).start()
        try:
            self.stop()
        finally:
            self._stopped.set()
            _reap()

    def _watchdog(self, grace: float) -> None:
        if self._stopped.wait(grace):
            return
        ended = end_process_tree(os.getpid())
        logger.warning(
            "Workers still busy after %s s: ended %s process(es); their tasks "
            "are taken over by the next worker.",
            grace,
            len(ended),
        )
