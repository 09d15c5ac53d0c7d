"""The campaign benchmarks still run end to end (tiny size), so they cannot rot.

Each runs as a real command in a subprocess, on its own temporary SQLite file and
its own sandbox process, whatever database the suite itself uses (the benchmarks
never inherit `DATABASE_URL` or `REDIS_URL`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 300


def run_benchmark(script: str, tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    size = ["--recipients", str(RECIPIENTS), "--database-url", database]
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *size],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def figures(output: str) -> dict[str, str]:
    """The report's `label   value ...` lines, keyed by label."""
    found = {}
    for line in output.splitlines():
        label, _, rest = line.partition("  ")
        if rest.strip():
            found[label.strip()] = rest.strip()
    return found


def test_dispatch_benchmark_sends_everyone_and_prints_its_figures(tmp_path):
    shown = figures(run_benchmark("dispatch.py", tmp_path))
    assert shown["recipients"].startswith(f"{RECIPIENTS}  (accepted by the sandbox: ")
    assert shown["recipients"].endswith(f": {RECIPIENTS})")
    for label in ("total", "throughput", "HTTP (client send)", "app side"):
        assert label in shown
    assert "ms" in shown["app per recipient"]
    assert "MB" in shown["peak RSS"]
    assert shown["campaign status"].startswith("sent")


def test_status_refresh_benchmark_updates_every_delivery(tmp_path):
    shown = figures(run_benchmark("status_refresh.py", tmp_path))
    assert shown["deliveries"] == f"{RECIPIENTS}  ({RECIPIENTS} changed)"
    for label in ("total", "throughput", "HTTP (bulk-status)", "process CPU"):
        assert label in shown
    assert shown["campaign settled"] == "yes"


def test_pages_benchmark_times_every_page_on_a_small_build(tmp_path):
    database = f"sqlite:///{tmp_path / 'pages.sqlite3'}"
    small = ["--campaigns", "12", "--deliveries", "300", "--unsubscribes", "30"]
    small += ["--requests", "2", "--database-url", database]
    done = subprocess.run(
        [sys.executable, "benchmarks/pages.py", *small],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # Exit 1 only means a page missed 100 ms on this (busy) machine.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (
        done.stdout.count(" OK") + done.stdout.count("MISSED") == 27
    )  # every page of pages()
    assert "campaign page (1M deliveries)" in done.stdout
