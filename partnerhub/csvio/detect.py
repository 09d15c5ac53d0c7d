"""Guess how an uploaded CSV is encoded and delimited, from samples only.

French files are Windows-1252 (old Excel) or UTF-8, with or without a BOM;
a UTF-8 file whose first 64 KiB are plain ASCII may still hold a `é` further
on, so slices from the middle and the end are checked too. Anything that looks
binary (NUL bytes, control characters, a zip or OLE2 signature) is refused
before it reaches the CSV parser.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import IO

from partnerhub.csvio import errors
from partnerhub.csvio.errors import CsvError

SAMPLE_BYTES = 64 * 1024
SNIFF_RECORDS = 50
DELIMITERS = (";", ",", "\t")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_PROBE = '\t\n\r",;azAZ09'
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    """`size` bytes from `offset`; read errors become a `CsvError`."""
    try:
        file.seek(offset)
        data = file.read(size)
    except (OSError, ValueError) as exc:
        raise CsvError(errors.READ_FAILED, str(exc)) from exc
    if not isinstance(data, bytes):
        raise CsvError(errors.READ_FAILED, "file opened in text mode")
    return data


def file_size(file: IO[bytes]) -> int:
    """Total size of a seekable file, leaving the position unchanged."""
    here = file.tell()
    size = file.seek(0, io.SEEK_END)
    file.seek(here)
    return size


def ascii_compatible(encoding: str) -> bool:
    """True if CSV punctuation, digits and letters are the same bytes as ASCII."""
    try:
        return _PROBE.encode(encoding) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def choose_encoding(
    file: IO[bytes], start: int, head: bytes, override: str | None
) -> tuple[str, int]:
    """(codec, bytes to skip): a BOM first, then UTF-8, then Windows-1252."""
    if override:
        try:
            name = codecs.lookup(override).name
        except LookupError as exc:
            raise CsvError(errors.UNKNOWN_ENCODING, override) from exc
        if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
    else:
        name = _detect_encoding(file, start, head)
    _check_binary(head, name)
    skip = 3 if name == "utf-8-sig" and head.startswith(codecs.BOM_UTF8) else 0
    return name, skip


def _detect_encoding(file: IO[bytes], start: int, head: bytes) -> str:
    """The codec a BOM names, else UTF-8 if every sample is UTF-8, else cp1252."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    _check_binary(head, "utf-8")
    samples = [head, *_other_samples(file, start)]
    if all(_is_utf8(sample, first=i == 0) for i, sample in enumerate(samples)):
        return "utf-8"
    if all(_decodes(sample, "cp1252") for sample in samples):
        return "cp1252"
    raise CsvError(errors.UNKNOWN_ENCODING)


def _check_binary(head: bytes, encoding: str) -> None:
    """Refuse NUL bytes and control characters in an ASCII-compatible file."""
    if not ascii_compatible(encoding):
        return
    if _too_many_controls(len(_CONTROL_BYTES.findall(head)), len(head)):
        raise CsvError(errors.BINARY_FILE)


def _too_many_controls(controls: int, length: int) -> bool:
    """More than 1% control characters (NUL included): binary, not a stray byte.

    A lone NUL in a text file is reported on its row instead of refusing the file.
    """
    return controls > length // 100 + 1


def _other_samples(file: IO[bytes], start: int) -> list[bytes]:
    """Slices from the middle and the end, so a late `é` is seen too."""
    size = file_size(file) - start
    if size <= SAMPLE_BYTES:
        return []
    offsets = {max(SAMPLE_BYTES, size // 2), max(SAMPLE_BYTES, size - SAMPLE_BYTES)}
    return [read_at(file, start + off, SAMPLE_BYTES) for off in sorted(offsets)]


def _is_utf8(sample: bytes, *, first: bool) -> bool:
    """True if the slice is UTF-8, forgiving characters cut at either edge."""
    if not first:
        sample = sample.lstrip(bytes(range(0x80, 0xC0)))
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decodes(sample: bytes, encoding: str) -> bool:
    """True if `sample` decodes strictly with `encoding`."""
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decode_sample(sample: bytes, encoding: str) -> str:
    """Decode the sample strictly: a failure here means the wrong encoding."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise CsvError(errors.UNDECODABLE, str(exc)) from exc
    if _too_many_controls(len(_CONTROL.findall(text)), len(text)):
        raise CsvError(errors.BINARY_FILE)
    return text


def choose_delimiter(text: str, override: str | None) -> str:
    """The delimiter giving the widest header that most rows agree with."""
    if override is not None:
        if override not in DELIMITERS:
            raise CsvError(errors.BAD_DELIMITER, repr(override))
        return override
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        rows = _sniff_rows(text, delimiter)
        if not rows:
            continue
        width = len(rows[0])
        agree = sum(len(row) == width for row in rows[1:]) / max(len(rows) - 1, 1)
        score = (width > 1, agree, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sniff_rows(text: str, delimiter: str) -> list[list[str]]:
    """The first non-blank records of the sample, parsed with `delimiter`."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= SNIFF_RECORDS:
                break
    except csv.Error:
        pass
    return rows
