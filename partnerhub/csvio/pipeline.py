"""Parse and validate an opened CSV in batches, on every core, in file order.

The main process only cuts the file into raw chunks (cheap) and rebuilds rows;
decoding, CSV parsing, email and phone normalisation run in worker processes.
At most two chunks per worker are in flight, so memory stays flat whatever the
file size, and batches come back in file order so progress and error line
numbers make sense. Workers exchange only plain values: codes, strings and
columns joined with NUL (a character no accepted cell can hold, since rows
with NUL are rejected), which pickle far faster than a million small tuples.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any, NamedTuple, cast

from partnerhub.csvio import errors
from partnerhub.csvio.chunks import Chunk, count_breaks
from partnerhub.csvio.columns import (
    EMAIL,
    FIRST_NAME,
    IGNORE,
    LAST_NAME,
    PHONE,
    check_mapping,
)
from partnerhub.csvio.errors import CsvError
from partnerhub.csvio.normalize import (
    DEFAULT_REGION,
    has_control_characters,
    normalize_email,
    normalize_phone,
)
from partnerhub.csvio.reader import CsvSource, parse_chunk

REQUIRED_CHOICES = ("email", "phone", "any")
MAX_CELL_CHARS = 2000
MAX_NAME_CHARS = 100  # Recipient.first_name / last_name max_length
MAX_RAW_CHARS = 500
_SEP = "\x00"


class ParsedRow(NamedTuple):
    """One valid recipient: normalised addresses (None when absent), names, extras."""

    line: int
    email: str | None
    phone: str | None
    first_name: str
    last_name: str
    attributes: dict[str, str]


class RowError(NamedTuple):
    """A rejected row (or a dropped optional address, for warnings)."""

    line: int
    code: str
    raw: str

    @property
    def message(self) -> Any:
        """The (lazy) user-facing message of `code`."""
        return errors.message_for(self.code)


@dataclass
class Batch:
    """One chunk's outcome; `lines_read`/`bytes_read` are for progress bars."""

    rows: list[ParsedRow]
    errors: list[RowError]
    warnings: list[RowError] = field(default_factory=list)
    lines_read: int = 0
    bytes_read: int = 0
    blank: int = 0


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs, as plain picklable values."""

    encoding: str
    delimiter: str
    width: int
    email: int | None
    phone: int | None
    first_name: int | None
    last_name: int | None
    attributes: tuple[tuple[int, str], ...]
    required: str
    region: str


def make_plan(
    source: CsvSource,
    mapping: Mapping[int, str] | None = None,
    required: str = "any",
    region: str = DEFAULT_REGION,
) -> Plan:
    """Check the (possibly user-edited) mapping against what the audience needs."""
    if required not in REQUIRED_CHOICES:
        raise ValueError(f"required must be one of {REQUIRED_CHOICES}")
    chosen = dict(source.mapping if mapping is None else mapping)
    code = check_mapping(chosen, source.width)
    if code is not None:
        raise CsvError(code)
    index = {name: i for i, name in chosen.items() if name != IGNORE}
    needed = {"email": (EMAIL,), "phone": (PHONE,), "any": (EMAIL, PHONE)}[required]
    if not any(name in index for name in needed):
        raise CsvError(errors.NO_ADDRESS_COLUMN)
    attributes = tuple(
        (i, name) for i, name in enumerate(source.attribute_names) if i not in chosen
    )
    return Plan(
        encoding=source.working_encoding,
        delimiter=source.delimiter,
        width=source.width,
        email=index.get(EMAIL),
        phone=index.get(PHONE),
        first_name=index.get(FIRST_NAME),
        last_name=index.get(LAST_NAME),
        attributes=attributes,
        required=required,
        region=region,
    )


def iter_batches(
    source: CsvSource,
    *,
    mapping: Mapping[int, str] | None = None,
    required: str = "any",
    batch_size: int = 5000,
    workers: int = 2,
    region: str = DEFAULT_REGION,
    start_method: str = "forkserver",
    plain: bool = False,
) -> Iterator[Batch]:
    """Batches of about `batch_size` rows, in file order.

    `plain=True` gives rows as plain tuples (same fields, same order as
    `ParsedRow`): cheaper to build, and `marshal` can store them as they are.

    Raises `CsvError` up front for an unusable mapping; afterwards every
    problem is a `RowError` in a batch. A file of one chunk, or `workers <= 1`,
    is processed in this process: no pool start-up cost for small uploads.
    """
    plan = make_plan(source, mapping, required, region)
    if multiprocessing.current_process().daemon:
        workers = 1  # a daemonic process (a django-q2 worker) may not fork
    chunks = source.iter_chunks(batch_size)
    head = [c for c in (next(chunks, None), next(chunks, None)) if c is not None]
    if workers <= 1 or len(head) < 2:
        for chunk in chain(head, chunks):
            result = process_chunk(plan, chunk.data, chunk.start_line, chunk.unclosed)
            yield _unpack(result, _position(chunk), plain)
        return
    yield from _parallel(plan, chain(head, chunks), workers, start_method, plain)


def _parallel(
    plan: Plan,
    chunks: Iterable[Chunk],
    workers: int,
    start_method: str,
    plain: bool = False,
) -> Iterator[Batch]:
    """Run chunks on a process pool, two in flight per worker, yielding in order."""
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        context.set_forkserver_preload([__name__])
    pending: deque[tuple[tuple[int, int], Future[tuple[Any, ...]]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            for chunk in chunks:
                future = pool.submit(
                    process_chunk, plan, chunk.data, chunk.start_line, chunk.unclosed
                )
                pending.append((_position(chunk), future))
                if len(pending) >= 2 * workers:
                    done, future = pending.popleft()
                    yield _unpack(future.result(), done, plain)
            while pending:
                done, future = pending.popleft()
                yield _unpack(future.result(), done, plain)
        finally:
            for _chunk, future in pending:
                future.cancel()


def judge_rows(
    plan: Plan, records: Iterable[tuple[int, list[str], str | None]]
) -> dict[int, tuple[RowError, bool]]:
    """What the import will say of these rows: {line: (problem, is_warning)}.

    The same checks as the import itself, for the preview: a line absent from
    the answer is imported as it is (or skipped, if blank).
    """
    records = list(records)
    out = _Collector(plan)
    codes = {line: code for line, _cells, code in records if code}
    out.run([r[0] for r in records], [list(r[1]) for r in records], codes)
    judged = {
        line: (RowError(line, code, raw), True) for line, code, raw in out.warnings
    }
    judged.update(
        {line: (RowError(line, code, raw), False) for line, code, raw in out.errors}
    )
    return judged


def _position(chunk: Chunk) -> tuple[int, int]:
    """(last physical line, stream offset) a chunk reaches, for progress."""
    breaks = count_breaks(chunk.data)
    if chunk.data and not chunk.data.endswith((b"\n", b"\r")):
        breaks += 1
    return chunk.start_line + breaks - 1, chunk.end_offset


def _unpack(
    result: tuple[Any, ...], position: tuple[int, int], plain: bool = False
) -> Batch:
    """Rebuild rows from a worker's NUL-joined columns."""
    lines, columns, attributes, names, errs, warns, blank = result
    rows: list[ParsedRow] = []
    if lines:
        emails, phones, firsts, lasts = (c.split(_SEP) for c in columns)
        if names:
            values = zip(*(c.split(_SEP) for c in attributes), strict=True)
            extras = [dict(zip(names, v, strict=True)) for v in values]
        else:
            extras = [{} for _ in lines]
        columns = zip(
            lines,
            [e or None for e in emails],
            [p or None for p in phones],
            firsts,
            lasts,
            extras,
            strict=True,
        )
        if plain:  # the same fields, as zip builds them
            rows = cast(list[ParsedRow], list(columns))
        else:  # tuple.__new__ in C: twice as fast as calling the NamedTuple class
            rows = list(map(tuple.__new__, repeat(ParsedRow), columns))
    return Batch(
        rows=rows,
        errors=[RowError(*e) for e in errs],
        warnings=[RowError(*w) for w in warns],
        lines_read=position[0],
        bytes_read=position[1],
        blank=blank,
    )


