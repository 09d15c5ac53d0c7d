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


def process_tree(root: int) -> dict[int, tuple[int, int]]:
    """{pid: (resident bytes, CPU clock ticks)} of `root` and its descendants."""
    parents: dict[int, int] = {}
    usage: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            statm = Path(entry.path, "statm").read_text().split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[1])
        resident = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
        usage[pid] = (resident, int(stat[11]) + int(stat[12]))  # utime + stime
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(kids)
        frontier.extend(kids)
    return {pid: usage[pid] for pid in tree if pid in usage}


def measure_child(script: str, argv: list[str]) -> tuple[Any, float]:
    """Run `script argv` in a child; its last stdout line as JSON, and peak MB.

    A JSON object result gains `cpu`: CPU seconds of the whole child tree, a
    steadier figure than wall time on a shared machine.
    """
    proc = subprocess.Popen(
        [sys.executable, script, *argv], stdout=subprocess.PIPE, text=True
    )
    peak = 0
    ticks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            tree = process_tree(proc.pid)
            peak = max(peak, sum(resident for resident, _ in tree.values()))
            for pid, (_, used) in tree.items():  # an exited child keeps its last
                ticks[pid] = max(ticks.get(pid, 0), used)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"child {argv} failed with {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    if isinstance(result, dict):
        result["cpu"] = sum(ticks.values()) / os.sysconf("SC_CLK_TCK")
    return result, peak / 1024 / 1024
