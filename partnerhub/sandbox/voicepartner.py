"""Voice Partner emulator (`/voicepartner/v1`, providers.md §3).

Voice differs from its siblings: the key sits in the URL path for GET/DELETE
calls, answers carry `success` but no `code`, and errors are string codes. The
error body shape is not documented; the sandbox answers
`{"success": false, "error": "CODE"}` (INFERRED, from the Ruby gem reading
`error`) and builds it in `error_body` only. Codes not in the provider's list
(INFERRED): `API_KEY_REQUIRED`, `INVALID_API_KEY`, `INVALID_JSON`, `NOT_FOUND`,
`TOO_MANY_REQUESTS`, `TEXT_REQUIRED`, `LANG_REQUIRED`, `FILENAME_INVALID`,
`EMAIL_FOR_NOTIFICATION_REQUIRED`, `SCHEDULED_DATE_INVALID`, `CAMPAIGN_NOT_FOUND`,
`CAMPAIGN_ALREADY_CANCELLED`, `CAMPAIGN_ALREADY_SENT`, `CANCEL_TOO_LATE`.
A voicemail drop costs 0.15 € a number, a voice SMS 0.10 €.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import phonenumbers

from .ndamedia import EMAIL_RE, ApiError, Call, NdaMediaEmulator
from .state import (
    PARIS,
    Account,
    Batch,
    Delivery,
    blank,
    cancel_refusal,
    normalize_phone,
)

VMS_PRICE = Decimal("0.15")
TTS_PRICE = Decimal("0.10")
MAX_NUMBERS = 500
INT_CODES = {
    1: "API_KEY_REQUIRED",
    10: "INVALID_API_KEY",
    90: "INVALID_JSON",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",  # INFERRED: no 5xx body is documented for Voice
}
CANCEL_REFUSALS = {
    "cancelled": "CAMPAIGN_ALREADY_CANCELLED",
    "sent": "CAMPAIGN_ALREADY_SENT",
    "too_late": "CANCEL_TOO_LATE",
}
SCHEDULE_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2})(?::\d{1,2})?$"
)
_KEY_IN_PATH = re.compile(r"^/(me|audios|campaign/cancel)/[^/]+")
# Callback numbers "pre-validated on my.voicepartner.fr" (providers.md §3): any
# other well-formed `sender` of a voicemail drop is SENDER_NOT_AUTHORIZED.
VALIDATED_SENDERS = ("+33600000001",)
DEMO_AUDIOS = (
    ("bienvenue", "4xK2pQ9sLm", "104.5Ko", "0:07"),
    ("relance-facture", "9bT3wZ7yRc", "135.8Ko", "0:09"),
)


def _amount(value: Decimal) -> str:
    """`"1.8"`, `"5000"`: how Voice Partner writes money in strings."""
    text = f"{value.quantize(Decimal('0.01'))}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class VoicePartnerSandbox(NdaMediaEmulator):
    prefix: ClassVar[str] = "/voicepartner/v1"
    name: ClassVar[str] = "voice"
    ROUTES: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", "/me/{apiKey}", "me"),
        ("GET", "/audios/{apiKey}", "audio_list"),
        ("POST", "/audio-file/rename", "audio_rename"),
        ("POST", "/tts/send", "tts_send"),
        ("POST", "/campaign/send", "campaign_send"),
        ("DELETE", "/campaign/cancel/{apiKey}/{campaignId}", "campaign_cancel"),
    ]

    def setup(self) -> None:
        key = self.config.voice_api_key
        self.accounts[key] = Account(
            key, "demo@partnerhub.test", self.config.voice_credit
        )
        now = self.clock.now()
        self.audios: dict[str, dict[str, Any]] = {
            token: {"name": name, "size": size, "duration": length, "created": now}
            for name, token, size, length in DEMO_AUDIOS
        }
        self.campaigns: dict[str, Batch] = {}
        self.accepted: Counter[str] = Counter()

    def state_summary(self) -> dict[str, Any]:
        return {
            "campaigns": len(self.campaigns),
            "accepted": sum(self.accepted.values()),
        }

    def recipients(self) -> dict[str, int]:
        with self._lock:
            return dict(self.accepted)

    def redact_path(self, path: str) -> str:
        """Hide the API key that Voice GET/DELETE paths carry."""
        return _KEY_IN_PATH.sub(lambda m: f"/{m.group(1)}/***", path)

    def error_body(self, exc: ApiError) -> dict[str, Any]:
        code = exc.code
        if isinstance(code, int):
            code = INT_CODES.get(code, str(code))
        return {"success": False, "error": code}

    def rate_limited(self, limit: int, headers: dict[str, str]) -> ApiError:
        return ApiError("TOO_MANY_REQUESTS", status=429, headers=headers)

    # --- endpoints -----------------------------------------------------------------
    def me(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        self.rate_limit(call, "voice.me", account.api_key)
        seconds = int(account.credit / Decimal("0.002"))
        clock = {"h": seconds // 3600, "m": seconds // 60 % 60, "s": seconds % 60}
        return {
            "success": True,
            "credit": _amount(account.credit),
            "currency": "€",
            "details": {
                "tts": clock,
                "tts_fixe": dict(clock),
                "voice": {"message": int(account.credit / VMS_PRICE)},
            },
        }

    def audio_list(self, call: Call) -> dict[str, Any]:
        self.account(call)
        datas = [
            {
                "name": audio["name"],
                "token": token,
                "size": audio["size"],
                "duration": audio["duration"],
                "created_at": {
                    "date": datetime.fromtimestamp(audio["created"], tz=PARIS).strftime(
                        "%Y-%m-%d %H:%M:%S.000000"
                    ),
                    "timezone_type": 3,
                    "timezone": "Europe/Paris",
                },
            }
            for token, audio in self.audios.items()
        ]
        return {"nb_datas": len(datas), "datas": datas}

    def audio_rename(self, call: Call) -> dict[str, Any]:
        self.account(call)
        audio = self._audio(call.params.get("tokenAudio"))
        filename = str(call.params.get("filename") or "").strip()
        if not 3 <= len(filename) <= 50:
            raise ApiError("FILENAME_INVALID")
        audio["name"] = filename
        token = str(call.params["tokenAudio"])
        return {"success": True, "filename": filename, "tokenAudio": token}

    def _audio(self, token: Any) -> dict[str, Any]:
        if blank(token):
            raise ApiError("TOKEN_AUDIO_REQUIRED")
        audio = self.audios.get(str(token))
        if audio is None:
            raise ApiError("AUDIO_FILE_NOT_FOUND", status=404)
        return audio

    def campaign_send(self, call: Call) -> dict[str, Any]:
        """Voicemail drop: audio file, notification e-mail, numbers (≤500)."""
        account = self.account(call)
        self.rate_limit(call, "voice.campaign_send", account.api_key)
        params = call.params
        audio = self._audio(params.get("tokenAudio"))
        email = params.get("emailForNotification")
        if blank(email) or not EMAIL_RE.match(str(email)):
            raise ApiError("EMAIL_FOR_NOTIFICATION_REQUIRED")
        phones = self._phones(params)
        sender = params.get("sender")
        if not blank(sender) and normalize_phone(sender) not in VALIDATED_SENDERS:
            raise ApiError("SENDER_NOT_AUTHORIZED")
        batch = self._accept(call, account, phones, VMS_PRICE)
        return {
            "success": True,
            "campaignId": batch.id,
            "cost": float(batch.cost),
            "currency": "EUR",
            "nbSms": len(phones),
            "audioFile": {"filename": f"{audio['name']}.wav", "size": audio["size"]},
            "detail": _detail(phones, VMS_PRICE),
        }

    def tts_send(self, call: Call) -> dict[str, Any]:
        """Voice SMS: `text` read aloud in `lang`, or an audio file (`tokenAudio`)."""
        account = self.account(call)
        self.rate_limit(call, "voice.tts_send", account.api_key)
        params = call.params
        if not blank(params.get("tokenAudio")):
            self._audio(params["tokenAudio"])
        elif blank(params.get("text")):
            raise ApiError("TEXT_REQUIRED")
        if blank(params.get("lang")):
            raise ApiError("LANG_REQUIRED")
        phones = self._phones(params)
        duration = _duration(str(params.get("text") or ""), params.get("speechRate"))
        batch = self._accept(call, account, phones, TTS_PRICE)
        detail = _detail(phones, TTS_PRICE)
        for row in detail.values():
            row.update({"country_code": "fr", "duration": duration})
        return {
            "success": True,
            "campaignId": batch.id,
            "cost": float(batch.cost),
            "currency": "EUR",
            "nbSms": len(phones),
            "lang": str(params["lang"]),
            "duration": duration,
            "detail": detail,
        }

    def _phones(self, params: dict[str, Any]) -> list[str]:
        """Numbers, notifyUrl, sender and scheduledDate checks shared by both sends."""
        raw = params.get("phoneNumbers")
        numbers = raw if isinstance(raw, list) else str(raw or "").split(",")
        numbers = [str(n).strip() for n in numbers if str(n).strip()]
        if not numbers:
            raise ApiError("PHONE_NUMBER_REQUIRED")
        if len(numbers) > MAX_NUMBERS:
            raise ApiError("PHONE_NUMBER_SIZE_ERROR")
        url = params.get("notifyUrl")
        if not blank(url) and not str(url).startswith(("http://", "https://")):
            raise ApiError("NOTIFY_URL_INVALID")
        if (
            not blank(params.get("sender"))
            and normalize_phone(params["sender"]) is None
        ):
            raise ApiError("SENDER_INVALID")
        phones = [normalize_phone(n) for n in numbers]
        if None in phones:
            raise ApiError("DESTINATION_INVALID")
        return list(dict.fromkeys(p for p in phones if p))

    def _accept(
        self, call: Call, account: Account, phones: list[str], price: Decimal
    ) -> Batch:
        send_at = _schedule(call.params.get("scheduledDate"), call.now)
        cost = price * len(phones)
        if account.credit < cost:
            raise ApiError("NOT_CREDIT")
        campaign_id = secrets.token_urlsafe(8)[:10]
        deliveries = {
            p: Delivery(p, f"{campaign_id}-{i}", price, p.endswith("99"))
            for i, p in enumerate(phones)
        }
        batch = Batch(
            campaign_id, account.api_key, call.now, send_at or call.now,
            send_at is not None, cost, deliveries,
        )  # fmt: skip
        account.credit -= cost
        self.accepted.update(phones)
        self.campaigns[campaign_id] = batch
        return batch

    def campaign_cancel(self, call: Call) -> dict[str, Any]:
        account = self.account(call)
        batch = self.campaigns.get(str(call.params.get("campaignId")))
        if batch is None or batch.account_key != account.api_key:
            raise ApiError("CAMPAIGN_NOT_FOUND", status=404)
        refusal = cancel_refusal(batch, call.now)
        if refusal is not None:
            raise ApiError(CANCEL_REFUSALS[refusal])
        batch.cancelled_at = call.now
        account.credit += batch.cost
        return {
            "success": True,
            "campaignId": batch.id,
            "assignedCredit": _amount(batch.cost),
            "currency": "EUR",
        }


def _schedule(raw: Any, now: float) -> float | None:
    """`scheduledDate` as `YYYY-mm-dd H:m:00` (Europe/Paris), in the future."""
    if blank(raw):
        return None
    match = SCHEDULE_RE.match(str(raw).strip())
    try:
        if match is None:
            raise ValueError(raw)
        year, month, day, hour, minute = (int(g) for g in match.groups())
        when = datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()
    except ValueError:
        raise ApiError("SCHEDULED_DATE_INVALID") from None
    if when <= now:
        raise ApiError("SCHEDULED_DATE_INVALID")
    return when


def _detail(phones: list[str], price: Decimal) -> dict[str, dict[str, Any]]:
    """Counts and cost per country dial code (`"33"`), as the send answers show."""
    counts = Counter(_dial_code(p) for p in phones)
    return {
        code: {
            "nbSms": count,
            "cost_unity": float(price),
            "cost": float(price * count),
        }
        for code, count in counts.items()
    }


def _dial_code(e164: str) -> str:
    if e164.startswith("+33"):
        return "33"
    return str(phonenumbers.parse(e164).country_code)


def _duration(text: str, rate: Any) -> float:
    """Spoken seconds: ~2.5 words a second plus 0.5 s a comma, over `speechRate`."""
    try:
        speed = min(max(float(rate), 0.5), 2.0) if not blank(rate) else 1.0
    except (TypeError, ValueError):
        speed = 1.0
    seconds = len(text.split()) / 2.5 + text.count(",") * 0.5
    return round(max(seconds, 1.0) / speed, 1)
