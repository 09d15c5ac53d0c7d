"""iter_batches: validation rules, reasons per row, and parallel == in-process."""

import io
import random

import pytest

from partnerhub.csvio import errors
from partnerhub.csvio.errors import CsvError
from partnerhub.csvio.pipeline import (
    MAX_CELL_CHARS,
    ParsedRow,
    RowError,
    iter_batches,
)
from partnerhub.csvio.reader import open_csv


def _run(data: bytes, **kwargs):
    source = open_csv(io.BytesIO(data))
    kwargs.setdefault("workers", 1)
    batches = list(iter_batches(source, **kwargs))
    rows = [row for batch in batches for row in batch.rows]
    errs = [error for batch in batches for error in batch.errors]
    warns = [warning for batch in batches for warning in batch.warnings]
    return rows, errs, warns, batches


def test_rows_are_normalised_with_names_and_attributes():
    data = (
        "E-mail;Téléphone;Prénom;Nom;Ville\r\n"
        "Jean.Dupont@Example.FR;06 12 34 56 78; Jean ;Dupont;Paris\r\n"
    ).encode("cp1252")
    rows, errs, warns, _ = _run(data)
    assert rows == [
        ParsedRow(
            2,
            "jean.dupont@example.fr",
            "+33612345678",
            "Jean",
            "Dupont",
            {"Ville": "Paris"},
        )
    ]
    assert (errs, warns) == ([], [])


def test_required_email_rejects_rows_without_a_valid_email():
    data = b"email;phone\nbad;0612345678\n;0612345678\nok@x.fr;\n"
    rows, errs, _, _ = _run(data, required="email")
    assert [r.email for r in rows] == ["ok@x.fr"]
    assert [(e.line, e.code) for e in errs] == [
        (2, errors.INVALID_EMAIL),
        (3, errors.MISSING_EMAIL),
    ]


def test_required_phone_rejects_rows_without_a_valid_phone():
    data = b"email;phone\na@x.fr;12\na@x.fr;\n;+33612345678\n"
    rows, errs, _, _ = _run(data, required="phone")
    assert [(r.email, r.phone) for r in rows] == [(None, "+33612345678")]
    assert [e.code for e in errs] == [errors.INVALID_PHONE, errors.MISSING_PHONE]


def test_any_needs_one_valid_address_and_warns_about_the_other():
    data = b"email;phone\na@x.fr;nope\nnope;0612345678\nnope;nope\nnope;\n;nope\n;;\n"
    rows, errs, warns, batches = _run(data, required="any")
    assert [(r.line, r.email, r.phone) for r in rows] == [
        (2, "a@x.fr", None),
        (3, None, "+33612345678"),
    ]
    assert [(w.line, w.code) for w in warns] == [
        (2, errors.INVALID_PHONE),
        (3, errors.INVALID_EMAIL),
    ]
    assert [(e.line, e.code) for e in errs] == [
        (4, errors.NO_VALID_ADDRESS),
        (5, errors.INVALID_EMAIL),
        (6, errors.INVALID_PHONE),
    ]
    assert sum(b.blank for b in batches) == 1


def test_row_error_carries_raw_content_and_a_message():
    _, errs, _, _ = _run(b"email;nom\nbad;Jean\n")
    assert errs == [RowError(2, errors.INVALID_EMAIL, "bad;Jean")]
    assert str(errs[0].message) == str(errors.MESSAGES[errors.INVALID_EMAIL])


def test_ragged_rows_get_a_reason_but_trailing_empty_cells_are_fine():
    data = b"email;nom\na@x.fr;A;;\nb@x.fr\nc@x.fr;C;extra\n\nd@x.fr;D\n"
    rows, errs, _, _ = _run(data)
    assert [r.line for r in rows] == [2, 6]
    assert [(e.line, e.code) for e in errs] == [
        (3, errors.TOO_FEW_FIELDS),
        (4, errors.TOO_MANY_FIELDS),
    ]


