"""The positional XML envelope of the NDA Media APIs, read back into named values."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnerhub.providers import xmlenvelope
from partnerhub.providers.xmlenvelope import ListOf, Obj, XmlEnvelopeError, keys

WIRE = Path(__file__).parent / "fixtures" / "wire"


def _xml(name: str) -> bytes:
    return (WIRE / f"{name}.xml").read_bytes()


def test_bare_text_is_typed_and_cdata_stays_a_string() -> None:
    text = (
        "<result><entry>true</entry><entry>200</entry><entry>0.038</entry>"
        "<entry><![CDATA[307]]></entry><entry>false</entry><entry/></result>"
    )
    assert xmlenvelope.parse_entries(text) == [True, 200, 0.038, "307", False, None]


def test_mail_bulk_status_example_maps_field_for_field() -> None:
    spec = keys(
        "success code messageId",
        ("StatutResponseList", ListOf(keys("email token status cost stopMail date"))),
    )
    data = xmlenvelope.parse(_xml("mail_bulk_status"), spec)
    assert data == {
        "success": True,
        "code": 200,
        "messageId": "xxx",
        "StatutResponseList": [
            {
                "email": "email1",
                "token": "xxx",
                "status": "Delivered",
                "cost": 1,
                "stopMail": True,
                "date": "1599061044",
            },
            {
                "email": "email2",
                "token": "yyy",
                "status": "Delivered",
                "cost": 1,
                "stopMail": True,
                "date": "1599061044",
            },
        ],
    }


def test_error_envelope_uses_error_keys_whatever_the_endpoint_keys() -> None:
    data = xmlenvelope.parse(_xml("error_invalid_key"), keys("success code messageId"))
    assert data == {"success": False, "code": 10, "message": "Clé API incorrecte"}


def test_named_children_are_kept_as_a_dict() -> None:
    spec = keys(
        "success code",
        ("user", Obj(keys("username firstname lastname"))),
        ("credits", Obj(keys("creditSms creditSmsECO creditHlr toSend solde"))),
    )
    data = xmlenvelope.parse(_xml("sms_me"), spec)
    assert data["user"] == {
        "username": "john@example.fr",
        "firstname": "John",
        "lastname": "Doe",
    }
    assert data["credits"]["creditSmsECO"] == 444570
    assert data["credits"]["solde"] == "10225.119"


def test_missing_trailing_values_are_absent_and_extra_ones_dropped() -> None:
    short = "<result><entry>true</entry><entry>200</entry></result>"
    assert xmlenvelope.parse(short, keys("success code messageId")) == {
        "success": True,
        "code": 200,
    }
    assert xmlenvelope.parse(_xml("sms_send"), keys("success code")) == {
        "success": True,
        "code": 200,
    }


def test_empty_entry_where_a_list_is_expected_becomes_an_empty_list() -> None:
    text = (
        "<result><entry>true</entry><entry>200</entry><entry>0</entry><entry/></result>"
    )
    spec = keys("success code nbData", ("data", ListOf(keys("id email"))))
    assert xmlenvelope.parse(text, spec)["data"] == []


def test_single_item_list_is_still_a_list_of_objects() -> None:
    data = xmlenvelope.parse(
        _xml("mail_unsubscribe_list"),
        keys("success code nbData", ("data", ListOf(keys("id email createdAt")))),
    )
    assert data["data"] == [
        {"id": 19, "email": "+33xxxxxxxxx", "createdAt": "2015-07-20 10:19:45"}
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<result><entry>true</result>",
        "not xml at all",
        "<other><entry>true</entry></other>",
    ],
)
def test_malformed_documents_raise_xml_envelope_error(text: str) -> None:
    with pytest.raises(XmlEnvelopeError):
        xmlenvelope.parse_entries(text)


def test_doctype_and_entities_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;">]><result><entry>&b;</entry></result>'
    )
    with pytest.raises(XmlEnvelopeError):
        xmlenvelope.parse_entries(bomb)


def test_is_error_detects_the_leading_false() -> None:
    assert xmlenvelope.is_error([False, 10, "x"])
    assert not xmlenvelope.is_error([True, 200])
    assert not xmlenvelope.is_error([])
