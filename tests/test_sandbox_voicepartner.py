"""Voice Partner emulator, driven over HTTP like the real API (providers.md §3)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

AUDIO = "4xK2pQ9sLm"


def post(box: Any, path: str, body: dict[str, Any]) -> requests.Response:
    body = {"apiKey": box.voice_api_key, **body}
    return requests.post(box.voice_url + path, json=body, timeout=5)


def drop(box: Any, numbers: str = "0600000001", **extra: Any) -> requests.Response:
    body = {
        "tokenAudio": AUDIO,
        "emailForNotification": "ops@shop.fr",
        "phoneNumbers": numbers,
        **extra,
    }
    return post(box, "/campaign/send", body)


def me(box: Any, key: str | None = None) -> requests.Response:
    return requests.get(f"{box.voice_url}/me/{key or box.voice_api_key}", timeout=5)


def cancel(box: Any, campaign_id: str) -> requests.Response:
    url = f"{box.voice_url}/campaign/cancel/{box.voice_api_key}/{campaign_id}"
    return requests.delete(url, timeout=5)


def test_me_shape_and_rate_limit_headers(sandbox: Any) -> None:
    answer = me(sandbox)
    data = answer.json()
    assert list(data) == ["success", "credit", "currency", "details"]
    assert (data["credit"], data["currency"]) == ("5000", "€")
    assert set(data["details"]) == {"tts", "tts_fixe", "voice"}
    assert set(data["details"]["tts"]) == {"h", "m", "s"}
    assert answer.headers["x-ratelimit-limit"] == "5"
    assert answer.headers["x-ratelimit-remaining"] == "4"
    assert int(answer.headers["x-ratelimit-reset"]) > 0


def test_me_sixth_call_in_a_minute_is_429(sandbox: Any) -> None:
    for _ in range(5):
        assert me(sandbox).status_code == 200
    limited = me(sandbox)
    assert limited.status_code == 429
    assert limited.json() == {"success": False, "error": "TOO_MANY_REQUESTS"}
    assert limited.headers["x-ratelimit-remaining"] == "0"
    sandbox.advance(60)
    assert me(sandbox).status_code == 200


def test_wrong_key_in_path_is_401_and_redacted_in_log(sandbox: Any) -> None:
    answer = me(sandbox, "not-a-key")
    assert answer.status_code == 401
    assert answer.json() == {"success": False, "error": "INVALID_API_KEY"}
    logged = sandbox.requests(provider="voice")
    assert logged[-1]["path"] == "/me/***"


def test_audio_list_and_rename(sandbox: Any) -> None:
    url = f"{sandbox.voice_url}/audios/{sandbox.voice_api_key}"
    data = requests.get(url, timeout=5).json()
    assert data["nb_datas"] == 2
    first = data["datas"][0]
    assert list(first) == ["name", "token", "size", "duration", "created_at"]
    assert first["created_at"]["timezone"] == "Europe/Paris"
    renamed = post(
        sandbox, "/audio-file/rename", {"tokenAudio": AUDIO, "filename": "hi"}
    )
    assert renamed.json() == {"success": False, "error": "FILENAME_INVALID"}
    body = {"tokenAudio": AUDIO, "filename": "accueil"}
    renamed = post(sandbox, "/audio-file/rename", body).json()
    assert renamed == {"success": True, "filename": "accueil", "tokenAudio": AUDIO}
    missing = post(
        sandbox, "/audio-file/rename", {"tokenAudio": "x", "filename": "abc"}
    )
    assert missing.json()["error"] == "AUDIO_FILE_NOT_FOUND"


def test_campaign_send_answers_documented_fields_and_debits(sandbox: Any) -> None:
    data = drop(sandbox, "0600000001,0600000002").json()
    assert list(data) == [
        "success", "campaignId", "cost", "currency", "nbSms", "audioFile", "detail",
    ]  # fmt: skip
    assert data["cost"] == pytest.approx(0.30)
    assert data["audioFile"] == {"filename": "bienvenue.wav", "size": "104.5Ko"}
    assert data["detail"] == {"33": {"nbSms": 2, "cost_unity": 0.15, "cost": 0.3}}
    assert me(sandbox).json()["credit"] == "4999.7"
    assert sandbox.recipients("voice") == {"+33600000001": 1, "+33600000002": 1}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"phoneNumbers": ""}, "PHONE_NUMBER_REQUIRED"),
        ({"phoneNumbers": ",".join(["0600000001"] * 501)}, "PHONE_NUMBER_SIZE_ERROR"),
        ({"tokenAudio": ""}, "TOKEN_AUDIO_REQUIRED"),
        ({"tokenAudio": "missing"}, "AUDIO_FILE_NOT_FOUND"),
        ({"phoneNumbers": "12"}, "DESTINATION_INVALID"),
        ({"notifyUrl": "ftp://x"}, "NOTIFY_URL_INVALID"),
        ({"sender": "abc"}, "SENDER_INVALID"),
        ({"scheduledDate": "02/02/2099"}, "SCHEDULED_DATE_INVALID"),
    ],
)
def test_campaign_send_string_error_codes(
    sandbox: Any, change: dict[str, Any], error: str
) -> None:
    body = {
        "tokenAudio": AUDIO,
        "emailForNotification": "ops@shop.fr",
        "phoneNumbers": "0600000001",
        **change,
    }
    answer = post(sandbox, "/campaign/send", body)
    assert answer.status_code in (400, 404)
    assert answer.json() == {"success": False, "error": error}
    assert sandbox.recipients("voice") == {}


def test_tts_send_answers_documented_fields(sandbox: Any) -> None:
    body = {
        "text": "Bonjour, votre colis arrive",
        "lang": "fr",
        "phoneNumbers": "0600000001",
    }
    data = post(sandbox, "/tts/send", body).json()
    assert list(data) == [
        "success", "campaignId", "cost", "currency", "nbSms", "lang", "duration",
        "detail",
    ]  # fmt: skip
    assert data["lang"] == "fr"
    assert set(data["detail"]["33"]) == {
        "nbSms", "cost_unity", "cost", "country_code", "duration",
    }  # fmt: skip
    no_text = post(sandbox, "/tts/send", {**body, "text": ""}).json()
    assert no_text["error"] == "TEXT_REQUIRED"


def test_cancel_scheduled_campaign_refunds_assigned_credit(sandbox: Any) -> None:
    campaign = drop(
        sandbox, "0600000001,0600000002", scheduledDate="2099-02-02 14:15:00"
    )
    campaign_id = campaign.json()["campaignId"]
    answer = cancel(sandbox, campaign_id)
    assert answer.status_code == 200
    assert answer.json() == {
        "success": True,
        "campaignId": campaign_id,
        "assignedCredit": "0.3",
        "currency": "EUR",
    }
    assert me(sandbox).json()["credit"] == "5000"
    again = cancel(sandbox, campaign_id)
    assert again.json()["error"] == "CAMPAIGN_ALREADY_CANCELLED"


def test_cancel_refusals(sandbox: Any) -> None:
    missing = cancel(sandbox, "nope")
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "error": "CAMPAIGN_NOT_FOUND"}
    now_id = drop(sandbox).json()["campaignId"]
    assert cancel(sandbox, now_id).json()["error"] == "CAMPAIGN_ALREADY_SENT"


def test_not_enough_credit_is_not_credit(sandbox: Any) -> None:
    numbers = ",".join(f"06{i:08d}" for i in range(500))
    for _ in range(66):  # 66 x 75 € = 4950 €
        assert drop(sandbox, numbers).status_code == 200
    assert drop(sandbox, numbers).json() == {"success": False, "error": "NOT_CREDIT"}
