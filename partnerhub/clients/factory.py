"""Build provider clients from Django settings or from a provider-account row.

This is the one seam services go through to get a client, and the one tests
replace. An `account` is anything with an `api_key` attribute (and optionally
`api_url`): a sub-account row, or a test double; without one, the main account's
key and URL come from settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

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


def _timeout() -> tuple[float, float]:
    connect, read = settings.PROVIDER_TIMEOUT
    return (float(connect), float(read))


def _build(
    cls: type[NdaMediaClient], account: Any, url_setting: str, key_setting: str
) -> Any:
    base_url, api_key = _credentials(account, url_setting, key_setting)
    return cls(base_url=base_url, api_key=api_key, timeout=_timeout())


def get_mailpartner_client(account: Any = None) -> MailPartnerClient:
    """A Mail Partner client for `account`, or for the main account of settings."""
    return _build(
        MailPartnerClient, account, "MAILPARTNER_API_URL", "MAILPARTNER_API_KEY"
    )


def get_smspartner_client(account: Any = None) -> SmsPartnerClient:
    """An SMS Partner client for `account`, or for the main account of settings."""
    return _build(SmsPartnerClient, account, "SMSPARTNER_API_URL", "SMSPARTNER_API_KEY")


def get_voicepartner_client(account: Any = None) -> VoicePartnerClient:
    """A Voice Partner client for `account`, or for the main account of settings."""
    return _build(
        VoicePartnerClient, account, "VOICEPARTNER_API_URL", "VOICEPARTNER_API_KEY"
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
