"""One adapter per campaign channel over the provider clients.

The dispatch engine speaks only this small vocabulary (send a batch, look a batch up,
read statuses, cancel), so its exactly-once logic is written once for all channels.
Each adapter says honestly whether it can find a batch whose answer was lost:
SMS Partner can (statuses by tag), Mail and Voice Partner cannot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Protocol, TypedDict

from partnerhub.providers import errors
from partnerhub.providers.factory import (
    get_mailpartner_client,
    get_smspartner_client,
    get_voicepartner_client,
)
from partnerhub.providers.mailpartner import MailAttachment, MailRecipient
from partnerhub.providers.smspartner import SmsMessage

from . import tags
from .attachments import mail_attachments
from .merge_fields import render
from .models import SmsEncoding, SmsRange, VoiceMode

if TYPE_CHECKING:
    from partnerhub.providers.voicepartner import VoiceSendResult

    from .models import Campaign


_MARKUP = re.compile(r"[<>&\"']")  # characters HTML would read as markup


class _MailContent(TypedDict):
    """What `MailPartnerClient.send` takes from the campaign."""

    subject: str
    html: str
    text: str | None
    sender_email: str | None
    sender_name: str | None
    variables: dict[str, str] | None
    reply_to: MailRecipient | None
    attachments: list[MailAttachment]


class _SmsOptions(TypedDict):
    """What `SmsPartnerClient.send` / `bulk_send` take from the campaign."""

    gamme: int
    is_unicode: bool
    is_stop_sms: bool


Merge = Mapping[str, str]


@dataclass(frozen=True)
class Target:
    address: str
    name: str = ""
    # A personalised campaign's merge values for this target (`merge_fields`).
    merge: Merge | None = None


@dataclass(frozen=True)
class BatchAccepted:
    message_id: str
    cost: Decimal | None
    refused: dict[str, str] = field(default_factory=dict)  # address -> reason


@dataclass(frozen=True)
class StatusUpdate:
    address: str
    status: str  # a DeliveryStatus value
    raw: str
    date: datetime | None = None
    cost: Decimal | None = None
    message_id: str = ""
    stopped: bool = False  # stopMail / stopSMS: unsubscribed at the provider


class ChannelAdapter(Protocol):
    can_lookup_lost_batches: bool

    def send_batch(
        self, *, targets: Sequence[Target], tag: str, scheduled_at: datetime | None
    ) -> BatchAccepted: ...

    def lookup_batch(self, *, tag: str) -> list[StatusUpdate] | None:
        """Statuses of the batch sent with `tag`; [] if the provider never got it."""
        ...

    def statuses(self, *, message_id: str) -> list[StatusUpdate]: ...

    def cancel(self, *, message_id: str) -> None: ...

    def test_send(self, *, address: str, merge: Merge | None = None) -> str: ...


class EmailAdapter:
    can_lookup_lost_batches = False

    def __init__(self, campaign: Campaign, *, interactive: bool = False) -> None:
        self.campaign = campaign
        self.client = get_mailpartner_client(campaign.account, interactive=interactive)
        self._attachments: list[MailAttachment] | None = None

    def send_batch(
        self, *, targets: Sequence[Target], tag: str, scheduled_at: datetime | None
    ) -> BatchAccepted:
        result = self.client.send(
            recipients=[
                MailRecipient(email=t.address, name=t.name or None) for t in targets
            ],
            tag=tags.mail_tag(self.campaign, tag),
            scheduled_at=scheduled_at,
            **self._content(targets[0].merge if targets else None),
        )
        return BatchAccepted(message_id=result.message_id, cost=result.cost)

    def _content(self, merge: Merge | None = None) -> _MailContent:
        """Merge values travel as `variables` (one set per request, lower-case
        names: `firstname` fills `#FIRSTNAME#`); the subject is filled here, as
        the provider documents its placeholders for the body only.

        The provider pastes `variables` into the HTML as they are (nothing says it
        escapes them), so a value carrying markup (`<`, `&`…, from an imported
        file) would become markup in the email. Such a group's bodies are filled
        here instead, the HTML with the value escaped, and no `variables` sent.
        """
        c = self.campaign
        html_body, text, variables = c.html, c.text or None, None
        if merge and any(_MARKUP.search(value) for value in merge.values()):
            escaped = {key: escape(value) for key, value in merge.items()}
            html_body = render(c.html, escaped)
            text = render(c.text, merge) or None
        elif merge:
            variables = {key.lower(): value for key, value in merge.items()}
        return {
            "subject": render(c.subject, merge or {}),
            "html": html_body,
            "text": text,
            "sender_email": c.sender or None,
            "sender_name": c.sender_name or None,
            "variables": variables,
            "reply_to": MailRecipient(c.reply_to, c.reply_to_name or None)
            if c.reply_to
            else None,
            "attachments": self._files(),
        }

    def _files(self) -> list[MailAttachment]:
        """Read from the database once per adapter, i.e. once per dispatch run."""
        if self._attachments is None:
            self._attachments = mail_attachments(self.campaign)
        return self._attachments

    def lookup_batch(self, *, tag: str) -> list[StatusUpdate] | None:
        return None  # Mail Partner has no lookup by tag (providers.md §4)

    def statuses(self, *, message_id: str) -> list[StatusUpdate]:
        return [
            StatusUpdate(
                s.email.lower(),
                s.status,
                s.raw_status,
                s.date,
                s.cost,
                stopped=s.stop_mail,
            )
            for s in self.client.bulk_status(message_id=message_id)
        ]

    def cancel(self, *, message_id: str) -> None:
        self.client.cancel(message_id=message_id)

    def test_send(self, *, address: str, merge: Merge | None = None) -> str:
        content = self._content(merge)
        content["subject"] = f"[TEST] {content['subject']}"
        result = self.client.send(
            recipients=[MailRecipient(email=address)], tag="test", **content
        )
        return result.message_id


class SmsAdapter:
    can_lookup_lost_batches = True

    def __init__(self, campaign: Campaign, *, interactive: bool = False) -> None:
        self.campaign = campaign
        self.client = get_smspartner_client(campaign.account, interactive=interactive)

    def send_batch(
        self, *, targets: Sequence[Target], tag: str, scheduled_at: datetime | None
    ) -> BatchAccepted:
        if targets and targets[0].merge is not None:
            return self._send_own_texts(targets, tag, scheduled_at)
        result = self.client.send(
            phone_numbers=[t.address for t in targets],
            message=self.campaign.text,
            sender=self.campaign.sender or None,
            tag=tag,
            scheduled_at=scheduled_at,
            **self.options(),
        )
        return BatchAccepted(message_id=result.message_id, cost=result.cost)

    def _send_own_texts(
        self, targets: Sequence[Target], tag: str, scheduled_at: datetime | None
    ) -> BatchAccepted:
        """A personalised SMS: each number its own text, in one `/bulk-send`."""
        text = self.campaign.text
        result = self.client.bulk_send(
            messages=[
                SmsMessage(t.address, render(text, t.merge or {})) for t in targets
            ],
            sender=self.campaign.sender or None,
            tag=tag,
            scheduled_at=scheduled_at,
            **self.options(),
        )
        return BatchAccepted(message_id=result.message_id, cost=result.cost)

    def options(self) -> _SmsOptions:
        """Range, encoding and the provider's STOP (providers.md §2.3).

        `isStopSms` on Premium only: on Low Cost "NoPub=STOP" is in the text.
        """
        c = self.campaign
        low_cost = c.sms_range == SmsRange.LOW_COST
        return {
            "gamme": int(c.sms_range),
            "is_unicode": c.sms_encoding == SmsEncoding.UNICODE,
            "is_stop_sms": c.sms_stop and not low_cost,
        }

    def lookup_batch(self, *, tag: str) -> list[StatusUpdate] | None:
        updates: list[StatusUpdate] = []
        page = 1
        while True:
            try:
                found = self.client.bulk_status_by_tag(tag=tag, page=page)
            except errors.NotFound:
                return updates
            updates += [_sms_update(s) for s in found.items]
            if not found.items or len(updates) >= found.total:
                return updates
            page += 1

    def statuses(self, *, message_id: str) -> list[StatusUpdate]:
        return [_sms_update(s) for s in self.client.bulk_status(message_id=message_id)]

    def cancel(self, *, message_id: str) -> None:
        self.client.cancel(message_id=message_id)

    def test_send(self, *, address: str, merge: Merge | None = None) -> str:
        sender = self.campaign.sender or None
        result = self.client.send(
            phone_numbers=[address],
            message=render(self.campaign.text, merge or {}),
            sender=sender,
            tag="test",
            **self.options(),
        )
        return result.message_id


def _sms_update(s: object) -> StatusUpdate:
    return StatusUpdate(
        address=s.phone_number,  # type: ignore[attr-defined]
        status=s.status,  # type: ignore[attr-defined]
        raw=s.raw_status,  # type: ignore[attr-defined]
        date=s.date,  # type: ignore[attr-defined]
        cost=s.cost,  # type: ignore[attr-defined]
        message_id=s.message_id,  # type: ignore[attr-defined]
        stopped=bool(s.stop_sms),  # type: ignore[attr-defined]
    )


class VoiceAdapter:
    can_lookup_lost_batches = False

    def __init__(self, campaign: Campaign, *, interactive: bool = False) -> None:
        self.campaign = campaign
        self.client = get_voicepartner_client(campaign.account, interactive=interactive)

    def send_batch(
        self, *, targets: Sequence[Target], tag: str, scheduled_at: datetime | None
    ) -> BatchAccepted:
        merge = targets[0].merge if targets else None
        result = self._send([t.address for t in targets], scheduled_at, merge)
        return BatchAccepted(message_id=result.campaign_id, cost=result.cost)

    def _send(
        self,
        numbers: list[str],
        scheduled_at: datetime | None,
        merge: Merge | None = None,
    ) -> VoiceSendResult:
        """One text for the request: a personalised batch shares its values."""
        c = self.campaign
        if c.voice_mode == VoiceMode.VOICEMAIL:
            return self.client.campaign_send(
                phone_numbers=numbers,
                token_audio=c.voice_audio_token,
                email_for_notification=c.notification_email,
                scheduled_at=scheduled_at,
            )
        return self.client.tts_send(
            phone_numbers=numbers,
            text=render(c.text, merge or {}) or None,
            token_audio=c.voice_audio_token or None,
            lang=c.voice_lang,
            scheduled_at=scheduled_at,
        )

    def lookup_batch(self, *, tag: str) -> list[StatusUpdate] | None:
        return None  # Voice Partner has no status or lookup endpoint (providers.md §3)

    def statuses(self, *, message_id: str) -> list[StatusUpdate]:
        return []  # statuses only arrive by notifyUrl, which is not documented

    def cancel(self, *, message_id: str) -> None:
        self.client.campaign_cancel(campaign_id=message_id)

    def test_send(self, *, address: str, merge: Merge | None = None) -> str:
        return self._send([address], None, merge).campaign_id


ADAPTERS: dict[str, type[EmailAdapter | SmsAdapter | VoiceAdapter]] = {
    "email": EmailAdapter,
    "sms": SmsAdapter,
    "voice": VoiceAdapter,
}


def adapter_for(campaign: Campaign, *, interactive: bool = False) -> ChannelAdapter:
    """The seam tests may replace to fake a provider.

    `interactive` (a test send, while a person waits): short timeout, no retry.
    """
    return ADAPTERS[campaign.channel](campaign, interactive=interactive)
