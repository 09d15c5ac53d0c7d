"""Streamed CSV for downloads: recipients, deliveries, import error reports.

The output is meant to be opened in Excel by marketing staff, so it starts
with a UTF-8 BOM (without it Excel reads UTF-8 as Windows-1252) and uses `;`
by default (what French Excel expects). A cell beginning with `=`, `+`, `-`,
`@`, a tab or a carriage return is prefixed with `'` so a spreadsheet shows it
as text instead of running it as a formula (OWASP "CSV injection"). Output is
a generator of encoded chunks: hand it to `StreamingHttpResponse` and memory
stays flat whatever the number of rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from partnerhub.csvio import errors

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The delimiters a user may ask for, by name or as the character itself
# (`?delimiter=comma`, `--delimiter tab`, `--delimiter ';'`).
_NAMED_DELIMITERS = {"semicolon": ";", "comma": ",", "tab": "\t"}
DELIMITERS = {**_NAMED_DELIMITERS, **{c: c for c in _NAMED_DELIMITERS.values()}}
CHUNK_CHARS = 64 * 1024


def neutralize(value: Any) -> str:
    """The cell as text, defused if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iter_csv(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[Any] | None = None,
    delimiter: str = ";",
    bom: bool = True,
    encoding: str = "utf-8",
) -> Iterator[bytes]:
    """Encoded CSV chunks of about 64 KiB; every cell goes through `neutralize`.

    `encoding="cp1252"` is there for old Excel versions; characters it cannot
    encode become `?` rather than aborting a download half-way.
    """
    if delimiter not in (";", ",", "\t"):
        raise ValueError("delimiter must be ';', ',' or a tab")
    if bom and codecs.lookup(encoding).name == "utf-8":
        yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow([neutralize(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralize(cell) for cell in row])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue().encode(encoding, "replace")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode(encoding, "replace")


def error_rows(row_errors: Iterable[Any]) -> Iterator[tuple[int, str, str, str]]:
    """(line, code, message, content) for each `RowError`, message translated now."""
    for error in row_errors:
        yield error.line, error.code, str(errors.message_for(error.code)), error.raw


def iter_error_csv(
    row_errors: Iterable[Any], *, delimiter: str = ";", bom: bool = True
) -> Iterator[bytes]:
    """The downloadable error report of an import: line number, reason, content."""
    header = [str(label) for label in errors.ERROR_REPORT_HEADER]
    return iter_csv(error_rows(row_errors), header=header, delimiter=delimiter, bom=bom)
