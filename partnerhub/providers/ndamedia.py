"""Shared base of the three NDA Media APIs: Mail Partner, SMS Partner, Voice Partner.

The three APIs share one wire convention (see providers.md §1): the key travels as
`apiKey` in the JSON body of a POST, in the query string of a GET, and in the URL
path of Voice GET/DELETE calls; answers carry `success` and usually `code`; errors
are numeric (SMS, Mail) or string (Voice) codes whose meaning depends on the
operation. This module turns all of that into typed results and typed errors, so
each provider module only declares paths, keys and its error table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import requests

from . import errors, http, transient, xmlenvelope
from .xmlenvelope import Keys

logger = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
MAX_RECIPIENTS = 500
KEY_PLACEHOLDER = "{apiKey}"
DELIVERY_STATUSES = (
    "pending",
    "accepted",
    "delivered",
    "not_delivered",
    "failed",
    "unknown",
)

ErrorClass = type[errors.ProviderAPIError]
# One table per provider: {"common": {code: class}, "<operation>": {code: class}}.
# Codes are reused with other meanings per operation (4 is "not found" on a cancel
# but "sender email required" on a mail send), hence the per-operation layer.
ErrorTable = Mapping[str, Mapping[int | str, ErrorClass]]

_HTTP_STATUS_ERRORS: dict[int, ErrorClass] = {
    400: errors.InvalidRequest,
    401: errors.InvalidApiKey,
    403: errors.AccessDenied,
    404: errors.NotFound,
    429: errors.RateLimited,
}


# Codes with one meaning across SMS and Mail Partner (providers.md §2.20, §4.1).
COMMON_ERRORS: dict[int | str, ErrorClass] = {
    1: errors.InvalidApiKey,  # key required
    10: errors.InvalidApiKey,
    11: errors.InsufficientCredits,
    20: errors.AccessDenied,  # account deactivated
    30: errors.AccessDenied,  # account blocked
    40: errors.AccessDenied,  # API access denied
    90: errors.InvalidRequest,  # malformed JSON
    96: errors.AccessDenied,  # IP not authorised
    429: errors.RateLimited,
}
CANCEL_ERRORS: dict[int | str, ErrorClass] = {
    3: errors.InvalidRequest,  # messageId required
    4: errors.NotFound,
    5: errors.AlreadyCancelled,
    6: errors.TooLateToCancel,
    7: errors.AlreadySent,
}


# --- value conversions: the providers' quirks end here ----------------------------
def to_decimal(value: Any) -> Decimal | None:
    """Money arrives as float, int or string ("10225.119"); keep it exact."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, int | float | str):
        return None
    return _decimal(value)


@lru_cache(maxsize=1024)
def _decimal(value: int | float | str) -> Decimal | None:
    """Remembered: a status list repeats the same few costs (500 per batch)."""
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None


def to_int(value: Any) -> int | None:
    """Counts and ids arrive as int or numeric string."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def to_bool(value: Any) -> bool:
    """Flags arrive as true/false, "0"/"1", 0/1 or "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def to_str(value: Any) -> str:
    """Ids arrive as int or string; store them as strings."""
    return "" if value is None else str(value).strip()


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from any provider date shape.

    Unix seconds (int or string), "YYYY-MM-DD HH:MM:SS" (platform time, Europe/Paris),
    ISO-8601 with offset, or the Voice `{"date": …, "timezone": …}` object.
    """
    if isinstance(value, Mapping):
        zone = ZoneInfo(str(value.get("timezone") or "Europe/Paris"))
        parsed = _parse_text_date(str(value.get("date") or ""), zone)
        return parsed
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        return None
    if value == "":
        return None
    return _parse_scalar_date(value)


@lru_cache(maxsize=4096)
def _parse_scalar_date(value: int | float | str) -> datetime | None:
    """Remembered: a status list repeats the same few dates (500 per batch)."""
    if isinstance(value, int | float) or str(value).strip().isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC)
    return _parse_text_date(str(value), PARIS)


def _parse_text_date(text: str, zone: ZoneInfo) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def paris_schedule(when: datetime) -> dict[str, Any]:
    """SMS/Mail scheduling fields: Paris date dd/mm/YYYY, hour, minute (5-min steps)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("scheduled_at must be timezone-aware")
    local = when.astimezone(PARIS)
    if local.minute % 5 or local.second or local.microsecond:
        raise ValueError("scheduled_at must fall on a multiple of 5 minutes")
    return {
        "scheduledDeliveryDate": local.strftime("%d/%m/%Y"),
        "time": local.hour,
        "minute": local.minute,
    }


