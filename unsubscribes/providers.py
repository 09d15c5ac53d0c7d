"""The provider side of each channel's suppression list, behind one small interface.

Mail Partner's unsubscribe list and SMS Partner's STOP list differ only in names;
the sync speaks to both through `ProviderList`, with addresses normalised the
same way as ours so the two sides compare as equal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from partnerhub.providers.factory import get_mailpartner_client, get_smspartner_client
from partnerhub.rules import normalize_email, normalize_phone

from .models import Channel


@dataclass(frozen=True)
class RemoteEntry:
    id: str
    address: str


class ProviderList(Protocol):
    def entries(self) -> dict[str, RemoteEntry]: ...

    def add(self, address: str) -> str: ...

    def delete(self, entry_id: str) -> None: ...


def _index(pairs: list[tuple[int | None, str | None]]) -> dict[str, RemoteEntry]:
    """address -> entry; entries without an id or a usable address are ignored."""
    found: dict[str, RemoteEntry] = {}
    for entry_id, address in pairs:
        if entry_id is not None and address and address not in found:
            found[address] = RemoteEntry(str(entry_id), address)
    return found


class MailUnsubscribeList:
    """Mail Partner `/unsubscribe/list|add|delete` (of `account`, else the main's)."""

    def __init__(self, account: Any = None) -> None:
        self.client = get_mailpartner_client(account)

    def entries(self) -> dict[str, RemoteEntry]:
        listed = self.client.unsubscribe_list()
        return _index([(e.id, normalize_email(e.email or "")) for e in listed])

    def add(self, address: str) -> str:
        entry_id = self.client.unsubscribe_add(email=address)
        return "" if entry_id is None else str(entry_id)

    def delete(self, entry_id: str) -> None:
        self.client.unsubscribe_delete(entry_id=int(entry_id))


class SmsStopList:
    """SMS Partner `/stop-sms/list|add|delete` (of `account`, else the main's)."""

    def __init__(self, account: Any = None) -> None:
        self.client = get_smspartner_client(account)

    def entries(self) -> dict[str, RemoteEntry]:
        listed = self.client.stop_list()
        return _index([(e.id, normalize_phone(e.phone_number or "")) for e in listed])

    def add(self, address: str) -> str:
        entry_id = self.client.stop_add(phone_number=address)
        return "" if entry_id is None else str(entry_id)

    def delete(self, entry_id: str) -> None:
        self.client.stop_delete(entry_id=int(entry_id))


def provider_list(channel: str) -> ProviderList:
    """The provider list of `channel` (main account of settings)."""
    if channel == Channel.EMAIL:
        return MailUnsubscribeList()
    if channel == Channel.SMS:
        return SmsStopList()
    raise ValueError(f"no provider list for channel {channel!r}")


def subaccount_lists(channel: str) -> list[tuple[str, ProviderList]]:
    """(name, list) of every active sub-account with a key: each has its own list
    at the provider, where people who answered STOP to its sends are recorded."""
    from partnerhub.models import ProviderAccount

    provider = {"email": "mail", "sms": "sms"}[channel]
    accounts = ProviderAccount.objects.filter(
        provider=provider, is_active=True, parent__isnull=False
    ).exclude(encrypted_api_key="")
    cls = MailUnsubscribeList if channel == Channel.EMAIL else SmsStopList
    return [(account.name, cls(account)) for account in accounts]
