"""The import service on generated files: shapes, duplicates, reports, atomicity."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.audiences import merge, selectors, services
from campaigns.models import Audience, ImportStatus, Recipient
from partnerhub.csvio import errors
from partnerhub.csvio.export import iter_csv
from tests.import_helpers import make_csv, run_import, upload
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    return settings.RECIPIENT_IMPORT_DIR


@pytest.fixture
def audience() -> Audience:
    return Audience.objects.create(name="Clients")


def recipients(audience: Audience) -> list[tuple]:
    return list(
        Recipient.objects.filter(audience=audience)
        .order_by("email", "phone")
        .values_list("email", "phone", "first_name", "last_name", "attributes")
    )


FRENCH = ["Courriel", "Téléphone portable", "Prénom", "Nom", "Ville"]
ENGLISH = ["Ville", "last_name", "first_name", "mobile", "e-mail"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("header", ["french", "english"])
def test_every_encoding_delimiter_and_header_imports_the_same_people(
    audience, encoding, delimiter, header
) -> None:
    people = [
        ["Zoe.Lefevre@exemple.fr", "06 12 34 56 78", "Zoé", "Lefèvre", "Nîmes"],
        ["JEAN@Exemple.FR", "+33 6 98 76 54 32", "Jean", "Dupont", "Lyon; 2e"],
    ]
    if header == "french":
        rows = [FRENCH, *people]
    else:
        rows = [ENGLISH, *[[p[4], p[3], p[2], p[1], p[0]] for p in people]]
    content = make_csv(rows, delimiter=delimiter, encoding=encoding)

    result = run_import(audience, content)

    assert result.status == ImportStatus.DONE, result.error_message
    assert (result.rows_read, result.created, result.invalid) == (2, 2, 0)
    assert recipients(audience) == [
        ("jean@exemple.fr", "+33698765432", "Jean", "Dupont", {"Ville": "Lyon; 2e"}),
        (
            "zoe.lefevre@exemple.fr",
            "+33612345678",
            "Zoé",
            "Lefèvre",
            {"Ville": "Nîmes"},
        ),
    ]


def test_duplicates_written_differently_are_merged(audience) -> None:
    content = make_csv(
        [
            ["email", "phone", "prénom"],
            ["A@X.FR", "06 12 34 56 78", "Anne"],
            ["a@x.fr", "", "Annie"],
            ["", "+33612345678", "Ann"],
            ["", "0033612345678", ""],
        ]
    )
    result = run_import(audience, content, mode="update")
    assert (result.created, result.duplicates, result.invalid) == (1, 3, 0)
    assert recipients(audience) == [("a@x.fr", "+33612345678", "Ann", "", {})]


def test_skip_mode_keeps_existing_values_and_update_mode_overwrites(audience) -> None:
    Recipient.objects.create(audience=audience, email="a@x.fr", first_name="Old")
    content = make_csv([["email", "first_name"], ["A@x.fr", "New"]])

    skipped = run_import(audience, content, mode="skip")
    assert (skipped.created, skipped.updated, skipped.duplicates) == (0, 0, 1)
    assert recipients(audience)[0][2] == "Old"

    updated = run_import(audience, content, mode="update")
    assert (updated.created, updated.updated, updated.duplicates) == (0, 1, 0)
    assert recipients(audience)[0][2] == "New"


def test_existing_recipient_gains_a_missing_phone(audience) -> None:
    Recipient.objects.create(audience=audience, email="a@x.fr")
    result = run_import(
        audience, make_csv([["email", "tel"], ["a@x.fr", "0612345678"]])
    )
    assert result.updated == 1
    assert recipients(audience)[0][:2] == ("a@x.fr", "+33612345678")


def test_phone_held_by_another_email_keeps_both_emails(audience) -> None:
    content = make_csv(
        [["email", "tel"], ["a@x.fr", "0612345678"], ["b@x.fr", "0612345678"]]
    )
    result = run_import(audience, content)
    assert result.created == 2
    assert recipients(audience) == [
        ("a@x.fr", "+33612345678", "", "", {}),
        ("b@x.fr", "", "", "", {}),
    ]


def test_invalid_rows_are_reported_with_line_and_reason(audience) -> None:
    content = make_csv(
        [
            ["email", "phone"],
            ["ok@x.fr", ""],
            ["not-an-email", ""],
            ["", "12"],
            ["", ""],
            ["b@x.fr", "0612"],
        ]
    )
    result = run_import(audience, content)
    assert (result.rows_read, result.created, result.invalid) == (4, 2, 2)
    assert result.warnings == 1
    problems = list(selectors.import_errors(recipient_import=result))
    assert [(p.line, p.code) for p in problems] == [
        (3, errors.INVALID_EMAIL),
        (4, errors.INVALID_PHONE),
        (6, errors.INVALID_PHONE),
    ]


def test_unsubscribed_addresses_are_imported_flagged_and_counted(audience) -> None:
    Unsubscribe.objects.create(channel="email", address="stop@x.fr")
    Unsubscribe.objects.create(channel="sms", address="+33612345678")
    content = make_csv(
        [["email", "phone"], ["STOP@x.fr", ""], ["", "06 12 34 56 78"], ["c@x.fr", ""]]
    )
    result = run_import(audience, content)
    assert (result.created, result.unsubscribed) == (3, 2)
    assert selectors.audience_unsubscribed_count(audience=audience) == 2
    flags = {
        r.email or r.phone: (r.email_unsubscribed, r.phone_unsubscribed)
        for r in selectors.audience_recipients(audience=audience)
    }
    assert flags == {
        "stop@x.fr": (True, False),
        "+33612345678": (False, True),
        "c@x.fr": (False, False),
    }


def test_failure_during_merge_leaves_the_audience_untouched(
    audience, monkeypatch
) -> None:
    Recipient.objects.create(audience=audience, email="keep@x.fr", first_name="K")
    before = recipients(audience)
    real = merge.Merger.merge
    calls = []

    def explode(self, rows):
        # After the staged rows were inserted and the duplicate matched.
        calls.append(len(rows))
        real(self, rows)
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge.Merger, "merge", explode)
    rows = [["email", "first_name"], ["keep@x.fr", "Changed"]]
    rows += [[f"p{i}@x.fr", "P"] for i in range(12000)]
    result = run_import(audience, make_csv(rows))

    assert len(calls) == 1
    assert result.status == ImportStatus.FAILED
    assert result.error_code == services.INTERNAL
    assert result.created == 0
    assert recipients(audience) == before


def test_cancel_between_batches_leaves_the_audience_untouched(
    audience, monkeypatch
) -> None:
    rows = [["email"], *[[f"p{i}@x.fr"] for i in range(40000)]]
    draft = upload(audience, make_csv(rows))
    services.recipient_import_start(
        recipient_import=draft, mapping={0: "email"}, mode="update"
    )

    def cancel_after_first_batch(imp):
        services.recipient_import_cancel(recipient_import=imp)

    result = services.recipient_import_run(
        import_id=draft.pk, workers=1, progress=cancel_after_first_batch
    )
    assert result.status == ImportStatus.CANCELLED
    assert 0 < result.rows_read < 40000
    assert not Recipient.objects.filter(audience=audience).exists()


def test_cancel_during_merge_rolls_back(audience, monkeypatch) -> None:
    rows = [["email"], *[[f"p{i}@x.fr"] for i in range(12000)]]
    draft = upload(audience, make_csv(rows))
    services.recipient_import_start(
        recipient_import=draft, mapping={0: "email"}, mode="update"
    )

    def cancel_when_merging(imp):
        if imp.phase == services.PHASE_MERGE:
            services.recipient_import_cancel(recipient_import=imp)

    result = services.recipient_import_run(
        import_id=draft.pk, workers=1, progress=cancel_when_merging
    )
    assert result.status == ImportStatus.CANCELLED
    assert result.rows_read == 12000
    assert not Recipient.objects.filter(audience=audience).exists()


def test_running_twice_does_not_import_twice(audience) -> None:
    result = run_import(audience, make_csv([["email"], ["a@x.fr"]]))
    again = services.recipient_import_run(import_id=result.pk, workers=1)
    assert again.status == ImportStatus.DONE
    assert Recipient.objects.filter(audience=audience).count() == 1


def test_export_reimports_to_the_same_content(audience) -> None:
    content = make_csv(
        [
            ["email", "phone", "prénom", "nom", "Ville", "Note"],
            ["a@x.fr", "0612345678", "=Anne", "-Dupont", "Nîmes", "@home"],
            ["", "+447911123456", "Bob", "", "", "+1"],
            ["c@x.fr", "", "Chloé", "Roux", "Paris; 8e", ""],
        ]
    )
    run_import(audience, content)
    before = recipients(audience)
    header, rows = selectors.audience_export_rows(audience=audience)
    exported = b"".join(iter_csv(rows, header=header))
    copy = Audience.objects.create(name="Copy")
    result = run_import(copy, exported)
    assert result.status == ImportStatus.DONE
    assert recipients(copy) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", errors.EMPTY_FILE),
        (b"email;phone\r\n", errors.NO_DATA_ROWS),
        (b"PK\x03\x04binary", errors.SPREADSHEET_FILE),
        (b"\x00\x01\x02\x03" * 100, errors.BINARY_FILE),
    ],
)
def test_whole_file_problems_raise_a_clear_error_and_keep_nothing(
    audience, import_dir, content, code
) -> None:
    with pytest.raises(ValidationError) as caught:
        upload(audience, content)
    assert caught.value.code == code
    assert not any(import_dir.iterdir())


def test_too_large_upload_is_refused(audience, settings) -> None:
    settings.RECIPIENT_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        upload(audience, make_csv([["email"], *[[f"p{i}@x.fr"] for i in range(50)]]))
    assert caught.value.code == "too_large"


def test_duplicates_across_batches_and_against_the_audience_are_found(
    audience,
) -> None:
    Recipient.objects.create(audience=audience, email="old@x.fr", first_name="Old")
    rows = [["email", "phone", "first_name"]]
    rows += [[f"p{i}@x.fr", "", "P"] for i in range(15000)]
    rows += [["", "06 12 34 56 78", "Tel"], ["P7@X.FR", "+33612345678", "Late"]]
    rows += [["OLD@x.fr", "", "New"]]
    result = run_import(audience, make_csv(rows), mode="update")
    assert (result.created, result.duplicates, result.updated) == (15001, 1, 1)
    got = dict(
        Recipient.objects.filter(audience=audience).values_list("email", "first_name")
    )
    assert got["old@x.fr"] == "New" and got["p7@x.fr"] == "Late"
    assert Recipient.objects.get(phone="+33612345678").first_name == "Tel"
