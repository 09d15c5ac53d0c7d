"""Files of an import: the upload, the parsed-rows spool and the error report.

Uploads and error reports live under `RECIPIENT_IMPORT_DIR` (default
`VAR_DIR/imports`), shared by the web process and the worker. The spool holds
validated rows between the parse phase and the merge transaction; it is read
back by the same process, so it goes to the local temporary directory.
"""

from __future__ import annotations

import csv
import marshal
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from django.conf import settings

from partnerhub.csvio import RowError

SpoolRow = tuple[int, str | None, str | None, str, str, dict[str, str]]


def imports_dir() -> Path:
    """Where uploads and error reports are kept (created on first use)."""
    default = Path(settings.VAR_DIR) / "imports"
    path = Path(getattr(settings, "RECIPIENT_IMPORT_DIR", default))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # recipients' data
    return path


def max_upload_bytes() -> int:
    return int(getattr(settings, "RECIPIENT_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def new_upload_path() -> Path:
    """A fresh, unguessable name: the user's file name never reaches the disk."""
    return imports_dir() / f"{uuid.uuid4().hex}.csv"


def error_report_path(import_id: int) -> Path:
    return imports_dir() / f"import-{import_id}-errors.csv"


def remove(path: str | Path) -> None:
    """Delete a file if it is there."""
    if path:
        Path(path).unlink(missing_ok=True)


REJECTED, WARNED = "rejected", "warning"


class Problem(NamedTuple):
    """One line of the report: a rejected row, or a row imported with a warning
    (an optional address dropped)."""

    line: int
    code: str
    raw: str
    outcome: str = REJECTED

    @property
    def warning(self) -> bool:
        return self.outcome == WARNED


class ErrorReport:
    """Rejected rows and warnings, appended batch by batch, in file order
    (line, code, content, outcome).

    Codes, not messages, are stored: the download translates them into the
    language of whoever downloads the report.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)

    def add(self, rejected: Iterable[RowError], warned: Iterable[RowError]) -> None:
        problems = [(*e, REJECTED) for e in rejected]
        problems += [(*w, WARNED) for w in warned]
        self._writer.writerows(sorted(problems))

    def close(self) -> None:
        self._file.close()


def read_error_report(path: Path) -> Iterator[Problem]:
    """The stored problems, in file order; nothing if there is no report.

    Reports written before the outcome column count every line as rejected.
    """
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for line, code, raw, *outcome in csv.reader(handle):
            yield Problem(int(line), code, raw, *outcome[:1])


class Spool:
    """Validated rows on local disk, written and read back batch by batch.

    marshal is the fastest serialiser for plain tuples, and the file is written
    and read by this process only (never untrusted input).
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="import-spool-")  # noqa: SIM115
        self.batches = 0

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Plain tuples of plain values (`iter_batches(plain=True)`)."""
        data = marshal.dumps(rows)  # type: ignore[arg-type]  # a list at run time
        self._file.write(len(data).to_bytes(8, "little"))
        self._file.write(data)
        self.batches += 1

    def __iter__(self) -> Iterator[list[SpoolRow]]:
        self._file.seek(0)
        for _ in range(self.batches):
            size = int.from_bytes(self._file.read(8), "little")
            # Whole batches: marshal.load on a file reads it a few bytes at a time.
            yield marshal.loads(self._file.read(size))  # noqa: S302 - our own file

    def close(self) -> None:
        self._file.close()
