"""The import report adds up: rows read = created + updated + duplicates + rejected.

Each nasty case is run through the real import (parse, spool, merge) and its
counters are checked against what a user would count by hand in the file.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format

from campaigns.audiences import selectors
from campaigns.models import Audience, ImportStatus, Recipient, RecipientImport
from partnerhub.csvio import errors
from tests.factories import UserFactory
from tests.import_helpers import make_csv, run_import
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def audience() -> Audience:
    return Audience.objects.create(name="Clients")


def outcomes(imp: RecipientImport) -> dict[str, int]:
    """The report's figures; fails when they do not add up."""
    got = {
        "read": imp.rows_read,
        "created": imp.created,
        "updated": imp.updated,
        "duplicates": imp.duplicates,
        "rejected": imp.invalid,
        "warnings": imp.warnings,
        "empty": imp.empty_lines,
    }
    assert imp.status == ImportStatus.DONE, imp.error_message
    assert got["read"] == (
        got["created"] + got["updated"] + got["duplicates"] + got["rejected"]
    ), got
    return got


def problems(imp: RecipientImport) -> list[tuple[int, str, bool]]:
    return [
        (p.line, p.code, p.warning)
        for p in selectors.import_errors(recipient_import=imp)
    ]


def test_invalid_phone_with_valid_email_is_imported_with_a_warning(audience) -> None:
    content = make_csv([["email", "phone"], ["a@x.fr", "12"]])
    result = run_import(audience, content)
    assert outcomes(result) == {
        "read": 1,
        "created": 1,
        "updated": 0,
        "duplicates": 0,
        "rejected": 0,
        "warnings": 1,
        "empty": 0,
    }
    assert problems(result) == [(2, errors.INVALID_PHONE, True)]
    assert Recipient.objects.get().phone == ""


@pytest.mark.parametrize("mode", ["update", "skip"])
def test_duplicate_of_an_invalid_row_is_rejected_twice(audience, mode) -> None:
    content = make_csv(
        [
            ["email", "phone"],
            ["not-an-email", ""],
            ["not-an-email", ""],
            ["b@x.fr", "12"],  # warned (phone dropped), then repeated
            ["B@x.fr", "12"],
        ]
    )
    result = run_import(audience, content, mode=mode)
    got = outcomes(result)
    assert (got["read"], got["created"], got["duplicates"]) == (4, 1, 1)
    assert (got["rejected"], got["warnings"]) == (2, 2)
    assert problems(result) == [
        (2, errors.INVALID_EMAIL, False),
        (3, errors.INVALID_EMAIL, False),
        (4, errors.INVALID_PHONE, True),
        (5, errors.INVALID_PHONE, True),
    ]


def test_empty_lines_are_neither_read_nor_rejected(audience) -> None:
    content = b"email;phone\r\n\r\na@x.fr;\r\n;\r\n  ;  \r\n\r\nb@x.fr;\r\n\r\n"
    result = run_import(audience, content)
    got = outcomes(result)
    assert (got["read"], got["created"], got["rejected"]) == (2, 2, 0)
    assert got["empty"] == 5
    assert problems(result) == []


def test_row_invalid_on_both_addresses_is_rejected_once(audience) -> None:
    content = make_csv([["email", "phone"], ["nope", "12"], ["ok@x.fr", ""]])
    result = run_import(audience, content)
    got = outcomes(result)
    assert (got["read"], got["created"], got["rejected"], got["warnings"]) == (
        2,
        1,
        1,
        0,
    )
    assert problems(result) == [(2, errors.NO_VALID_ADDRESS, False)]


