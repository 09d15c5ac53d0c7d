"""The sandbox for personalised sends (providers.md §2.4 `/bulk-send`, §4.1
`variables`): per-number texts and costs, variables filled in, what was received."""

from __future__ import annotations

from typing import Any

import requests


def sms_post(box: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {"apiKey": box.sms_api_key, **body}
    return requests.post(box.sms_url + path, json=body, timeout=5).json()


def mail_send(box: Any, **body: Any) -> dict[str, Any]:
    body = {"apiKey": box.mail_api_key, **body}
    return requests.post(box.mail_url + "/send", json=body, timeout=5).json()


def test_bulk_send_costs_each_number_by_the_parts_of_its_own_text(sandbox: Any) -> None:
    data = sms_post(
        sandbox,
        "/bulk-send",
        {
            "SMSList": [
                {"phoneNumber": "0600000001", "message": "Bonjour Léa"},
                {"phoneNumber": "0600000002", "message": "x" * 200},  # 2 parts
                {"phoneNumber": "0600000003", "message": "y" * 400},  # 3 parts
            ]
        },
    )
    assert data["success"] is True and data["code"] == 200
    items = {i["phoneNumber"]: i for i in data["SMSResponse_List"]}
    assert [items[f"+3360000000{n}"]["nbSms"] for n in (1, 2, 3)] == [1, 2, 3]
    assert [items[f"+3360000000{n}"]["cost"] for n in (1, 2, 3)] == [
        0.038,
        0.076,
        0.114,
    ]
    assert data["nbSMS"] == 6 and data["cost"] == 0.228
    assert set(data) >= {"message_id", "currency", "cost", "nbSMS", "SMSResponse_List"}


def test_messages_shows_each_numbers_own_text_and_leaves_sandbox_sends_out(
    sandbox: Any,
) -> None:
    sms_post(
        sandbox,
        "/bulk-send",
        {
            "SMSList": [
                {"phoneNumber": "+33600000001", "message": "Bonjour Léa"},
                {"phoneNumber": "+33600000002", "message": "Bonjour Hugo"},
            ]
        },
    )
    sms_post(sandbox, "/send", {"phoneNumbers": "0600000001", "message": "Re"})
    sms_post(
        sandbox,
        "/bulk-send",
        {"SMSList": [{"phoneNumber": "0600000002", "message": "test"}], "sandbox": 1},
    )
    assert sandbox.messages("sms") == {
        "+33600000001": ["Bonjour Léa", "Re"],
        "+33600000002": ["Bonjour Hugo"],
    }


def test_bulk_send_refuses_a_missing_text_or_more_than_500_items(sandbox: Any) -> None:
    missing = sms_post(
        sandbox, "/bulk-send", {"SMSList": [{"phoneNumber": "0600000001"}]}
    )
    assert (missing["success"], missing["code"]) == (False, 9)
    too_many = [{"phoneNumber": "0600000001", "message": "x"}] * 501
    assert sms_post(sandbox, "/bulk-send", {"SMSList": too_many})["code"] == 50
    assert sandbox.messages("sms") == {}


def test_mail_variables_fill_their_placeholders_in_subject_html_and_text(
    sandbox: Any,
) -> None:
    data = mail_send(
        sandbox,
        subject="Joyeux Noël, #FIRSTNAME# !",
        htmlContent="<p>Bonjour #FIRSTNAME# de #VILLE#</p>#UNSUBSCRIBE_LINK#",
        textContent="Bonjour #FIRSTNAME#",
        variables={"firstname": "Camille", "ville": "Lyon"},
        params={"to": [{"email": "a@example.fr"}, {"email": "b@example.fr"}]},
    )
    assert data["success"] is True
    received = sandbox.messages("mail")
    assert received == {
        "a@example.fr": ["Joyeux Noël, Camille !"],
        "b@example.fr": ["Joyeux Noël, Camille !"],
    }
    server = sandbox.server.emulators["mail"]
    content = server.batches[data["messageId"]].extra["content"]
    assert content == {
        "subject": "Joyeux Noël, Camille !",
        "html": "<p>Bonjour Camille de Lyon</p>#UNSUBSCRIBE_LINK#",
        "text": "Bonjour Camille",
    }


def test_mail_without_variables_keeps_its_placeholders(sandbox: Any) -> None:
    mail_send(
        sandbox,
        subject="Pour #FIRSTNAME#",
        htmlContent="<p>x</p>",
        params={"to": [{"email": "a@example.fr"}]},
    )
    assert sandbox.messages("mail") == {"a@example.fr": ["Pour #FIRSTNAME#"]}
