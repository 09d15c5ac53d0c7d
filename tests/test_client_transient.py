"""Every row of `transient.ANSWERS` driven through a real client, for a send and a read.

A row without a scenario here fails `test_every_row_has_a_scenario`, so the table
that dispatch relies on cannot grow an untested line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from partnerhub.providers import errors, transient
from partnerhub.providers.http import build_session
from partnerhub.providers.mailpartner import MailPartnerClient, MailRecipient
from partnerhub.providers.ndamedia import NdaMediaClient
from partnerhub.providers.smspartner import SmsPartnerClient
from partnerhub.providers.voicepartner import VoicePartnerClient

HOST = "http://127.0.0.1:9"
KEY = "transient-test-key"
Wire = dict[str, Any]  # keyword arguments of `responses.add`


def _client(provider: str) -> NdaMediaClient:
    session = build_session(read_retries=0)
    classes: dict[str, type[NdaMediaClient]] = {
        "mail": MailPartnerClient,
        "sms": SmsPartnerClient,
        "voice": VoicePartnerClient,
    }
    return classes[provider](
        base_url=f"{HOST}/{provider}/v1", api_key=KEY, session=session
    )


def _send(provider: str, client: Any) -> None:
    if provider == "mail":
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")
    elif provider == "sms":
        client.send(phone_numbers="+33600000001", message="m")
    else:
        client.tts_send(phone_numbers="+33600000001", text="t", lang="fr")


def _read(client: Any) -> None:
    client.me()


def _body(status: int, **body: Any) -> Wire:
    return {"status": status, "json": {"success": False, **body}}


def _html(status: int) -> Wire:
    return {"status": status, "body": f"<html>{status}</html>"}


def _scenario(row: transient.Answer) -> Wire | type[requests.RequestException] | str:
    text = row.answer
    if "queueing problem" in text:
        return _body(500, code=500, message="Problème de mise en file d'attente")
    if row.provider == "mail" and "429" in text:
        return _body(200, code=429, message=">2000 requêtes/minute/IP")
    if row.provider == "sms" and "429" in text:
        return {**_body(429, code=429), "headers": {"Retry-After": "3"}}
    if row.provider == "voice" and "TOO_MANY_REQUESTS" in text:
        return _body(429, error="TOO_MANY_REQUESTS")
    if text.startswith("HTTP 5xx with an error body"):
        return _body(502, code=77, message="Erreur interne")
    if text.startswith("HTTP 503"):
        return _html(503)
    if text.startswith("HTTP 500 or 502"):
        return _html(502)
    if text.startswith("HTTP 504"):
        return _html(504)
    if text.startswith("connection refused"):
        return "refused"
    if text.startswith("read timeout"):
        return requests.ReadTimeout
    if row.provider == "voice":
        return _body(200, error="NOT_CREDIT")
    return _body(200, code=11, message="Crédits insuffisants")


def _provider(row: transient.Answer) -> str:
    return "mail" if row.provider == "*" else row.provider


def _raised(row: transient.Answer, call: Callable[[Any], None]) -> BaseException:
    provider = _provider(row)
    client = _client(provider)
    wire = _scenario(row)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST"):
            url = f"{HOST}/{provider}/v1/.*"
            if wire == "refused":
                error = requests.ConnectionError(
                    "Failed to establish a new connection: [Errno 111] "
                    "Connection refused (NewConnectionError)"
                )
                mock.add(method, re.compile(url), body=error)
            elif isinstance(wire, type):
                mock.add(method, re.compile(url), body=wire("timed out"))
            else:
                assert isinstance(wire, dict)
                mock.add(method, re.compile(url), **wire)
        with pytest.raises(errors.ProviderError) as info:
            call(client)
    return info.value


ROWS = list(transient.ANSWERS)
IDS = [f"{row.provider}:{row.answer[:40]}" for row in ROWS]


def test_every_row_names_its_source_and_has_a_scenario() -> None:
    for row in ROWS:
        assert row.source
        assert _scenario(row) is not None
    assert {r.provider for r in ROWS} >= {"mail", "sms", "voice", "*"}


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_a_send_gets_the_rows_verdict(row: transient.Answer) -> None:
    exc = _raised(row, lambda client: _send(_provider(row), client))
    assert isinstance(exc, errors.ProviderError)
    assert transient.verdict(exc) is row.send, repr(exc)
    assert isinstance(exc, row.raises_on_send), repr(exc)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_a_read_gets_the_rows_verdict(row: transient.Answer) -> None:
    exc = _raised(row, _read)
    assert isinstance(exc, errors.ProviderError)
    assert transient.verdict(exc) is row.read, repr(exc)


def test_rate_limit_keeps_retry_after() -> None:
    row = next(r for r in ROWS if r.provider == "sms" and r.code == 429)
    exc = _raised(row, lambda client: _send("sms", client))
    assert isinstance(exc, errors.RateLimited)
    assert exc.retry_after == 3.0


def test_busy_codes_are_the_retry_rows_only() -> None:
    assert transient.busy_codes("mail") == {
        500: errors.ProviderBusy,
        429: errors.RateLimited,
    }
    assert transient.busy_codes("voice") == {"TOO_MANY_REQUESTS": errors.RateLimited}
