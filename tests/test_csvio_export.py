"""Streamed CSV export: BOM, delimiter, formula neutralising, chunking, round trip."""

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerhub.csvio import errors
from partnerhub.csvio.export import (
    CHUNK_CHARS,
    CellCache,
    iter_csv,
    iter_csv_batches,
    iter_error_csv,
    neutralize,
    plain_lines,
)
from partnerhub.csvio.pipeline import RowError, iter_batches
from partnerhub.csvio.reader import open_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33612345678", "'+33612345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Jean", "Jean"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value, expected):
    assert neutralize(value) == expected


def test_output_starts_with_bom_and_uses_semicolon_and_crlf():
    data = b"".join(iter_csv([["a@x.fr", "Zoé"]], header=["email", "prénom"]))
    assert data == "\ufeffemail;prénom\r\na@x.fr;Zoé\r\n".encode()


def test_comma_without_bom_and_quoting_of_awkward_cells():
    rows = [["a,b", 'say "hi"', "two\nlines", "=1+1"]]
    data = b"".join(iter_csv(rows, delimiter=",", bom=False))
    assert list(csv.reader(io.StringIO(data.decode(), newline=""))) == [
        ["a,b", 'say "hi"', "two\nlines", "'=1+1"]
    ]


def test_cp1252_output_replaces_what_it_cannot_encode():
    data = b"".join(iter_csv([["Zoé", "😀"]], encoding="cp1252"))
    assert data == "Zoé;?\r\n".encode("cp1252")


def test_bad_delimiter_is_refused():
    with pytest.raises(ValueError, match="delimiter"):
        next(iter_csv([], delimiter="|"))


def test_large_exports_are_streamed_in_bounded_chunks():
    rows = ([f"user{i}@x.fr", "+33612345678", "Jean"] for i in range(50_000))
    chunks = list(iter_csv(rows))
    assert len(chunks) > 10
    assert max(len(c) for c in chunks) < CHUNK_CHARS * 2
    assert b"".join(chunks).count(b"\r\n") == 50_000


def test_export_reimports_to_the_same_recipients():
    rows = [["Jean@X.fr", "+33612345678", "Jean", "-Dupont"]]
    data = b"".join(iter_csv(rows, header=["email", "phone", "prénom", "nom"]))
    source = open_csv(io.BytesIO(data))
    batch = next(iter_batches(source, workers=1))
    row = batch.rows[0]
    assert (row.email, row.phone, row.last_name) == (
        "jean@x.fr",
        "+33612345678",
        "'-Dupont",
    )


def test_error_report_has_line_reason_and_content():
    report = [RowError(7, errors.INVALID_EMAIL, "=bad;Jean")]
    text = b"".join(iter_error_csv(report)).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0] == [str(label) for label in errors.ERROR_REPORT_HEADER]
    assert lines[1] == [
        "7",
        errors.INVALID_EMAIL,
        str(errors.MESSAGES[errors.INVALID_EMAIL]),
        "'=bad;Jean",
    ]


def written_by_csv_module(rows, delimiter):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


CELLS = st.text(alphabet=st.sampled_from(list(";,\t\"\r\n '=ab\u00e9")), max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    batches=st.lists(
        st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=4), max_size=4
    ),
    delimiter=st.sampled_from([";", ",", "\t"]),
)
def test_batches_are_written_as_the_csv_module_writes_them(batches, delimiter):
    """The joined fast path (`plain_lines`) and the fallback give the bytes of
    `csv.writer`, whatever the cells hold (delimiters, quotes, line breaks,
    lone empty cells)."""
    data = b"".join(iter_csv_batches(batches, delimiter=delimiter, bom=False))
    rows = [row for batch in batches for row in batch]
    assert data.decode() == written_by_csv_module(rows, delimiter)


def test_plain_lines_leave_cells_needing_quotes_to_the_csv_module():
    plain = [("a@x.fr", "Zoé", "'=1"), ("b@x.fr", "", "")]
    assert plain_lines(plain, ";") == "a@x.fr;Zoé;'=1\r\nb@x.fr;;\r\n"
    for cell in ("a;b", 'say "hi"', "two\nlines", "cr\r"):
        assert plain_lines([*plain, ("c@x.fr", cell, "")], ";") is None
    assert plain_lines([("a,b", "c")], ";") == "a,b;c\r\n"
    assert plain_lines([("a,b", "c")], ",") is None
    assert plain_lines([("",)], ";") is None  # csv writes a lone empty cell '""'


def test_batches_header_is_neutralised_and_chunks_bounded():
    batches = ([(f"user{i}@x.fr", "Jean")] * 1000 for i in range(50))
    chunks = list(iter_csv_batches(batches, header=["=email", "prénom"]))
    assert chunks[1].startswith(b"'=email;pr\xc3\xa9nom\r\nuser0@x.fr;Jean\r\n")
    assert len(chunks) > 5 and max(len(c) for c in chunks) < CHUNK_CHARS * 2
    assert b"".join(chunks).count(b"\r\n") == 50_001


def test_cell_cache_formats_and_neutralises_each_value_once():
    made = []

    def make(value):
        made.append(value)
        return f"-{value}" if value else value

    cells = CellCache(make, limit=3)
    assert [cells[v] for v in (1, 1, None, 1, 2)] == ["'-1", "'-1", "", "'-1", "'-2"]
    assert made == [1, None, 2]
    assert cells[3] == "'-3" and len(cells) == 1  # full: emptied, then filled
