"""Quiet hours of marketing sends at the SMS and Mail Partner emulators
(providers.md §1 "Quiet hours", §2.20 codes 22/23, §7 item 9).

The sandbox clock is set to the moment each test needs (it runs on from there),
so nothing here depends on the hour the suite runs at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from partnerhub.sandbox.quiet_hours import public_holidays, quiet_reason, release_time
from partnerhub.sandbox.state import SandboxConfig

PARIS = ZoneInfo("Europe/Paris")
HOUR_REFUSAL = "Envoi marketing : l'heure d'envoi doit être comprise entre 8h et 22h"
DAY_REFUSAL = "Envoi marketing : pas d'envoi le dimanche ni les jours fériés"


def paris(*fields: int) -> float:
    return datetime(*fields, tzinfo=PARIS).timestamp()


TUESDAY_21H = paris(2026, 3, 10, 21, 0)
WEDNESDAY_8H = paris(2026, 3, 11, 8, 0)


@pytest.fixture
def quiet(sandbox: Any) -> Any:
    """The shared sandbox with the rule on, as the providers run it."""
    sandbox.quiet_hours(True)
    return sandbox


def sms_send(box: Any, path: str = "/send", **extra: Any) -> requests.Response:
    body: dict[str, Any] = {"apiKey": box.sms_api_key, **extra}
    if path == "/send":
        body.update(phoneNumbers="0600000001", message="Soldes")
    else:
        body["SMSList"] = [{"phoneNumber": "0600000001", "message": "Soldes"}]
    return requests.post(box.sms_url + path, json=body, timeout=5)


def sms_status(box: Any, message_id: int) -> tuple[str, int]:
    params = {"apiKey": box.sms_api_key, "messageId": message_id}
    answer = requests.get(box.sms_url + "/bulk-status", params=params, timeout=5)
    row = answer.json()["StatutResponse_List"][0]
    return row["status"], int(row["date"])


def mail_send(box: Any, **extra: Any) -> requests.Response:
    body = {
        "apiKey": box.mail_api_key,
        "subject": "Soldes",
        "htmlContent": "<p>Soldes</p>",
        "params": {"to": [{"email": "zoe@example.fr"}]},
        **extra,
    }
    return requests.post(box.mail_url + "/send", json=body, timeout=5)


def mail_status(box: Any, message_id: str) -> tuple[str, int]:
    params = {"apiKey": box.mail_api_key, "messageId": message_id}
    answer = requests.get(box.mail_url + "/bulk-status", params=params, timeout=5)
    row = answer.json()["StatutResponseList"][0]
    return row["status"], int(row["date"])


def schedule(*fields: int) -> dict[str, Any]:
    """The `scheduledDeliveryDate`/`time`/`minute` triple for a Paris time."""
    year, month, day, hour, minute = fields
    return {
        "scheduledDeliveryDate": f"{day:02d}/{month:02d}/{year}",
        "time": hour,
        "minute": minute,
    }


def sms_balance(box: Any) -> str:
    params = {"apiKey": box.sms_api_key}
    answer = requests.get(box.sms_url + "/me", params=params, timeout=5)
    return str(answer.json()["credits"]["balance"])


# --- the rule ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("handed_over", "released"),
    [
        ((2026, 3, 10, 21, 0), (2026, 3, 11, 8, 0)),  # Tuesday evening
        ((2026, 3, 10, 20, 0), (2026, 3, 11, 8, 0)),  # 20:00 is already quiet
        ((2026, 3, 11, 7, 59), (2026, 3, 11, 8, 0)),  # before 08:00: same morning
        ((2026, 3, 14, 20, 30), (2026, 3, 16, 8, 0)),  # Saturday night: not Sunday
        ((2026, 3, 15, 12, 0), (2026, 3, 16, 8, 0)),  # Sunday noon
        ((2026, 7, 14, 10, 0), (2026, 7, 15, 8, 0)),  # 14 July, a Tuesday
        ((2026, 4, 4, 22, 0), (2026, 4, 7, 8, 0)),  # Easter Sunday, Easter Monday
        ((2026, 3, 28, 21, 0), (2026, 3, 30, 8, 0)),  # over the switch to summer time
    ],
)
def test_a_quiet_send_is_released_at_8h_on_the_next_working_day(
    handed_over: tuple[int, ...], released: tuple[int, ...]
) -> None:
    assert release_time(paris(*handed_over)) == paris(*released)


@pytest.mark.parametrize(
    "at",
    [(2026, 3, 10, 8, 0), (2026, 3, 10, 19, 59), (2026, 3, 14, 15, 0)],  # Sat. too
)
def test_working_hours_leave_at_once(at: tuple[int, ...]) -> None:
    assert quiet_reason(paris(*at)) is None
    assert release_time(paris(*at)) == paris(*at)


def test_public_holidays_include_the_three_that_follow_easter() -> None:
    spring_2024 = {d for d in public_holidays(2024) if 3 <= d.month <= 6}
    assert spring_2024 == {
        date(2024, 4, 1),  # Easter Monday (Easter on 31 March)
        date(2024, 5, 1),
        date(2024, 5, 8),
        date(2024, 5, 9),  # Ascension
        date(2024, 5, 20),  # Whit Monday
    }
    assert len(public_holidays(2026)) == 11
    assert date(2026, 7, 14) in public_holidays(2026)


# --- queued, then released --------------------------------------------------------
def test_sms_at_21h_on_a_tuesday_waits_until_8h_on_wednesday(quiet: Any) -> None:
    quiet.set_clock(TUESDAY_21H)
    sent = sms_send(quiet)
    assert sent.status_code == 200 and sent.json()["success"] is True
    assert "scheduledDeliveryDate" not in sent.json()
    message_id = sent.json()["message_id"]
    quiet.set_clock(WEDNESDAY_8H - 60)
    assert sms_status(quiet, message_id)[0] == "Waiting"
    settle = quiet.settle_seconds
    quiet.set_clock(WEDNESDAY_8H + settle / 2)  # settling starts at the release
    assert sms_status(quiet, message_id)[0] == "Waiting"
    quiet.set_clock(WEDNESDAY_8H + settle + 5)
    assert sms_status(quiet, message_id) == ("Delivered", WEDNESDAY_8H + settle)


def waits_until(
    quiet: Any, released: float, status: Callable[[], tuple[str, Any]]
) -> tuple[str, tuple[str, Any]]:
    """The status word a minute before `released`, then the whole status once
    the settle delay after it is over."""
    quiet.set_clock(released - 60)
    before = status()[0]
    quiet.set_clock(released + quiet.settle_seconds + 5)
    return before, status()


def test_mail_on_a_sunday_is_pending_until_8h_on_monday(quiet: Any) -> None:
    quiet.set_clock(paris(2026, 3, 15, 11, 0))
    message_id = mail_send(quiet).json()["messageId"]
    monday = paris(2026, 3, 16, 8, 0)
    status = waits_until(quiet, monday, lambda: mail_status(quiet, message_id))
    assert status == ("Pending", ("Delivered", monday + quiet.settle_seconds))


def test_sms_on_14_july_waits_until_the_15th(quiet: Any) -> None:
    quiet.set_clock(paris(2026, 7, 14, 15, 0))
    message_id = sms_send(quiet).json()["message_id"]
    released = paris(2026, 7, 15, 8, 0)
    before, after = waits_until(quiet, released, lambda: sms_status(quiet, message_id))
    assert (before, after[0]) == ("Waiting", "Delivered")


def test_a_send_in_working_hours_settles_as_before(quiet: Any) -> None:
    sent_at = paris(2026, 3, 10, 10, 0)
    quiet.set_clock(sent_at)
    message_id = sms_send(quiet).json()["message_id"]
    quiet.set_clock(sent_at + quiet.settle_seconds + 5)
    assert sms_status(quiet, message_id) == (
        "Delivered",
        sent_at + quiet.settle_seconds,
    )


def test_an_account_support_released_is_not_held(quiet: Any) -> None:
    shown = quiet.quiet_hours(False, provider="sms")
    assert shown["sms"] == {"demo@partnerhub.test": False}
    quiet.set_clock(TUESDAY_21H)
    sms_id = sms_send(quiet).json()["message_id"]
    mail_id = mail_send(quiet).json()["messageId"]
    quiet.set_clock(TUESDAY_21H + quiet.settle_seconds + 5)
    assert sms_status(quiet, sms_id)[0] == "Delivered"
    assert mail_status(quiet, mail_id)[0] == "Pending"  # Mail Partner's still on


# --- refused when scheduled at a quiet time (SMS codes 22 and 23) ------------------
@pytest.mark.parametrize(
    ("when", "code", "message"),
    [
        ((2026, 3, 10, 21, 0), 22, HOUR_REFUSAL),
        ((2026, 3, 11, 7, 55), 22, HOUR_REFUSAL),
        ((2026, 3, 15, 10, 0), 23, DAY_REFUSAL),  # a Sunday
        ((2026, 7, 14, 10, 0), 23, DAY_REFUSAL),  # a public holiday
        ((2026, 3, 15, 21, 0), 23, DAY_REFUSAL),  # the day is checked first
    ],
)
@pytest.mark.parametrize("path", ["/send", "/bulk-send"])
def test_sms_scheduled_at_a_quiet_time_is_refused(
    quiet: Any, path: str, when: tuple[int, ...], code: int, message: str
) -> None:
    quiet.set_clock(paris(2026, 3, 10, 10, 0))
    before = sms_balance(quiet)
    answer = sms_send(quiet, path, **schedule(*when))
    assert answer.status_code == 400
    assert answer.json() == {"success": False, "code": code, "message": message}
    assert sms_balance(quiet) == before
    assert quiet.recipients("sms") == {}


def test_sms_scheduled_for_working_hours_is_accepted_at_night(quiet: Any) -> None:
    quiet.set_clock(TUESDAY_21H)
    answer = sms_send(quiet, **schedule(2026, 3, 11, 10, 0))
    assert answer.status_code == 200
    assert answer.json()["scheduledDeliveryDate"] == "2026-03-11 10:00:00"


def test_mail_scheduled_on_a_sunday_is_queued_not_refused(quiet: Any) -> None:
    quiet.set_clock(paris(2026, 3, 13, 10, 0))
    answer = mail_send(quiet, **schedule(2026, 3, 15, 10, 0))
    assert answer.json()["scheduledDeliveryDate"] == "2026-03-15 10:00:00"
    monday = paris(2026, 3, 16, 8, 0)
    quiet.set_clock(monday - 60)
    assert mail_status(quiet, answer.json()["messageId"])[0] == "Pending"
    quiet.set_clock(monday + quiet.settle_seconds + 5)
    assert mail_status(quiet, answer.json()["messageId"])[0] == "Delivered"


def test_without_quiet_hours_a_sunday_schedule_is_accepted(sandbox: Any) -> None:
    sandbox.set_clock(paris(2026, 3, 13, 10, 0))
    answer = sms_send(sandbox, **schedule(2026, 3, 15, 10, 0))
    assert answer.status_code == 200 and answer.json()["success"] is True


# --- the switch ---------------------------------------------------------------------
def test_quiet_hours_are_on_by_default_like_the_providers() -> None:
    assert SandboxConfig().quiet_hours is True
    assert SandboxConfig.from_env({}).quiet_hours is True
    assert SandboxConfig.from_env({"SANDBOX_QUIET_HOURS": "0"}).quiet_hours is False
    assert SandboxConfig.from_env({"SANDBOX_QUIET_HOURS": "1"}).quiet_hours is True


def test_one_account_is_switched_by_its_key_and_sub_accounts_follow(
    quiet: Any,
) -> None:
    control = quiet.url + "/_sandbox/quiet-hours"
    spec = {"enabled": False, "provider": "mail", "apiKey": quiet.mail_api_key}
    assert requests.post(control, json=spec, timeout=5).json() == {
        "mail": {"demo@partnerhub.test": False}
    }
    created = requests.post(
        quiet.sms_url + "/subaccount/create",
        json={"apiKey": quiet.sms_api_key, "type": "simple"},
        timeout=5,
    ).json()
    shown = requests.get(control, timeout=5).json()
    assert shown["sms"] == {
        "demo@partnerhub.test": True,
        created["subaccount"]["email"]: True,
    }
    assert shown["mail"] == {"demo@partnerhub.test": False}
    unknown = {"enabled": False, "provider": "sms", "apiKey": "nobody"}
    assert requests.post(control, json=unknown, timeout=5).status_code == 400
    no_provider = {"enabled": False, "apiKey": quiet.sms_api_key}
    assert requests.post(control, json=no_provider, timeout=5).status_code == 400


def test_reset_puts_back_the_configured_setting(quiet: Any) -> None:
    assert quiet.quiet_hours()["sms"] == {"demo@partnerhub.test": True}
    quiet.reset()
    assert quiet.quiet_hours()["sms"] == {"demo@partnerhub.test": False}  # fixture's
