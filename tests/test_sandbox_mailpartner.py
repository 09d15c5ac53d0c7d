"""Mail Partner emulator, driven over HTTP like the real API (providers.md §4)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from partnerhub.sandbox.xmlenvelope import render_xml

PARIS = ZoneInfo("Europe/Paris")


def send_body(box: Any, emails: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "apiKey": box.mail_api_key,
        "subject": "Hello",
        "htmlContent": "<p>Hello</p>",
        "params": {"to": [{"email": e} for e in emails]},
        **extra,
    }


def parse_xml(text: str | bytes) -> ET.Element:
    """Our own sandbox's answer: trusted input."""
    return ET.fromstring(text)  # noqa: S314


def post(sandbox: Any, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(sandbox.mail_url + path, json=body, timeout=5)


def get(sandbox: Any, path: str, **params: Any) -> requests.Response:
    params.setdefault("apiKey", sandbox.mail_api_key)
    return requests.get(sandbox.mail_url + path, params=params, timeout=5)


def credit(sandbox: Any, key: str | None = None) -> int:
    answer = get(sandbox, "/me", apiKey=key or sandbox.mail_api_key).json()
    return answer["credits"]["creditMail"]


def schedule_fields(minutes_ahead: int) -> dict[str, Any]:
    """A valid schedule at least `minutes_ahead` minutes from now (5-minute step)."""
    when = datetime.now(tz=PARIS) + timedelta(minutes=minutes_ahead + 5)
    when = when.replace(minute=when.minute - when.minute % 5, second=0)
    return {
        "scheduledDeliveryDate": when.strftime("%d/%m/%Y"),
        "time": when.hour,
        "minute": when.minute,
    }


def test_me_matches_documented_shape(sandbox: Any) -> None:
    answer = get(sandbox, "/me")
    assert answer.status_code == 200
    assert answer.json() == {
        "success": True,
        "code": 200,
        "user": {"username": "demo@partnerhub.test"},
        "credits": {"creditMail": 1_000_000, "balance": "1000.000", "currency": "EUR"},
    }


def test_me_in_xml_uses_positional_entries_and_named_user(sandbox: Any) -> None:
    answer = get(sandbox, "/me", _format="xml")
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert answer.text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<result>")
    root = parse_xml(answer.content)
    entries = list(root)
    assert [e.tag for e in entries] == ["entry"] * 4
    assert [entries[0].text, entries[1].text] == ["true", "200"]
    assert entries[2].find("username").text == "demo@partnerhub.test"
    assert [c.text for c in entries[3]] == [
        "1000000",
        "EUR",
        "1000.000",
    ]  # providers.md §4 order
    assert "<entry><![CDATA[EUR]]></entry>" in answer.text


def test_missing_and_wrong_api_key_answer_codes_1_and_10(sandbox: Any) -> None:
    missing = requests.get(sandbox.mail_url + "/me", timeout=5)
    wrong = get(sandbox, "/me", apiKey="nope")
    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == {
        "success": False,
        "code": 1,
        "message": "La Clé API est requise",
    }
    assert wrong.json() == {
        "success": False,
        "code": 10,
        "message": "Clé API incorrecte",
    }


def test_wrong_key_in_xml_matches_seed_error_example(sandbox: Any) -> None:
    answer = get(sandbox, "/unsubscribe/list", apiKey="nope", _format="xml")
    root = parse_xml(answer.content)
    assert [e.text for e in root] == ["false", "10", "Clé API incorrecte"]


def test_send_answers_message_id_and_debits_one_credit_per_email(sandbox: Any) -> None:
    answer = post(sandbox, "/send", send_body(sandbox, ["a@x.fr", "b@x.fr"]))
    data = answer.json()
    assert answer.status_code == 200
    assert list(data) == ["success", "code", "messageId", "nbMail", "cost", "currency"]
    assert isinstance(data["messageId"], str)
    assert (data["nbMail"], data["cost"], data["currency"]) == (2, 2, "EUR")
    assert credit(sandbox) == 1_000_000 - 2
    assert sandbox.recipients("mail") == {"a@x.fr": 1, "b@x.fr": 1}


def test_send_accepts_from_reply_to_variables_and_tag(sandbox: Any) -> None:
    body = send_body(
        sandbox,
        ["a@x.fr"],
        **{
            "from": {"email": "news@shop.fr", "name": "Shop"},
            "replyTo": {"email": "help@shop.fr"},
            "variables": {"firstname": "John"},
            "tag": "promo",
        },
    )
    assert post(sandbox, "/send", body).json()["success"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"subject": ""}, 2),
        ({"htmlContent": None}, 2),
        ({"params": {"to": []}}, 22),
        ({"params": {"to": [{"name": "No address"}]}}, 18),
        ({"params": {"to": [{"email": "not-an-email"}]}}, 19),
        ({"params": {"to": [{"email": "a@x.fr", "name": ""}]}}, 21),
        ({"params": {"to": [{"email": "a@x.fr"}, {"email": "A@x.fr"}]}}, 15),
        ({"from": {"name": "Shop"}}, 4),
        ({"from": {"email": "n@shop.fr", "name": ""}}, 5),
        ({"replyTo": {"name": "x"}}, 23),
        ({"replyTo": {"email": "bad"}}, 24),
        ({"replyTo": {"email": "r@shop.fr", "name": " "}}, 25),
    ],
)
def test_send_validation_codes(sandbox: Any, change: dict[str, Any], code: int) -> None:
    body = {**send_body(sandbox, ["a@x.fr"]), **change}
    answer = post(sandbox, "/send", body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert sandbox.recipients("mail") == {}


def test_send_refuses_more_than_500_recipients(sandbox: Any) -> None:
    emails = [f"u{i}@x.fr" for i in range(501)]
    assert post(sandbox, "/send", send_body(sandbox, emails)).json()["code"] == 50


def test_malformed_json_answers_code_90(sandbox: Any) -> None:
    answer = requests.post(sandbox.mail_url + "/send", data=b"{not json", timeout=5)
    assert answer.status_code == 400
    assert answer.json()["code"] == 90


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"time": 10, "minute": 0}, 45),
        ({"scheduledDeliveryDate": "2099-01-01", "time": 10, "minute": 0}, 49),
        ({"scheduledDeliveryDate": "31/02/2099", "time": 10, "minute": 0}, 49),
        ({"scheduledDeliveryDate": "01/01/2000", "time": 10, "minute": 0}, 49),
        ({"scheduledDeliveryDate": "01/01/2099", "minute": 0}, 46),
        ({"scheduledDeliveryDate": "01/01/2099", "time": 25, "minute": 0}, 46),
        ({"scheduledDeliveryDate": "01/01/2099", "time": 10}, 47),
        ({"scheduledDeliveryDate": "01/01/2099", "time": 10, "minute": "x"}, 47),
        ({"scheduledDeliveryDate": "01/01/2099", "time": 10, "minute": 7}, 48),
        ({"scheduledDeliveryDate": "01/01/2099", "time": 10, "minute": 60}, 48),
    ],
)
def test_schedule_validation_codes(
    sandbox: Any, fields: dict[str, Any], code: int
) -> None:
    answer = post(sandbox, "/send", send_body(sandbox, ["a@x.fr"], **fields))
    assert answer.json()["code"] == code


