"""Open an uploaded CSV: detect encoding and delimiter, read the header, stream it.

Files arrive from CRMs, Excel (Windows-1252 or UTF-8 with a BOM, `;`) and
Google Sheets (UTF-8, `,`). Detection reads a few 64 KiB samples only, so a
million-row file is never held in memory, and every whole-file problem ends in
a `CsvError` carrying a reason code from `errors`. The data after the header
is streamed as chunks of raw bytes (see `chunks`) that `parse_chunk` turns into
records with the physical line each starts on, in this process or a worker.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, NamedTuple

from partnerhub.csvio import errors
from partnerhub.csvio.chunks import (
    Chunk,
    count_breaks,
    iter_chunks,
    record_end,
)
from partnerhub.csvio.columns import attribute_names, guess_mapping
from partnerhub.csvio.detect import (
    SAMPLE_BYTES,
    ascii_compatible,
    choose_delimiter,
    choose_encoding,
    decode_sample,
    file_size,
    read_at,
)
from partnerhub.csvio.errors import CsvError
from partnerhub.csvio.normalize import normalize_email, normalize_phone

READ_BYTES = 1024 * 1024
MAX_HEADER_CELL = 255
_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # xlsx/ods (zip), xls (OLE2)
_SURROGATE = re.compile("[\udc80-\udcff]")

Record = tuple[int, list[str], "str | None"]


class CsvSource:
    """An opened CSV: what was detected, and the means to stream its records.

    `encoding` is the file's codec (`utf-8`, `utf-8-sig`, `cp1252`, …);
    `working_encoding` is what chunks are in (UTF-16 files are re-encoded to
    UTF-8 on the fly so that chunk boundaries are byte-safe).
    """

    def __init__(self, file: IO[bytes], start: int, encoding: str, skip: int) -> None:
        self._file, self._start, self._skip = file, start, skip
        self.encoding = encoding
        self._transcode = encoding != "utf-8-sig" and not ascii_compatible(encoding)
        self.working_encoding = (
            "utf-8" if self._transcode or encoding == "utf-8-sig" else encoding
        )
        self.size = file_size(file) - start
        self.delimiter = ","
        self.headers: list[str] = []
        self.mapping: dict[int, str] = {}
        self.attribute_names: list[str] = []
        self.data_offset = 0
        self.data_line = 1
        self.newline = b"\n"
        self.record_bytes = 64
        self._preview: list[list[str]] = []
        self._preview_records: list[tuple[int, list[str], str | None]] = []

    @property
    def width(self) -> int:
        """Number of columns, as given by the header."""
        return len(self.headers)

    def preview(self, rows: int = 10) -> list[list[str]]:
        """The first data rows as parsed (ragged rows stay ragged)."""
        return [list(row) for row in self._preview[:rows]]

    def preview_records(
        self, rows: int = 10
    ) -> list[tuple[int, list[str], str | None]]:
        """The first data rows with their line number and parse problem code."""
        return [
            (line, list(cells), code)
            for line, cells, code in self._preview_records[:rows]
        ]

    def iter_blocks(self) -> Iterator[bytes]:
        """The content after any BOM, in `working_encoding`, in 1 MiB blocks."""
        self._file.seek(self._start + self._skip)
        reads = iter(lambda: self._file.read(READ_BYTES), b"")
        if not self._transcode:
            yield from reads
            return
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        for block in reads:
            yield decoder.decode(block).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")

    def iter_chunks(self, batch_size: int = 5000) -> Iterator[Chunk]:
        """Raw chunks of about `batch_size` whole records after the header."""
        return iter_chunks(
            self.iter_blocks(),
            self.delimiter,
            skip=self.data_offset,
            first_line=self.data_line,
            target_bytes=batch_size * self.record_bytes,
            newline=self.newline,
        )

    def iter_records(self) -> Iterator[Record]:
        """(line, cells, error code or None) for every data record, in-process."""
        for chunk in self.iter_chunks():
            parsed = parse_chunk(
                chunk.data,
                self.working_encoding,
                self.delimiter,
                chunk.start_line,
                unclosed=chunk.unclosed,
            )
            for line, cells in zip(parsed.lines, parsed.rows, strict=True):
                yield line, cells, parsed.codes.get(line)


class Parsed(NamedTuple):
    """A parsed chunk: start line of each record, its cells, codes of bad ones."""

    lines: Sequence[int]
    rows: list[list[str]]
    codes: dict[int, str]


def parse_chunk(
    data: bytes,
    encoding: str,
    delimiter: str,
    start_line: int,
    *,
    unclosed: bool = False,
) -> Parsed:
    """Parse whole records; bad bytes, NULs and CSV errors become row codes.

    Without quotes every record is one physical line, so the common case is
    one `list(csv.reader)` call in C. Decoding with `surrogateescape` keeps
    undecodable bytes visible as lone surrogates, so the row they sit on is
    reported rather than the file aborted or the bytes silently replaced.
    """
    try:
        text, bad_bytes = data.decode(encoding), False
    except UnicodeDecodeError:
        text, bad_bytes = data.decode(encoding, "surrogateescape"), True
    if not (bad_bytes or unclosed or '"' in text or "\x00" in text):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        with contextlib.suppress(csv.Error):
            rows = list(reader)
            return Parsed(range(start_line, start_line + len(rows)), rows, {})
    return _parse_slowly(text, delimiter, start_line, bad_bytes, unclosed)


def _parse_slowly(
    text: str, delimiter: str, start_line: int, bad_bytes: bool, unclosed: bool
) -> Parsed:
    """Record by record, tracking line numbers across quoted line breaks."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines: list[int] = []
    rows: list[list[str]] = []
    codes: dict[int, str] = {}
    done = 0
    while True:
        line = start_line + done
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            cells = []
            codes[line] = errors.MALFORMED_ROW
        done = reader.line_num
        lines.append(line)
        rows.append(cells)
        if "\x00" in "".join(cells):
            codes[line] = errors.NUL_BYTE
        elif bad_bytes and _SURROGATE.search("".join(cells)):
            codes[line] = errors.BAD_ENCODING
    if unclosed and lines:
        codes[lines[-1]] = errors.UNCLOSED_QUOTE
    return Parsed(lines, rows, codes)


