"""Every Mail, SMS and Voice Partner client method against the live sandbox.

The `sandbox` fixture (tests/sandbox_fixture.py) serves the emulators on 127.0.0.1
and exposes their URLs, fault injection, the request log and a movable clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from partnerhub.providers import errors
from partnerhub.providers.http import build_session
from partnerhub.providers.mailpartner import MailPartnerClient, MailRecipient
from partnerhub.providers.smspartner import SmsMessage, SmsPartnerClient
from partnerhub.providers.voicepartner import VoicePartnerClient

pytestmark = pytest.mark.slow

MAIL_KEY = "demo-mailpartner-key"
SMS_KEY = "demo-smspartner-key"
VOICE_KEY = "demo-voicepartner-key"
PHONES = ["+33612345671", "+33612345672"]


def _later(hours: int = 24) -> datetime:
    """A schedule time on a 5-minute boundary, well past the 5-minute cancel limit."""
    when = datetime.now(tz=UTC) + timedelta(hours=hours)
    return when.replace(minute=when.minute - when.minute % 5, second=0, microsecond=0)


@pytest.fixture
def mail(sandbox: Any) -> MailPartnerClient:
    return MailPartnerClient(
        base_url=sandbox.mail_url, api_key=MAIL_KEY, session=build_session()
    )


@pytest.fixture
def sms(sandbox: Any) -> SmsPartnerClient:
    return SmsPartnerClient(
        base_url=sandbox.sms_url, api_key=SMS_KEY, session=build_session()
    )


@pytest.fixture
def voice(sandbox: Any) -> VoicePartnerClient:
    return VoicePartnerClient(
        base_url=sandbox.voice_url, api_key=VOICE_KEY, session=build_session()
    )


def _logged(sandbox: Any, provider: str, path: str) -> list[dict[str, Any]]:
    rows = sandbox.requests()
    rows = rows.get("requests", rows) if isinstance(rows, dict) else rows
    return [r for r in rows if r["provider"] == provider and r["path"] == path]


# --- Mail Partner ------------------------------------------------------------------
def test_mail_account_send_and_status(sandbox: Any, mail: MailPartnerClient) -> None:
    assert mail.me().credit_mail is not None
    recipients = [
        MailRecipient("ann@example.fr", "Ann"),
        MailRecipient("bob@example.fr"),
    ]
    sent = mail.send(
        recipients=recipients, subject="Hello", html="<p>Hi</p>", tag="live"
    )
    assert sent.message_id and sent.nb_mail == 2
    sandbox.advance(3600)
    statuses = mail.bulk_status(message_id=sent.message_id)
    assert sorted(s.email for s in statuses) == ["ann@example.fr", "bob@example.fr"]
    assert all(s.status != "unknown" for s in statuses), statuses


def test_mail_schedule_then_cancel_twice(mail: MailPartnerClient) -> None:
    sent = mail.send(
        recipients=[MailRecipient("ann@example.fr")],
        subject="s",
        html="h",
        scheduled_at=_later(),
    )
    assert sent.scheduled_at is not None
    assert mail.cancel(message_id=sent.message_id).message
    with pytest.raises(errors.AlreadyCancelled):
        mail.cancel(message_id=sent.message_id)
    with pytest.raises(errors.NotFound):
        mail.cancel(message_id="no-such-message")


def test_mail_unsubscribe_list_round_trip(mail: MailPartnerClient) -> None:
    entry_id = mail.unsubscribe_add(email="gone@example.fr")
    assert entry_id is not None
    with pytest.raises(errors.AlreadyExists):
        mail.unsubscribe_add(email="gone@example.fr")
    assert "gone@example.fr" in [e.email for e in mail.unsubscribe_list()]
    mail.unsubscribe_delete(entry_id=entry_id)
    assert "gone@example.fr" not in [e.email for e in mail.unsubscribe_list()]


def test_mail_subaccounts(mail: MailPartnerClient) -> None:
    _subaccount_round_trip(mail)


def _mail_pair(sandbox: Any) -> tuple[MailPartnerClient, MailPartnerClient]:
    xml = MailPartnerClient(
        base_url=sandbox.mail_url, api_key=MAIL_KEY, response_format="xml"
    )
    return xml, MailPartnerClient(base_url=sandbox.mail_url, api_key=MAIL_KEY)


def test_mail_xml_send_and_status_match_json(sandbox: Any) -> None:
    xml, json_client = _mail_pair(sandbox)
    sent = xml.send(recipients=[MailRecipient("x@example.fr")], subject="s", html="h")
    assert sent.nb_mail == 1
    statuses = xml.bulk_status(message_id=sent.message_id)
    assert statuses == json_client.bulk_status(message_id=sent.message_id)


def test_mail_xml_me_matches_json(sandbox: Any) -> None:
    xml, json_client = _mail_pair(sandbox)
    assert xml.me() == json_client.me()


def test_mail_wrong_key_is_invalid_api_key(sandbox: Any) -> None:
    client = MailPartnerClient(base_url=sandbox.mail_url, api_key="wrong-key-xyz")
    with pytest.raises(errors.InvalidApiKey):
        client.me()


def test_mail_lost_response_is_unknown_outcome_but_processed(
    sandbox: Any, mail: MailPartnerClient
) -> None:
    sandbox.set_faults(
        [{"fault": "lost_response", "provider": "mail", "path": "/send", "count": 1}]
    )
    with pytest.raises(errors.UnknownOutcome):
        mail.send(recipients=[MailRecipient("lost@example.fr")], subject="s", html="h")
    (row,) = _logged(sandbox, "mail", "/send")
    assert row["processed"] is True
    assert row["status"] is None
    assert MAIL_KEY not in str(row)


def test_mail_http_500_fault_is_busy_and_not_processed(
    sandbox: Any, mail: MailPartnerClient
) -> None:
    """The sandbox answers the provider's own 500 body; the client calls it busy."""
    sandbox.set_faults([{"fault": "http_500", "provider": "mail", "path": "/send"}])
    with pytest.raises(errors.ProviderBusy) as info:
        mail.send(recipients=[MailRecipient("a@example.fr")], subject="s", html="h")
    assert (info.value.status, info.value.code) == (500, 500)
    assert "file d'attente" in info.value.message
    assert [r["processed"] for r in _logged(sandbox, "mail", "/send")] == [False]


