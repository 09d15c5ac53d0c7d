"""The STOP webhook refuses oversized and deeply nested bodies, and keeps only the
documented keys (issue #17.5)."""

from __future__ import annotations

import json

import pytest

from unsubscribes.models import SmsReply, Unsubscribe

pytestmark = pytest.mark.django_db
TOKEN = "hook-token-for-tests-0123456789"
URL = f"/unsubscribes/hooks/sms/{TOKEN}/"


@pytest.fixture(autouse=True)
def _token(settings) -> None:
    settings.SMS_REPLY_WEBHOOK_TOKEN = TOKEN


def post(client, body: str):
    return client.post(URL, body, content_type="application/json")


def test_deeply_nested_json_is_a_400_not_a_500(client) -> None:
    response = post(client, "[" * 30_000 + "]" * 30_000)  # under the 64 KB cap
    assert response.status_code == 400
    response = post(client, '{"a":' * 10_000 + "1" + "}" * 10_000)
    assert response.status_code == 400
    assert not SmsReply.objects.exists()


def test_a_body_over_64_kb_is_refused_and_nothing_is_stored(client) -> None:
    payload = {"type": "stop", "phone_number": "+33612345678", "text": "STOP"}
    payload["padding"] = "x" * 70_000
    response = post(client, json.dumps(payload))
    assert response.status_code == 413
    assert not SmsReply.objects.exists()
    assert not Unsubscribe.objects.exists()


def test_only_the_documented_keys_are_stored(client) -> None:
    payload = {
        "type": "stop",
        "phone_number": "+33612345678",
        "text": "STOP",
        "message_id": 42,
        "extra": {"nested": ["kept?"] * 100},
        "tracking": "x" * 1000,
    }
    assert post(client, json.dumps(payload)).status_code == 200
    stored = SmsReply.objects.get().payload
    assert stored == {
        "type": "stop",
        "phone_number": "+33612345678",
        "text": "STOP",
        "message_id": 42,
    }