def open_csv(
    file: IO[bytes],
    encoding: str | None = None,
    delimiter: str | None = None,
) -> CsvSource:
    """Open an uploaded CSV (seekable or not); raise `CsvError` on whole-file faults.

    `encoding` and `delimiter` override detection, for when the preview shows
    the guess was wrong.
    """
    file, start = _seekable(file)
    head = read_at(file, start, SAMPLE_BYTES)
    if not head.strip():
        raise CsvError(errors.EMPTY_FILE)
    if head.startswith(_MAGIC):
        raise CsvError(errors.SPREADSHEET_FILE)
    chosen, skip = choose_encoding(file, start, head, encoding)
    source = CsvSource(file, start, chosen, skip)
    sample = b"".join(_take(source.iter_blocks(), SAMPLE_BYTES))
    eof = len(head) < SAMPLE_BYTES
    if not eof:  # keep whole lines only
        last = sample.rfind(b"\n")
        last = last if last >= 0 else sample.rfind(b"\r")
        if last < 0:
            raise CsvError(errors.HEADER_TOO_LONG)
        sample = sample[: last + 1]
    text = decode_sample(sample, source.working_encoding)
    if not text.strip():
        raise CsvError(errors.EMPTY_FILE)
    source.newline = b"\r" if b"\n" not in sample and b"\r" in sample else b"\n"
    source.delimiter = choose_delimiter(text, delimiter)
    _read_header(source, sample, eof)
    return source


def _seekable(file: IO[bytes]) -> tuple[IO[bytes], int]:
    """The file and its start offset; a non-seekable stream is spooled first."""
    try:
        if file.seekable():
            return file, file.tell()
    except (AttributeError, OSError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        shutil.copyfileobj(file, spool)
    except OSError as exc:
        raise CsvError(errors.READ_FAILED, str(exc)) from exc
    return spool, 0  # type: ignore[return-value]


def _take(blocks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Blocks from `blocks` until about `size` bytes were given."""
    given = 0
    for block in blocks:
        yield block[: size - given]
        given += len(block)
        if given >= size:
            return


def _read_header(source: CsvSource, sample: bytes, eof: bool) -> None:
    """Find the header record, map its columns, and note where data starts."""
    parsed = parse_chunk(sample, source.working_encoding, source.delimiter, 1)
    records = [
        (line, cells, parsed.codes.get(line))
        for line, cells in zip(parsed.lines, parsed.rows, strict=True)
    ]
    found = next((i for i, r in enumerate(records) if _filled(r[1])), None)
    if found is None:
        raise CsvError(errors.EMPTY_FILE)
    _line, cells, code = records[found]
    following = records[found + 1 :]
    if code is not None:
        raise CsvError(code)
    complete = following or eof or record_end(sample, source.delimiter) == len(sample)
    if any(len(c) > MAX_HEADER_CELL for c in cells) or not complete:
        raise CsvError(errors.HEADER_TOO_LONG)
    source.headers = [c.strip().lstrip("\ufeff").strip() for c in cells]
    source.mapping = guess_mapping(source.headers)
    source.attribute_names = attribute_names(source.headers)
    if not source.mapping and any(_looks_like_address(c) for c in source.headers):
        raise CsvError(errors.MISSING_HEADER)
    source.data_line = following[0][0] if following else count_breaks(sample) + 1
    source.data_offset = _offset_of_line(sample, source.data_line)
    source._preview_records = [r for r in following if _filled(r[1])]
    source._preview = [cells for _l, cells, _c in source._preview_records]
    if eof and not source._preview:
        raise CsvError(errors.NO_DATA_ROWS)
    spread = len(sample) - source.data_offset
    source.record_bytes = max(16, spread // max(len(following), 1))


def _filled(cells: list[str]) -> bool:
    """True unless every cell is blank (blank lines and `;;;` rows are skipped)."""
    return any(cell.strip() for cell in cells)


def _looks_like_address(cell: str) -> bool:
    """True for a header cell that is really an email or a phone number."""
    cell = cell.strip()
    return bool(cell) and bool(normalize_email(cell) or normalize_phone(cell))


_BREAK = re.compile(rb"\r\n|\r|\n")


def _offset_of_line(sample: bytes, line: int) -> int:
    """Byte offset where physical line `line` (1-based) starts in `sample`."""
    if line <= 1:
        return 0
    for count, match in enumerate(_BREAK.finditer(sample), start=1):
        if count == line - 1:
            return match.end()
    return len(sample)
