"""MailPartnerClient against the wire examples of providers.md, through `responses`.

`responses` patches the adapter, so the session's retry and timeout adapter stay in
the path: a GET retried on 503 here is retried the same way in production.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
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
from partnerhub.providers.mailpartner import (
    STATUS_MAP,
    MailPartnerClient,
    MailRecipient,
)

WIRE = Path(__file__).parent / "fixtures" / "wire"
BASE = "http://127.0.0.1:9/mailpartner/v1"
KEY = "secret-mail-key-4242"


def _wire(name: str) -> Any:
    return json.loads((WIRE / f"{name}.json").read_text(encoding="utf-8"))


def _xml(name: str) -> bytes:
    return (WIRE / f"{name}.xml").read_bytes()


@pytest.fixture
def client() -> MailPartnerClient:
    return MailPartnerClient(base_url=BASE, api_key=KEY, session=build_session())


@pytest.fixture
def xml_client() -> MailPartnerClient:
    return MailPartnerClient(
        base_url=BASE, api_key=KEY, session=build_session(), response_format="xml"
    )


def _body(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


# --- success examples ----------------------------------------------------------
@responses.activate
def test_me_reads_credits_and_sends_key_in_query(client: MailPartnerClient) -> None:
    responses.get(
        f"{BASE}/me",
        json=_wire("mail_me"),
        match=[matchers.query_param_matcher({"apiKey": KEY})],
    )
    account = client.me()
    assert account.username == "john@example.fr"
    assert account.credit_mail == 269082
    assert account.balance == Decimal("10225.119")
    assert account.currency == "EUR"


@responses.activate
def test_send_posts_documented_body_and_parses_answer(
    client: MailPartnerClient,
) -> None:
    responses.post(f"{BASE}/send", json=_wire("mail_send"))
    result = client.send(
        recipients=[
            MailRecipient("a@example.fr", "Ann"),
            MailRecipient("b@example.fr"),
        ],
        subject="Hello",
        html="<p>Hi #FIRSTNAME#</p>",
        text="Hi",
        sender_email="news@example.fr",
        sender_name="News",
        reply_to="reply@example.fr",
        variables={"firstname": "Ann"},
        tag="promo",
        sandbox=True,
    )
    body = _body(responses.calls[0])
    assert body["apiKey"] == KEY
    assert body["subject"] == "Hello"
    assert body["htmlContent"] == "<p>Hi #FIRSTNAME#</p>"
    assert body["params"] == {
        "to": [{"email": "a@example.fr", "name": "Ann"}, {"email": "b@example.fr"}]
    }
    assert body["from"] == {"email": "news@example.fr", "name": "News"}
    assert body["replyTo"] == {"email": "reply@example.fr"}
    assert body["variables"] == {"firstname": "Ann"}
    assert body["tag"] == "promo"
    assert body["sandbox"] == 1
    assert "_format" not in body
    assert result.message_id == "xxx"
    assert result.nb_mail == 1
    assert result.cost == Decimal(1)
    assert result.currency == "EUR"
    paris = datetime(2020, 9, 25, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert result.scheduled_at == paris.astimezone(UTC)


@responses.activate
def test_send_schedule_is_converted_to_paris_fields(client: MailPartnerClient) -> None:
    responses.post(f"{BASE}/send", json=_wire("mail_send"))
    when = datetime(2024, 7, 1, 18, 35, tzinfo=UTC)  # 20:35 in Paris (summer)
    client.send(
        recipients=[MailRecipient("a@example.fr")],
        subject="s",
        html="h",
        scheduled_at=when,
    )
    body = _body(responses.calls[0])
    assert body["scheduledDeliveryDate"] == "01/07/2024"
    assert (body["time"], body["minute"]) == (20, 35)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recipients": [MailRecipient(f"{i}@x.fr") for i in range(501)]}, "500"),
        ({"recipients": []}, "recipient"),
        ({"scheduled_at": datetime(2024, 7, 1, 18, 33, tzinfo=UTC)}, "5 minutes"),
        ({"scheduled_at": datetime(2024, 7, 1, 18, 35)}, "aware"),
        ({"variables": {f"v{i}": "x" for i in range(9)}}, "variables"),
    ],
)
@responses.activate
def test_send_refuses_bad_input_before_any_call(
    client: MailPartnerClient, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {
        "recipients": [MailRecipient("a@x.fr")],
        "subject": "s",
        "html": "h",
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        client.send(**args)
    assert len(responses.calls) == 0


@responses.activate
def test_cancel_reads_message(client: MailPartnerClient) -> None:
    responses.get(
        f"{BASE}/message-cancel",
        json=_wire("mail_cancel"),
        match=[matchers.query_param_matcher({"apiKey": KEY, "messageId": "abc"})],
    )
    result = client.cancel(message_id="abc")
    assert result.message_id == "abc"
    assert result.message == "The email has been canceled."


def _assert_bulk_status(statuses: list[Any]) -> None:
    assert [s.email for s in statuses] == ["email1", "email2"]
    assert [s.token for s in statuses] == ["xxx", "yyy"]
    first = statuses[0]
    assert first.status == "delivered"
    assert first.raw_status == "Delivered"
    assert first.cost == Decimal(1)
    assert first.stop_mail is True
    assert first.date == datetime.fromtimestamp(1599061044, tz=UTC)


@responses.activate
def test_bulk_status_json(client: MailPartnerClient) -> None:
    responses.get(f"{BASE}/bulk-status", json=_wire("mail_bulk_status"))
    _assert_bulk_status(client.bulk_status(message_id="xxx"))


@responses.activate
def test_bulk_status_xml_sends_format_and_parses_positional_answer(
    xml_client: MailPartnerClient,
) -> None:
    responses.get(
        f"{BASE}/bulk-status",
        body=_xml("mail_bulk_status"),
        content_type="application/xml",
        match=[
            matchers.query_param_matcher(
                {"apiKey": KEY, "messageId": "xxx", "_format": "xml"}
            )
        ],
    )
    _assert_bulk_status(xml_client.bulk_status(message_id="xxx"))


@responses.activate
def test_unsubscribe_add_list_delete(client: MailPartnerClient) -> None:
    responses.post(f"{BASE}/unsubscribe/add", json=_wire("mail_unsubscribe_add"))
    responses.get(f"{BASE}/unsubscribe/list", json=_wire("mail_unsubscribe_list"))
    responses.get(
        f"{BASE}/unsubscribe/delete",
        json=_wire("mail_unsubscribe_delete"),
        match=[matchers.query_param_matcher({"apiKey": KEY, "id": "19"})],
    )
    assert client.unsubscribe_add(email="xxx@www.com") == 300
    assert _body(responses.calls[0]) == {"apiKey": KEY, "email": "xxx@www.com"}
    (entry,) = client.unsubscribe_list()
    assert (entry.id, entry.email) == (19, "xxx@www.com")
    paris = datetime(2015, 7, 20, 10, 19, 45, tzinfo=ZoneInfo("Europe/Paris"))
    assert entry.created_at == paris
    assert entry.created_at.tzinfo == UTC
    assert client.unsubscribe_delete(entry_id=19) is None


@responses.activate
def test_unsubscribe_list_xml(xml_client: MailPartnerClient) -> None:
    responses.get(
        f"{BASE}/unsubscribe/list",
        body=_xml("mail_unsubscribe_list"),
        content_type="application/xml",
    )
    (entry,) = xml_client.unsubscribe_list()
    assert (entry.id, entry.email) == (19, "+33xxxxxxxxx")


@responses.activate
def test_subaccounts(client: MailPartnerClient) -> None:
    responses.post(f"{BASE}/subaccount/create", json=_wire("subaccount_create"))
    responses.get(f"{BASE}/subaccount/list", json=_wire("subaccount_list"))
    responses.post(f"{BASE}/subaccount/credit/add", json=_wire("subaccount_credit"))
    responses.post(
        f"{BASE}/subaccount/credit/remove", json=_wire("subaccount_credit_go")
    )
    created = client.subaccount_create(account_type="simple", firstname="Jo")
    assert (created.email, created.token) == ("9875587@mailpartner.fr", "sub-token-1")
    assert created.parent_email == "boss@example.fr"
    assert _body(responses.calls[0])["parameters"] == {"firstname": "Jo"}
    page = client.subaccount_list(page=1)
    assert (page.total, page.per_page, page.page) == (29, 20, 1)
    (sub,) = page.items
    assert sub.balance == Decimal("0.800")
    assert sub.api_key == "sub-secret-api-key"
    assert "sub-secret-api-key" not in repr(sub)
    added = client.subaccount_credit_add(token="sub-token-1", credit=Decimal("10.5"))
    assert _body(responses.calls[2])["tokenSubaccount"] == "sub-token-1"
    assert _body(responses.calls[2])["credit"] == 10.5
    assert (added.credit, added.subaccount_credit) == (
        Decimal("2869.2"),
        Decimal("61.8"),
    )
    removed = client.subaccount_credit_remove(token="sub-token-1", credit=Decimal(1))
    assert removed.credit == Decimal("2869.2")  # GO SDK spelling `total`


# --- errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, errors.InvalidApiKey),
        (10, errors.InvalidApiKey),
        (11, errors.InsufficientCredits),
        (14, errors.AddressUnsubscribed),
        (17, errors.InvalidRequest),
        (19, errors.InvalidAddress),
        (20, errors.AccessDenied),
        (30, errors.AccessDenied),
        (40, errors.AccessDenied),
        (48, errors.InvalidRequest),
        (96, errors.AccessDenied),
        (429, errors.RateLimited),
        (777, errors.ProviderAPIError),
    ],
)
@responses.activate
def test_send_error_codes_map_to_types(
    client: MailPartnerClient, code: int, expected: type[Exception]
) -> None:
    responses.post(
        f"{BASE}/send", json={"success": False, "code": code, "message": "refused"}
    )
    with pytest.raises(expected) as info:
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")
    assert type(info.value) is expected
    assert info.value.code == code
    assert info.value.provider == "mailpartner"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (3, errors.InvalidRequest),
        (4, errors.NotFound),
        (5, errors.AlreadyCancelled),
        (6, errors.TooLateToCancel),
        (7, errors.AlreadySent),
    ],
)
@responses.activate
def test_cancel_error_codes_map_to_types(
    client: MailPartnerClient, code: int, expected: type[Exception]
) -> None:
    responses.get(f"{BASE}/message-cancel", json={"success": False, "code": code})
    with pytest.raises(expected):
        client.cancel(message_id="m1")


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        ("unsubscribe/add", 3, errors.AlreadyExists),
        ("unsubscribe/add", 9, errors.InvalidAddress),
        ("subaccount/create", 7, errors.AlreadyExists),
        ("subaccount/credit/add", 8, errors.InsufficientCredits),
        ("subaccount/credit/add", 7, errors.NotFound),
    ],
)
@responses.activate
def test_operation_specific_codes(
    client: MailPartnerClient, path: str, code: int, expected: type[Exception]
) -> None:
    responses.post(f"{BASE}/{path}", json={"success": False, "code": code})
    with pytest.raises(expected):
        if path == "unsubscribe/add":
            client.unsubscribe_add(email="a@x.fr")
        elif path == "subaccount/create":
            client.subaccount_create(email="a@x.fr")
        else:
            client.subaccount_credit_add(token="t", credit=Decimal(1))


@responses.activate
def test_bulk_status_not_found_code(client: MailPartnerClient) -> None:
    responses.get(f"{BASE}/bulk-status", json={"success": False, "code": 4})
    with pytest.raises(errors.NotFound):
        client.bulk_status(message_id="nope")


@responses.activate
def test_invalid_key_error_json_and_xml(
    client: MailPartnerClient, xml_client: MailPartnerClient
) -> None:
    responses.get(f"{BASE}/me", json=_wire("error_invalid_key"))
    with pytest.raises(errors.InvalidApiKey, match="Clé API incorrecte"):
        client.me()
    responses.replace(
        responses.GET,
        f"{BASE}/me",
        body=_xml("error_invalid_key"),
        content_type="application/xml",
    )
    with pytest.raises(errors.InvalidApiKey) as info:
        xml_client.me()
    assert info.value.code == 10
    assert info.value.message == "Clé API incorrecte"


@responses.activate
def test_http_429_is_rate_limited_with_retry_after(client: MailPartnerClient) -> None:
    responses.post(
        f"{BASE}/send", status=429, body="slow down", headers={"Retry-After": "7"}
    )
    with pytest.raises(errors.RateLimited) as info:
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")
    assert info.value.retry_after == 7.0
    assert info.value.status == 429


@responses.activate
def test_http_500_without_body_is_ambiguous_for_a_send(
    client: MailPartnerClient,
) -> None:
    """An HTML 500 page may come after the send was queued: never re-sent blindly."""
    responses.post(f"{BASE}/send", status=500, body="<html>oops</html>")
    with pytest.raises(errors.UnknownOutcome):
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")
    client.session = build_session(read_retries=0)
    responses.get(f"{BASE}/me", status=500, body="<html>oops</html>")
    with pytest.raises(errors.ProviderUnavailable):
        client.me()


@responses.activate
def test_malformed_json_read_is_malformed_response(client: MailPartnerClient) -> None:
    responses.get(f"{BASE}/me", body="{not json", content_type="application/json")
    with pytest.raises(errors.MalformedResponse):
        client.me()


@responses.activate
def test_malformed_2xx_after_send_is_unknown_outcome(client: MailPartnerClient) -> None:
    responses.post(f"{BASE}/send", body="{trunc", content_type="application/json")
    with pytest.raises(errors.UnknownOutcome):
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")


@responses.activate
def test_connection_lost_after_send_is_unknown_outcome(
    client: MailPartnerClient,
) -> None:
    responses.post(
        f"{BASE}/send", body=requests.ConnectionError("Connection reset by peer")
    )
    with pytest.raises(errors.UnknownOutcome):
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")


@responses.activate
def test_get_is_retried_on_503_but_post_is_not(client: MailPartnerClient) -> None:
    responses.get(f"{BASE}/me", status=503)
    responses.get(f"{BASE}/me", json=_wire("mail_me"))
    assert client.me().credit_mail == 269082
    assert len(responses.calls) == 2
    responses.post(f"{BASE}/send", status=503)
    responses.post(f"{BASE}/send", json=_wire("mail_send"))
    with pytest.raises(errors.ProviderUnavailable):
        client.send(recipients=[MailRecipient("a@x.fr")], subject="s", html="h")
    assert len(responses.calls) == 3


@responses.activate
def test_key_never_in_logs_exceptions_or_repr(
    client: MailPartnerClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="partnerhub.providers")
    responses.get(f"{BASE}/me", json=_wire("mail_me"))
    responses.get(f"{BASE}/bulk-status", json={"success": False, "code": 10})
    responses.get(
        f"{BASE}/unsubscribe/list", body=requests.ConnectionError(f"boom apiKey={KEY}")
    )
    client.me()
    texts = [repr(client), str(client)]
    with pytest.raises(errors.InvalidApiKey) as api_error:
        client.bulk_status(message_id="1")
    with pytest.raises(errors.TransportError) as transport:
        client.unsubscribe_list()
    texts += [str(api_error.value), repr(api_error.value)]
    texts += [str(transport.value), repr(transport.value), caplog.text]
    assert "/me?apiKey=***" in caplog.text
    for text in texts:
        assert KEY not in text


def test_status_map_is_case_insensitive_with_unknown_fallback() -> None:
    from partnerhub.providers.ndamedia import map_status

    assert map_status("Delivered", STATUS_MAP) == "delivered"
    assert map_status("NOT DELIVERED", STATUS_MAP) == "not_delivered"
    assert map_status("something new", STATUS_MAP) == "unknown"
    assert set(STATUS_MAP.values()) <= {
        "pending",
        "accepted",
        "delivered",
        "not_delivered",
        "failed",
        "unknown",
    }


def test_bad_response_format_is_refused() -> None:
    with pytest.raises(ValueError, match="response_format"):
        MailPartnerClient(base_url=BASE, api_key=KEY, response_format="yaml")


@responses.activate
def test_bulk_status_converts_repeated_values_alike_and_any_date_shape(
    client: MailPartnerClient,
) -> None:
    """Repeated (status, cost, date) values are converted once per list; an item
    whose date is an object (unhashable) is converted all the same."""
    item = {"status": "Delivered", "cost": "1,5", "stopMail": 0, "date": "1599061044"}
    items = [
        {**item, "email": "a@x.fr", "token": "1"},
        {**item, "email": "b@x.fr", "token": "2"},
        {**item, "email": "c@x.fr", "status": "bounced", "stopMail": "1"},
        {**item, "email": "d@x.fr", "date": {"date": "2020-09-02 17:37:24"}},
    ]
    responses.get(
        f"{BASE}/bulk-status", json={"success": True, "StatutResponseList": items}
    )
    a, b, c, d = client.bulk_status(message_id="xxx")
    assert (a.email, b.email, b.token) == ("a@x.fr", "b@x.fr", "2")
    assert a.status == b.status == "delivered" and a.cost == b.cost == Decimal("1.5")
    assert (c.status, c.raw_status, c.stop_mail, c.cost) == (
        "not_delivered",
        "bounced",
        True,
        Decimal("1.5"),
    )
    assert a.stop_mail is False
    assert d.date == a.date == datetime.fromtimestamp(1599061044, tz=UTC)
