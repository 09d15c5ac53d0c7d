"""SMS Partner emulator, driven over HTTP like the real API (providers.md §2)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests

from partnerhub.sandbox.smspartner import sms_parts


def post(box: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {"apiKey": box.sms_api_key, **body}
    return requests.post(box.sms_url + path, json=body, timeout=5).json()


def get(box: Any, path: str, **params: Any) -> dict[str, Any]:
    params.setdefault("apiKey", box.sms_api_key)
    return requests.get(box.sms_url + path, params=params, timeout=5).json()


def send(box: Any, numbers: str, message: str = "Hello", **extra: Any) -> Any:
    return post(box, "/send", {"phoneNumbers": numbers, "message": message, **extra})


def balance(box: Any) -> str:
    return get(box, "/me")["credits"]["balance"]


def test_me_matches_documented_shape(sandbox: Any) -> None:
    data = get(sandbox, "/me")
    assert data["user"] == {
        "username": "demo@partnerhub.test",
        "firstname": "Demo",
        "lastname": "PartnerHub",
    }
    assert list(data["credits"]) == [
        "creditSms", "creditSmsECO", "creditHlr", "toSend", "solde", "currency",
        "balance",
    ]  # fmt: skip
    assert data["credits"]["balance"] == data["credits"]["solde"] == "50000.000"
    assert data["credits"]["creditSms"] == int(50000 / 0.038)


def test_me_xml_names_user_children(sandbox: Any) -> None:
    answer = requests.get(
        sandbox.sms_url + "/me",
        params={"apiKey": sandbox.sms_api_key, "_format": "xml"},
        timeout=5,
    )
    root = ET.fromstring(answer.content)  # noqa: S314 - our own answer
    assert [c.tag for c in root[2]] == ["username", "firstname", "lastname"]
    assert [c.text for c in root[3]][4:] == ["50000.000", "EUR", "50000.000"]


def test_send_answers_documented_fields_and_debits_per_part(sandbox: Any) -> None:
    data = send(sandbox, "0600000001,+33600000002", "x" * 161)
    assert list(data) == ["success", "code", "message_id", "nb_sms", "cost", "currency"]
    assert isinstance(data["message_id"], int)
    assert data["nb_sms"] == 4
    assert data["cost"] == pytest.approx(4 * 0.038)
    assert balance(sandbox) == "49999.848"
    assert sandbox.recipients("sms") == {"+33600000001": 1, "+33600000002": 1}


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("é" * 160, 1),
        # Without isUnicode the provider substitutes and stays in GSM-7 (§2.3).
        ("ł" * 160, 1),
        ("ł" * 161, 2),
        ("«" * 160, 1),
        ("œ" * 80, 1),
        ("œ" * 81, 2),
        ("a" * 160 + "^~|\\¨§", 1),
        ("a:br:b", 1),
        ("a" * 158 + ":br:", 1),
        ("a" * 158 + ":br:b", 2),
    ],
)
def test_sms_parts_follow_gsm7_and_unicode_limits(text: str, parts: int) -> None:
    assert sms_parts(text) == parts


def test_unicode_flag_forces_70_char_parts() -> None:
    assert sms_parts("a" * 71, unicode=True) == 2
    assert sms_parts("ł" * 70, unicode=True) == 1
    assert sms_parts("ł" * 71, unicode=True) == 2
    assert sms_parts("😀" * 35, unicode=True) == 1  # two UTF-16 units each
    assert sms_parts("😀" * 36, unicode=True) == 2


# --- §2.3: what the platform does to the text (substitutions, STOP, Low Cost) ---
def test_without_is_unicode_the_text_is_substituted_and_billed_in_gsm(
    sandbox: Any,
) -> None:
    """`Bœuf « maison » 🎉` goes out as `Boeuf “ maison “ ?` (18 GSM characters):
    10 of them are 180 characters, 2 parts, where Unicode would bill 3."""
    text = "Bœuf « maison » 🎉" * 10
    gsm = send(sandbox, "0600000001", text)
    assert (gsm["nb_sms"], gsm["cost"]) == (2, pytest.approx(2 * 0.038))
    unicode = send(sandbox, "0600000001", text, isUnicode=1)
    assert unicode["nb_sms"] == 3  # 180 UTF-16 units (the emoji counts 2) / 67
    removed = send(sandbox, "0600000001", "a" * 160 + "^~|\\¨§")
    assert removed["nb_sms"] == 1  # removed characters are not billed


def test_is_stop_sms_appends_the_mention_and_bills_it(sandbox: Any) -> None:
    """147 characters fit one SMS; the mention " STOP au 36180" makes 161."""
    assert send(sandbox, "0600000001", "a" * 147)["nb_sms"] == 1
    stopped = send(sandbox, "0600000001", "a" * 147, isStopSms=1)
    assert (stopped["nb_sms"], stopped["cost"]) == (2, pytest.approx(2 * 0.038))
    items = [{"phoneNumber": "0600000001", "message": "a" * 147}]
    bulk = post(sandbox, "/bulk-send", {"SMSList": items, "isStopSms": 1})
    assert bulk["SMSResponse_List"][0]["nbSms"] == 2


def test_low_cost_takes_160_characters_and_no_automatic_stop(sandbox: Any) -> None:
    fits = send(sandbox, "0600000001", "a" * 149 + " NoPub=STOP", gamme=2)
    assert (fits["nb_sms"], fits["cost"]) == (1, pytest.approx(0.026))
    too_long = send(sandbox, "0600000001", "a" * 150 + " NoPub=STOP", gamme=2)
    assert too_long["code"] == 42 and too_long["success"] is False
    assert send(sandbox, "0600000001", "œ" * 81, gamme=2)["code"] == 42  # 162
    # isStopSms does not apply to Low Cost: not appended, not billed.
    assert send(sandbox, "0600000001", "a" * 150, gamme=2, isStopSms=1)["nb_sms"] == 1
    assert sandbox.recipients("sms") == {"+33600000001": 2}


def test_send_errors(sandbox: Any) -> None:
    assert post(sandbox, "/send", {"message": "x"})["code"] == 2
    missing = send(sandbox, "0600000001", "")
    assert missing["code"] == 9
    assert missing["errors"][0]["elementId"] == "children[message].data"
    invalid = send(sandbox, "12")
    assert invalid["errors"][0]["elementId"] == "children[phoneNumbers].data"
    sender = send(sandbox, "0600000001", sender="a b!")
    assert sender["errors"][0]["elementId"] == "children[sender].data"
    many = ",".join(f"06{i:08d}" for i in range(501))
    assert send(sandbox, many)["code"] == 50
    assert send(sandbox, "0600000001", "a" * 1531)["code"] == 52
    assert send(sandbox, "0600000001", "a" * 161, gamme=2)["code"] == 42
    assert send(sandbox, "0600000001", minute=0, time=10)["code"] == 45
    assert sandbox.recipients("sms") == {}


def test_bulk_send_answers_per_number_list(sandbox: Any) -> None:
    items = [
        {"phoneNumber": "0600000001", "message": "Hi"},
        {"phoneNumber": "0600000002", "message": "b" * 200},
    ]
    data = post(sandbox, "/bulk-send", {"SMSList": items})
    assert list(data) == [
        "success", "code", "message_id", "currency", "cost", "nbSMS",
        "SMSResponse_List",
    ]  # fmt: skip
    assert data["nbSMS"] == 3
    assert data["SMSResponse_List"][1] == {
        "success": True,
        "code": 200,
        "nbSms": 2,
        "cost": pytest.approx(0.076),
        "phoneNumber": "+33600000002",
    }


def test_statuses_wait_then_settle_and_99_fails(sandbox: Any) -> None:
    message_id = send(sandbox, "0600000001,0600000099")["message_id"]
    single = get(
        sandbox, "/message-status", messageId=message_id, phoneNumber="0600000001"
    )
    assert single["statut"] == "Waiting"
    assert list(single) == [
        "success", "code", "number", "messageId", "stopSms", "date", "statut",
        "cost", "countryCode", "currency",
    ]  # fmt: skip
    assert (single["number"], single["messageId"]) == ("0600000001", str(message_id))
    sandbox.advance(sandbox.settle_seconds)
    bulk = get(sandbox, "/bulk-status", messageId=message_id)
    assert bulk["message_id"] == str(message_id)
    assert bulk["StatutResponse_List"] == [
        {
            "phoneNumber": "+33600000001",
            "status": "Delivered",
            "stopSMS": False,
            "date": bulk["StatutResponse_List"][0]["date"],
        },
        {
            "phoneNumber": "+33600000099",
            "status": "Not delivered",
            "stopSMS": False,
            "date": bulk["StatutResponse_List"][1]["date"],
        },
    ]
    assert bulk["StatutResponse_List"][0]["date"].isdigit()


def test_multi_status_reports_found_and_missing_pairs(sandbox: Any) -> None:
    message_id = send(sandbox, "0600000001")["message_id"]
    pairs = [
        {"phoneNumber": "+33600000001", "messageId": message_id},
        {"phoneNumber": "+33600000001", "messageId": 1},
    ]
    rows = post(sandbox, "/multi-status", {"SMSStatut_List": pairs})
    found, missing = rows["StatutResponse_List"]
    assert found["status"] == "Waiting"
    assert (found["stopSms"], found["isSpam"]) == ("0", "0")
    assert missing == {
        "success": False,
        "code": 4,
        "phoneNumber": "+33600000001",
        "messageId": 1,
        "status": "Numéro introuvable",
    }
    assert post(sandbox, "/multi-status", {"SMSStatut_List": []})["code"] == 5


def test_status_error_codes(sandbox: Any) -> None:
    assert get(sandbox, "/bulk-status")["code"] == 3
    assert get(sandbox, "/bulk-status", messageId=12)["code"] == 4
    message_id = send(sandbox, "0600000001")["message_id"]
    assert get(sandbox, "/message-status", messageId=message_id)["code"] == 2
    other = get(
        sandbox, "/message-status", messageId=message_id, phoneNumber="0600000002"
    )
    assert other["code"] == 4


def test_bulk_status_by_tag_pages_20_rows(sandbox: Any) -> None:
    numbers = ",".join(f"06{i:08d}" for i in range(25))
    send(sandbox, numbers, tag="promo")
    first = get(sandbox, "/bulk-status-by-tag", tag="promo")
    second = get(sandbox, "/bulk-status-by-tag", tag="promo", page=2)
    assert (first["currentPage"], first["total"]) == (1, 25)
    assert len(first["StatutResponse_List"]) == 20
    assert len(second["StatutResponse_List"]) == 5
    assert get(sandbox, "/bulk-status-by-tag", tag="none")["code"] == 4


def test_stop_list_and_send_skips_stopped_number(sandbox: Any) -> None:
    stop = post(sandbox, "/stop-sms/add", {"phoneNumber": "0600000001"})
    assert stop == {"success": True, "code": 200, "stopId": stop["stopId"]}
    assert post(sandbox, "/stop-sms/add", {"phoneNumber": "+33600000001"})["code"] == 3
    assert post(sandbox, "/stop-sms/add", {"phoneNumber": "12"})["code"] == 9
    listed = get(sandbox, "/stop-sms/list")
    assert listed["nbData"] == 1
    assert listed["data"][0]["phoneNumber"] == "+33600000001"
    data = send(sandbox, "0600000001,0600000002")
    assert data["nb_sms"] == 1
    rows = get(sandbox, "/bulk-status", messageId=data["message_id"])
    assert [r["stopSMS"] for r in rows["StatutResponse_List"]] == [True, False]
    assert sandbox.recipients("sms") == {"+33600000002": 1}
    assert get(sandbox, "/stop-sms/delete", id=stop["stopId"])["code"] == 200
    assert get(sandbox, "/stop-sms/delete", id=stop["stopId"])["code"] == 4


def test_cancel_scheduled_sms_refunds(sandbox: Any) -> None:
    schedule = {"scheduledDeliveryDate": "01/01/2099", "time": 9, "minute": 30}
    data = send(sandbox, "0600000001", **schedule)
    assert data["scheduledDeliveryDate"] == "2099-01-01 09:30:00"
    assert get(sandbox, "/me")["credits"]["toSend"] == 1
    cancelled = get(sandbox, "/message-cancel", messageId=data["message_id"])
    assert cancelled["message"] == "L'envoi du SMS a été annulé."
    assert balance(sandbox) == "50000.000"
    assert get(sandbox, "/message-cancel", messageId=data["message_id"])["code"] == 5
    immediate = send(sandbox, "0600000001")["message_id"]
    assert get(sandbox, "/message-cancel", messageId=immediate)["code"] == 7


def test_sandbox_flag_sends_nothing(sandbox: Any) -> None:
    assert send(sandbox, "0600000001", sandbox=1)["success"] is True
    assert balance(sandbox) == "50000.000"
    assert sandbox.recipients("sms") == {}


def test_cost_resume_shape_and_rate_limit(sandbox: Any) -> None:
    send(sandbox, "0600000001")
    data = get(sandbox, "/statistics/cost-resume", interval="last_month")
    assert list(data) == ["success", "datas"]
    row = data["datas"][0]
    assert list(row) == ["month", "year", "m", "date", "type", "cost", "nb_send"]
    assert (row["cost"], row["nb_send"], row["type"]) == ("0.038", "1", "month")
    year = get(sandbox, "/statistics/cost-resume", interval="last_twelve_months")
    assert len(year["datas"]) == 12
    for _ in range(3):
        get(sandbox, "/statistics/cost-resume")
    limited = requests.get(
        sandbox.sms_url + "/statistics/cost-resume",
        params={"apiKey": sandbox.sms_api_key},
        timeout=5,
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == 429
    sandbox.advance(61)
    assert get(sandbox, "/statistics/cost-resume")["success"] is True


def test_lookup_formats_numbers_with_phonenumbers(sandbox: Any) -> None:
    data = post(sandbox, "/lookup", {"phoneNumbers": "0612345678,abc"})
    valid, invalid = data["lookup"]
    assert valid["success"] is True
    assert (valid["countryCode"], valid["prefixCode"], valid["type"]) == (
        "France",
        33,
        "Mobile",
    )
    assert valid["format"] == {
        "e164": "+33612345678",
        "international": "+33 6 12 34 56 78",
        "national": "06 12 34 56 78",
        "rfc3966": "tel:+33-6-12-34-56-78",
    }
    assert invalid == {
        "request": "abc",
        "success": False,
        "message": "Le numéro de téléphone est vide ou n'est pas valide.",
    }


def test_subaccount_remove_by_delete_disables_its_key(sandbox: Any) -> None:
    body = {"type": "simple", "parameters": {"creditToAttribute": 10}}
    token = post(sandbox, "/subaccount/create", body)["subaccount"]["token"]
    sub_key = get(sandbox, "/subaccount/list")["data"][0]["apiKey"]
    assert get(sandbox, "/me", apiKey=sub_key)["credits"]["balance"] == "10.000"
    assert balance(sandbox) == "49990.000"
    removed = requests.delete(
        sandbox.sms_url + "/subaccount/remove",
        json={"apiKey": sandbox.sms_api_key, "token": token},
        timeout=5,
    )
    assert removed.json() == {"success": True, "code": 200}
    assert get(sandbox, "/me", apiKey=sub_key)["code"] == 10
    assert balance(sandbox) == "50000.000"