# --- worker side: plain values in, plain values out ------------------------------
def process_chunk(
    plan: Plan, data: bytes, start_line: int, unclosed: bool
) -> tuple[Any, ...]:
    """Parse and validate one chunk; never raises on bad input."""
    parsed = parse_chunk(
        data, plan.encoding, plan.delimiter, start_line, unclosed=unclosed
    )
    out = _Collector(plan)
    out.run(parsed.lines, parsed.rows, parsed.codes)
    return out.result()


class _Collector:
    """Columns of accepted rows, and rejected rows, for one chunk."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.lines: list[int] = []
        self.columns: tuple[list[str], ...] = ([], [], [], [])
        self.attributes: tuple[list[str], ...] = tuple([] for _ in plan.attributes)
        self.errors: list[tuple[int, str, str]] = []
        self.warnings: list[tuple[int, str, str]] = []
        self.blank = 0
        # A missing column reads the empty cell appended after the last one.
        width = plan.width
        self.index = tuple(
            width if i is None else i
            for i in (plan.email, plan.phone, plan.first_name, plan.last_name)
        )

    def run(
        self, lines: Iterable[int], rows: list[list[str]], codes: dict[int, str]
    ) -> None:
        """Validate every record; the loop is flat because it runs a million times.

        Rows with both addresses valid and nothing odd take the short path;
        anything else goes to `_slow`, which decides between error, warning
        and blank line.
        """
        width, region = self.plan.width, self.plan.region
        need_email, need_phone = (
            self.plan.required == "email",
            self.plan.required == "phone",
        )
        ei, pi, fi, li = self.index
        emails, phones, firsts, lasts = self.columns
        accepted = self.lines
        email_of, phone_of = normalize_email, normalize_phone
        has_control = has_control_characters
        # Built once, not per row: most files have no attribute column at all.
        extras = list(zip(self.plan.attributes, self.attributes, strict=True))
        for line, cells in zip(lines, rows, strict=True):
            if len(cells) != width or (codes and line in codes):
                self._slow(line, cells, codes.get(line))
                continue
            cells.append("")
            if (
                max(map(len, cells)) > MAX_NAME_CHARS
                or has_control(cells[fi])
                or has_control(cells[li])
            ):
                self._slow(line, cells[:-1], None)
                continue
            raw_email, raw_phone = cells[ei].strip(), cells[pi].strip()
            email = email_of(raw_email) if raw_email else None
            phone = phone_of(raw_phone, region) if raw_phone else None
            enough = email if need_email else phone if need_phone else email or phone
            if not enough or (raw_email and not email) or (raw_phone and not phone):
                self._judge(line, cells[:-1], (raw_email, email, raw_phone, phone))
                continue
            accepted.append(line)
            emails.append(email or "")
            phones.append(phone or "")
            firsts.append(cells[fi].strip())
            lasts.append(cells[li].strip())
            for (index, _name), values in extras:
                values.append(cells[index].strip())

    def _slow(self, line: int, cells: list[str], code: str | None) -> None:
        """The careful path: ragged, oversized or flagged rows."""
        plan = self.plan
        if code is None and len(cells) != plan.width:
            if not any(cell.strip() for cell in cells):
                self.blank += 1
                return
            cells, code = _fit(cells, plan.width)
        code = code or _check_lengths(plan, cells)
        if code is not None:
            self.errors.append((line, code, _raw(plan, cells)))
            return
        padded = [*cells, ""]
        ei, pi, _fi, _li = self.index
        raw_email, raw_phone = padded[ei].strip(), padded[pi].strip()
        email = normalize_email(raw_email) if raw_email else None
        phone = normalize_phone(raw_phone, plan.region) if raw_phone else None
        self._judge(line, cells, (raw_email, email, raw_phone, phone))

    def _judge(
        self,
        line: int,
        cells: list[str],
        found: tuple[str, str | None, str, str | None],
    ) -> None:
        """File a row whose addresses are known: accepted (maybe warned) or not."""
        code, warning = _address_codes(self.plan.required, *found)
        if code == _BLANK and any(cell.strip() for cell in cells):
            code = {"email": errors.MISSING_EMAIL, "phone": errors.MISSING_PHONE}.get(
                self.plan.required, errors.MISSING_ADDRESS
            )
        if code == _BLANK:
            self.blank += 1
        elif code is not None:
            self.errors.append((line, code, _raw(self.plan, cells)))
        else:
            self._accept(line, [*cells, ""], found[1] or "", found[3] or "")
            if warning is not None:
                self.warnings.append((line, warning, _raw(self.plan, cells)))

    def _accept(self, line: int, cells: list[str], email: str, phone: str) -> None:
        """Store one valid row (`cells` ends with the extra empty cell)."""
        _ei, _pi, fi, li = self.index
        self.lines.append(line)
        emails, phones, firsts, lasts = self.columns
        emails.append(email)
        phones.append(phone)
        firsts.append(cells[fi].strip())
        lasts.append(cells[li].strip())
        for (index, _name), values in zip(
            self.plan.attributes, self.attributes, strict=True
        ):
            values.append(cells[index].strip())

    def result(self) -> tuple[Any, ...]:
        """The chunk's outcome as plain values (see `_unpack`)."""
        return (
            self.lines,
            tuple(_SEP.join(column) for column in self.columns),
            tuple(_SEP.join(column) for column in self.attributes),
            tuple(name for _index, name in self.plan.attributes),
            self.errors,
            self.warnings,
            self.blank,
        )


