"""The sandbox HTTP server: one port, four emulators, faults, request log, controls.

Requests under an emulator's prefix (`/mailpartner/v1`, `/smspartner/v1`,
`/voicepartner/v1`, `/pecmassiva`) go to that emulator; `/_sandbox/...` are the
control endpoints tests and benchmarks drive:

- `GET|POST|DELETE /_sandbox/faults`: read, replace (`{"rules": [...], "seed": 1}`)
  or clear the fault rules.
- `GET /_sandbox/requests?provider=&path=`: the request log, newest last, secrets
  redacted. Bounded to `config.log_size` entries (50,000 by default); bodies are
  kept up to `config.log_body_bytes` (4 KiB) each, longer ones shown truncated.
- `GET /_sandbox/recipients?provider=mail`: times each address was accepted for
  sending (processed sends only, `sandbox: 1` excluded) - exactly-once checks.
- `GET /_sandbox/messages?provider=sms|mail`: what each address was sent, send
  after send (SMS: the text; Mail: the subject after `variables`).
- `GET|POST /_sandbox/quiet-hours` `{"enabled": false, "provider": "sms",
  "apiKey": "..."}`: read, or switch the marketing quiet hours (on as
  `config.quiet_hours` says) of SMS and Mail Partner accounts: one account
  (`apiKey`, with its `provider`), or every account of `provider`, or of both.
- `POST /_sandbox/reset` (state, log, faults, clock, quiet hours as configured),
  `POST /_sandbox/clock` `{"advance": seconds}` or `{"at": unix time}`,
  `GET /_sandbox/state`.

Fault kinds and whether the emulator *processed* the request (exactly-once tests
depend on it): `http_500` no (the provider's own error body: Mail/SMS answer HTTP 500
`{"success":false,"code":500,"message":"Problème de mise en file d'attente"}`),
`http_429` no (the provider's rate-limit body, `Retry-After: 1`), `http_500_html`,
`http_502`, `http_503` no (a proxy's HTML page), `http_504` yes (then the proxy's
page), `timeout` no (waits `delay`, then
closes without answering), `reset` no (TCP RST before processing), `slow` yes
(answers after `delay`), `malformed` yes (body truncated and garbled),
`lost_response` yes (then TCP RST, no answer).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from partnerhub.providers.http import redact

from .faults import FAULT_KINDS, FaultPlan, FaultRule, RequestLog
from .registry import build_emulators
from .state import SandboxConfig
from .wire import Clock, Emulator, SandboxRequest, SandboxResponse

PROVIDER_ALIASES = {
    "mail": "mail",
    "mailpartner": "mail",
    "sms": "sms",
    "smspartner": "sms",
    "voice": "voice",
    "voicepartner": "voice",
    "pec": "pec",
    "pecmassiva": "pec",
}
CONTROL_PREFIX = "/_sandbox"
HTML_500 = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
# Proxy pages: (status, title). Which of them the application processed first is
# in FAULT_KINDS (a 504 is answered after the provider took the request).
GATEWAY_PAGES = {
    "http_500_html": (500, "Internal Server Error"),
    "http_502": (502, "Bad Gateway"),
    "http_503": (503, "Service Unavailable"),
    "http_504": (504, "Gateway Timeout"),
}


def provider_name(emulator: Emulator) -> str:
    """`mail`, `sms`, `voice` or `pec`: the short name used by filters and faults."""
    raw = getattr(emulator, "name", "") or emulator.prefix.strip("/").split("/")[0]
    return PROVIDER_ALIASES.get(raw, raw)


class SandboxServer:
    """Owns the emulators, the clock, the fault plan and the request log."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        emulators: Iterable[Emulator] | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.clock = Clock()
        found = (
            build_emulators(self.clock, self.config) if emulators is None else emulators
        )
        self.emulators = {provider_name(e): e for e in found}
        self.faults = FaultPlan()
        self.faults.configure(self.config.faults, self.config.fault_seed)
        self.log = RequestLog(self.config.log_size, self.config.log_body_bytes)
        self.stopping = threading.Event()
        self.httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server: the address is (str, int)
        return f"http://{host}:{port}"

    def provider_url(self, provider: str) -> str:
        return self.url + self.emulators[provider].prefix

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, name="sandbox", daemon=True
        )
        thread.start()
        self._thread = thread
        return thread

    def shutdown(self) -> None:
        """Stop serving; requests asleep in a `slow`/`timeout` fault wake up at once."""
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self.clock.reset()
        for emulator in self.emulators.values():
            emulator.reset()
        self.faults.clear()
        self.log.clear()

    # --- provider traffic -----------------------------------------------------------
    def route(self, path: str) -> tuple[str, Emulator, str] | None:
        for name, emulator in self.emulators.items():
            prefix = emulator.prefix
            if path == prefix or path.startswith(prefix + "/"):
                return name, emulator, path[len(prefix) :] or "/"
        return None

    def serve_provider(self, handler: SandboxHandler, request: SandboxRequest) -> None:
        """Apply the fault plan around the emulator call, and log what happened."""
        routed = self.route(request.path)
        if routed is None:
            body = {"success": False, "code": 404, "message": "Unknown sandbox path"}
            handler.reply(SandboxResponse.json(404, body))
            return
        provider, emulator, path = routed
        rule = self.faults.pick(provider, request.method, path)
        redact_path = getattr(emulator, "redact_path", None)
        shown = redact_path(path) if redact_path else path
        entry = self.log.add(
            time=self.clock.now(), method=request.method, provider=provider,
            path=shown, query=request.query, body=request.body,
            fault=rule.fault if rule else None,
        )  # fmt: skip
        inner = SandboxRequest(
            request.method, path, request.query, request.headers, request.body
        )
        status = self._serve_with_fault(handler, emulator, inner, rule, entry)
        entry["status"] = status
        if self.config.verbose:
            self._print(request.method, provider, shown, request.query, status, rule)

    def _serve_with_fault(
        self,
        handler: SandboxHandler,
        emulator: Emulator,
        request: SandboxRequest,
        rule: FaultRule | None,
        entry: dict[str, Any],
    ) -> int | None:
        """Answer one call; returns the HTTP status sent (None: no answer)."""
        kind = rule.fault if rule else None
        if kind == "reset":
            handler.reset_connection()
            return None
        if kind == "timeout":
            self.stopping.wait(rule.delay_or(30.0))  # type: ignore[union-attr]
            handler.drop_connection()
            return None
        if kind in ("http_500", "http_429"):
            return handler.reply(_fault_response(kind, emulator, request))
        if kind in GATEWAY_PAGES and not FAULT_KINDS[kind]:
            return handler.reply(_gateway_page(kind))
        response = self._call(emulator, request)
        entry["processed"] = True
        if kind == "lost_response":
            handler.reset_connection()
            return None
        if kind in GATEWAY_PAGES:
            return handler.reply(_gateway_page(kind))
        if kind == "slow":
            self.stopping.wait(rule.delay_or(2.0))  # type: ignore[union-attr]
        if kind == "malformed":
            response.body = response.body[: len(response.body) // 2] + b'\x00{"<<'
        return handler.reply(response)

    @staticmethod
    def _call(emulator: Emulator, request: SandboxRequest) -> SandboxResponse:
        try:
            return emulator.handle(request)
        except Exception as exc:  # an emulator bug must not kill the connection
            body = {"success": False, "code": 500, "message": f"sandbox error: {exc!r}"}
            return SandboxResponse.json(500, body)

    def _print(
        self,
        method: str,
        provider: str,
        path: str,
        query: dict[str, str],
        status: int | None,
        rule: FaultRule | None,
    ) -> None:
        """One console line per call; keys are redacted from path and query."""
        text = "&".join(f"{k}={v}" for k, v in query.items())
        line = redact(f"{method} {provider}{path}?{text}".rstrip("?"))
        fault = f" fault={rule.fault}" if rule else ""
        stamp = time.strftime("%H:%M:%S")
        sys.stderr.write(f"[{stamp}] {line} -> {status or 'no answer'}{fault}\n")

    # --- control endpoints ------------------------------------------------------------
    def serve_control(self, handler: SandboxHandler, request: SandboxRequest) -> None:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            status, data = self._control(action, request)
        except (ValueError, TypeError, KeyError) as exc:
            status, data = 400, {"success": False, "message": str(exc)}
        handler.reply(SandboxResponse.json(status, data))

    def _control(self, action: str, request: SandboxRequest) -> tuple[int, Any]:
        method, query = request.method, request.query
        if action == "faults":
            return self._control_faults(request)
        if action == "requests" and method == "GET":
            rows = self.log.entries(query.get("provider"), query.get("path"))
            return 200, {"count": len(rows), "requests": rows}
        if action == "recipients" and method == "GET":
            return 200, self._recipients(query.get("provider"))
        if action == "messages" and method == "GET":
            return 200, self._messages(query.get("provider"))
        if action == "reset" and method == "POST":
            self.reset()
            return 200, {"success": True}
        if action == "clock":
            if method == "POST":
                self._move_clock(_json(request))
            return 200, {"now": self.clock.now()}
        if action == "quiet-hours" and method in ("GET", "POST"):
            return 200, self._quiet_hours(_json(request) if method == "POST" else {})
        if action == "state" and method == "GET":
            return 200, self.state()
        return 404, {"success": False, "message": f"unknown control {method} {action}"}

    def _control_faults(self, request: SandboxRequest) -> tuple[int, Any]:
        if request.method == "POST":
            spec = _json(request)
            self.faults.configure(spec.get("rules", []), int(spec.get("seed", 0)))
        elif request.method == "DELETE":
            self.faults.clear()
        return 200, self.faults.describe()

    def _move_clock(self, spec: dict[str, Any]) -> None:
        if spec.get("at") is not None:
            self.clock.set(float(spec["at"]))
        self.clock.advance(float(spec.get("advance", 0)))

    def _quiet_hours(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Each account's quiet-hours setting by provider, after the switch asked."""
        raw = spec.get("provider") or None
        wanted = PROVIDER_ALIASES.get(raw, raw) if raw else None
        enabled, api_key = spec.get("enabled"), spec.get("apiKey")
        if enabled is not None and not isinstance(enabled, bool):
            raise ValueError("enabled must be true or false")
        if api_key is not None and wanted is None:
            raise ValueError("an apiKey needs its provider")
        found = {}
        for name, emulator in self.emulators.items():
            switch = getattr(emulator, "quiet_hours", None)
            if callable(switch) and wanted in (None, name):
                found[name] = switch(enabled=enabled, api_key=api_key)
        if not found:
            raise ValueError(f"no quiet hours at provider {wanted!r}")
        return found

    def _recipients(self, provider: str | None) -> dict[str, Any]:
        def counts(name: str) -> dict[str, int]:
            reader = getattr(self.emulators.get(name), "recipients", None)
            return reader() if callable(reader) else {}

        if provider is None:
            return {name: counts(name) for name in self.emulators}
        name = PROVIDER_ALIASES.get(provider, provider)
        found = counts(name)
        return {"provider": name, "recipients": found, "total": sum(found.values())}

    def _messages(self, provider: str | None) -> dict[str, Any]:
        name = PROVIDER_ALIASES.get(provider or "", provider or "")
        reader = getattr(self.emulators.get(name), "messages", None)
        if not callable(reader):
            raise ValueError(f"no messages kept for provider {provider!r}")
        return {"provider": name, "messages": reader()}

    def state(self) -> dict[str, Any]:
        return {
            "now": self.clock.now(),
            "settle_seconds": self.config.settle_seconds,
            "providers": {n: e.summary() for n, e in self.emulators.items()},
            "faults": self.faults.describe(),
            "logged_requests": len(self.log),
        }


def _json(request: SandboxRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    data = request.json()
    if not isinstance(data, dict):
        raise ValueError("a JSON object is expected")
    return data


def _fault_response(
    kind: str, emulator: Emulator, request: SandboxRequest
) -> SandboxResponse:
    """`http_500` / `http_429` in the provider's own error body, as it answers them."""
    answer = getattr(emulator, "fault_response", None)
    if callable(answer):
        response: SandboxResponse = answer(kind, request)
        return response
    if kind == "http_429":
        body = {"success": False, "code": 429, "message": "Too many requests"}
        return SandboxResponse.json(429, body, **{"Retry-After": "1"})
    return SandboxResponse(500, HTML_500, "text/html; charset=utf-8")


def _gateway_page(kind: str) -> SandboxResponse:
    """What a reverse proxy in front of the provider answers: an HTML error page."""
    status, title = GATEWAY_PAGES[kind]
    page = f"<html><body><h1>{status} {title}</h1></body></html>".encode()
    return SandboxResponse(status, page, "text/html; charset=utf-8")


class SandboxHandler(BaseHTTPRequestHandler):
    """Turns HTTP into `SandboxRequest`s; HTTP/1.1 so clients keep connections."""

    protocol_version = "HTTP/1.1"
    server_version = "PartnerSandbox/1.0"
    timeout = 120  # idle keep-alive connections do not hold a thread forever
    server: _HTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = SandboxRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        app = self.server.app
        if url.path == CONTROL_PREFIX or url.path.startswith(CONTROL_PREFIX + "/"):
            app.serve_control(self, request)
        else:
            app.serve_provider(self, request)

    def reply(self, response: SandboxResponse) -> int:
        self.send_response(response.status)
        content_type = response.content_type
        if "charset" not in content_type:
            content_type += "; charset=utf-8"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)
        return response.status

    def setup(self) -> None:
        """TCP_NODELAY: headers and body leave at once (no 40 ms delayed-ACK stall)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reset_connection(self) -> None:
        """Close with SO_LINGER 0: the client sees a TCP RST, not an answer."""
        self.close_connection = True
        linger = struct.pack("ii", 1, 0)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def drop_connection(self) -> None:
        """Close without answering (a plain FIN)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the server prints its own redacted lines when verbose."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxServer) -> None:
        self.app = app
        super().__init__(address, SandboxHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups are normal here (timeouts, faults); other errors print."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError | OSError):
            return
        super().handle_error(request, client_address)


def build_server(
    host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None
) -> SandboxServer:
    """A ready (bound, not yet serving) sandbox; `port=0` picks a free port."""
    return SandboxServer(host, port, config)