def test_mail_malformed_answer_after_send_is_unknown_outcome(
    sandbox: Any, mail: MailPartnerClient
) -> None:
    sandbox.set_faults([{"fault": "malformed", "provider": "mail", "path": "/send"}])
    with pytest.raises(errors.UnknownOutcome):
        mail.send(recipients=[MailRecipient("a@example.fr")], subject="s", html="h")


def test_mail_429_fault_is_rate_limited(sandbox: Any, mail: MailPartnerClient) -> None:
    sandbox.set_faults([{"fault": "http_429", "provider": "mail", "path": "/me"}])
    with pytest.raises(errors.RateLimited):
        mail.me()


# --- SMS Partner -------------------------------------------------------------------
def test_sms_send_and_statuses(sandbox: Any, sms: SmsPartnerClient) -> None:
    account = sms.me()
    assert account.balance is not None and account.balance > 0
    sent = sms.send(phone_numbers=PHONES, message="Hello", tag="livetag")
    assert sent.message_id and sent.nb_sms >= 2 and sent.cost is not None
    sandbox.advance(3600)
    statuses = sms.bulk_status(message_id=sent.message_id)
    assert sorted(s.phone_number for s in statuses) == PHONES
    one = sms.message_status(message_id=sent.message_id, phone_number=PHONES[0])
    assert one.phone_number.endswith(PHONES[0][-9:])
    assert one.status in ("delivered", "not_delivered", "pending", "failed")
    pairs = [(phone, sent.message_id) for phone in PHONES]
    assert len(sms.multi_status(pairs=pairs)) == 2
    by_tag = sms.bulk_status_by_tag(tag="livetag")
    assert by_tag.total >= 2 and len(by_tag.items) >= 2


def test_sms_bulk_send(sms: SmsPartnerClient) -> None:
    messages = [SmsMessage(PHONES[0], "one"), SmsMessage(PHONES[1], "two")]
    result = sms.bulk_send(messages=messages)
    assert result.message_id and len(result.items) == 2
    assert all(item.success for item in result.items)


def test_sms_schedule_then_cancel(sms: SmsPartnerClient) -> None:
    sent = sms.send(phone_numbers=PHONES[0], message="later", scheduled_at=_later())
    assert sms.cancel(message_id=sent.message_id).message
    with pytest.raises(errors.CancelRefused):
        sms.cancel(message_id=sent.message_id)


