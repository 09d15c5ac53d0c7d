"""Fault rules and the request log of the sandbox server (split from `server.py`).

A rule matches on provider (`mail`, `sms`, `voice`, `pec`), path prefix (after
the provider prefix) and method, all optional; it fires with `probability`
(drawn from one RNG seeded by `seed`, so a run is reproducible) and expires after
`count` firings. The first live matching rule wins.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# kind -> whether the emulator processes the request (see server.py).
FAULT_KINDS: dict[str, bool] = {
    "http_500": False,
    "http_429": False,
    "http_500_html": False,
    "http_502": False,
    "http_503": False,
    "http_504": True,
    "timeout": False,
    "reset": False,
    "slow": True,
    "malformed": True,
    "lost_response": True,
}
MAX_DELAY = 600.0
SECRET_KEYS = frozenset({"apikey", "token", "password", "x-password", "authorization"})
_SECRET_TEXT = re.compile(r'(?i)("(?:apiKey|token|password)"\s*:\s*")[^"]*(")')
REDACTED = "***"
PROVIDERS = {
    "mailpartner": "mail",
    "smspartner": "sms",
    "voicepartner": "voice",
    "pecmassiva": "pec",
}


@dataclass
class FaultRule:
    fault: str
    provider: str | None = None
    path: str | None = None
    method: str | None = None
    probability: float = 1.0
    count: int | None = None
    delay: float | None = None
    fired: int = 0

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> FaultRule:
        """A rule from its JSON form; `ValueError` for unknown kinds or bad numbers."""
        if not isinstance(spec, dict) or spec.get("fault") not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {sorted(FAULT_KINDS)}: {spec!r}")
        provider = spec.get("provider")
        count = spec.get("count")
        delay = spec.get("delay")
        rule = cls(
            fault=spec["fault"],
            provider=PROVIDERS.get(provider, provider) if provider else None,
            path=spec.get("path") or None,
            method=str(spec["method"]).upper() if spec.get("method") else None,
            probability=float(spec.get("probability", 1.0)),
            count=None if count is None else int(count),
            delay=None if delay is None else min(float(delay), MAX_DELAY),
        )
        if not 0.0 <= rule.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        return rule

    @property
    def live(self) -> bool:
        return self.count is None or self.fired < self.count

    def matches(self, provider: str, method: str, path: str) -> bool:
        return (
            (self.provider is None or self.provider == provider)
            and (self.method is None or self.method == method)
            and (self.path is None or path.startswith(self.path))
        )

    def delay_or(self, default: float) -> float:
        return default if self.delay is None else self.delay


class FaultPlan:
    """The rules in force; thread-safe, switchable at run time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seed = 0
        self._rng = random.Random(0)  # noqa: S311 - reproducible, not security

    def configure(self, rules: list[dict[str, Any]], seed: int = 0) -> None:
        parsed = [FaultRule.parse(spec) for spec in rules]
        with self._lock:
            self._rules = parsed
            self._seed = seed
            self._rng = random.Random(seed)  # noqa: S311

    def clear(self) -> None:
        self.configure([], 0)

    def pick(self, provider: str, method: str, path: str) -> FaultRule | None:
        """The rule firing for this call (its count is used up), or None."""
        with self._lock:
            for rule in self._rules:
                if not rule.live or not rule.matches(provider, method, path):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            rules = [{**asdict(r), "live": r.live} for r in self._rules]
            return {"seed": self._seed, "rules": rules}


class RequestLog:
    """The last `size` calls; bodies capped at `body_bytes` and redacted on read."""

    def __init__(self, size: int = 50_000, body_bytes: int = 4096) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._body_bytes = body_bytes
        self._lock = threading.Lock()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self, *, body: bytes, query: dict[str, str], **fields: Any
    ) -> dict[str, Any]:
        """Record a call; the returned dict is updated with the status afterwards."""
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                **fields,
                "query": redact_value(query),
                "_body": body[: self._body_bytes],
                "_truncated": len(body) > self._body_bytes,
                "status": None,
                "processed": False,
            }
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(
        self, provider: str | None = None, path: str | None = None
    ) -> list[Any]:
        """Matching entries (path = prefix after the provider prefix), oldest first."""
        provider = PROVIDERS.get(provider or "", provider)
        with self._lock:
            chosen = [
                e
                for e in self._entries
                if (not provider or e["provider"] == provider)
                and (not path or str(e["path"]).startswith(path))
            ]
        return [_public(e) for e in chosen]


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in entry.items() if not k.startswith("_")}
    shown["body"] = _body_view(entry["_body"], entry["_truncated"])
    shown["body_truncated"] = entry["_truncated"]
    return shown


def _body_view(raw: bytes, truncated: bool) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if not truncated:
        try:
            return redact_value(json.loads(text))
        except ValueError:
            pass
    return _SECRET_TEXT.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)


def redact_value(value: Any) -> Any:
    """A copy with every secret-named key's value replaced, at any depth."""
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in SECRET_KEYS else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value
