"""First run: a busy web or sandbox port is explained in one line, with the way out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from partnerhub.management.commands.demo import port_is_free

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on, as a forgotten server would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_demo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    db = tmp_path / "db.sqlite3"
    return subprocess.run(
        [sys.executable, "manage.py", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
            "DATABASE_URL": f"sqlite:///{db}",
            "PARTNERHUB_SANDBOX": "1",
            **env,
        },
    )


def test_busy_web_port_is_one_line_naming_port_option(tmp_path, busy_port) -> None:
    out = run_demo(tmp_path, "--port", str(busy_port), SANDBOX_PORT=str(free_port()))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in out.stderr
    assert f"--port {busy_port + 1}" in out.stderr
    db = tmp_path / "db.sqlite3"
    assert not db.exists() or db.stat().st_size == 0  # stopped before migrating


def test_busy_sandbox_port_names_sandbox_port(tmp_path, busy_port) -> None:
    out = run_demo(tmp_path, "--port", str(free_port()), SANDBOX_PORT=str(busy_port))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert "provider sandbox cannot start" in out.stderr
    assert f"SANDBOX_PORT={busy_port + 1} scripts/run" in out.stderr


def test_port_probe_sees_a_listener_and_lets_the_port_go(busy_port) -> None:
    assert not port_is_free("127.0.0.1", busy_port)
    port = free_port()
    assert port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)  # probing does not hold the port


def test_sandbox_port_is_documented() -> None:
    assert "SANDBOX_PORT" in (ROOT / "README.md").read_text()
    assert "SANDBOX_PORT" in (ROOT / ".env.example").read_text()