def phone_list(phone_numbers: str | Sequence[str]) -> str:
    """The comma-separated `phoneNumbers` string, refusing more than 500 numbers."""
    numbers = (
        [p.strip() for p in phone_numbers.split(",")]
        if isinstance(phone_numbers, str)
        else [str(p).strip() for p in phone_numbers]
    )
    numbers = [n for n in numbers if n]
    if not numbers:
        raise ValueError("at least one phone number is required")
    if len(numbers) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} phone numbers per request")
    return ",".join(numbers)


def map_status(raw: Any, table: Mapping[str, str]) -> str:
    """A PartnerHub delivery status for a provider status, case-insensitively."""
    text = raw if type(raw) is str else to_str(raw)
    return table.get(text.strip().lower(), "unknown")


def compact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop optional parameters left at None so the wire carries only what was set."""
    return {key: value for key, value in data.items() if value is not None}


# --- the client base ---------------------------------------------------------------
class NdaMediaClient:
    """Transport, envelope and error handling common to the three NDA Media APIs."""

    provider: ClassVar[str] = "ndamedia"
    short_name: ClassVar[str] = ""  # "mail", "sms", "voice": see transient.ANSWERS
    error_table: ClassVar[ErrorTable] = {"common": {}}
    xml_error_keys: ClassVar[Keys] = xmlenvelope.ERROR_KEYS

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
        response_format: str = "json",
    ) -> None:
        if response_format not in ("json", "xml"):
            raise ValueError("response_format must be 'json' or 'xml'")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._secrets = (api_key, quote(api_key, safe=""))
        self.session = session if session is not None else http.shared_session()
        self.timeout = timeout
        self.response_format = response_format

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"api_key={http.REDACTED!r}, response_format={self.response_format!r})"
        )

    # -- requests -----------------------------------------------------------------
    def _get(
        self,
        path: str,
        *,
        keys: Keys,
        op: str = "",
        query: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._request("GET", path, keys=keys, op=op, query=dict(query or {}))

    def _post(
        self,
        path: str,
        *,
        body: Mapping[str, Any],
        keys: Keys,
        op: str = "",
        is_send: bool = False,
    ) -> dict[str, Any]:
        return self._request(
            "POST", path, keys=keys, op=op, body=dict(body), is_send=is_send
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        keys: Keys,
        op: str,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        is_send: bool = False,
    ) -> dict[str, Any]:
        """Place the key and `_format`, call, and turn the answer into data or an error.

        The key goes in the path when it holds `{apiKey}` (Voice), else in the JSON
        body when there is one, else in the query string.
        """
        query = dict(query or {})
        url = f"{self.base_url}/{path.lstrip('/')}"
        logged_url = url.replace(KEY_PLACEHOLDER, http.REDACTED)
        if KEY_PLACEHOLDER in url:
            url = url.replace(KEY_PLACEHOLDER, quote(self._api_key, safe=""))
        elif body is not None:
            body = {"apiKey": self._api_key, **body}
        else:
            query = {"apiKey": self._api_key, **query}
        if self.response_format == "xml":
            (body if body is not None else query)["_format"] = "xml"
        if query:
            logged_url += "?" + urlencode(query)
        logged_url = http.redact(logged_url, self._secrets)
        response = self._send(method, url, query, body, logged_url, is_send)
        logger.debug("%s %s -> HTTP %s", method, logged_url, response.status_code)
        return self._handle(response, keys=keys, op=op, is_send=is_send)

    def _send(
        self,
        method: str,
        url: str,
        query: dict[str, Any],
        body: dict[str, Any] | None,
        logged_url: str,
        is_send: bool,
    ) -> requests.Response:
        try:
            return self.session.request(
                method, url, params=query or None, json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            logger.debug("%s %s -> %s", method, logged_url, type(exc).__name__)
            raise http.transport_error(
                exc, provider=self.provider, is_send=is_send, secrets=self._secrets
            ) from exc

    # -- answers ------------------------------------------------------------------
    def _handle(
        self, response: requests.Response, *, keys: Keys, op: str, is_send: bool
    ) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            raise self._error(errors.RateLimited, {}, status, response)
        data = self._decode(response, keys)
        if data is None:
            raise self._unusable(response, is_send)
        failed = data.get("success") is False or status >= 400
        if not failed:
            return data
        if status >= 500 and data.get("success") is not False:
            raise self._unusable(response, is_send)
        # An error body, whatever the status: the provider answered and says what
        # happened. Its documented transient codes (500 "queueing problem") and any
        # 5xx that is no documented refusal mean it did nothing: `ProviderBusy`.
        code = self._error_code(data)
        cls = self._error_class(code, status, op)
        raise self._error(cls, data, status, response)

    def _decode(self, response: requests.Response, keys: Keys) -> dict[str, Any] | None:
        """The answer as a dict (JSON, or XML named with `keys`); None if unreadable."""
        content_type = response.headers.get("Content-Type", "").lower()
        as_xml = "xml" in content_type or (
            self.response_format == "xml" and "json" not in content_type
        )
        try:
            if as_xml:
                return xmlenvelope.parse(response.content, keys, self.xml_error_keys)
            data = response.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _unusable(
        self, response: requests.Response, is_send: bool
    ) -> errors.ProviderError:
        """No readable answer: 5xx is an outage, 2xx garbage after a send is ambiguous.

        A send answered 2xx, 500, 502 or 504 with an unreadable body may well have
        been accepted: reconcile, never re-send. Only a 503 (answered before the
        application ran) proves it was not.
        """
        status = response.status_code
        cls: type[errors.ProviderError] = errors.MalformedResponse
        if is_send and (status < 300 or (status >= 500 and status != 503)):
            cls = errors.UnknownOutcome  # see transient.ANSWERS: 500/502/504
        elif status >= 500:
            cls = errors.ProviderUnavailable
        elif status in _HTTP_STATUS_ERRORS:
            cls = _HTTP_STATUS_ERRORS[status]
        text = f"unreadable answer (HTTP {status})"
        return cls(text, provider=self.provider, status=status)

    def _error_code(self, data: Mapping[str, Any]) -> int | str | None:
        """`code` (int, or Voice's string), or Voice's `error` when it is a string."""
        code = data.get("code")
        if code is None and isinstance(data.get("error"), str):
            code = data["error"]
        if isinstance(code, str) and code.strip().lstrip("-").isdigit():
            return int(code)
        return code

    def _error_class(self, code: int | str | None, status: int, op: str) -> ErrorClass:
        table = self.error_table
        busy = transient.busy_codes(self.short_name)
        for layer in (table.get(op, {}), table.get("common", {}), busy):
            if code is not None and code in layer:
                return layer[code]
        if status >= 500:
            return errors.ProviderBusy
        return _HTTP_STATUS_ERRORS.get(status, errors.ProviderAPIError)

    def _error(
        self,
        cls: ErrorClass,
        data: Mapping[str, Any],
        status: int,
        response: requests.Response,
    ) -> errors.ProviderAPIError:
        """Build the typed error; the message is redacted, validation items kept."""
        details = _validation_items(data)
        message = data.get("message")
        if not isinstance(message, str) or not message:
            message = "; ".join(d["message"] for d in details if d.get("message"))
        code = self._error_code(data)
        message = http.redact(message or f"HTTP {status}", self._secrets)
        exc = cls(
            message, provider=self.provider, code=code, status=status, details=details
        )
        if isinstance(exc, errors.RateLimited):
            exc.retry_after = _retry_after(response)
        return exc


def _validation_items(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Validation errors from `errors`, `error` (GO SDK spelling) or an XML list."""
    raw = data.get("errors")
    if not isinstance(raw, list):
        raw = data.get("error")
    if not isinstance(raw, list):
        raw = data.get("message")
    if not isinstance(raw, list):
        return []
    items = []
    for item in raw:
        if isinstance(item, Mapping):
            items.append(
                {
                    "elementId": to_str(item.get("elementId")),
                    "message": to_str(item.get("message")),
                }
            )
        elif isinstance(item, list) and len(item) >= 2:
            items.append({"elementId": to_str(item[0]), "message": to_str(item[1])})
    return items


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CancelResult:
    """A scheduled send cancelled at the provider; `message` is the provider's text."""

    message_id: str
    message: str
