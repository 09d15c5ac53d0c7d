"""Build provider clients from Django settings or from a provider-account row.

This is the one seam services go through to get a client, and the one tests
replace. An `account` is anything with an `api_key` attribute (and optionally
`api_url`): a sub-account row, or a test double; without one, the main account's
key and URL come from settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from . import http
from .mailpartner import MailPartnerClient
from .ndamedia import NdaMediaClient
from .smspartner import SmsPartnerClient
from .voicepartner import VoicePartnerClient

if TYPE_CHECKING:
    from .pecmassiva import PecMassivaClient


def _credentials(account: Any, url_setting: str, key_setting: str) -> tuple[str, str]:
    """(base URL, key): the account's when given, else the settings'."""
    default_url = getattr(settings, url_setting)
    if account is None:
        return default_url, getattr(settings, key_setting)
    api_key = getattr(account, "api_key", None)
    if not api_key:
        raise ValueError("the provider account has no API key")
    return getattr(account, "api_url", None) or default_url, api_key


def _timeout(interactive: bool = False) -> tuple[float, float]:
    connect, read = settings.PROVIDER_TIMEOUT
    if interactive:
        read = min(float(read), interactive_read_timeout())
    return (float(connect), float(read))


def interactive_read_timeout() -> float:
    """How long a call made while a person waits on a page may take (seconds)."""
    return float(getattr(settings, "PROVIDER_INTERACTIVE_TIMEOUT", 8.0))


_interactive_session: requests.Session | None = None


def _session(interactive: bool) -> requests.Session | None:
    """Interactive calls get a session that never retries: one short try only."""
    global _interactive_session
    if not interactive:
        return None  # the shared session, with its read retries
    if _interactive_session is None:
        _interactive_session = http.build_session(read_retries=0)
    return _interactive_session


def _build(
    cls: type[NdaMediaClient],
    account: Any,
    url_setting: str,
    key_setting: str,
    interactive: bool = False,
) -> Any:
    base_url, api_key = _credentials(account, url_setting, key_setting)
    return cls(
        base_url=base_url,
        api_key=api_key,
        timeout=_timeout(interactive),
        session=_session(interactive),
    )


def get_mailpartner_client(
    account: Any = None, *, interactive: bool = False
) -> MailPartnerClient:
    """A Mail Partner client for `account`, or for the main account of settings.

    `interactive`: for a call a person waits for (a test send): a short read
    timeout and no retry, so the page answers in seconds whatever the provider does.
    """
    return _build(
        MailPartnerClient,
        account,
        "MAILPARTNER_API_URL",
        "MAILPARTNER_API_KEY",
        interactive,
    )


def get_smspartner_client(
    account: Any = None, *, interactive: bool = False
) -> SmsPartnerClient:
    """An SMS Partner client for `account`, or for the main account of settings."""
    return _build(
        SmsPartnerClient,
        account,
        "SMSPARTNER_API_URL",
        "SMSPARTNER_API_KEY",
        interactive,
    )


def get_voicepartner_client(
    account: Any = None, *, interactive: bool = False
) -> VoicePartnerClient:
    """A Voice Partner client for `account`, or for the main account of settings."""
    return _build(
        VoicePartnerClient,
        account,
        "VOICEPARTNER_API_URL",
        "VOICEPARTNER_API_KEY",
        interactive,
    )


def get_pecmassiva_client(
    *, username: str, password: str, account: Any = None
) -> PecMassivaClient:
    """A PEC Massiva client for one mailbox; the token is the account's `api_key`."""
    from .pecmassiva import PecMassivaClient  # lazy: optional module

    base_url, token = _credentials(account, "PECMASSIVA_API_URL", "PECMASSIVA_TOKEN")
    return PecMassivaClient(
        base_url=base_url,
        token=token,
        username=username,
        password=password,
        timeout=_timeout(),
    )
