"""VoicePartnerClient: key in the URL path for GET/DELETE, string error codes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import responses

from partnerhub.providers import errors
from partnerhub.providers.http import build_session
from partnerhub.providers.ndamedia import map_status
from partnerhub.providers.voicepartner import STATUS_MAP, VoicePartnerClient

WIRE = Path(__file__).parent / "fixtures" / "wire"
BASE = "http://127.0.0.1:9/voicepartner/v1"
KEY = "secret-voice-key-4242"


def _wire(name: str) -> Any:
    return json.loads((WIRE / f"{name}.json").read_text(encoding="utf-8"))


def _body(index: int = 0) -> dict[str, Any]:
    return json.loads(responses.calls[index].request.body)


@pytest.fixture
def client() -> VoicePartnerClient:
    return VoicePartnerClient(base_url=BASE, api_key=KEY, session=build_session())


@responses.activate
def test_me_puts_key_in_path(client: VoicePartnerClient) -> None:
    responses.get(f"{BASE}/me/{KEY}", json=_wire("voice_me"))
    account = client.me()
    assert responses.calls[0].request.url == f"{BASE}/me/{KEY}"
    assert (account.credit, account.currency) == (Decimal(19), "€")
    assert account.tts == timedelta(hours=5, minutes=55, seconds=66)
    assert account.tts_fixe == timedelta(hours=1, minutes=2, seconds=3)
    assert account.voice_messages == 10


@responses.activate
def test_me_xml_asks_format_in_query(client: VoicePartnerClient) -> None:
    xml_client = VoicePartnerClient(
        base_url=BASE, api_key=KEY, session=build_session(), response_format="xml"
    )
    body = (
        "<?xml version='1.0' encoding='UTF-8'?><result><entry>true</entry>"
        "<entry><![CDATA[19]]></entry><entry><![CDATA[EUR]]></entry>"
        "<entry><entry><entry>1</entry><entry>2</entry><entry>3</entry></entry>"
        "<entry><entry>0</entry><entry>0</entry><entry>4</entry></entry>"
        "<entry><entry>10</entry></entry></entry></result>"
    )
    responses.get(f"{BASE}/me/{KEY}", body=body, content_type="application/xml")
    account = xml_client.me()
    assert responses.calls[0].request.url.endswith(f"/me/{KEY}?_format=xml")
    assert (account.credit, account.currency) == (Decimal(19), "EUR")
    assert account.tts == timedelta(hours=1, minutes=2, seconds=3)
    assert account.tts_fixe == timedelta(seconds=4)
    assert account.voice_messages == 10


@responses.activate
def test_audios_and_rename(client: VoicePartnerClient) -> None:
    responses.get(f"{BASE}/audios/{KEY}", json=_wire("voice_audios"))
    responses.post(f"{BASE}/audio-file/rename", json=_wire("voice_audio_rename"))
    (audio,) = client.audios()
    assert (audio.name, audio.token, audio.size, audio.duration) == (
        "promo.wav",
        "tok-audio-1",
        "104.5Ko",
        "0:07",
    )
    paris = datetime(2018, 4, 16, 13, 26, 46, tzinfo=ZoneInfo("Europe/Paris"))
    assert audio.created_at == paris
    renamed = client.audio_rename(token_audio="tok-audio-1", filename="nouveau-nom")
    assert _body(1) == {
        "apiKey": KEY,
        "tokenAudio": "tok-audio-1",
        "filename": "nouveau-nom",
    }
    assert (renamed.name, renamed.token) == ("nouveau-nom", "tok-audio-1")
    with pytest.raises(ValueError, match="3 to 50"):
        client.audio_rename(token_audio="t", filename="ab")


@responses.activate
def test_tts_send(client: VoicePartnerClient) -> None:
    responses.post(f"{BASE}/tts/send", json=_wire("voice_tts_send"))
    result = client.tts_send(
        phone_numbers=["0600000001", "0600000002"],
        text="Bonjour, à demain",
        speech_rate=1.5,
        notify_url="https://example.fr/n",
        scheduled_at=datetime(2021, 2, 2, 13, 15, tzinfo=UTC),
    )
    assert _body() == {
        "apiKey": KEY,
        "phoneNumbers": "0600000001,0600000002",
        "text": "Bonjour, à demain",
        "lang": "fr",
        "speechRate": 1.5,
        "notifyUrl": "https://example.fr/n",
        "scheduledDate": "2021-02-02 14:15:00",
    }
    assert (result.campaign_id, result.nb_sms, result.lang) == ("Ff1tbu0lax", 1, "en")
    assert (result.cost, result.duration) == (Decimal("0.1"), Decimal("6.3"))
    (detail,) = result.details
    assert (detail.dial_code, detail.country_code, detail.unit_cost) == (
        "33",
        "fr",
        Decimal("0.1"),
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "text or token_audio"),
        ({"text": "x", "speech_rate": 3}, "speech_rate"),
        ({"text": "x", "scheduled_at": datetime(2021, 1, 1)}, "aware"),
    ],
)
@responses.activate
def test_tts_send_refuses_bad_input(
    client: VoicePartnerClient, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        client.tts_send(phone_numbers="0600000001", **kwargs)
    assert not responses.calls


@responses.activate
def test_campaign_send_and_cancel(client: VoicePartnerClient) -> None:
    responses.post(f"{BASE}/campaign/send", json=_wire("voice_campaign_send"))
    responses.delete(
        f"{BASE}/campaign/cancel/{KEY}/D572M", json=_wire("voice_campaign_cancel")
    )
    result = client.campaign_send(
        phone_numbers="0600000001",
        token_audio="tok",
        email_for_notification="a@x.fr",
        sender="0600000009",
    )
    assert _body()["emailForNotification"] == "a@x.fr"
    assert _body()["sender"] == "0600000009"
    assert (result.campaign_id, result.audio_filename, result.audio_size) == (
        "C4mp41gn",
        "x.wav",
        "135.8Ko",
    )
    assert result.details[0].cost == Decimal("0.15")
    cancelled = client.campaign_cancel(campaign_id="D572M")
    assert (cancelled.campaign_id, cancelled.assigned_credit) == (
        "D572M",
        Decimal("1.8"),
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NOT_CREDIT", errors.InsufficientCredits),
        ("PHONE_NUMBER_REQUIRED", errors.InvalidRequest),
        ("PHONE_NUMBER_SIZE_ERROR", errors.InvalidRequest),
        ("TOKEN_AUDIO_REQUIRED", errors.InvalidRequest),
        ("NOTIFY_URL_INVALID", errors.InvalidRequest),
        ("SENDER_NOT_AUTHORIZED", errors.InvalidRequest),
        ("SENDER_INVALID", errors.InvalidRequest),
        ("AUDIO_FILE_NOT_FOUND", errors.NotFound),
        ("DESTINATION_INVALID", errors.InvalidAddress),
        ("SOMETHING_NEW", errors.ProviderAPIError),
    ],
)
@responses.activate
def test_string_error_codes(
    client: VoicePartnerClient, code: str, expected: type[Exception]
) -> None:
    responses.post(f"{BASE}/tts/send", json={"success": False, "error": code})
    with pytest.raises(expected) as info:
        client.tts_send(phone_numbers="0600000001", text="x")
    assert type(info.value) is expected
    assert info.value.code == code


@responses.activate
def test_documented_error_fixture(client: VoicePartnerClient) -> None:
    responses.post(f"{BASE}/campaign/send", json=_wire("voice_error_not_credit"))
    with pytest.raises(errors.InsufficientCredits, match="NOT_CREDIT"):
        client.campaign_send(
            phone_numbers="0600000001", token_audio="t", email_for_notification="a@x.fr"
        )


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, errors.InvalidApiKey), (404, errors.NotFound), (400, errors.InvalidRequest)],
)
@responses.activate
def test_cancel_http_statuses_without_code(
    client: VoicePartnerClient, status: int, expected: type[Exception]
) -> None:
    responses.delete(
        f"{BASE}/campaign/cancel/{KEY}/X1", status=status, json={"success": False}
    )
    with pytest.raises(expected):
        client.campaign_cancel(campaign_id="X1")


@responses.activate
def test_key_in_path_never_leaks(
    client: VoicePartnerClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partnerhub.providers")
    responses.get(f"{BASE}/me/{KEY}", json=_wire("voice_me"))
    responses.get(
        f"{BASE}/audios/{KEY}",
        body=requests.ConnectionError(f"reset while reading {BASE}/audios/{KEY}"),
    )
    responses.delete(
        f"{BASE}/campaign/cancel/{KEY}/Z", status=404, json={"success": False}
    )
    client.me()
    caught = []
    for call in (client.audios, lambda: client.campaign_cancel(campaign_id="Z")):
        with pytest.raises(errors.ProviderError) as info:
            call()
        caught.append(info.value)
    assert "/me/***" in caplog.text
    for text in [repr(client), caplog.text] + [f"{e} {e!r}" for e in caught]:
        assert KEY not in text


@responses.activate
def test_lost_answer_after_tts_send_is_unknown_outcome(
    client: VoicePartnerClient,
) -> None:
    responses.post(f"{BASE}/tts/send", body=requests.ConnectionError("reset by peer"))
    with pytest.raises(errors.UnknownOutcome):
        client.tts_send(phone_numbers="0600000001", text="x")


def test_status_map() -> None:
    assert map_status("Delivered", STATUS_MAP) == "delivered"
    assert map_status("KO", STATUS_MAP) == "failed"
    assert map_status("???", STATUS_MAP) == "unknown"
