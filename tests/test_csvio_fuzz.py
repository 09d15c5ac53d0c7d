"""Whatever bytes are uploaded: a CsvError or a full report, never a crash."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.csvio.errors import MESSAGES, CsvError
from partnerhub.csvio.pipeline import iter_batches
from partnerhub.csvio.reader import open_csv

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _import(data: bytes, **kwargs) -> tuple[int, int, int] | str:
    """Run the whole import; return (rows, errors, blank) or the CsvError code."""
    try:
        source = open_csv(io.BytesIO(data), **kwargs)
        batches = list(iter_batches(source, workers=1, batch_size=50))
    except CsvError as exc:
        assert exc.code in MESSAGES
        return exc.code
    for batch in batches:
        for error in batch.errors + batch.warnings:
            assert error.code in MESSAGES
            assert error.line >= 1
    return (
        sum(len(b.rows) for b in batches),
        sum(len(b.errors) for b in batches),
        sum(b.blank for b in batches),
    )


def _accounted(data: bytes) -> None:
    """Every data record ends as a row, an error or a skipped blank line."""
    outcome = _import(data)
    if isinstance(outcome, str):
        return
    records = list(open_csv(io.BytesIO(data)).iter_records())
    assert sum(outcome) == len(records)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data):
    _import(data)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_after_a_valid_header_are_fully_reported(tail):
    _accounted(b"email;phone;nom\r\n" + tail)


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["a@b.fr", "06 12 34 56 78", "+33612345678", "", '"', '""', "x;y", "\r\n"]
    ),
)


@FUZZ
@given(
    rows=st.lists(st.lists(CELL, min_size=0, max_size=5), max_size=30),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    terminator=st.sampled_from(["\r\n", "\n", "\r"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_random_csv_shapes_are_fully_reported(
    rows, delimiter, encoding, terminator, quoting
):
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=terminator, quoting=quoting
    )
    writer.writerow(["email", "téléphone", "prénom", "nom"])
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding, "replace")
    _accounted(data)


NOTE = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from('\r\n;"')
    ),
    max_size=8,
)


@FUZZ
@given(
    st.lists(
        st.tuples(NOTE, st.sampled_from(["0612345678", "x", ""])),
        min_size=1,
        max_size=20,
    )
)
def test_well_formed_files_round_trip_every_cell(pairs):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["email", "notes"])
    writer.writerows([[f"u{i}@x.fr", note] for i, (note, _p) in enumerate(pairs)])
    source = open_csv(io.BytesIO(buffer.getvalue().encode("utf-8")))
    got = {line: cells for line, cells, code in source.iter_records() if code is None}
    expected_rows = list(csv.reader(io.StringIO(buffer.getvalue()), delimiter=";"))
    assert list(got.values()) == expected_rows[1:]