def test_scheduled_send_echoes_date_in_paris_time(sandbox: Any) -> None:
    fields = {"scheduledDeliveryDate": "25/09/2099", "time": 12, "minute": 0}
    data = post(sandbox, "/send", send_body(sandbox, ["a@x.fr"], **fields)).json()
    assert data["scheduledDeliveryDate"] == "2099-09-25 12:00:00"


def bulk_status(sandbox: Any, message_id: str) -> dict[str, Any]:
    return get(sandbox, "/bulk-status", messageId=message_id).json()


def test_bulk_status_settles_after_delay_and_bounce_fails(sandbox: Any) -> None:
    data = post(sandbox, "/send", send_body(sandbox, ["ok@x.fr", "bounce@x.fr"])).json()
    first = bulk_status(sandbox, data["messageId"])
    assert list(first) == ["success", "code", "messageId", "StatutResponseList"]
    row = first["StatutResponseList"][0]
    assert list(row) == ["email", "token", "status", "cost", "stopMail", "date"]
    assert [r["status"] for r in first["StatutResponseList"]] == ["Pending"] * 2
    assert row["date"].isdigit()
    sandbox.advance(sandbox.settle_seconds)
    settled = bulk_status(sandbox, data["messageId"])["StatutResponseList"]
    assert [(r["email"], r["status"]) for r in settled] == [
        ("ok@x.fr", "Delivered"),
        ("bounce@x.fr", "Not delivered"),
    ]
    assert settled[0]["cost"] == 1 and settled[0]["stopMail"] is False


def test_bulk_status_xml_follows_seed_layout(sandbox: Any) -> None:
    data = post(sandbox, "/send", send_body(sandbox, ["a@x.fr", "b@x.fr"])).json()
    answer = get(sandbox, "/bulk-status", messageId=data["messageId"], _format="xml")
    root = parse_xml(answer.content)
    top = list(root)
    assert [top[0].text, top[1].text, top[2].text] == ["true", "200", data["messageId"]]
    rows = list(top[3])
    assert len(rows) == 2
    texts = [c.text for c in rows[0]]
    assert texts[0] == "a@x.fr"
    assert texts[2:5] == ["Pending", "1", "false"]