NASTY = [
    ["email", "phone", "first_name"],
    ["old@x.fr", "", "New"],  # existing recipient, new name
    ["OLD@x.fr", "", "Newer"],  # same recipient again
    ["same@x.fr", "", "Same"],  # existing recipient, nothing new
    ["new@x.fr", "", "A"],  # new
    ["new@x.fr", "", "B"],  # duplicate inside the file
    ["bad@", "06 12 34 56 78", "C"],  # new, email dropped (warning)
    ["", "", ""],  # empty line
    ["x", "12", "D"],  # invalid on both
    ["x", "12", "D"],  # duplicate of an invalid row
]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # updated: old@x.fr (once, by its first row); duplicates: OLD@, same@, new@ B
        ("update", (8, 2, 1, 3, 2)),
        # skip: nothing changes, every matched row is a duplicate
        ("skip", (8, 2, 0, 4, 2)),
    ],
)
def test_duplicates_in_the_file_and_against_the_audience_add_up(
    audience, mode, expected
) -> None:
    Recipient.objects.create(audience=audience, email="old@x.fr", first_name="Old")
    Recipient.objects.create(audience=audience, email="same@x.fr", first_name="Same")
    result = run_import(audience, make_csv(NASTY), mode=mode)
    got = outcomes(result)
    figures = ("read", "created", "updated", "duplicates", "rejected")
    assert tuple(got[name] for name in figures) == expected
    assert (got["warnings"], got["empty"]) == (1, 1)
    names = dict(
        Recipient.objects.filter(audience=audience).values_list("email", "first_name")
    )
    assert names["old@x.fr"] == ("Newer" if mode == "update" else "Old")


def test_unsubscribed_recipient_repeated_across_batches_is_counted_once(
    audience,
) -> None:
    Recipient.objects.create(audience=audience, email="stop@x.fr")
    Unsubscribe.objects.create(channel="email", address="stop@x.fr")
    rows = [["email"], ["stop@x.fr"]]
    rows += [[f"p{i}@x.fr"] for i in range(12000)]  # more than two batches
    rows += [["STOP@x.fr"]]
    result = run_import(audience, make_csv(rows))
    got = outcomes(result)
    assert (got["created"], got["duplicates"]) == (12000, 2)
    assert result.unsubscribed == 1


def test_a_done_import_that_does_not_add_up_cannot_be_saved(audience) -> None:
    imp = RecipientImport.objects.create(
        audience=audience, file_name="x.csv", rows_read=10, created=5, invalid=5
    )
    imp.status = ImportStatus.DONE
    imp.save()  # 10 = 5 + 0 + 0 + 5: fine
    imp.updated = 1  # the bug the issue saw: 10 read, 11 counted
    with pytest.raises(IntegrityError), transaction.atomic():
        imp.save()


def test_result_page_shows_the_sum_localised_and_the_first_twenty_problems(
    client, audience
) -> None:
    client.force_login(UserFactory(groups=["Marketing"]))
    rows = [["email", "phone"]]
    rows += [[f"bad{i}", ""] for i in range(25)]  # rejected
    rows += [["w@x.fr", "12"]]  # imported with a warning
    rows += [[f"p{i}@x.fr", ""] for i in range(1200)]
    imp = run_import(audience, make_csv(rows))
    assert outcomes(imp)["read"] == 1226

    with translation.override("fr"):
        page = client.get(
            reverse("audiences:import_result", args=[imp.pk]),
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        created = number_format(1201, force_grouping=True)
    text = page.content.decode()
    assert created != "1201" and created in text and "1201" not in text
    assert page.context["report"].adds_up
    assert "lignes lues = " in text and "rejets." in text  # in French
    shown = page.context["problems"]
    assert len(shown) == 20 and shown[0]["line"] == 2
    assert page.context["report"].more_problems == 6
    assert 'id="result-problems"' in text

    download = client.get(
        reverse("audiences:import_errors", args=[imp.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    lines = list(
        csv.reader(
            io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert len(lines) == 1 + 26
    warned = [line for line in lines if line[3] == errors.INVALID_PHONE]
    assert warned == [
        [
            "27",
            "Imported with a warning",
            "The phone number is not valid: imported with the email address only.",
            "invalid_phone",
            "w@x.fr;12",
        ]
    ]


def test_formula_cells_in_the_problem_download_are_neutralised(
    client, audience
) -> None:
    client.force_login(UserFactory(groups=["Marketing"]))
    imp = run_import(audience, make_csv([["email", "name"], ["=cmd|x", "@SUM(1)"]]))
    download = client.get(reverse("audiences:import_errors", args=[imp.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "'=cmd|x" in text and "\n=cmd" not in text


def test_progress_of_a_finished_import_moves_on_to_its_result(client, audience) -> None:
    client.force_login(UserFactory(groups=["Marketing"]))
    imp = run_import(audience, make_csv([["email"], ["a@x.fr"]]))
    page = client.get(reverse("audiences:import_progress", args=[imp.pk]))
    assert page.url == reverse("audiences:import_result", args=[imp.pk])
    status = client.get(reverse("audiences:import_status", args=[imp.pk])).json()
    assert status["finished"] and status["result_url"] == page.url
