"""SmsPartnerClient against the wire examples of providers.md, through `responses`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from responses import matchers

from partnerhub.providers import errors
from partnerhub.providers.http import build_session
from partnerhub.providers.ndamedia import map_status
from partnerhub.providers.smspartner import STATUS_MAP, SmsMessage, SmsPartnerClient

WIRE = Path(__file__).parent / "fixtures" / "wire"
BASE = "http://127.0.0.1:9/smspartner/v1"
KEY = "secret-sms-key-4242"
PARIS = ZoneInfo("Europe/Paris")


def _wire(name: str) -> Any:
    return json.loads((WIRE / f"{name}.json").read_text(encoding="utf-8"))


def _xml(name: str) -> bytes:
    return (WIRE / f"{name}.xml").read_bytes()


def _body(index: int = 0) -> dict[str, Any]:
    return json.loads(responses.calls[index].request.body)


@pytest.fixture
def client() -> SmsPartnerClient:
    return SmsPartnerClient(base_url=BASE, api_key=KEY, session=build_session())


@pytest.fixture
def xml_client() -> SmsPartnerClient:
    return SmsPartnerClient(
        base_url=BASE, api_key=KEY, session=build_session(), response_format="xml"
    )


def _assert_me(account: Any) -> None:
    assert (account.username, account.firstname, account.lastname) == (
        "john@example.fr",
        "John",
        "Doe",
    )
    assert account.credit_sms == 269082
    assert account.credit_sms_eco == 444570
    assert account.credit_hlr == 2045023
    assert account.to_send == 0
    assert account.balance == Decimal("10225.119")


@responses.activate
def test_me_json_and_xml(
    client: SmsPartnerClient, xml_client: SmsPartnerClient
) -> None:
    responses.get(
        f"{BASE}/me",
        json=_wire("sms_me"),
        match=[matchers.query_param_matcher({"apiKey": KEY})],
    )
    _assert_me(client.me())
    responses.get(
        f"{BASE}/me",
        body=_xml("sms_me"),
        content_type="application/xml",
        match=[matchers.query_param_matcher({"apiKey": KEY, "_format": "xml"})],
    )
    me = xml_client.me()
    _assert_me(me)
    assert me.currency == "EUR"


@responses.activate
def test_me_accepts_legacy_low_cost_key(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/me", json=_wire("sms_me_legacy"))
    account = client.me()
    assert account.credit_sms_eco == 2000
    assert account.balance == Decimal("12.500")


@responses.activate
def test_send_body_and_result(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/send", json=_wire("sms_send"))
    result = client.send(
        phone_numbers=["+33600000001", " 0600000002 "],
        message='Say "hi"',
        sender="Shop",
        tag="promo",
        gamme=2,
        is_stop_sms=True,
        is_unicode=True,
        sandbox=True,
        url_dlr="https://example.fr/dlr",
        url_response="https://example.fr/mo",
        scheduled_at=datetime(2024, 1, 15, 9, 5, tzinfo=PARIS),
    )
    assert _body() == {
        "apiKey": KEY,
        "phoneNumbers": "+33600000001,0600000002",
        "message": 'Say "hi"',
        "sender": "Shop",
        "tag": "promo",
        "gamme": 2,
        "isStopSms": 1,
        "isUnicode": 1,
        "sandbox": 1,
        "urlDlr": "https://example.fr/dlr",
        "urlResponse": "https://example.fr/mo",
        "scheduledDeliveryDate": "15/01/2024",
        "time": 9,
        "minute": 5,
    }
    assert result.message_id == "307"
    assert (result.nb_sms, result.cost, result.currency) == (1, Decimal("0.038"), "EUR")
    assert result.scheduled_at is None


@responses.activate
def test_send_xml_and_scheduled_answer(
    client: SmsPartnerClient, xml_client: SmsPartnerClient
) -> None:
    responses.post(
        f"{BASE}/send", body=_xml("sms_send"), content_type="application/xml"
    )
    result = xml_client.send(phone_numbers="+33600000001", message="x")
    assert _body()["_format"] == "xml"
    assert (result.message_id, result.nb_sms, result.cost) == (
        "307",
        1,
        Decimal("0.038"),
    )
    assert result.currency == "EUR"
    responses.replace(responses.POST, f"{BASE}/send", json=_wire("sms_send_scheduled"))
    scheduled = client.send(phone_numbers="+33600000001", message="x")
    expected = datetime(2018, 8, 18, 20, 0, tzinfo=PARIS)
    assert scheduled.scheduled_at == expected


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"phone_numbers": [f"+336000{i:05d}" for i in range(501)]}, "500"),
        ({"phone_numbers": []}, "phone number"),
        ({"gamme": 3}, "gamme"),
        ({"scheduled_at": datetime(2024, 1, 1, 9, 7, tzinfo=UTC)}, "5 minutes"),
    ],
)
@responses.activate
def test_send_refuses_bad_input_before_any_call(
    client: SmsPartnerClient, kwargs: dict[str, Any], match: str
) -> None:
    args: dict[str, Any] = {"phone_numbers": "+33600000001", "message": "m", **kwargs}
    with pytest.raises(ValueError, match=match):
        client.send(**args)
    assert not responses.calls


@responses.activate
def test_bulk_send_json_and_xml(
    client: SmsPartnerClient, xml_client: SmsPartnerClient
) -> None:
    responses.post(f"{BASE}/bulk-send", json=_wire("sms_bulk_send"))
    messages = [SmsMessage("+33600000001", "a"), SmsMessage("+33600000002", "b")]
    results = [client.bulk_send(messages=messages, sender="Shop")]
    assert _body()["SMSList"] == [
        {"phoneNumber": "+33600000001", "message": "a"},
        {"phoneNumber": "+33600000002", "message": "b"},
    ]
    responses.replace(
        responses.POST,
        f"{BASE}/bulk-send",
        body=_xml("sms_bulk_send"),
        content_type="application/xml",
    )
    results.append(xml_client.bulk_send(messages=messages))
    for result in results:
        assert (result.message_id, result.nb_sms, result.currency) == (
            "2254444",
            2,
            "EUR",
        )
        assert result.cost == Decimal("0.076")
        assert [i.phone_number for i in result.items] == [
            "+33600000001",
            "+33600000002",
        ]
        assert all(i.success and i.nb_sms == 1 for i in result.items)
        assert result.items[0].cost == Decimal("0.038")


@responses.activate
def test_cancel(client: SmsPartnerClient) -> None:
    responses.get(
        f"{BASE}/message-cancel",
        json=_wire("sms_cancel"),
        match=[matchers.query_param_matcher({"apiKey": KEY, "messageId": "307"})],
    )
    assert client.cancel(message_id=307).message == "L'envoi du SMS a été annulé."


@responses.activate
def test_message_status_both_date_shapes(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/message-status", json=_wire("sms_message_status"))
    status = client.message_status(message_id="1111", phone_number="0600000000")
    assert (status.phone_number, status.message_id) == ("0600000000", "1111")
    assert (status.status, status.raw_status) == ("delivered", "Delivered")
    assert status.date == datetime(2015, 2, 7, 22, 39, 46, tzinfo=PARIS)
    assert status.stop_sms is False
    assert (status.cost, status.country_code) == (Decimal("0.045"), "FR")
    responses.replace(
        responses.GET, f"{BASE}/message-status", json=_wire("sms_message_status_unix")
    )
    unix = client.message_status(message_id="2270142", phone_number="+212600000000")
    assert unix.date == datetime.fromtimestamp(1534615206, tz=UTC)
    assert (unix.status, unix.stop_sms) == ("not_delivered", True)


@responses.activate
def test_multi_status_pairs_and_per_item_failure(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/multi-status", json=_wire("sms_multi_status"))
    ok, missing = client.multi_status(
        pairs=[("+33600000001", "111111"), ("+33600000002", 1000)]
    )
    assert _body()["SMSStatut_List"] == [
        {"phoneNumber": "+33600000001", "messageId": 111111},
        {"phoneNumber": "+33600000002", "messageId": 1000},
    ]
    assert (ok.status, ok.stop_sms, ok.is_spam, ok.success) == (
        "delivered",
        False,
        False,
        True,
    )
    assert ok.date == datetime.fromtimestamp(1517934416, tz=UTC)
    assert (missing.success, missing.code, missing.status) == (False, 4, "unknown")
    assert missing.raw_status == "Numéro introuvable"


@responses.activate
def test_bulk_status_and_by_tag(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/bulk-status", json=_wire("sms_bulk_status"))
    responses.get(
        f"{BASE}/bulk-status-by-tag",
        json=_wire("sms_bulk_status_by_tag"),
        match=[
            matchers.query_param_matcher({"apiKey": KEY, "tag": "promo", "page": "2"})
        ],
    )
    first, second = client.bulk_status(message_id="111")
    assert (first.message_id, first.status, first.stop_sms) == (
        "111",
        "delivered",
        False,
    )
    assert (second.status, second.stop_sms) == ("pending", True)
    page = client.bulk_status_by_tag(tag="promo", page=2)
    assert (page.current_page, page.total) == (1, 2)
    assert [s.status for s in page.items] == ["delivered", "failed"]


@responses.activate
def test_cost_resume(client: SmsPartnerClient) -> None:
    responses.get(
        f"{BASE}/statistics/cost-resume",
        json=_wire("sms_cost_resume"),
        match=[
            matchers.query_param_matcher(
                {
                    "apiKey": KEY,
                    "interval": "custom",
                    "from": "01-10-2021",
                    "to": "31-10-2021",
                }
            )
        ],
    )
    (period,) = client.cost_resume(
        interval="custom", date_from=date(2021, 10, 1), date_to=date(2021, 10, 31)
    )
    assert (period.month, period.year, period.month_number) == ("october", 2021, 10)
    assert (period.cost, period.nb_send) == (Decimal("49.174"), 1210)
    assert period.start == datetime.fromtimestamp(1633039200, tz=UTC)
    with pytest.raises(ValueError, match="date_from"):
        client.cost_resume(interval="custom")
    with pytest.raises(ValueError, match="interval"):
        client.cost_resume(interval="yesterday")


@responses.activate
def test_stop_list_add_delete(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/stop-sms/list", json=_wire("sms_stop_list"))
    responses.post(f"{BASE}/stop-sms/add", json=_wire("sms_stop_add"))
    responses.get(
        f"{BASE}/stop-sms/delete",
        json=_wire("sms_empty_success"),
        match=[matchers.query_param_matcher({"apiKey": KEY, "id": "19"})],
    )
    (entry,) = client.stop_list()
    assert (entry.id, entry.phone_number) == (19, "+33600000000")
    assert entry.created_at == datetime(2015, 7, 20, 10, 19, 45, tzinfo=PARIS)
    assert client.stop_add(phone_number="+33600000000") == 300
    assert _body(1) == {"apiKey": KEY, "phoneNumber": "+33600000000"}
    assert client.stop_delete(entry_id=19) is None


@responses.activate
def test_subaccount_remove_is_delete_with_json_body(client: SmsPartnerClient) -> None:
    responses.delete(f"{BASE}/subaccount/remove", json=_wire("sms_empty_success"))
    client.subaccount_remove(token="sub-token-1")
    assert _body() == {"apiKey": KEY, "token": "sub-token-1"}
    responses.replace(
        responses.DELETE,
        f"{BASE}/subaccount/remove",
        status=404,
        json={"success": False, "code": 404, "message": "not found"},
    )
    with pytest.raises(errors.NotFound):
        client.subaccount_remove(token="gone")


@responses.activate
def test_subaccount_list_and_credit(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/subaccount/list", json=_wire("subaccount_list"))
    responses.post(f"{BASE}/subaccount/credit/add", json=_wire("subaccount_credit"))
    assert client.subaccount_list().items[0].token == "sub-token-1"
    moved = client.subaccount_credit_add(token="sub-token-1", credit=Decimal(5))
    assert moved.subaccount_credit == Decimal("61.8")
    with pytest.raises(ValueError, match="positive"):
        client.subaccount_credit_remove(token="sub-token-1", credit=Decimal(0))


@responses.activate
def test_lookup(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/lookup", json=_wire("sms_lookup"))
    ok, bad = client.lookup(phone_numbers=["33600000000", "123"])
    assert _body()["phoneNumbers"] == "33600000000,123"
    assert (ok.success, ok.phone_number, ok.country, ok.prefix_code) == (
        True,
        "+33600000000",
        "France",
        33,
    )
    assert (ok.type, ok.e164, ok.national) == (
        "Mobile",
        "+33600000000",
        "06 00 00 00 00",
    )
    assert (bad.success, bad.request) == (False, "123")
    assert bad.message.startswith("Le numéro de téléphone")


# --- errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, errors.InvalidApiKey),
        (2, errors.InvalidRequest),
        (10, errors.InvalidApiKey),
        (11, errors.InsufficientCredits),
        (14, errors.AddressUnsubscribed),
        (13, errors.InvalidAddress),
        (20, errors.AccessDenied),
        (22, errors.QuietHours),
        (23, errors.QuietHours),
        (42, errors.InvalidRequest),
        (48, errors.InvalidRequest),
        (52, errors.InvalidRequest),
        (96, errors.AccessDenied),
        (992, errors.InvalidRequest),
        (500, errors.ProviderBusy),
    ],
)
@responses.activate
def test_send_error_codes(
    client: SmsPartnerClient, code: int, expected: type[Exception]
) -> None:
    responses.post(
        f"{BASE}/send", json={"success": False, "code": code, "message": "no"}
    )
    with pytest.raises(expected) as info:
        client.send(phone_numbers="+33600000001", message="m")
    assert type(info.value) is expected
    assert info.value.code == code


@pytest.mark.parametrize(
    "fixture", ["sms_send_validation_errors", "sms_send_validation_error_key"]
)
@responses.activate
def test_validation_errors_under_both_keys(
    client: SmsPartnerClient, fixture: str
) -> None:
    responses.post(f"{BASE}/send", json=_wire(fixture))
    with pytest.raises(errors.InvalidRequest) as info:
        client.send(phone_numbers="+33600000001", message="m")
    assert info.value.code == 9
    items = _wire(fixture).get("errors") or _wire(fixture)["error"]
    assert info.value.details == items
    assert items[0]["message"] in str(info.value)


@responses.activate
def test_validation_errors_in_xml(xml_client: SmsPartnerClient) -> None:
    responses.post(
        f"{BASE}/send",
        body=_xml("sms_send_validation_errors"),
        content_type="application/xml",
    )
    with pytest.raises(errors.InvalidRequest) as info:
        xml_client.send(phone_numbers="+33600000001", message="m")
    assert info.value.details == [
        {"elementId": "children[message].data", "message": "Le message est requis"}
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (4, errors.NotFound),
        (5, errors.AlreadyCancelled),
        (6, errors.TooLateToCancel),
        (7, errors.AlreadySent),
    ],
)
@responses.activate
def test_cancel_error_codes(
    client: SmsPartnerClient, code: int, expected: type[Exception]
) -> None:
    responses.get(f"{BASE}/message-cancel", json={"success": False, "code": code})
    with pytest.raises(expected):
        client.cancel(message_id=1)


@responses.activate
def test_stop_add_codes(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/stop-sms/add", json={"success": False, "code": 3})
    with pytest.raises(errors.AlreadyExists):
        client.stop_add(phone_number="+33600000000")
    responses.replace(
        responses.POST, f"{BASE}/stop-sms/add", json={"success": False, "code": 9}
    )
    with pytest.raises(errors.InvalidAddress):
        client.stop_add(phone_number="nope")


@responses.activate
def test_http_400_with_html_body_is_invalid_request(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/send", status=400, body="<h1>Bad Request</h1>")
    with pytest.raises(errors.InvalidRequest):
        client.send(phone_numbers="+33600000001", message="m")


@responses.activate
def test_http_429_500_and_lost_answer(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/me", status=429, json={"success": False, "code": 429})
    with pytest.raises(errors.RateLimited):
        client.me()
    responses.post(f"{BASE}/send", status=503, body="Service unavailable")
    with pytest.raises(errors.ProviderUnavailable):
        client.send(phone_numbers="+33600000001", message="m")
    responses.replace(responses.POST, f"{BASE}/send", status=502, body="Bad gateway")
    with pytest.raises(errors.UnknownOutcome):
        client.send(phone_numbers="+33600000001", message="m")
    responses.replace(responses.POST, f"{BASE}/send", status=504, body="")
    with pytest.raises(errors.UnknownOutcome):
        client.send(phone_numbers="+33600000001", message="m")
    responses.replace(
        responses.POST, f"{BASE}/send", body=requests.ReadTimeout("read timed out")
    )
    with pytest.raises(errors.UnknownOutcome):
        client.send(phone_numbers="+33600000001", message="m")


@responses.activate
def test_500_with_error_body_is_typed(client: SmsPartnerClient) -> None:
    responses.post(f"{BASE}/send", status=500, json={"success": False, "code": 11})
    with pytest.raises(errors.InsufficientCredits) as info:
        client.send(phone_numbers="+33600000001", message="m")
    assert info.value.status == 500


@responses.activate
def test_read_timeout_on_get_is_provider_timeout(client: SmsPartnerClient) -> None:
    client.session = build_session(read_retries=0)
    responses.get(f"{BASE}/me", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(errors.ProviderTimeout):
        client.me()


@responses.activate
def test_get_retried_on_503_post_not(client: SmsPartnerClient) -> None:
    responses.get(f"{BASE}/bulk-status", status=503)
    responses.get(f"{BASE}/bulk-status", json=_wire("sms_bulk_status"))
    assert len(client.bulk_status(message_id="111")) == 2
    assert len(responses.calls) == 2
    responses.post(f"{BASE}/lookup", status=503)
    with pytest.raises(errors.ProviderUnavailable):
        client.lookup(phone_numbers="+33600000000")
    assert len(responses.calls) == 3


@responses.activate
def test_key_never_leaks(
    client: SmsPartnerClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partnerhub.providers")
    responses.get(f"{BASE}/stop-sms/list", json=_wire("sms_stop_list"))
    responses.post(
        f"{BASE}/send", json={"success": False, "code": 10, "message": f"bad key {KEY}"}
    )
    responses.get(f"{BASE}/me", body=requests.ConnectionError(f"reset ?apiKey={KEY}"))
    client.stop_list()
    caught = []
    for call in (
        lambda: client.send(phone_numbers="+33600000001", message="m"),
        client.me,
    ):
        with pytest.raises(errors.ProviderError) as info:
            call()
        caught.append(info.value)
    for text in [repr(client), caplog.text] + [f"{e} {e!r}" for e in caught]:
        assert KEY not in text
    assert "stop-sms/list?apiKey=***" in caplog.text


def test_status_map_covers_documented_values() -> None:
    expected = {
        "Delivered": "delivered",
        "Not delivered": "not_delivered",
        "Waiting": "pending",
        "ko": "failed",
        "DELIVRD": "delivered",
        "UNDELIV": "not_delivered",
        "ACCEPTD": "accepted",
        "ENROUTE": "pending",
        "EXPIRED": "not_delivered",
        "REJECTD": "failed",
        "UNKNOWN": "unknown",
        "PENDING": "pending",
        "brand new": "unknown",
    }
    assert {raw: map_status(raw, STATUS_MAP) for raw in expected} == expected
