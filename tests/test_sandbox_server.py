"""Sandbox server: routing, fault injection, request log and control endpoints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from partnerhub.management.commands.partner_sandbox import Command
from partnerhub.sandbox.server import SandboxServer, build_server
from partnerhub.sandbox.state import SandboxConfig


def mail_send(box: Any, email: str = "a@x.fr", timeout: Any = 5) -> requests.Response:
    body = {
        "apiKey": box.mail_api_key,
        "subject": "s",
        "htmlContent": "h",
        "params": {"to": [{"email": email}]},
    }
    return requests.post(box.mail_url + "/send", json=body, timeout=timeout)


def mail_me(box: Any) -> requests.Response:
    params = {"apiKey": box.mail_api_key}
    return requests.get(box.mail_url + "/me", params=params, timeout=5)


@pytest.fixture
def private_server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A separate server for tests needing their own config (limits, log size)."""
    config = SandboxConfig(**getattr(request, "param", {}))
    server = build_server(config=config)
    server.start_in_thread()
    yield server
    server.shutdown()


def test_routes_each_prefix_and_404s_unknown_paths(sandbox: Any) -> None:
    assert mail_me(sandbox).status_code == 200
    assert requests.get(sandbox.url + "/nowhere", timeout=5).status_code == 404
    unknown = requests.get(sandbox.mail_url + "/nope", timeout=5)
    assert unknown.status_code == 404
    assert requests.get(sandbox.mail_url + "/send", timeout=5).status_code == 405
    state = sandbox.state()
    assert set(state["providers"]) >= {"mail", "sms", "voice"}


def test_http_500_fault_is_not_processed(sandbox: Any) -> None:
    sandbox.set_faults([{"provider": "mail", "path": "/send", "fault": "http_500"}])
    answer = mail_send(sandbox)
    assert answer.status_code == 500
    assert sandbox.recipients("mail") == {}
    entry = sandbox.requests("mail", "/send")[-1]
    assert (entry["fault"], entry["status"], entry["processed"]) == (
        "http_500",
        500,
        False,
    )


def test_http_429_fault_is_not_processed(sandbox: Any) -> None:
    sandbox.set_faults([{"provider": "mail", "fault": "http_429"}])
    answer = mail_send(sandbox)
    assert answer.status_code == 429
    assert answer.json()["code"] == 429
    assert answer.headers["Retry-After"] == "1"
    assert sandbox.recipients("mail") == {}


def test_slow_fault_answers_late_but_processes(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "slow", "delay": 0.4, "path": "/send"}])
    started = time.monotonic()
    answer = mail_send(sandbox)
    assert time.monotonic() - started >= 0.4
    assert answer.json()["success"] is True
    assert sandbox.recipients("mail") == {"a@x.fr": 1}


def test_timeout_fault_never_answers_and_does_not_process(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "timeout", "delay": 1.0, "provider": "mail"}])
    with pytest.raises(requests.ReadTimeout):
        mail_send(sandbox, timeout=(2, 0.3))
    assert sandbox.recipients("mail") == {}
    assert sandbox.requests("mail")[-1]["processed"] is False


def test_timeout_fault_drops_connection_after_delay(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "timeout", "delay": 0.2}])
    with pytest.raises(requests.ConnectionError):
        mail_send(sandbox, timeout=5)


def test_reset_fault_resets_before_processing(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "reset", "provider": "mail"}])
    with pytest.raises(requests.ConnectionError):
        mail_send(sandbox)
    assert sandbox.recipients("mail") == {}


def test_lost_response_processes_then_resets(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "lost_response", "path": "/send"}])
    with pytest.raises(requests.ConnectionError):
        mail_send(sandbox)
    assert sandbox.recipients("mail") == {"a@x.fr": 1}
    entry = sandbox.requests("mail", "/send")[-1]
    assert (entry["processed"], entry["status"]) == (True, None)


def test_malformed_fault_processes_and_garbles_body(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "malformed", "path": "/send"}])
    answer = mail_send(sandbox)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert sandbox.recipients("mail") == {"a@x.fr": 1}


def test_rule_count_expires_and_filters_apply(sandbox: Any) -> None:
    rule = {"provider": "mail", "path": "/send", "fault": "http_500", "count": 2}
    sandbox.set_faults([rule])
    assert mail_me(sandbox).status_code == 200  # other path: untouched
    sms = requests.get(
        sandbox.sms_url + "/me", params={"apiKey": sandbox.sms_api_key}, timeout=5
    )
    assert sms.status_code == 200  # other provider: untouched
    statuses = [mail_send(sandbox, f"u{i}@x.fr").status_code for i in range(3)]
    assert statuses == [500, 500, 200]
    described = sandbox.faults()["rules"][0]
    assert (described["fired"], described["live"]) == (2, False)
    assert sandbox.recipients("mail") == {"u2@x.fr": 1}


def test_probability_is_reproducible_with_seed(sandbox: Any) -> None:
    rule = {"path": "/me", "fault": "http_500", "probability": 0.5}

    def run() -> list[int]:
        sandbox.set_faults([rule], seed=7)
        return [mail_me(sandbox).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500}


def test_faults_can_be_read_and_cleared(sandbox: Any) -> None:
    sandbox.set_faults([{"fault": "http_500"}], seed=3)
    assert sandbox.faults()["seed"] == 3
    assert sandbox.clear_faults()["rules"] == []
    assert mail_me(sandbox).status_code == 200


def test_unknown_fault_kind_is_refused(sandbox: Any) -> None:
    answer = requests.post(
        sandbox.url + "/_sandbox/faults",
        json={"rules": [{"fault": "explode"}]},
        timeout=5,
    )
    assert answer.status_code == 400


