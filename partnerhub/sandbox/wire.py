"""The seam between the sandbox server and each provider emulator.

The server (routing, fault injection, request log, control endpoints) turns an HTTP
request into a `SandboxRequest` and hands it to the emulator registered for the path
prefix; the emulator answers a `SandboxResponse`. Emulators know nothing of sockets,
and read time only from the shared `Clock`, so tests can move time forward.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol


class Clock:
    """Wall-clock time plus an offset that the control endpoint can advance."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Unix seconds, shifted by every `advance` so far."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, timestamp: float) -> None:
        """Jump to `timestamp` (then run on from there): rules that depend on the
        hour or the day, such as quiet hours, are tested at a chosen time."""
        with self._lock:
            self._offset = timestamp - time.time()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


@dataclass(frozen=True)
class SandboxRequest:
    """One incoming call, with the provider prefix already stripped from `path`."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""

    def json(self) -> Any:
        """The decoded JSON body; raises `ValueError` when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class SandboxResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, **headers: str) -> SandboxResponse:
        text = json.dumps(data, ensure_ascii=False)
        return cls(status, text.encode("utf-8"), "application/json", dict(headers))


class Emulator(Protocol):
    """What the server needs from a provider emulator."""

    @property
    def prefix(self) -> str: ...  # e.g. "/pecmassiva" (a class attribute is fine)

    def handle(self, request: SandboxRequest) -> SandboxResponse: ...

    def reset(self) -> None: ...

    def summary(self) -> dict[str, Any]:
        """Small JSON-able state for the control endpoint (accounts, counts)."""
        ...
