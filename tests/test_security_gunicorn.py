"""Production packaging (issue #17.8): the README's recipe, collectstatic then gunicorn
with DEBUG=0, serves a styled page (static files served by WhiteNoise)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.test_settings import PRODUCTION_PROVIDERS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """gunicorn -w 2 on production settings, after collectstatic: (URL, its log)."""
    tmp_path = tmp_path_factory.mktemp("production")
    port = free_port()
    dropped = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env |= PRODUCTION_PROVIDERS | {
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
        "DEBUG": "0",
        "SECRET_KEY": "k3y-" + "x9Qz!" * 12,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback for the test
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "partnerhub.wsgi", "-w", "2",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "--access-logfile", "-"],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/admin/login/", timeout=10)
                break
            except requests.RequestException:  # still booting
                assert server.poll() is None, log.read_text()
                time.sleep(0.5)
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_with_debug_off_serves_a_styled_page(production) -> None:
    production, _ = production
    page = requests.get(production + "/admin/login/", timeout=10)
    assert page.status_code == 200
    assert "content-security-policy" in page.headers
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
    scripts = re.findall(r'src="(/static/[^"]+\.js)"', page.text)
    assert stylesheets and scripts
    assert any(re.search(r"\.[0-9a-f]{12}\.css$", href) for href in stylesheets)
    for path in stylesheets + scripts:
        asset = requests.get(production + path, timeout=10)
        assert asset.status_code == 200, path
        assert "max-age" in asset.headers.get("cache-control", ""), path
    css = requests.get(production + stylesheets[0], timeout=10)
    assert css.headers["content-type"].startswith("text/css")


def test_the_compose_script_is_served(production) -> None:
    """compose.js 404ed with DEBUG=0 before WhiteNoise."""
    production, _ = production
    script = requests.get(f"{production}/static/campaigns/compose.js", timeout=10)
    assert script.status_code == 200
    assert "addEventListener" in script.text


def test_the_webhook_token_is_masked_in_gunicorns_access_log(production) -> None:
    url, log = production
    token = PRODUCTION_PROVIDERS["SMS_REPLY_WEBHOOK_TOKEN"]
    response = requests.post(
        f"{url}/unsubscribes/hooks/sms/{token}/", data="{", timeout=10
    )
    assert response.status_code == 400
    deadline = time.monotonic() + 10
    while "/unsubscribes/hooks/sms/" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    assert token not in log.read_text()
    assert "/unsubscribes/hooks/sms/***/" in log.read_text()