def test_request_log_redacts_secrets_and_keeps_order(sandbox: Any) -> None:
    mail_me(sandbox)
    mail_send(sandbox)
    requests.get(f"{sandbox.voice_url}/me/{sandbox.voice_api_key}", timeout=5)
    logged = sandbox.requests()
    assert [e["path"] for e in logged] == ["/me", "/send", "/me/***"]
    assert logged[0]["query"] == {"apiKey": "***"}
    assert logged[1]["body"]["apiKey"] == "***"
    assert logged[1]["body"]["params"] == {"to": [{"email": "a@x.fr"}]}
    assert (logged[1]["method"], logged[1]["status"]) == ("POST", 200)
    text = str(logged)
    for key in (sandbox.mail_api_key, sandbox.voice_api_key):
        assert key not in text
    assert [e["path"] for e in sandbox.requests(provider="mail", path="/se")] == [
        "/send"
    ]


def test_recipients_count_every_processed_send(sandbox: Any) -> None:
    mail_send(sandbox, "a@x.fr")
    mail_send(sandbox, "a@x.fr")
    mail_send(sandbox, "b@x.fr")
    assert sandbox.recipients("mail") == {"a@x.fr": 2, "b@x.fr": 1}
    everything = requests.get(sandbox.url + "/_sandbox/recipients", timeout=5).json()
    assert everything["sms"] == {}


def test_reset_clears_state_log_faults_and_clock(sandbox: Any) -> None:
    mail_send(sandbox)
    sandbox.set_faults([{"fault": "http_500", "path": "/nothing"}])
    before = sandbox.now()
    sandbox.advance(3600)
    assert sandbox.now() >= before + 3600
    sandbox.reset()
    assert sandbox.recipients("mail") == {}
    assert sandbox.requests() == []
    assert sandbox.faults()["rules"] == []
    assert sandbox.now() < before + 60
    assert mail_me(sandbox).json()["credits"]["creditMail"] == 1_000_000


@pytest.mark.parametrize("private_server", [{"log_size": 3}], indirect=True)
def test_request_log_is_bounded(private_server: SandboxServer) -> None:
    for _ in range(5):
        requests.get(private_server.url + "/mailpartner/v1/me", timeout=5)
    logged = requests.get(private_server.url + "/_sandbox/requests", timeout=5).json()
    assert [e["seq"] for e in logged["requests"]] == [3, 4, 5]


@pytest.mark.parametrize(
    "private_server", [{"rate_limits": {"mail.send": (2, 60.0)}}], indirect=True
)
def test_mail_send_rate_limit_answers_429(private_server: SandboxServer) -> None:
    url = private_server.url + "/mailpartner/v1/send"
    body = {
        "apiKey": "demo-mailpartner-key",
        "subject": "s",
        "htmlContent": "h",
        "params": {"to": [{"email": "a@x.fr"}]},
    }
    codes = [requests.post(url, json=body, timeout=5).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = requests.post(url, json=body, timeout=5)
    assert limited.json()["code"] == 429
    assert limited.json()["success"] is False


@pytest.mark.parametrize("private_server", [{"verbose": True}], indirect=True)
def test_printed_log_lines_never_show_keys(
    private_server: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    base = private_server.url
    requests.get(base + "/mailpartner/v1/me?apiKey=demo-mailpartner-key", timeout=5)
    requests.get(base + "/voicepartner/v1/me/demo-voicepartner-key", timeout=5)
    # The server thread prints its line after answering: wait for it (loaded CI).
    printed = ""
    deadline = time.monotonic() + 5
    while "voice/me/" not in printed and time.monotonic() < deadline:
        printed += capsys.readouterr().err
        time.sleep(0.02)
    assert "GET mail/me?apiKey=***" in printed
    assert "voice/me/***" in printed
    assert "demo-" not in printed


def test_config_reads_faults_and_settle_delay_from_env() -> None:
    env = {
        "SANDBOX_SETTLE_SECONDS": "2.5",
        "SANDBOX_FAULTS": '{"rules": [{"fault": "slow"}], "seed": 4}',
    }
    config = SandboxConfig.from_env(env)
    assert config.settle_seconds == 2.5
    assert (config.faults, config.fault_seed) == ([{"fault": "slow"}], 4)


def test_initial_faults_from_config_apply() -> None:
    config = SandboxConfig(faults=[{"fault": "http_500", "count": 1}])
    server = build_server(config=config)
    server.start_in_thread()
    try:
        url = server.url + "/mailpartner/v1/me"
        codes = [requests.get(url, timeout=5).status_code for _ in range(2)]
    finally:
        server.shutdown()
    assert codes == [500, 401]


def test_settle_delay_is_configurable(private_server: SandboxServer) -> None:
    assert private_server.config.settle_seconds == 20.0
    fast = build_server(config=SandboxConfig(settle_seconds=0, quiet_hours=False))
    fast.start_in_thread()
    try:
        base = fast.url + "/smspartner/v1"
        key = {"apiKey": "demo-smspartner-key"}
        sent = requests.post(
            base + "/send",
            json={**key, "phoneNumbers": "0600000001", "message": "x"},
            timeout=5,
        ).json()
        status = requests.get(
            base + "/bulk-status",
            params={**key, "messageId": sent["message_id"]},
            timeout=5,
        ).json()
    finally:
        fast.shutdown()
    assert status["StatutResponse_List"][0]["status"] == "Delivered"


def test_command_prints_demo_keys_but_hides_real_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = Command()
    config = SandboxConfig(mail_api_key="real-secret-key")
    command._announce("http://127.0.0.1:8099", config)
    printed = capsys.readouterr().out
    assert "real-secret-key" not in printed
    assert "demo-smspartner-key" in printed
    assert "http://127.0.0.1:8099/mailpartner/v1" in printed
