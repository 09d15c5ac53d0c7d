"""Peak memory of a benchmark run in a child process, workers included.

A benchmark's figure must include every process it starts (a validation pool,
a forkserver), so the parent samples the resident memory of the child's whole
process tree from /proc every 20 ms while the child works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[pid] = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(kids)
        frontier.extend(kids)
    return sum(rss.get(pid, 0) for pid in tree)


def measure_child(script: str, argv: list[str]) -> tuple[Any, float]:
    """Run `script argv` in a child; its last stdout line as JSON, and peak MB."""
    proc = subprocess.Popen(
        [sys.executable, script, *argv], stdout=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"child {argv} failed with {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), peak / 1024 / 1024
