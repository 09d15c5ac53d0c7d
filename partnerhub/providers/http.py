"""HTTP plumbing shared by the provider clients: session, timeouts, retries, redaction.

One `requests.Session` per process carries a default timeout and retries *idempotent
reads only*: a send is never replayed by the transport layer, because the provider
may have accepted it. Secrets travel in query strings and URL paths, so every URL or
text that can reach a log or an exception goes through `redact` first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import errors

logger = logging.getLogger("partnerhub.providers")

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 20.0)
REDACTED = "***"

_SECRET_PARAM = re.compile(
    r"(?i)((?:apiKey|api_key|token|tokenSubaccount|password|x-password)=)[^&\s\"']+"
)


class TimeoutHTTPAdapter(HTTPAdapter):
    """Fills a default timeout so no call can hang a worker forever."""

    def __init__(self, *args: Any, timeout: tuple[float, float], **kwargs: Any) -> None:
        self.timeout = timeout
        super().__init__(*args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def build_session(
    *, timeout: tuple[float, float] = DEFAULT_TIMEOUT, read_retries: int = 3
) -> requests.Session:
    """A session retrying GET/HEAD/DELETE-less reads on connection errors and 502-504.

    POST is never in `allowed_methods`: sends are not retried here. DELETE is left out
    too, since a repeated delete answers "not found" and would hide the first success.
    """
    retry = Retry(
        total=read_retries,
        connect=read_retries,
        read=read_retries,
        status=read_retries,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = TimeoutHTTPAdapter(timeout=timeout, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "PartnerHub/0.1"
    return session


_shared_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """The process-wide session (connection pooling across clients)."""
    global _shared_session
    if _shared_session is None:
        _shared_session = build_session()
    return _shared_session


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Hide secrets in a URL or message: known query parameters and any given value."""
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a body or header dict with secret-looking keys hidden, for logs."""
    hidden = {"apikey", "api_key", "password", "token", "authorization", "x-password"}
    return {k: (REDACTED if k.lower() in hidden else v) for k, v in data.items()}


def transport_error(
    exc: requests.RequestException,
    *,
    provider: str,
    is_send: bool,
    secrets: Iterable[str],
) -> errors.TransportError:
    """Map a `requests` failure to a typed error; a send that left is ambiguous."""
    text = redact(str(exc), secrets)
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return errors.HostUnreachable(text, provider=provider)
    if isinstance(exc, requests.ConnectionError) and _never_left(exc):
        return errors.HostUnreachable(text, provider=provider)
    if is_send:
        return errors.UnknownOutcome(
            "the request was sent but no answer came back: " + text, provider=provider
        )
    if isinstance(exc, requests.Timeout):
        return errors.ProviderTimeout(text, provider=provider)
    return errors.TransportError(text, provider=provider)


def _never_left(exc: requests.ConnectionError) -> bool:
    """True when the connection was refused or never opened (safe to retry a send)."""
    text = str(exc)
    markers = ("Connection refused", "Name or service not known", "NewConnectionError")
    return any(marker in text for marker in markers)