def test_sms_cost_resume(sms: SmsPartnerClient) -> None:
    sms.send(phone_numbers=PHONES[0], message="count me")
    periods = sms.cost_resume(interval="last_month")
    assert isinstance(periods, list)
    custom = sms.cost_resume(
        interval="custom", date_from=date(2020, 1, 1), date_to=date.today()
    )
    assert all(p.cost is None or p.cost >= 0 for p in custom)


def test_sms_stop_list_round_trip(sms: SmsPartnerClient) -> None:
    entry_id = sms.stop_add(phone_number="+33612345679")
    assert entry_id is not None
    assert any(e.id == entry_id for e in sms.stop_list())
    sms.stop_delete(entry_id=entry_id)
    assert all(e.id != entry_id for e in sms.stop_list())
    with pytest.raises(errors.NotFound):
        sms.stop_delete(entry_id=entry_id)


def test_sms_subaccounts_and_remove(sms: SmsPartnerClient) -> None:
    token = _subaccount_round_trip(sms)
    sms.subaccount_remove(token=token)
    assert token not in [s.token for s in sms.subaccount_list().items]
    with pytest.raises(errors.NotFound):
        sms.subaccount_remove(token=token)


def test_sms_lookup(sms: SmsPartnerClient) -> None:
    good, bad = sms.lookup(phone_numbers=["+33612345671", "12"])
    assert good.success and good.e164 == "+33612345671"
    assert not bad.success and bad.message


def test_sms_xml_format(sandbox: Any) -> None:
    client = SmsPartnerClient(
        base_url=sandbox.sms_url, api_key=SMS_KEY, response_format="xml"
    )
    assert (
        client.me() == SmsPartnerClient(base_url=sandbox.sms_url, api_key=SMS_KEY).me()
    )
    sent = client.send(phone_numbers=PHONES[0], message="xml")
    assert sent.message_id and sent.nb_sms == 1
    with pytest.raises(errors.NotFound):
        client.cancel(message_id="999999999")


# --- Voice Partner -----------------------------------------------------------------
DEMO_AUDIO = "4xK2pQ9sLm"  # seeded by the sandbox (partnerhub/sandbox/voicepartner.py)


def test_voice_me(voice: VoicePartnerClient) -> None:
    account = voice.me()
    assert account.credit is not None and account.credit > 0
    assert account.voice_messages is not None


def test_voice_audios_and_rename(voice: VoicePartnerClient) -> None:
    audios = voice.audios()
    assert DEMO_AUDIO in [a.token for a in audios]
    renamed = voice.audio_rename(token_audio=DEMO_AUDIO, filename="renamed-file")
    assert renamed.name == "renamed-file"


def test_voice_tts_send(sandbox: Any, voice: VoicePartnerClient) -> None:
    tts = voice.tts_send(phone_numbers=PHONES, text="Bonjour, à bientôt")
    assert tts.campaign_id and tts.nb_sms == 2 and tts.cost is not None
    with pytest.raises(errors.NotFound):
        voice.tts_send(phone_numbers=PHONES, token_audio="no-such-audio")
    assert VOICE_KEY not in str(sandbox.requests())


def test_voice_campaign_send_and_cancel(voice: VoicePartnerClient) -> None:
    campaign = voice.campaign_send(
        phone_numbers=["0612345671"],
        token_audio=DEMO_AUDIO,
        email_for_notification="ops@example.fr",
        scheduled_at=_later(),
    )
    cancelled = voice.campaign_cancel(campaign_id=campaign.campaign_id)
    assert cancelled.assigned_credit == campaign.cost
    with pytest.raises(errors.CancelRefused):
        voice.campaign_cancel(campaign_id=campaign.campaign_id)
    with pytest.raises(errors.NotFound):
        voice.campaign_cancel(campaign_id="NOPE1")


# --- shared ------------------------------------------------------------------------
def _subaccount_round_trip(client: Any) -> str:
    created = client.subaccount_create(account_type="simple", firstname="Sub")
    page = client.subaccount_list(page=1)
    assert created.token in [s.token for s in page.items]
    added = client.subaccount_credit_add(token=created.token, credit=Decimal("2.5"))
    assert added.subaccount_credit == Decimal("2.5")
    removed = client.subaccount_credit_remove(token=created.token, credit=Decimal(1))
    assert removed.subaccount_credit == Decimal("1.5")
    with pytest.raises(errors.InsufficientCredits):
        client.subaccount_credit_remove(token=created.token, credit=Decimal(100))
    with pytest.raises(errors.NotFound):
        client.subaccount_credit_add(token="no-such-token", credit=Decimal(1))
    return created.token
