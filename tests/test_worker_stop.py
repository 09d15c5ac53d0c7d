"""`qcluster` and `scripts/run` (`manage.py demo`) stop on SIGTERM within a bound,
leaving no process behind, even while a worker is busy with a long task.

Real processes on a temporary SQLite database with the ORM broker; the busy task
is a 120-second `time.sleep`, far longer than the grace.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from partnerhub.qcluster import descendants

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GRACE = 3


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("Q_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        Q_WORKERS="1",
        Q_POLL="0.1",
        Q_STOP_GRACE_SECONDS=str(GRACE),
        PYTHONWARNINGS="ignore",
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _alive(pids: list[int]) -> list[int]:
    """Processes still there, zombies included (a zombie is a leak too)."""
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def _wait_gone(proc: subprocess.Popen[bytes], tree: list[int], timeout: float) -> float:
    """Seconds until `proc` exited (reaped here) and none of `tree` is left."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        proc.poll()  # reaps our own child: only its descendants may linger
        if proc.returncode is not None and not _alive(tree):
            return time.monotonic() - start
        time.sleep(0.1)
    pytest.fail(f"still running after {timeout} s: {_alive(tree)}")


def _wait_for(check: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _busy_worker_started(tree_of: int) -> bool:
    """The cluster forked its sentinel, pusher, monitor and worker(s)."""
    return len(descendants(tree_of)) >= 4


def test_qcluster_stops_within_its_grace_while_a_task_runs(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _manage(env, "migrate", "-v0")
    _manage(
        env,
        "shell",
        "-c",
        "from django_q.tasks import async_task; async_task('time.sleep', 120)",
    )
    log = (tmp_path / "qcluster.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _busy_worker_started(proc.pid), "the cluster")
        time.sleep(2)  # the worker picks the 120 s task up
        tree = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        took = _wait_gone(proc, tree, timeout=GRACE + 10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert took >= GRACE - 0.5, "the busy worker was not given its grace"
    assert proc.returncode is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as exc:  # 302 to login is fine; refused is not up yet
        return "refused" not in str(exc).lower() and "reset" not in str(exc).lower()


def test_scripts_run_stops_every_process_on_sigterm(tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    env = _env(tmp_path, SANDBOX_PORT=str(sandbox_port), DEBUG="1")
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(
            lambda: _answers(f"http://127.0.0.1:{port}/admin/login/"),
            "the web server",
            timeout=120,
        )
        _wait_for(lambda: len(descendants(proc.pid)) >= 7, "web, worker, sandbox")
        tree = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _wait_gone(proc, tree, timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert b"PartnerHub stopped." in (tmp_path / "demo.log").read_bytes()
