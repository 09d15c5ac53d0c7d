"""The import benchmark runs end to end (tiny), so it cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_runs_tiny() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "import_recipients.py"),
            "--rows",
            "300",
            "--compare-rows",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "PartnerHub import" in done.stdout
    assert "django-import-export, bulk settings" in done.stdout
