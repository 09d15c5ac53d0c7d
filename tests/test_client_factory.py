"""Client accessors: settings for the main account, the row for a sub-account."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from partnerhub.providers import factory
from partnerhub.providers.mailpartner import MailPartnerClient
from partnerhub.providers.pecmassiva import PecMassivaClient
from partnerhub.providers.smspartner import SmsPartnerClient
from partnerhub.providers.voicepartner import VoicePartnerClient

CASES = [
    (factory.get_mailpartner_client, MailPartnerClient, "MAILPARTNER"),
    (factory.get_smspartner_client, SmsPartnerClient, "SMSPARTNER"),
    (factory.get_voicepartner_client, VoicePartnerClient, "VOICEPARTNER"),
]


@pytest.mark.parametrize(("build", "cls", "prefix"), CASES)
def test_defaults_come_from_settings(
    settings: Any, build: Any, cls: type, prefix: str
) -> None:
    setattr(settings, f"{prefix}_API_URL", "http://127.0.0.1:1/x/v1/")
    setattr(settings, f"{prefix}_API_KEY", "settings-key-123")
    settings.PROVIDER_TIMEOUT = (1.5, 9)
    client = build()
    assert type(client) is cls
    assert client.base_url == "http://127.0.0.1:1/x/v1"
    assert client._api_key == "settings-key-123"
    assert client.timeout == (1.5, 9.0)
    assert "settings-key-123" not in repr(client)


@pytest.mark.parametrize(("build", "cls", "prefix"), CASES)
def test_account_key_and_url_win(
    settings: Any, build: Any, cls: type, prefix: str
) -> None:
    account = SimpleNamespace(api_key="sub-account-key", api_url="http://127.0.0.1:2/y")
    client = build(account)
    assert (client.base_url, client._api_key) == (
        "http://127.0.0.1:2/y",
        "sub-account-key",
    )
    no_url = build(SimpleNamespace(api_key="sub-account-key"))
    assert no_url.base_url == getattr(settings, f"{prefix}_API_URL").rstrip("/")


@pytest.mark.parametrize(("build", "cls", "prefix"), CASES)
def test_account_without_key_is_refused(build: Any, cls: type, prefix: str) -> None:
    with pytest.raises(ValueError, match="no API key"):
        build(SimpleNamespace(api_key="", api_url=None))


def test_pecmassiva_client_from_settings_and_account(settings: Any) -> None:
    settings.PECMASSIVA_API_URL = "http://127.0.0.1:3/pec"
    settings.PECMASSIVA_TOKEN = "pec-token-123"
    client = factory.get_pecmassiva_client(username="box@pec.it", password="pw-secret")
    assert isinstance(client, PecMassivaClient)
    assert client.base_url == "http://127.0.0.1:3/pec"
    assert "pw-secret" not in repr(client)
    assert "pec-token-123" not in repr(client)
    account = SimpleNamespace(api_key="pec-row-token", api_url="http://127.0.0.1:4/p")
    other = factory.get_pecmassiva_client(username="u", password="p", account=account)
    assert other.base_url == "http://127.0.0.1:4/p"
