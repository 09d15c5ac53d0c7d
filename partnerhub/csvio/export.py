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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from partnerhub.csvio import errors

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The delimiters a user may ask for, by name or as the character itself
# (`?delimiter=comma`, `--delimiter tab`, `--delimiter ';'`).
_NAMED_DELIMITERS = {"semicolon": ";", "comma": ",", "tab": "\t"}
DELIMITERS = {**_NAMED_DELIMITERS, **{c: c for c in _NAMED_DELIMITERS.values()}}
CHUNK_CHARS = 64 * 1024
LINE_END = "\r\n"


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
    return iter_csv_batches(
        _neutralized(rows),
        header=header,
        delimiter=delimiter,
        bom=bom,
        encoding=encoding,
    )


def _neutralized(
    rows: Iterable[Sequence[Any]], size: int = 64
) -> Iterator[list[list[str]]]:
    """The rows' cells through `neutralize`, by batches of `size` rows."""
    batch = []
    for row in rows:
        batch.append([neutralize(cell) for cell in row])
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_csv_batches(
    batches: Iterable[Sequence[Sequence[str]]],
    *,
    header: Sequence[Any] | None = None,
    delimiter: str = ";",
    bom: bool = True,
    encoding: str = "utf-8",
) -> Iterator[bytes]:
    """`iter_csv` for rows whose cells are already safe text (`neutralize`d, or
    known to start with no formula character), written a batch at a time.

    For a million rows: a join per batch (`plain_lines`), or one `writerows`
    call when a cell needs quotes, instead of a Python call per cell and per
    row. The header is neutralised here. A chunk holds the batches written
    since the last one, at least 64 KiB unless it is the last: callers bound
    its size with their batches' size.
    """
    if delimiter not in (";", ",", "\t"):
        raise ValueError("delimiter must be ';', ',' or a tab")
    if bom and codecs.lookup(encoding).name == "utf-8":
        yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=LINE_END)
    if header is not None:
        writer.writerow([neutralize(cell) for cell in header])
    for batch in batches:
        text = plain_lines(batch, delimiter)
        if text is None:
            writer.writerows(batch)
        else:
            buffer.write(text)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue().encode(encoding, "replace")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode(encoding, "replace")


def plain_lines(batch: Sequence[Sequence[str]], delimiter: str) -> str | None:
    """The batch's CSV lines as `csv.writer` writes them when no cell needs
    quotes (the usual export), else None (then `csv.writer` writes them).

    `csv.writer` costs about 2 µs a row of nine cells; joining the rows costs
    a quarter of that. Quotes are needed where a cell holds the delimiter, a
    quote or a line break: the joined text then holds more of them than the
    joins put there, which four counts over the whole batch tell. A row of
    one cell is left to `csv.writer` (it quotes a lone empty cell).
    """
    rows = len(batch)
    if not rows or min(map(len, batch)) < 2:
        return None
    text = LINE_END.join(map(delimiter.join, batch)) + LINE_END
    plain = (
        text.count(delimiter) == sum(map(len, batch)) - rows
        and text.count("\n") == rows
        and text.count("\r") == rows
        and '"' not in text
    )
    return text if plain else None


class CellCache(dict[Any, str]):
    """Safe CSV cells by value, each made once: `cells[value]` formats (with
    `make`) and neutralises a value the first time, then is a dict lookup.

    For columns of few distinct values (statuses, prices, errors): a million
    rows cost a million lookups, not a million formatting calls. Emptied
    when it holds `limit` values, so a column of distinct values stays small.
    """

    def __init__(self, make: Callable[[Any], Any], limit: int = 4096) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, value: Any) -> str:
        if len(self) >= self.limit:
            self.clear()
        cell = self[value] = neutralize(self.make(value))
        return cell


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
