"""Cut a CSV byte stream into chunks of whole records, for parallel parsing.

A worker process can only parse a chunk on its own if the chunk starts and
ends on a record boundary. Line breaks inside quoted cells make "the last
newline" a wrong answer, so when a chunk holds a quote its records are matched
with a regular expression that follows the `csv` module's own rules (a quote
opens a quoted cell only at the start of a cell, `""` is an escaped quote,
text after a closing quote is kept). Quote-free chunks, the common case, are
cut at a newline with no scanning at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# A record longer than this (an unclosed quote, most likely) is cut anyway: the
# parser then reports it instead of the cutter buffering the whole file.
MAX_PENDING_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole records as raw bytes, and the physical line the first one starts on."""

    data: bytes
    start_line: int
    end_offset: int
    unclosed: bool = False


def count_breaks(data: bytes) -> int:
    """Line breaks as text readers count them: `\\n`, `\\r\\n` and a lone `\\r`."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


@functools.lru_cache(maxsize=8)
def record_patterns(delimiter: str) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """(complete terminated records, one final record without a line break)."""
    d = re.escape(delimiter.encode("ascii"))
    plain = b"[^" + d + b"\\r\\n]"
    cell = (
        b'(?:"(?:[^"]++|"")*+"' + plain + b'*+|[^"' + d + b"\\r\\n]" + plain + b"*+)?"
    )
    record = cell + b"(?:" + d + cell + b")*+"
    return (
        re.compile(b"(?:" + record + b"(?:\\r\\n?|\\n))*+"),
        re.compile(record),
    )


def record_end(data: bytes, delimiter: str, start: int = 0, end: int = -1) -> int:
    """Offset just after the last complete record of `data[start:end]`."""
    records, _ = record_patterns(delimiter)
    end = len(data) if end < 0 else end
    return records.match(data, start, end).end()  # type: ignore[union-attr]


def is_complete_record(data: bytes, delimiter: str, start: int = 0) -> bool:
    """True if `data[start:]` is one record whose quotes are all closed."""
    return record_patterns(delimiter)[1].fullmatch(data, start) is not None


class _Cutter:
    """Stateful cutter: buffer, offsets and line numbers across 1 MiB blocks."""

    def __init__(
        self,
        blocks: Iterable[bytes],
        delimiter: str,
        target: int,
        first_line: int,
        newline: bytes,
    ) -> None:
        self.blocks = iter(blocks)
        self.delimiter = delimiter
        self.target = max(target, 1024)
        self.newline = newline
        self.buf = b""
        self.pos = 0
        self.offset = 0
        self.line = first_line
        self.eof = False

    def skip(self, count: int) -> None:
        """Drop the first `count` bytes of the stream (the header)."""
        while len(self.buf) < count and not self.eof:
            self._read()
        self.pos = min(count, len(self.buf))
        self.offset = self.pos

    def _read(self) -> None:
        block = next(self.blocks, None)
        if block is None:
            self.eof = True
        else:
            self.buf = self.buf[self.pos :] + block
            self.pos = 0

    def _emit(self, cut: int, unclosed: bool = False) -> Chunk:
        data = self.buf[self.pos : cut]
        self.offset += len(data)
        chunk = Chunk(data, self.line, self.offset, unclosed)
        self.line += count_breaks(data)
        self.pos = cut
        return chunk

    def next_chunk(self) -> Chunk | None:
        """The next chunk of whole records, or None at the end of the stream."""
        while self.pos < len(self.buf) or not self.eof:
            chunk = self._find_cut() if self.pos < len(self.buf) else None
            if chunk is not None:
                return chunk
            if self.eof:
                return self._emit(len(self.buf))
            self._read()
        return None

    def _line_end(self, start: int) -> int | None:
        """Offset after the first line break at or after `start`, if known yet."""
        found = self.buf.find(self.newline, start)
        if found >= 0:
            return found + 1
        return len(self.buf) if self.eof else None

    def _find_cut(self) -> Chunk | None:
        """A chunk if the buffer holds enough whole records, else None."""
        end = self._line_end(self.pos + self.target)
        if end is None:
            return self._forced_cut()
        if self.buf.find(b'"', self.pos, end) < 0:
            return self._emit(end)
        cut = record_end(self.buf, self.delimiter, self.pos, end)
        if cut == self.pos and end < len(self.buf):
            # One record is longer than the target: try all the buffer holds.
            last = self.buf.rfind(self.newline, self.pos) + 1
            end = len(self.buf) if self.eof else max(last, end)
            cut = record_end(self.buf, self.delimiter, self.pos, end)
        if cut > self.pos:
            return self._emit(cut)
        if self.eof:
            complete = is_complete_record(self.buf, self.delimiter, self.pos)
            return self._emit(len(self.buf), unclosed=not complete)
        return self._forced_cut()

    def _forced_cut(self) -> Chunk | None:
        """Cut an over-long record at a line break rather than buffer on forever."""
        if len(self.buf) - self.pos < MAX_PENDING_BYTES:
            return None
        last = self.buf.rfind(self.newline, self.pos)
        return self._emit(last + 1 if last >= 0 else len(self.buf))


def iter_chunks(
    blocks: Iterable[bytes],
    delimiter: str,
    *,
    skip: int = 0,
    first_line: int = 1,
    target_bytes: int = 256 * 1024,
    newline: bytes = b"\n",
) -> Iterator[Chunk]:
    """Chunks of about `target_bytes` of whole records, after `skip` bytes.

    `newline` is `b"\r"` only for old Mac files that have no `\n` at all.
    """
    cutter = _Cutter(blocks, delimiter, target_bytes, first_line, newline)
    cutter.skip(skip)
    while (chunk := cutter.next_chunk()) is not None:
        yield chunk
