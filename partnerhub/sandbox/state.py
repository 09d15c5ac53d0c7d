"""Plain state shared by the sandbox emulators: configuration, accounts, sends, limits.

Nothing here knows HTTP. A send is a `Batch` of `Delivery` rows whose status is
*computed* from the shared clock (waiting until `send_at + settle_seconds`, then
delivered or not delivered by a fixed rule on the address), so statuses settle
without any background thread and tests move them on with `Clock.advance`.
`send_at` is when the provider lets the send go: the requested time, or the end
of the quiet hours a marketing send waits out (`quiet_hours.py`).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from .wire import Clock

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_SETTLE_SECONDS = 20.0
CANCEL_MIN_LEAD_SECONDS = 300  # "can't cancel less than 5 minutes before" (§1)
OFF_WORDS = frozenset({"0", "false", "no", "off"})

# name -> (requests allowed, window in seconds); documented provider limits (§1),
# all generous enough for the 100,000-recipient dispatch benchmark.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, float]] = {
    "mail.send": (2000, 60.0),
    "sms.lookup": (360, 60.0),
    "sms.cost_resume": (5, 60.0),
    "voice.me": (5, 60.0),
    "voice.campaign_send": (2000, 3600.0),
    "voice.tts_send": (2000, 3600.0),
}

# Delivery states, mapped to each provider's own words by its emulator.
WAITING = "waiting"
DELIVERED = "delivered"
FAILED = "failed"
STOPPED = "stopped"
CANCELLED = "cancelled"


@dataclass
class SandboxConfig:
    """Everything a sandbox run can be tuned with; defaults match settings.py."""

    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    # Marketing SMS and mail wait out 20:00-08:00, Sundays and holidays, as the
    # providers do unless support lifted the rule (`quiet_hours.py`).
    quiet_hours: bool = True
    rate_limits: dict[str, tuple[int, float]] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )
    faults: list[dict[str, Any]] = field(default_factory=list)
    fault_seed: int = 0
    log_size: int = 50_000
    log_body_bytes: int = 4096
    verbose: bool = False
    mail_api_key: str = "demo-mailpartner-key"
    sms_api_key: str = "demo-smspartner-key"
    voice_api_key: str = "demo-voicepartner-key"
    pec_token: str = "demo-pecmassiva-token"  # noqa: S105 - public demo value
    mail_credits: int = 1_000_000
    sms_balance: Decimal = Decimal("50000.000")
    voice_credit: Decimal = Decimal("5000")
    # Sub-accounts present from the start (the demo's): dicts with provider
    # ("mail"/"sms"), email, token, api_key, credit and optional type.
    subaccounts: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> SandboxConfig:
        """Config from `SANDBOX_SETTLE_SECONDS`, `SANDBOX_QUIET_HOURS` (`0` turns
        the rule off) and `SANDBOX_FAULTS` (JSON)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if env.get("SANDBOX_SETTLE_SECONDS"):
            values["settle_seconds"] = float(env["SANDBOX_SETTLE_SECONDS"])
        if env.get("SANDBOX_QUIET_HOURS"):
            off = env["SANDBOX_QUIET_HOURS"].strip().lower() in OFF_WORDS
            values["quiet_hours"] = not off
        if env.get("SANDBOX_FAULTS"):
            spec = json.loads(env["SANDBOX_FAULTS"])
            rules = spec.get("rules", []) if isinstance(spec, dict) else spec
            values["faults"] = list(rules)
            if isinstance(spec, dict):
                values["fault_seed"] = int(spec.get("seed", 0))
        values.update(overrides)
        return cls(**values)


@dataclass(slots=True)
class Account:
    """A main account or a sub-account; `credit` is € (SMS, Voice) or mails (Mail)."""

    api_key: str
    username: str
    credit: Decimal
    firstname: str = ""
    lastname: str = ""
    parent_key: str | None = None
    token: str = ""
    number: int = 0
    type: str = "main"
    created: float = 0.0
    quiet_hours: bool = True  # marketing sends wait out quiet hours (support: off)


