"""Channel options on the wire: Mail reply-to, attachments and tag, Voice voicemail
drop, SMS quiet-hours codes; clients against the live sandbox (providers.md)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from partnerhub.providers import errors
from partnerhub.providers.http import build_session
from partnerhub.providers.mailpartner import (
    MAX_ATTACHMENT_BYTES,
    MailAttachment,
    MailPartnerClient,
    MailRecipient,
)
from partnerhub.providers.smspartner import SmsPartnerClient
from partnerhub.providers.voicepartner import VoicePartnerClient
from partnerhub.sandbox.voicepartner import DEMO_AUDIOS, VALIDATED_SENDERS

PDF = MailAttachment("devis-2026", "application/pdf", b"%PDF-1.4 devis")
AUDIO = DEMO_AUDIOS[0][1]


@pytest.fixture
def mail(sandbox: Any) -> MailPartnerClient:
    return MailPartnerClient(
        base_url=sandbox.mail_url, api_key=sandbox.mail_api_key, session=build_session()
    )


@pytest.fixture
def voice(sandbox: Any) -> VoicePartnerClient:
    return VoicePartnerClient(
        base_url=sandbox.voice_url,
        api_key=sandbox.voice_api_key,
        session=build_session(),
    )


def send_mail(client: MailPartnerClient, **options: Any) -> Any:
    return client.send(
        recipients=[MailRecipient("claire@example.fr")],
        subject="Devis",
        html="<p>Votre devis</p>",
        **options,
    )


def raw_mail_send(sandbox: Any, **extra: Any) -> dict[str, Any]:
    body = {
        "apiKey": sandbox.mail_api_key,
        "subject": "Devis",
        "htmlContent": "<p>x</p>",
        "params": {"to": [{"email": "claire@example.fr"}]},
        **extra,
    }
    answer = requests.post(f"{sandbox.mail_url}/send", json=body, timeout=10)
    return answer.json()


# --- Mail Partner ----------------------------------------------------------------
def test_mail_send_carries_reply_to_tag_and_base64_attachments(mail, sandbox):
    result = send_mail(
        mail,
        reply_to=MailRecipient("service@boutique.fr", "Service client"),
        attachments=[PDF, MailAttachment("notice", "text/plain", "é".encode())],
        tag="soldes-hiver",
    )
    assert result.message_id
    body = sandbox.requests(provider="mail", path="/send")[-1]["body"]
    assert body["replyTo"] == {"email": "service@boutique.fr", "name": "Service client"}
    assert body["tag"] == "soldes-hiver"
    first, second = body["attachments"]
    assert first == {
        "base64Content": base64.b64encode(b"%PDF-1.4 devis").decode(),
        "contentType": "application/pdf",
        "filename": "devis-2026",
    }
    assert base64.b64decode(second["base64Content"]) == "é".encode()


@pytest.mark.parametrize(
    ("attachment", "code"),
    [
        ({"base64Content": "", "contentType": "text/plain", "filename": "a"}, 8),
        ({"base64Content": "eA==", "contentType": "text/plain", "filename": " "}, 16),
        ({"base64Content": "eA==", "contentType": "text/plain",
          "filename": "a.txt"}, 9),
        ({"base64Content": "eA==", "contentType": "application/x-msdownload",
          "filename": "setup"}, 9),
    ],
)  # fmt: skip
def test_sandbox_refuses_attachments_with_the_documented_codes(
    sandbox, attachment, code
):
    answer = raw_mail_send(sandbox, attachments=[attachment])
    assert (answer["success"], answer["code"]) == (False, code)


def test_sandbox_refuses_a_fourth_attachment(sandbox):
    one = {"base64Content": "eA==", "contentType": "text/plain", "filename": "a"}
    assert raw_mail_send(sandbox, attachments=[one] * 3)["code"] == 200
    assert raw_mail_send(sandbox, attachments=[one] * 4)["code"] == 9


def test_sandbox_refuses_a_reply_to_that_is_not_an_address(mail, sandbox):
    with pytest.raises(errors.InvalidAddress) as caught:
        send_mail(mail, reply_to=MailRecipient("pas-une-adresse"))
    assert caught.value.code == 24
    assert raw_mail_send(sandbox, replyTo={"email": ""})["code"] == 23


@pytest.mark.parametrize(
    "options",
    [
        {"attachments": [PDF] * 4},
        {"attachments": [replace(PDF, content=b"x" * (MAX_ATTACHMENT_BYTES + 1))]},
        {"attachments": [MailAttachment(" ", "application/pdf", b"%PDF")]},
        {"tag": "Soldes"},
        {"tag": "ab"},
        {"tag": "soldes hiver"},
    ],
)
def test_client_refuses_what_breaks_the_documented_limits_before_sending(
    mail, sandbox, options
):
    with pytest.raises(ValueError):
        send_mail(mail, **options)
    assert sandbox.requests(provider="mail", path="/send") == []


# --- Voice Partner: voicemail drop ------------------------------------------------
def test_voicemail_drop_answers_its_cost_per_number(voice, sandbox):
    result = voice.campaign_send(
        phone_numbers=["+33612345678", "0612345679"],
        token_audio=AUDIO,
        email_for_notification="equipe@boutique.fr",
    )
    assert (result.nb_sms, result.cost) == (2, Decimal("0.3"))
    assert result.details[0].unit_cost == Decimal("0.15")
    assert result.audio_filename.endswith(".wav")
    body = sandbox.requests(provider="voice", path="/campaign/send")[-1]["body"]
    assert body["tokenAudio"] == AUDIO
    assert body["emailForNotification"] == "equipe@boutique.fr"


@pytest.mark.parametrize(
    ("options", "error", "code"),
    [
        ({"token_audio": ""}, errors.InvalidRequest, "TOKEN_AUDIO_REQUIRED"),
        ({"token_audio": "inconnu"}, errors.NotFound, "AUDIO_FILE_NOT_FOUND"),
        ({"phone_numbers": ["12"]}, errors.InvalidAddress, "DESTINATION_INVALID"),
        ({"sender": "0612"}, errors.InvalidRequest, "SENDER_INVALID"),
        ({"sender": "+33699999999"}, errors.InvalidRequest, "SENDER_NOT_AUTHORIZED"),
    ],
)
def test_voicemail_drop_errors_are_typed(voice, sandbox, options, error, code):
    call = {
        "phone_numbers": ["+33612345678"],
        "token_audio": AUDIO,
        "email_for_notification": "equipe@boutique.fr",
        **options,
    }
    with pytest.raises(error) as caught:
        voice.campaign_send(**call)
    assert caught.value.code == code


def test_voicemail_drop_from_a_validated_callback_number(voice, sandbox):
    voice.campaign_send(
        phone_numbers=["+33612345678"],
        token_audio=AUDIO,
        email_for_notification="equipe@boutique.fr",
        sender=VALIDATED_SENDERS[0],
    )
    body = sandbox.requests(provider="voice", path="/campaign/send")[-1]["body"]
    assert body["sender"] == VALIDATED_SENDERS[0]


def test_scheduled_voicemail_drop_is_cancelled_and_refunded(voice, sandbox):
    when = datetime.fromtimestamp(sandbox.now(), tz=UTC) + timedelta(hours=2)
    before = voice.me().credit
    sent = voice.campaign_send(
        phone_numbers=["+33612345678"],
        token_audio=AUDIO,
        email_for_notification="equipe@boutique.fr",
        scheduled_at=when,
    )
    assert voice.me().credit == before - Decimal("0.15")
    cancelled = voice.campaign_cancel(campaign_id=sent.campaign_id)
    assert cancelled.assigned_credit == Decimal("0.15")
    assert voice.me().credit == before
    with pytest.raises(errors.AlreadyCancelled):
        voice.campaign_cancel(campaign_id=sent.campaign_id)


# --- SMS Partner: quiet hours (codes 22 and 23, providers.md §2.20) --------------
@responses.activate
@pytest.mark.parametrize("code", [22, 23])
def test_sms_quiet_hours_codes_are_their_own_error(code):
    base = "http://127.0.0.1:9/smspartner/v1"
    responses.post(
        f"{base}/send",
        json={"success": False, "code": code, "message": "Envoi marketing refusé"},
    )
    client = SmsPartnerClient(base_url=base, api_key="k", session=build_session())
    with pytest.raises(errors.QuietHours) as caught:
        client.send(phone_numbers=["+33612345678"], message="Soldes")
    assert caught.value.code == code
    assert not isinstance(caught.value, errors.InvalidRequest)
