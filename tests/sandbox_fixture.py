"""Pytest plugin: a live provider sandbox for tests (`pytest_plugins` in conftest).

One server per test session, on a free 127.0.0.1 port, reset before every test
that asks for `sandbox` (state, request log, faults, clock), so tests stay
independent while paying the start-up once.

Its quiet hours are off: the sandbox clock follows the wall clock, and a test that
expects a send to settle must not depend on the hour the suite runs at. A test of
the rule switches it on (`quiet_hours`) and sets the clock (`set_clock`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from partnerhub.sandbox.server import SandboxServer, build_server
from partnerhub.sandbox.state import SandboxConfig


class SandboxHelper:
    """What a test needs: provider URLs, demo keys and the control endpoints."""

    def __init__(self, server: SandboxServer) -> None:
        config = server.config
        self.server = server
        self.url = server.url
        self.mail_url = f"{self.url}/mailpartner/v1"
        self.sms_url = f"{self.url}/smspartner/v1"
        self.voice_url = f"{self.url}/voicepartner/v1"
        self.pec_url = f"{self.url}/pecmassiva"
        self.mail_api_key = config.mail_api_key
        self.sms_api_key = config.sms_api_key
        self.voice_api_key = config.voice_api_key
        self.pec_token = config.pec_token
        self.settle_seconds = config.settle_seconds
        self._http = requests.Session()

    def _control(self, method: str, action: str, **kwargs: Any) -> Any:
        response = self._http.request(
            method, f"{self.url}/_sandbox/{action}", timeout=10, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def set_faults(self, rules: list[dict[str, Any]], seed: int = 0) -> Any:
        return self._control("POST", "faults", json={"rules": rules, "seed": seed})

    def clear_faults(self) -> Any:
        return self._control("DELETE", "faults")

    def faults(self) -> Any:
        return self._control("GET", "faults")

    def requests(
        self, provider: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("provider", provider), ("path", path)) if v}
        return self._control("GET", "requests", params=params)["requests"]

    def recipients(self, provider: str) -> dict[str, int]:
        data = self._control("GET", "recipients", params={"provider": provider})
        return data["recipients"]

    def messages(self, provider: str) -> dict[str, list[str]]:
        data = self._control("GET", "messages", params={"provider": provider})
        return data["messages"]

    def advance(self, seconds: float) -> float:
        return self._control("POST", "clock", json={"advance": seconds})["now"]

    def set_clock(self, at: float) -> float:
        """Move the sandbox clock to unix time `at` (it runs on from there)."""
        return self._control("POST", "clock", json={"at": at})["now"]

    def quiet_hours(
        self, enabled: bool | None = None, provider: str | None = None
    ) -> Any:
        """Switch the providers' quiet hours for every account (None: read)."""
        spec = {"enabled": enabled, "provider": provider}
        return self._control("POST", "quiet-hours", json=spec)

    def now(self) -> float:
        return self._control("GET", "clock")["now"]

    def state(self) -> Any:
        return self._control("GET", "state")

    def reset(self) -> None:
        self._control("POST", "reset")


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = build_server("127.0.0.1", 0, SandboxConfig(quiet_hours=False))
    server.start_in_thread()
    yield server
    server.shutdown()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxHelper]:
    helper = SandboxHelper(sandbox_server)
    helper.reset()
    yield helper
    helper._http.close()


@pytest.fixture
def sandbox_settings(settings: Any, sandbox: SandboxHelper) -> SandboxHelper:
    """Django settings pointed at the live sandbox (URLs and its demo keys)."""
    settings.MAILPARTNER_API_URL = sandbox.mail_url
    settings.MAILPARTNER_API_KEY = sandbox.mail_api_key
    settings.SMSPARTNER_API_URL = sandbox.sms_url
    settings.SMSPARTNER_API_KEY = sandbox.sms_api_key
    settings.VOICEPARTNER_API_URL = sandbox.voice_url
    settings.VOICEPARTNER_API_KEY = sandbox.voice_api_key
    settings.PECMASSIVA_API_URL = sandbox.pec_url
    settings.PECMASSIVA_TOKEN = sandbox.pec_token
    settings.SANDBOX_HOST, settings.SANDBOX_PORT = sandbox.server.httpd.server_address[
        :2
    ]
    return sandbox