def test_bulk_status_error_codes(sandbox: Any) -> None:
    assert get(sandbox, "/bulk-status").json()["code"] == 3
    assert get(sandbox, "/bulk-status", messageId="unknown").json()["code"] == 4


def test_scheduled_send_stays_pending_until_its_time(sandbox: Any) -> None:
    body = send_body(sandbox, ["a@x.fr"], **schedule_fields(60))
    message_id = post(sandbox, "/send", body).json()["messageId"]
    sandbox.advance(sandbox.settle_seconds + 60)
    assert bulk_status(sandbox, message_id)["StatutResponseList"][0]["status"] == (
        "Pending"
    )
    sandbox.advance(3 * 3600)
    assert bulk_status(sandbox, message_id)["StatutResponseList"][0]["status"] == (
        "Delivered"
    )


def test_cancel_scheduled_send_refunds_and_then_answers_5(sandbox: Any) -> None:
    body = send_body(sandbox, ["a@x.fr", "b@x.fr"], **schedule_fields(60))
    message_id = post(sandbox, "/send", body).json()["messageId"]
    assert credit(sandbox) == 1_000_000 - 2
    answer = get(sandbox, "/message-cancel", messageId=message_id).json()
    assert answer == {
        "success": True,
        "code": 200,
        "message": "The email has been canceled.",
    }
    assert credit(sandbox) == 1_000_000
    assert get(sandbox, "/message-cancel", messageId=message_id).json()["code"] == 5
    rows = bulk_status(sandbox, message_id)["StatutResponseList"]
    assert {r["status"] for r in rows} == {"Cancelled"}


def test_cancel_refusals(sandbox: Any) -> None:
    now_id = post(sandbox, "/send", send_body(sandbox, ["a@x.fr"])).json()["messageId"]
    later = send_body(sandbox, ["a@x.fr"], **schedule_fields(30))
    later_id = post(sandbox, "/send", later).json()["messageId"]
    assert get(sandbox, "/message-cancel", messageId=now_id).json()["code"] == 7
    assert get(sandbox, "/message-cancel").json()["code"] == 3
    assert get(sandbox, "/message-cancel", messageId="nope").json()["code"] == 4
    send_at = sandbox.now() + 30 * 60
    sandbox.advance(send_at - sandbox.now() + 600)  # well past: already sent
    assert get(sandbox, "/message-cancel", messageId=later_id).json()["code"] == 7


def test_cancel_less_than_five_minutes_before_answers_6(sandbox: Any) -> None:
    fields = schedule_fields(30)
    when = datetime.strptime(
        f"{fields['scheduledDeliveryDate']} {fields['time']}:{fields['minute']}",
        "%d/%m/%Y %H:%M",
    ).replace(tzinfo=PARIS)
    message_id = post(
        sandbox, "/send", send_body(sandbox, ["a@x.fr"], **fields)
    ).json()["messageId"]
    sandbox.advance(when.timestamp() - sandbox.now() - 120)
    answer = get(sandbox, "/message-cancel", messageId=message_id).json()
    assert answer["code"] == 6


def test_unsubscribe_add_list_delete(sandbox: Any) -> None:
    added = post(
        sandbox, "/unsubscribe/add", {"apiKey": sandbox.mail_api_key, "email": "x@y.fr"}
    )
    stop_id = added.json()["stopId"]
    assert added.json() == {"success": True, "code": 200, "stopId": stop_id}
    listed = get(sandbox, "/unsubscribe/list").json()
    assert listed["nbData"] == 1
    assert list(listed["data"][0]) == ["id", "email", "createdAt"]
    assert listed["data"][0]["email"] == "x@y.fr"
    datetime.strptime(listed["data"][0]["createdAt"], "%Y-%m-%d %H:%M:%S")
    again = {"apiKey": sandbox.mail_api_key, "email": "X@y.fr"}
    assert post(sandbox, "/unsubscribe/add", again).json()["code"] == 3
    bad = {"apiKey": sandbox.mail_api_key, "email": "bad"}
    assert post(sandbox, "/unsubscribe/add", bad).json()["code"] == 9
    assert get(sandbox, "/unsubscribe/delete", id=stop_id).json()["code"] == 200
    assert get(sandbox, "/unsubscribe/delete", id=stop_id).json()["code"] == 4
    assert get(sandbox, "/unsubscribe/delete").json()["code"] == 3


