"""Voice Partner client (https://api.voicepartner.fr/v1, providers.md §3).

Voice Partner differs from its siblings: GET and DELETE calls carry the API key in
the URL *path* (so every logged URL is redacted), answers have `success` but no
`code`, and errors are string codes such as `NOT_CREDIT`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from . import errors
from .ndamedia import (
    KEY_PLACEHOLDER,
    PARIS,
    ErrorTable,
    NdaMediaClient,
    compact,
    parse_datetime,
    phone_list,
    to_decimal,
    to_int,
    to_str,
)
from .xmlenvelope import Keys, ListOf, Obj, keys

# No status endpoint is documented; these words are for `notifyUrl` callbacks and
# are INFERRED from the SMS Partner vocabulary (providers.md §8 question 7).
STATUS_MAP: dict[str, str] = {
    "delivered": "delivered",
    "answered": "delivered",
    "voicemail": "delivered",
    "not delivered": "not_delivered",
    "no answer": "not_delivered",
    "busy": "not_delivered",
    "waiting": "pending",
    "pending": "pending",
    "sent": "accepted",
    "ko": "failed",
    "failed": "failed",
    "unknown": "unknown",
}

ERROR_TABLE: ErrorTable = {
    "common": {
        10: errors.InvalidApiKey,
        "PHONE_NUMBER_REQUIRED": errors.InvalidRequest,
        "PHONE_NUMBER_SIZE_ERROR": errors.InvalidRequest,
        "TOKEN_AUDIO_REQUIRED": errors.InvalidRequest,
        "NOTIFY_URL_INVALID": errors.InvalidRequest,
        "SENDER_NOT_AUTHORIZED": errors.InvalidRequest,
        "SENDER_INVALID": errors.InvalidRequest,
        "AUDIO_FILE_NOT_FOUND": errors.NotFound,
        "DESTINATION_INVALID": errors.InvalidAddress,
        "NOT_CREDIT": errors.InsufficientCredits,
        # Not in the provider's list; names used by the bundled sandbox (INFERRED).
        "API_KEY_REQUIRED": errors.InvalidApiKey,
        "INVALID_API_KEY": errors.InvalidApiKey,
        "INVALID_JSON": errors.InvalidRequest,
        "NOT_FOUND": errors.NotFound,
        "TOO_MANY_REQUESTS": errors.RateLimited,
    },
    "cancel": {
        "CAMPAIGN_NOT_FOUND": errors.NotFound,
        "CAMPAIGN_ALREADY_CANCELLED": errors.AlreadyCancelled,
        "CAMPAIGN_ALREADY_SENT": errors.AlreadySent,
        "CANCEL_TOO_LATE": errors.TooLateToCancel,
    },
}

_HMS = Obj(keys("h m s"))
ME_KEYS: Keys = keys(
    "success credit currency",
    (
        "details",
        Obj(keys(("tts", _HMS), ("tts_fixe", _HMS), ("voice", Obj(("message",))))),
    ),
)
AUDIO_KEYS: Keys = keys(
    "name token size duration",
    ("created_at", Obj(keys("date timezone_type timezone"))),
)
AUDIOS_KEYS: Keys = keys("nb_datas", ("datas", ListOf(AUDIO_KEYS)))
RENAME_KEYS: Keys = keys("success filename tokenAudio")
DETAIL_KEYS: Keys = keys("nbSms cost_unity cost country_code duration")
TTS_KEYS: Keys = keys(
    "success campaignId cost currency nbSms lang duration",
    ("detail", ListOf(DETAIL_KEYS)),
)
CAMPAIGN_KEYS: Keys = keys(
    "success campaignId cost currency nbSms",
    ("audioFile", Obj(keys("filename size"))),
    ("detail", ListOf(DETAIL_KEYS)),
)
CANCEL_KEYS: Keys = keys("success campaignId assignedCredit currency")


@dataclass(frozen=True)
class VoiceAccount:
    credit: Decimal | None
    currency: str
    tts: timedelta
    tts_fixe: timedelta
    voice_messages: int | None


@dataclass(frozen=True)
class AudioFile:
    name: str
    token: str  # the `tokenAudio` of sends
    size: str
    duration: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class CountryCost:
    """Cost detail per destination; `dial_code` is lost in XML answers."""

    dial_code: str
    nb_sms: int | None
    unit_cost: Decimal | None
    cost: Decimal | None
    country_code: str = ""
    duration: Decimal | None = None


@dataclass(frozen=True)
class VoiceSendResult:
    campaign_id: str
    cost: Decimal | None
    currency: str
    nb_sms: int
    details: tuple[CountryCost, ...]
    lang: str = ""
    duration: Decimal | None = None
    audio_filename: str = ""
    audio_size: str = ""


@dataclass(frozen=True)
class VoiceCancelResult:
    campaign_id: str
    assigned_credit: Decimal | None  # credit given back
    currency: str


class VoicePartnerClient(NdaMediaClient):
    """Voice Partner API: credits, audio files, text-to-speech and voicemail drops."""

    provider = "voicepartner"
    short_name = "voice"
    error_table = ERROR_TABLE

    def me(self) -> VoiceAccount:
        """Credit and remaining minutes (limited to 5 calls a minute)."""
        data = self._get(f"me/{KEY_PLACEHOLDER}", keys=ME_KEYS)
        details = data.get("details") or {}
        return VoiceAccount(
            credit=to_decimal(data.get("credit")),
            currency=to_str(data.get("currency")),
            tts=_duration(details.get("tts")),
            tts_fixe=_duration(details.get("tts_fixe")),
            voice_messages=to_int((details.get("voice") or {}).get("message")),
        )

    def audios(self) -> list[AudioFile]:
        """Validated audio files (uploaded and validated in the web interface)."""
        data = self._get(f"audios/{KEY_PLACEHOLDER}", keys=AUDIOS_KEYS)
        return [_audio(item) for item in data.get("datas") or ()]

    def audio_rename(self, *, token_audio: str, filename: str) -> AudioFile:
        """Rename an audio file (3 to 50 characters)."""
        if not 3 <= len(filename) <= 50:
            raise ValueError("filename must be 3 to 50 characters long")
        body = {"tokenAudio": token_audio, "filename": filename}
        data = self._post("audio-file/rename", body=body, keys=RENAME_KEYS)
        return AudioFile(
            name=to_str(data.get("filename")),
            token=to_str(data.get("tokenAudio")),
            size="",
            duration="",
        )

    def tts_send(
        self,
        *,
        phone_numbers: str | Sequence[str],
        text: str | None = None,
        token_audio: str | None = None,
        lang: str = "fr",
        speech_rate: float | None = None,
        scheduled_at: datetime | None = None,
        notify_url: str | None = None,
    ) -> VoiceSendResult:
        """A voice SMS from `text` (read aloud) or `token_audio` (which wins)."""
        if not text and not token_audio:
            raise ValueError("text or token_audio is required")
        if speech_rate is not None and not 0.5 <= speech_rate <= 2:
            raise ValueError("speech_rate must be between 0.5 and 2")
        body = compact(
            {
                "phoneNumbers": phone_list(phone_numbers),
                "text": text,
                "tokenAudio": token_audio,
                "lang": lang,
                "speechRate": speech_rate,
                "notifyUrl": notify_url,
                "scheduledDate": _voice_date(scheduled_at),
            }
        )
        data = self._post("tts/send", body=body, keys=TTS_KEYS, is_send=True)
        return _send_result(data)

    def campaign_send(
        self,
        *,
        phone_numbers: str | Sequence[str],
        token_audio: str,
        email_for_notification: str,
        sender: str | None = None,
        scheduled_at: datetime | None = None,
        notify_url: str | None = None,
    ) -> VoiceSendResult:
        """Drop an audio message on voicemails (landlines ring first)."""
        body = compact(
            {
                "phoneNumbers": phone_list(phone_numbers),
                "tokenAudio": token_audio,
                "emailForNotification": email_for_notification,
                "sender": sender,
                "notifyUrl": notify_url,
                "scheduledDate": _voice_date(scheduled_at),
            }
        )
        data = self._post("campaign/send", body=body, keys=CAMPAIGN_KEYS, is_send=True)
        return _send_result(data)

    def campaign_cancel(self, *, campaign_id: str) -> VoiceCancelResult:
        """Cancel a scheduled voice campaign; the credit is given back."""
        path = f"campaign/cancel/{KEY_PLACEHOLDER}/{quote(str(campaign_id), safe='')}"
        data = self._request("DELETE", path, keys=CANCEL_KEYS, op="cancel")
        return VoiceCancelResult(
            campaign_id=to_str(data.get("campaignId")) or str(campaign_id),
            assigned_credit=to_decimal(data.get("assignedCredit")),
            currency=to_str(data.get("currency")),
        )


def _voice_date(when: datetime | None) -> str | None:
    """Voice scheduling: `YYYY-mm-dd HH:MM:00`, Paris time."""
    if when is None:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("scheduled_at must be timezone-aware")
    return when.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:00")


def _duration(value: Any) -> timedelta:
    parts = value if isinstance(value, Mapping) else {}
    hours, minutes, seconds = (to_int(parts.get(k)) or 0 for k in ("h", "m", "s"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _audio(item: Mapping[str, Any]) -> AudioFile:
    return AudioFile(
        name=to_str(item.get("name")),
        token=to_str(item.get("token")),
        size=to_str(item.get("size")),
        duration=to_str(item.get("duration")),
        created_at=parse_datetime(item.get("created_at")),
    )


def _send_result(data: Mapping[str, Any]) -> VoiceSendResult:
    audio = data.get("audioFile") or {}
    return VoiceSendResult(
        campaign_id=to_str(data.get("campaignId")),
        cost=to_decimal(data.get("cost")),
        currency=to_str(data.get("currency")),
        nb_sms=to_int(data.get("nbSms")) or 0,
        details=_details(data.get("detail")),
        lang=to_str(data.get("lang")),
        duration=to_decimal(data.get("duration")),
        audio_filename=to_str(audio.get("filename")),
        audio_size=to_str(audio.get("size")),
    )


def _details(detail: Any) -> tuple[CountryCost, ...]:
    """`detail` is keyed by dial code in JSON, a plain list in positional XML."""
    pairs = (
        detail.items()
        if isinstance(detail, Mapping)
        else (("", d) for d in detail or ())
    )
    return tuple(
        CountryCost(
            dial_code=str(code),
            nb_sms=to_int(item.get("nbSms")),
            unit_cost=to_decimal(item.get("cost_unity")),
            cost=to_decimal(item.get("cost")),
            country_code=to_str(item.get("country_code")),
            duration=to_decimal(item.get("duration")),
        )
        for code, item in pairs
        if isinstance(item, Mapping)
    )