_BLANK = "blank"


def _fit(cells: list[str], width: int) -> tuple[list[str], str | None]:
    """Tolerate trailing empty cells (`a;b;;`); refuse any other ragged row."""
    if len(cells) < width:
        return cells, errors.TOO_FEW_FIELDS
    if any(cell.strip() for cell in cells[width:]):
        return cells, errors.TOO_MANY_FIELDS
    return cells[:width], None


def _check_lengths(plan: Plan, cells: list[str]) -> str | None:
    """Refuse oversized cells before any of them reaches the database."""
    if max(map(len, cells), default=0) > MAX_CELL_CHARS:
        return errors.CELL_TOO_LONG
    for index in (plan.first_name, plan.last_name):
        if index is not None and len(cells[index].strip()) > MAX_NAME_CHARS:
            return errors.NAME_TOO_LONG
    for index in (plan.first_name, plan.last_name):
        if index is not None and has_control_characters(cells[index].strip()):
            return errors.CONTROL_CHARACTERS
    return None


def _address_codes(
    required: str,
    raw_email: str,
    email: str | None,
    raw_phone: str,
    phone: str | None,
) -> tuple[str | None, str | None]:
    """(error code, warning code) of a row's addresses; `_BLANK` if both missing.

    The address the audience requires must be valid; an optional one that is
    present but invalid is dropped with a warning rather than losing the row.
    """
    bad_email = errors.INVALID_EMAIL if raw_email and not email else None
    bad_phone = errors.INVALID_PHONE if raw_phone and not phone else None
    if required == "email" and not email:
        return bad_email or _BLANK, None
    if required == "phone" and not phone:
        return bad_phone or _BLANK, None
    if not (email or phone):
        if bad_email and bad_phone:
            return errors.NO_VALID_ADDRESS, None
        return bad_email or bad_phone or _BLANK, None
    return None, bad_email or bad_phone


def _raw(plan: Plan, cells: list[str]) -> str:
    """The row as the user typed it (cells re-joined), cut for the error report."""
    raw = plan.delimiter.join(cells)
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…"
