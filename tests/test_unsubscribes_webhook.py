"""SMS Partner reply webhook: STOPs become unsubscribes, replies are kept once."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from unsubscribes import services
from unsubscribes.models import ReplyKind, SmsReply, Source, Unsubscribe

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-token-for-tests"
STOP = {"type": "stop", "phone_number": "+33612345678", "text": "STOP",
        "message_id": 1111111}  # fmt: skip
REPLY = {"type": "response", "phone_number": "+33612345678", "text": "test",
         "message_id": 1111111}  # fmt: skip
LONG = {"msisdn": "33698765432", "to": "33700000000", "messageId": "c0ffee-1",
        "text": "Stop", "type": "text", "keyword": "STOP",
        "message-timestamp": "2016-03-10 09:51:46"}  # fmt: skip


@pytest.fixture(autouse=True)
def _token(settings):
    settings.SMS_REPLY_WEBHOOK_TOKEN = TOKEN


def hook(token=TOKEN):
    return reverse("unsubscribes:sms_reply_hook", args=[token])


def post_json(client, payload, token=TOKEN):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(hook(token), body, content_type="application/json")


def test_stop_is_recorded_as_an_unsubscribe_without_login_or_csrf(client):
    client.handler.enforce_csrf_checks = True
    response = post_json(client, STOP)
    assert response.status_code == 200 and response.json()["stop"] is True
    row = Unsubscribe.objects.get()
    assert (row.channel, row.address, row.source) == ("sms", "+33612345678", "reply")
    assert SmsReply.objects.get().kind == ReplyKind.STOP


def test_reply_is_kept_without_unsubscribing(client):
    assert post_json(client, REPLY).status_code == 200
    reply = SmsReply.objects.get()
    assert (reply.kind, reply.text, reply.message_id) == ("response", "test", "1111111")
    assert not Unsubscribe.objects.exists()


@pytest.mark.parametrize("urlencoded", [True, False])
def test_form_payload_is_accepted(client, urlencoded):
    if urlencoded:
        body = "type=stop&phone_number=%2B33612345678&text=STOP&message_id=1"
        content_type = "application/x-www-form-urlencoded"
        response = client.post(hook(), body, content_type=content_type)
    else:
        response = client.post(hook(), STOP)  # multipart
    assert response.status_code == 200
    assert Unsubscribe.objects.filter(address="+33612345678").exists()


def test_long_number_stop_keyword_unsubscribes(client):
    assert post_json(client, LONG).status_code == 200
    reply = SmsReply.objects.get()
    assert reply.phone == "+33698765432" and reply.kind == ReplyKind.STOP
    paris = datetime(2016, 3, 10, 9, 51, 46, tzinfo=ZoneInfo("Europe/Paris"))
    assert reply.provider_time == paris
    assert Unsubscribe.objects.get().address == "+33698765432"


def test_replayed_payload_creates_nothing_new(client):
    post_json(client, STOP)
    post_json(client, REPLY)
    row = Unsubscribe.objects.get()
    services.unsubscribe_remove(unsubscribe=row)  # removed by hand since
    again = post_json(client, STOP)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert post_json(client, REPLY).json()["duplicate"] is True
    assert SmsReply.objects.count() == 2
    row.refresh_from_db()
    assert row.removed_at is not None  # a replay does not undo the removal


def test_a_new_stop_after_removal_suppresses_again(client):
    post_json(client, STOP)
    services.unsubscribe_remove(unsubscribe=Unsubscribe.objects.get())
    post_json(client, {**STOP, "message_id": 2222222})
    assert Unsubscribe.objects.active().get().source == Source.REPLY


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        "{",
        {},
        {"type": "stop"},
        {**STOP, "type": "unknown"},
        {**STOP, "phone_number": "12"},
        {**STOP, "phone_number": None},
        {**STOP, "text": {"nested": True}},
        {**LONG, "msisdn": "abc"},
        {**LONG, "text": ["x"]},
    ],
)
def test_malformed_payloads_get_400_and_store_nothing(client, payload):
    response = post_json(client, payload)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not SmsReply.objects.exists() and not Unsubscribe.objects.exists()


def test_empty_form_post_is_400(client):
    assert client.post(hook()).status_code == 400


def test_wrong_token_is_404(client):
    assert post_json(client, STOP, token="nope").status_code == 404
    assert not SmsReply.objects.exists()


def test_no_token_configured_disables_the_hook(client, settings):
    settings.SMS_REPLY_WEBHOOK_TOKEN = ""
    assert post_json(client, STOP).status_code == 404
    del settings.SMS_REPLY_WEBHOOK_TOKEN
    assert post_json(client, STOP).status_code == 404
    assert not SmsReply.objects.exists()


def test_get_is_refused(client):
    assert client.get(hook()).status_code == 405