@dataclass(slots=True)
class Delivery:
    address: str
    token: str
    cost: Decimal
    fails: bool
    stopped: bool = False
    text: str = ""  # what this recipient was sent (SMS text, email subject)


@dataclass
class Batch:
    """One accepted send (one provider message id) and its recipients."""

    id: int | str
    account_key: str
    created: float
    send_at: float
    scheduled: bool
    cost: Decimal
    deliveries: dict[str, Delivery]
    tag: str = ""
    sandbox: bool = False
    cancelled_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def received_texts(batches: Iterable[Batch]) -> dict[str, list[str]]:
    """Address -> what it was sent, send after send (`sandbox: 1` and skipped left
    out): the texts exactly-once tests compare with what each recipient expects."""
    found: dict[str, list[str]] = {}
    for batch in batches:
        if batch.sandbox:
            continue
        for address, delivery in batch.deliveries.items():
            if not delivery.stopped:
                found.setdefault(address, []).append(delivery.text)
    return found


def delivery_state(
    batch: Batch, delivery: Delivery, now: float, settle: float
) -> tuple[str, float]:
    """(state, unix time of that state) for one recipient at `now`."""
    if delivery.stopped:
        return STOPPED, batch.created
    if batch.cancelled_at is not None:
        return CANCELLED, batch.cancelled_at
    done_at = batch.send_at + settle
    if now < done_at:
        return WAITING, batch.created
    return (FAILED if delivery.fails else DELIVERED), done_at


def cancel_refusal(batch: Batch, now: float) -> str | None:
    """Why a cancellation is refused ("cancelled", "sent", "too_late"), or None."""
    if batch.cancelled_at is not None:
        return "cancelled"
    if not batch.scheduled or now >= batch.send_at:
        return "sent"
    if batch.send_at - now < CANCEL_MIN_LEAD_SECONDS:
        return "too_late"
    return None


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_at: float
    allowed: bool

    def headers(self) -> dict[str, str]:
        """The `x-ratelimit-*` headers; `reset` is a unix time in seconds."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(int(self.reset_at)),
        }


class RateLimiter:
    """Fixed windows per (limit name, caller), on the sandbox clock."""

    def __init__(self, clock: Clock, limits: Mapping[str, tuple[int, float]]) -> None:
        self._clock = clock
        self._limits = dict(limits)
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, name: str, who: str) -> RateState | None:
        """Count one request; None when `name` has no limit configured."""
        if name not in self._limits:
            return None
        limit, window = self._limits[name]
        now = self._clock.now()
        with self._lock:
            start, used = self._windows.get((name, who), (now, 0))
            if now - start >= window:
                start, used = now, 0
            allowed = used < limit
            used += 1 if allowed else 0
            self._windows[(name, who)] = (start, used)
        return RateState(limit, max(limit - used, 0), start + window, allowed)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


# --- small value helpers shared by the emulators ----------------------------
def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def truthy(value: Any) -> bool:
    """`sandbox: 1`, `"1"`, `true`: the flag forms clients send."""
    return str(value).strip().lower() in {"1", "true", "yes"}


def paris_text(timestamp: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` in Europe/Paris, the providers' list date format."""
    return datetime.fromtimestamp(timestamp, tz=PARIS).strftime("%Y-%m-%d %H:%M:%S")


def unix_text(timestamp: float) -> str:
    """Unix seconds as a string, as status endpoints send them."""
    return str(int(timestamp))


_FR_FAST = re.compile(r"^(?:\+33|0033|0)([1-79]\d{8})$")


def normalize_phone(raw: Any) -> str | None:
    """E.164 form of a phone number (default region FR), or None when invalid.

    Common French forms take a regex fast path: `phonenumbers` costs ~60 µs a
    number, too slow for 500-number sends to stay within a few milliseconds.
    """
    text = str(raw).strip().replace(" ", "").replace(".", "")
    fast = _FR_FAST.match(text)
    if fast:
        return "+33" + fast.group(1)
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
