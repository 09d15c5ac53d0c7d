"""PEC Massiva emulator: every answer checked against the official OpenAPI file."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import InvalidRequestBody

from partnerhub.sandbox.pecmassiva import PecMassivaSandbox, is_certified
from partnerhub.sandbox.pecmassiva.mailbox import outcome_plan
from partnerhub.sandbox.wire import Clock, SandboxRequest, SandboxResponse

OAS = OpenAPI.from_file_path(
    str(Path(__file__).parent / "fixtures" / "pecmassiva" / "pecmassiva.openapi.json")
)
HOST = "https://test.ws.pecmassiva.com"
BEARER = {"authorization": "Bearer demo-pecmassiva-token"}
DEMO = {**BEARER, "x-username": "demo@pecmassiva.com", "x-password": "demo-password"}
UFFICIO = {
    **BEARER,
    "x-username": "ufficio@pecmassiva.com",
    "x-password": "ufficio-password",
}
UNAUTHORIZED = {"success": False, "message": "Authorization is not valid or empty"}
INVALID_POST = {"success": False, "message": "Post parameter is not valid"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> PecMassivaSandbox:
    return PecMassivaSandbox(clock=clock, settle_seconds=20.0)


def call(
    emulator: PecMassivaSandbox,
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] = DEMO,
    raw: bytes | None = None,
    documented: bool = True,
) -> tuple[int, Any, SandboxResponse]:
    """Send one request to the emulator and validate its answer against the OAS."""
    data = (
        raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    )
    request = SandboxRequest(method, path, query or {}, dict(headers), data)
    response = emulator.handle(request)
    oas_request = MockRequest(
        HOST, method, path, args=query, headers=headers, data=data
    )
    oas_response = MockResponse(
        response.body, response.status, response.headers, response.content_type
    )
    if documented:
        OAS.validate_response(oas_request, oas_response)
    else:
        with pytest.raises(ResponseNotFound):
            OAS.validate_response(oas_request, oas_response)
    return response.status, json.loads(response.body), response


def send_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "sender": "demo@pecmassiva.com",
        "recipient": ["studio.rossi@pec.it"],
        "subject": "Diffida ad adempiere",
        "body": "<p>Con la presente <b>si diffida</b> la società…</p>",
        "username": "demo@pecmassiva.com",
        "password": "demo-password",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def send(emulator: PecMassivaSandbox, **overrides: Any) -> str:
    status, answer, _ = call(
        emulator, "POST", "/send", body=send_body(**overrides), headers=BEARER
    )
    assert status == 201, answer
    return answer["message_id"]


def subjects(emulator: PecMassivaSandbox, code: str, headers: dict = DEMO) -> list:
    status, answer, _ = call(emulator, "GET", f"/send/{code}", headers=headers)
    assert status == 200, answer
    return [item["object"].rsplit(" ", 1)[0] for item in answer["data"]]


# --- inbox --------------------------------------------------------------------------
def test_inbox_starts_with_italian_messages_newest_first(emulator):
    status, answer, _ = call(emulator, "GET", "/inbox")

    assert status == 200
    assert answer["success"] is True
    assert answer["page"] == 1
    assert answer["total"] == len(answer["data"]) == 6
    assert answer["n_of_pages"] == 1
    ids = [item["id"] for item in answer["data"]]
    assert ids == sorted(ids, reverse=True)
    assert any(i["object"].startswith("ANOMALIA MESSAGGIO:") for i in answer["data"])
    assert answer["data"][0]["object"].startswith("POSTA CERTIFICATA:")


def test_inbox_pages_hold_25_messages_and_are_one_based(emulator, clock):
    for _ in range(7):  # each send to oneself leaves 3 messages once settled
        send(emulator, recipient="demo@pecmassiva.com")
        clock.advance(1)
    clock.advance(20)

    _, first, _ = call(emulator, "GET", "/inbox", query={"page": "1"})
    _, second, _ = call(emulator, "GET", "/inbox", query={"page": "2"})
    _, beyond, _ = call(emulator, "GET", "/inbox", query={"page": "9"})

    assert first["total"] == 6 + 7 * 3
    assert (first["n_of_pages"], len(first["data"]), len(second["data"])) == (2, 25, 2)
    assert second["page"] == 2
    assert beyond["data"] == []
    first_ids = {i["id"] for i in first["data"]}
    assert first_ids.isdisjoint(i["id"] for i in second["data"])


def test_inbox_search_matches_case_insensitively(emulator):
    status, answer, _ = call(emulator, "GET", "/inbox", query={"q": "fattura"})

    assert status == 200
    assert answer["total"] == 1
    assert "Fattura n. 2024/0187" in answer["data"][0]["object"]


def test_message_body_is_form_urlencoded_and_unknown_id_is_404(emulator):
    status, answer, _ = call(emulator, "GET", "/inbox/1")
    missing, error, _ = call(emulator, "GET", "/inbox/999")

    assert status == 200
    assert "%C3%A8" in answer["data"]["body"]  # "è", UTF-8 then percent-encoded
    assert " " not in answer["data"]["body"]
    assert answer["data"]["object"].startswith("POSTA CERTIFICATA: Convocazione")
    assert (missing, error) == (404, {"success": False, "message": "Message not found"})


def test_deleting_a_message_keeps_the_other_ids(emulator):
    status, answer, _ = call(emulator, "DELETE", "/inbox/2")
    _, listing, _ = call(emulator, "GET", "/inbox")

    assert (status, answer) == (200, {"success": True, "message": "Message deleted"})
    assert [i["id"] for i in listing["data"]] == [6, 5, 4, 3, 1]


def test_mailboxes_are_separate(emulator):
    code = send(emulator)

    _, answer, _ = call(emulator, "GET", "/inbox", headers=UFFICIO)
    status, error, _ = call(emulator, "GET", f"/send/{code}", headers=UFFICIO)

    assert answer["total"] == 3
    assert (status, error) == (404, {"success": False, "message": "Result empty"})


# --- sending and receipts -----------------------------------------------------------
def test_send_answers_201_with_a_code_and_files_the_acceptance_at_once(emulator):
    status, answer, _ = call(
        emulator, "POST", "/send", body=send_body(), headers=BEARER
    )

    assert status == 201
    assert answer["success"] is True
    assert answer["sent"] == 1
    assert answer["message_id"].isdigit()
    assert subjects(emulator, answer["message_id"]) == [
        "ACCETTAZIONE: Diffida ad adempiere"
    ]


def test_receipts_settle_only_when_the_clock_passes_settle_seconds(emulator, clock):
    code = send(emulator, recipient=["studio.rossi@pec.it", "cliente@gmail.com"])

    clock.advance(19)
    before = subjects(emulator, code)
    clock.advance(1)
    after = subjects(emulator, code)

    assert before == ["ACCETTAZIONE: Diffida ad adempiere"]
    assert after == [
        "ACCETTAZIONE: Diffida ad adempiere",
        "CONSEGNA: Diffida ad adempiere",
        "AVVISO DI MANCATA CONSEGNA: Diffida ad adempiere",
    ]
    _, answer, _ = call(emulator, "GET", f"/send/{code}")
    texts = [item["message"] for item in answer["data"]]
    assert 'indirizzato a "studio.rossi@pec.it"' in texts[1]
    assert 'indirizzato a "cliente@gmail.com"' in texts[2]


def test_a_single_recipient_string_is_accepted(emulator, clock):
    code = send(emulator, recipient="ufficio@pecmassiva.com")
    clock.advance(20)

    _, inbox, _ = call(emulator, "GET", "/inbox", headers=UFFICIO)

    assert subjects(emulator, code)[-1] == "CONSEGNA: Diffida ad adempiere"
    newest = inbox["data"][0]
    assert newest["object"] == f"POSTA CERTIFICATA: Diffida ad adempiere {code}"
    assert newest["sender"] == '"Per conto di: demo@pecmassiva.com" '


@pytest.mark.parametrize(
    ("address", "certified"),
    [
        ("studio.rossi@pec.it", True),
        ("avvocato@legalmail.it", True),
        ("utente@testcert.legalmail.it", True),
        ("demo@pecmassiva.com", True),
        ("mario.rossi@gmail.com", False),
        ("contact@example.fr", False),
    ],
)
def test_certified_domain_rule(address, certified):
    assert is_certified(address) is certified


def test_an_infected_attachment_is_not_accepted(emulator, clock):
    eicar = base64.b64encode(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-TEST-FILE").decode()
    code = send(emulator, attachments=[{"name": "fattura.pdf", "file": eicar}])
    clock.advance(60)

    assert subjects(emulator, code) == [
        "AVVISO DI NON ACCETTAZIONE PER VIRUS: Diffida ad adempiere"
    ]


HOUR = 3600
TIMEOUT = "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: Diffida ad adempiere"


def items(emulator: PecMassivaSandbox, code: str) -> list[dict[str, Any]]:
    """GET /send/{code} items, each with its date read and its subject uncoded."""
    status, answer, _ = call(emulator, "GET", f"/send/{code}")
    assert status == 200, answer
    for item in answer["data"]:
        item["at"] = parsedate_to_datetime(item["data"])
        item["object"] = item["object"].removesuffix(f" {code}")
    return answer["data"]


def test_a_never_delivered_recipient_gets_the_12_h_warning_then_the_final_notice(
    emulator, clock
):
    code = send(emulator, recipient="never@pec.example.it")

    clock.advance(12 * HOUR - 1)
    before_warning = len(items(emulator, code))
    clock.advance(1)
    warned = items(emulator, code)
    clock.advance(10 * HOUR - 1)  # 22 h after the send, less a second
    before_final = len(items(emulator, code))
    clock.advance(2 * HOUR + 1)  # 24 h
    final = items(emulator, code)
    clock.advance(48 * HOUR)

    assert (before_warning, len(warned), before_final) == (1, 2, 2)
    accepted, warning, notice = final
    assert [i["object"] for i in final] == [
        "ACCETTAZIONE: Diffida ad adempiere",
        TIMEOUT,  # the 12 h and 24 h notices share their subject (spec §5.3) ...
        TIMEOUT,
    ]
    assert warning["at"] - accepted["at"] == timedelta(hours=12)
    assert timedelta(hours=22) <= notice["at"] - accepted["at"] <= timedelta(hours=24)
    # ... and differ by the body, which names the recipient as every outcome does
    assert "12 ore" in warning["message"] and "preavviso" in warning["message"]
    assert "24 ore" not in warning["message"]
    assert "24 ore" in notice["message"] and "definitivo" in notice["message"]
    assert "12 ore" not in notice["message"]
    assert "preavviso" not in notice["message"]
    for item in (warning, notice):
        assert 'indirizzato a "never@pec.example.it"' in item["message"]
        assert item["sender"] == "posta-certificata@pecmassiva.com"
    assert items(emulator, code) == final  # nothing after the final notice


def test_a_slow_recipient_gets_the_warning_then_its_delivery_and_no_final_notice(
    emulator, clock
):
    code = send(emulator, recipient=["slow@pec.example.it", "rossi@pec.example.it"])

    clock.advance(20)
    on_time = [i["object"] for i in items(emulator, code)]
    clock.advance(30 * HOUR)
    everything = items(emulator, code)

    assert on_time == [
        "ACCETTAZIONE: Diffida ad adempiere",
        "CONSEGNA: Diffida ad adempiere",
    ]
    accepted, delivered, warning, late = everything
    assert 'indirizzato a "rossi@pec.example.it"' in delivered["message"]
    assert warning["object"] == TIMEOUT and "12 ore" in warning["message"]
    assert warning["at"] - accepted["at"] == timedelta(hours=12)
    assert late["object"] == "CONSEGNA: Diffida ad adempiere"
    assert 'indirizzato a "slow@pec.example.it"' in late["message"]
    assert timedelta(hours=12) < late["at"] - accepted["at"] < timedelta(hours=22)


def test_timeout_notices_are_in_the_inbox_like_every_receipt(emulator, clock):
    code = send(emulator, recipient="never@pec.example.it")
    clock.advance(24 * HOUR)

    _, inbox, _ = call(emulator, "GET", "/inbox", query={"q": code})

    assert [i["object"] for i in inbox["data"]] == [
        f"{TIMEOUT} {code}",
        f"{TIMEOUT} {code}",
        f"ACCETTAZIONE: Diffida ad adempiere {code}",
    ]
    assert emulator.summary()["pending_sendings"] == 0


@pytest.mark.parametrize(
    ("address", "plan"),
    [
        ("rossi@pec.it", [(20.0, "delivery")]),
        ("never.rossi@gmail.com", [(20.0, "non_delivery")]),  # not PEC: at once
        ("rossi@never.pec.it", [(20.0, "delivery")]),  # the local part decides
        (
            "Never@pec.it",
            [(12 * HOUR, "timeout_warning"), (23 * HOUR, "timeout_final")],
        ),
        ("slow@pec.it", [(12 * HOUR, "timeout_warning"), (18 * HOUR, "delivery")]),
    ],
)
def test_outcome_plan_by_address(address, plan):
    assert outcome_plan(address, 20.0) == plan


def oas_send_request(body: dict[str, Any]) -> MockRequest:
    return MockRequest(
        HOST, "POST", "/send", headers=BEARER, data=json.dumps(body).encode()
    )


def test_attachments_as_array_or_object_though_the_oas_schema_says_object(
    emulator, clock
):
    """Known OAS defect (spec §7.2): the schema is one object, the example an array."""
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    one = {"name": "allegato1.png", "file": png}
    as_array, as_object = send_body(attachments=[one]), send_body(attachments=one)

    OAS.validate_request(oas_send_request(as_object))
    with pytest.raises(InvalidRequestBody) as refused:
        OAS.validate_request(oas_send_request(as_array))
    assert "is not of type 'object'" in str(refused.value.__cause__)
    assert call(emulator, "POST", "/send", body=as_array, headers=BEARER)[0] == 201
    clock.advance(1)
    assert call(emulator, "POST", "/send", body=as_object, headers=BEARER)[0] == 201


def test_the_second_send_within_one_second_is_429(emulator, clock):
    send(emulator)
    clock.advance(0.5)

    status, answer, response = call(
        emulator, "POST", "/send", body=send_body(), headers=BEARER, documented=False
    )
    clock.advance(0.5)

    assert status == 429
    assert answer["success"] is False
    assert "1 request/second" in answer["message"]
    assert response.headers["Retry-After"] == "1"
    assert send(emulator)


def test_concurrent_sends_let_exactly_one_through_per_second(emulator):
    statuses: list[int] = []

    def one() -> None:
        request = SandboxRequest(
            "POST", "/send", {}, BEARER, json.dumps(send_body()).encode()
        )
        statuses.append(emulator.handle(request).status)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [429] * 7
    assert emulator.summary()["sendings"] == 1


# --- errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong-token"},
        {**DEMO, "authorization": "Basic demo-pecmassiva-token"},
        {**DEMO, "x-password": "wrong"},
        {**DEMO, "x-username": "nobody@pecmassiva.com"},
        BEARER,
    ],
    ids=["nothing", "bad-token", "not-bearer", "bad-password", "unknown-box", "no-box"],
)
@pytest.mark.parametrize("path", ["/inbox", "/inbox/1", "/send/1", "/quota/INBOX"])
def test_bad_token_or_mailbox_credentials_answer_401(emulator, headers, path):
    status, answer, _ = call(emulator, "GET", path, headers=headers)

    assert (status, answer) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(
    "overrides",
    [{"password": "wrong"}, {"username": "nobody@pecmassiva.com"}, {"password": None}],
)
def test_send_with_bad_mailbox_credentials_answers_401(emulator, overrides):
    body = send_body(**overrides)

    status, answer, _ = call(emulator, "POST", "/send", body=body, headers=BEARER)

    assert (status, answer) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(
    "overrides",
    [
        {"recipient": None},
        {"recipient": []},
        {"recipient": ["not-an-address"]},
        {"recipient": [42]},
        {"subject": ""},
        {"body": None},
        {"sender": "someone-else@pecmassiva.com"},
        {"attachments": [{"name": "a.pdf", "file": "%%% not base64 %%%"}]},
        {"attachments": [{"file": "aGVsbG8="}]},
        {"attachments": "aGVsbG8="},
    ],
)
def test_invalid_send_answers_400(emulator, overrides):
    body = send_body(**overrides)

    status, answer, _ = call(emulator, "POST", "/send", body=body, headers=BEARER)

    assert (status, answer) == (400, INVALID_POST)


def test_a_body_that_is_not_json_answers_400(emulator):
    status, answer, _ = call(
        emulator, "POST", "/send", raw=b"recipient=x", headers=BEARER
    )

    assert (status, answer) == (400, INVALID_POST)


def test_unknown_send_code_answers_the_documented_404s(emulator):
    got, got_answer, _ = call(emulator, "GET", "/send/2020082610003492")
    deleted, deleted_answer, _ = call(emulator, "DELETE", "/send/2020082610003492")

    assert (got, got_answer) == (404, {"success": False, "message": "Result empty"})
    assert deleted == 404
    assert deleted_answer == {"success": False, "message": "Email not found"}


def test_deleting_a_send_removes_its_receipts_from_the_inbox(emulator):
    code = send(emulator)

    status, answer, _ = call(emulator, "DELETE", f"/send/{code}")
    again, _, _ = call(emulator, "GET", f"/send/{code}")

    assert (status, answer) == (
        200,
        {"success": True, "message": "Operation succefull"},
    )
    assert again == 404


# --- quota --------------------------------------------------------------------------
def test_quota_grows_with_each_send(emulator, clock):
    _, before, _ = call(emulator, "GET", "/quota/INBOX")
    attachment = base64.b64encode(b"x" * 300_000).decode()
    send(emulator, attachments=[{"name": "perizia.pdf", "file": attachment}])
    _, accepted, _ = call(emulator, "GET", "/quota/inbox")
    clock.advance(20)
    _, delivered, _ = call(emulator, "GET", "/quota/INBOX")

    assert before["data"]["limit"] == 1048576
    usages = [a["data"]["usage"] for a in (before, accepted, delivered)]
    assert usages[0] < usages[1] < usages[2]
    assert usages[2] - usages[1] >= 300_000 // 1024  # the receipt embeds the original


def test_quota_of_another_folder_answers_400(emulator):
    status, answer, _ = call(emulator, "GET", "/quota/Archivio")

    assert status == 400
    assert answer == {
        "success": False,
        "message": "An error occured: the requested mailbox might be unavailable",
    }


# --- control ------------------------------------------------------------------------
def test_reset_restores_the_seeded_mailboxes(emulator, clock):
    send(emulator)
    call(emulator, "DELETE", "/inbox/1")

    emulator.reset()
    summary = emulator.summary()

    assert summary["sendings"] == 0
    assert summary["mailboxes"]["demo@pecmassiva.com"]["messages"] == 6
    assert summary["mailboxes"]["ufficio@pecmassiva.com"]["messages"] == 3


def test_recipients_counts_accepted_sends_per_address(emulator, clock):
    send(emulator, recipient=["a@pec.it", "b@pec.it"])
    clock.advance(1)
    send(emulator, recipient="A@pec.it")

    assert emulator.recipients() == {"a@pec.it": 2, "b@pec.it": 1}


def test_summary_counts_pending_sendings(emulator, clock):
    send(emulator)

    pending = emulator.summary()["pending_sendings"]
    clock.advance(20)

    assert (pending, emulator.summary()["pending_sendings"]) == (1, 0)


def test_unknown_route_is_404(emulator):
    response = emulator.handle(SandboxRequest("GET", "/domains", {}, DEMO))

    assert response.status == 404
    assert json.loads(response.body)["success"] is False