def test_oversized_cells_and_names_are_refused():
    long_cell = "x" * 10_000
    data = (
        f"email;nom;notes\na@x.fr;A;{long_cell}\nb@x.fr;{'N' * 151};\n"
        f"c@x.fr;C;{'y' * MAX_CELL_CHARS}\n"
    ).encode()
    rows, errs, _, _ = _run(data)
    assert [r.line for r in rows] == [4]
    assert [(e.line, e.code) for e in errs] == [
        (2, errors.CELL_TOO_LONG),
        (3, errors.NAME_TOO_LONG),
    ]
    assert len(errs[0].raw) <= 501


def test_bad_bytes_nul_and_unclosed_quote_become_row_errors():
    data = b'email;nom\na@x.fr;\x00\nb@x.fr;ok\nc@x.fr;"open\n'
    rows, errs, _, _ = _run(data)
    assert [r.line for r in rows] == [3]
    assert [(e.line, e.code) for e in errs] == [
        (2, errors.NUL_BYTE),
        (4, errors.UNCLOSED_QUOTE),
    ]


def test_user_mapping_overrides_the_guess():
    data = b"col1;col2;col3\na@x.fr;0612345678;Jean\n"
    source = open_csv(io.BytesIO(data))
    assert source.mapping == {}
    batch = next(iter_batches(source, mapping={0: "email", 1: "phone", 2: "ignore"}))
    assert batch.rows == [ParsedRow(2, "a@x.fr", "+33612345678", "", "", {})]


@pytest.mark.parametrize(
    ("mapping", "required", "code"),
    [
        ({0: "email", 1: "email"}, "any", errors.BAD_MAPPING),
        ({7: "email"}, "any", errors.BAD_MAPPING),
        ({0: "zip"}, "any", errors.BAD_MAPPING),
        ({0: "email"}, "phone", errors.NO_ADDRESS_COLUMN),
        ({0: "first_name"}, "any", errors.NO_ADDRESS_COLUMN),
    ],
)
def test_unusable_mapping_is_refused_before_reading(mapping, required, code):
    source = open_csv(io.BytesIO(b"a;b\nx;y\n"))
    with pytest.raises(CsvError) as caught:
        next(iter_batches(source, mapping=mapping, required=required))
    assert caught.value.code == code


def _big_file(rows: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    lines = ["Courriel;Portable;Prénom;Nom;Société"]
    for i in range(rows):
        email = rng.choice([f"User{i}@Exemple.fr", f"bad{i}", "", f"u{i}@x.org"])
        phone = rng.choice(
            [
                f"06 {i % 100:02d} 34 56 78",
                f"+33 7{i % 100:02d}345678",
                "12",
                f"+32 470 {i % 1000:03d} 456",
                "",
            ]
        )
        company = rng.choice(["ACME", '"Dupont; fils"', '"ligne\r\nsuite"', ""])
        lines.append(f"{email};{phone};Zoé;Martin;{company}")
        if i % 997 == 0:
            lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_parallel_pool_gives_the_same_batches_in_order():
    data = _big_file(30_000)
    inline = _run(data, batch_size=1000, workers=1)
    parallel = _run(data, batch_size=1000, workers=2)
    assert parallel[0] == inline[0]
    assert parallel[1] == inline[1]
    assert parallel[2] == inline[2]
    assert len(parallel[3]) > 10
    lines = [r.line for r in parallel[0]] + [e.line for e in parallel[1]]
    assert len(lines) == len(set(lines))
    assert [r.line for r in parallel[0]] == sorted(r.line for r in parallel[0])


def test_progress_counters_reach_the_end_of_the_file():
    data = _big_file(5_000)
    source = open_csv(io.BytesIO(data))
    batches = list(iter_batches(source, batch_size=500, workers=1))
    assert batches[-1].bytes_read == source.size
    assert batches[-1].lines_read == data.count(b"\r\n")
    assert [b.lines_read for b in batches] == sorted(b.lines_read for b in batches)


def test_every_record_is_accounted_for():
    data = _big_file(3_000)
    rows, errs, _, batches = _run(data, batch_size=200)
    records = list(open_csv(io.BytesIO(data)).iter_records())
    assert len(rows) + len(errs) + sum(b.blank for b in batches) == len(records)


def test_stopping_early_shuts_the_pool_down():
    source = open_csv(io.BytesIO(_big_file(20_000)))
    batches = iter_batches(source, batch_size=500, workers=2)
    first = next(batches)
    batches.close()
    assert first.rows[0].line < 10
    assert next(batches, None) is None