def test_unsubscribe_delete_also_accepts_post(sandbox: Any) -> None:
    body = {"apiKey": sandbox.mail_api_key, "email": "x@y.fr"}
    stop_id = post(sandbox, "/unsubscribe/add", body).json()["stopId"]
    answer = post(
        sandbox, "/unsubscribe/delete", {"apiKey": body["apiKey"], "id": stop_id}
    )
    assert answer.json() == {"success": True, "code": 200}
    assert get(sandbox, "/unsubscribe/list").json()["nbData"] == 0


def test_send_skips_unsubscribed_address_without_failing(sandbox: Any) -> None:
    body = {"apiKey": sandbox.mail_api_key, "email": "gone@x.fr"}
    post(sandbox, "/unsubscribe/add", body)
    data = post(sandbox, "/send", send_body(sandbox, ["gone@x.fr", "ok@x.fr"])).json()
    assert (data["nbMail"], data["cost"]) == (1, 1)
    rows = bulk_status(sandbox, data["messageId"])["StatutResponseList"]
    assert [(r["email"], r["stopMail"], r["cost"]) for r in rows] == [
        ("gone@x.fr", True, 0),
        ("ok@x.fr", False, 1),
    ]
    assert sandbox.recipients("mail") == {"ok@x.fr": 1}


def test_sandbox_flag_debits_nothing_and_counts_no_recipient(sandbox: Any) -> None:
    data = post(sandbox, "/send", send_body(sandbox, ["a@x.fr"], sandbox=1)).json()
    assert data["success"] is True
    assert credit(sandbox) == 1_000_000
    assert sandbox.recipients("mail") == {}


def create_subaccount(sandbox: Any, credit_amount: int = 0) -> dict[str, Any]:
    body = {
        "apiKey": sandbox.mail_api_key,
        "type": "simple",
        "parameters": {"creditToAttribute": credit_amount} if credit_amount else {},
    }
    return post(sandbox, "/subaccount/create", body).json()


def test_subaccount_gets_a_working_key_and_credit_moves(sandbox: Any) -> None:
    created = create_subaccount(sandbox, 100)
    assert list(created) == [
        "success", "code", "subaccount", "sendConfirmMailTo", "parent_email",
    ]  # fmt: skip
    assert created["subaccount"]["email"].endswith("@mailpartner.fr")
    listed = get(sandbox, "/subaccount/list").json()
    assert (listed["total"], listed["nb_per_page"], listed["page"]) == (1, 20, 1)
    sub = listed["data"][0]
    assert sub["token"] == created["subaccount"]["token"]
    assert credit(sandbox, sub["apiKey"]) == 100
    assert credit(sandbox) == 1_000_000 - 100
    move = {
        "apiKey": sandbox.mail_api_key,
        "credit": 50,
        "tokenSubaccount": sub["token"],
    }
    added = post(sandbox, "/subaccount/credit/add", move).json()
    assert (added["credit"], added["subaccountCredit"]) == (999_850, 150)
    removed = post(sandbox, "/subaccount/credit/remove", {**move, "credit": 150}).json()
    assert (removed["credit"], removed["subaccountCredit"]) == (1_000_000, 0)
    too_much = post(sandbox, "/subaccount/credit/remove", move).json()
    assert too_much["code"] == 8


def test_subaccount_without_credit_gets_code_11_on_send(sandbox: Any) -> None:
    create_subaccount(sandbox)
    sub_key = get(sandbox, "/subaccount/list").json()["data"][0]["apiKey"]
    body = {**send_body(sandbox, ["a@x.fr"]), "apiKey": sub_key}
    answer = post(sandbox, "/send", body)
    assert answer.json()["code"] == 11
    assert sandbox.recipients("mail") == {}


def test_subaccount_errors(sandbox: Any) -> None:
    key = sandbox.mail_api_key
    assert post(sandbox, "/subaccount/create", {"apiKey": key}).json()["code"] == 4
    bad_type = {"apiKey": key, "type": "odd"}
    assert post(sandbox, "/subaccount/create", bad_type).json()["code"] == 5
    advanced = {"apiKey": key, "type": "advanced", "parameters": {"isBuyer": 1}}
    assert post(sandbox, "/subaccount/create", advanced).json()["code"] == 6
    simple = {"apiKey": key, "type": "simple", "parameters": {"email": "s@x.fr"}}
    post(sandbox, "/subaccount/create", simple)
    assert post(sandbox, "/subaccount/create", simple).json()["code"] == 7
    unknown = {"apiKey": key, "credit": 5, "tokenSubaccount": "nope"}
    assert post(sandbox, "/subaccount/credit/add", unknown).json()["code"] == 7


def test_render_xml_escapes_cdata_terminator() -> None:
    text = render_xml({"message": "a]]>b"}).decode()
    assert parse_xml(text)[0].text == "a]]>b"
