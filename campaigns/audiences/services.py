"""Recipient import actions: upload, start, run (the background task's body), cancel.

The run has two phases. Parse: the file is streamed through `csvio` (all cores);
rows with never-seen addresses go to a staging table in the database (see
`staging`), possible duplicates to a local spool, with counters and progress
committed batch by batch, so the progress bar moves and no write lock on the
audience is held. Merge: staged rows and spooled duplicates are folded into
the audience in ONE transaction (see `merge`), so a failure or a cancel leaves
the audience exactly as it was, and the import row keeps its counters, its
reason and its error report either way.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import (
    Audience,
    ImportMode,
    ImportStatus,
    Recipient,
    RecipientImport,
)
from partnerhub.csvio import Batch, CsvError, CsvSource, iter_batches, open_csv
from partnerhub.csvio.pipeline import make_plan

from . import selectors, storage
from .merge import Merger
from .staging import Staging, staged_rows, staging_for_connection

logger = logging.getLogger(__name__)

FILE_TOO_LARGE = _("The file is too large: the maximum is %(max)s MB.")
NOT_A_DRAFT = _("This import has already been started.")
BAD_MODE = _("Choose whether to update or keep existing recipients.")
CANCELLED_BY_USER = _("Cancelled: the audience was left unchanged.")
INTERNAL_ERROR = _(
    "The import failed because of an internal error; the audience was left "
    "unchanged. Please try again or contact an administrator."
)
WORKER_LOST = _(
    "The import stopped without finishing (its worker was stopped or timed out); "
    "the audience was left unchanged. Please import the file again."
)
INTERNAL = "internal_error"
PHASE_PARSE, PHASE_MERGE = "parsing", "merging"

Progress = Callable[[RecipientImport], None]


class ImportCancelled(Exception):
    """Raised between batches when the user asked to cancel."""


def too_large_error() -> ValidationError:
    limit = storage.max_upload_bytes() / (1024 * 1024)
    return ValidationError(
        FILE_TOO_LARGE, code="too_large", params={"max": f"{limit:g}"}
    )


def recipient_import_create(
    *,
    audience: Audience,
    file: IO[bytes],
    file_name: str,
    user: Any = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> RecipientImport:
    """Store an upload and detect its shape; a draft awaiting the user's preview.

    Whole-file problems (too large, binary, empty, header only, unreadable
    encoding…) raise `ValidationError` and leave nothing behind.
    """
    path = storage.new_upload_path()
    try:
        size = _copy_limited(file, path)
        with path.open("rb") as handle:
            source = open_csv(handle, encoding=encoding, delimiter=delimiter)
    except CsvError as exc:
        storage.remove(path)
        raise ValidationError(exc.message, code=exc.code) from exc
    except BaseException:
        storage.remove(path)
        raise
    return RecipientImport.objects.create(
        audience=audience,
        created_by=user if getattr(user, "pk", None) else None,
        file_name=file_name[:255],
        file_path=str(path),
        file_size=size,
        encoding=source.encoding,
        delimiter=source.delimiter,
        mapping={str(i): field for i, field in source.mapping.items()},
    )


def _copy_limited(file: IO[bytes], path: Any) -> int:
    """Copy an upload to `path`, refusing it once it exceeds the size limit."""
    limit, size = storage.max_upload_bytes(), 0
    with open(path, "wb") as out:
        while block := file.read(1024 * 1024):
            size += len(block)
            if size > limit:
                raise too_large_error()
            out.write(block)
    return size


def open_source(recipient_import: RecipientImport) -> tuple[IO[bytes], CsvSource]:
    """Reopen a stored upload as the preview showed it (caller closes the file)."""
    handle = open(recipient_import.file_path, "rb")  # noqa: SIM115
    try:
        source = open_csv(
            handle,
            encoding=recipient_import.encoding or None,
            delimiter=recipient_import.delimiter or None,
        )
    except BaseException:
        handle.close()
        raise
    return handle, source


def recipient_import_start(
    *,
    recipient_import: RecipientImport,
    mapping: dict[int, str],
    mode: str,
    enqueue: bool = True,
) -> RecipientImport:
    """Check the chosen mapping, then queue the import (after commit).

    `enqueue=False` is for callers that run it in-process (command, benchmark).
    """
    if recipient_import.status != ImportStatus.DRAFT:
        raise ValidationError(NOT_A_DRAFT, code="not_draft")
    if mode not in ImportMode.values:
        raise ValidationError(BAD_MODE, code="bad_mode")
    try:
        handle, source = open_source(recipient_import)
        with handle:
            make_plan(source, mapping, "any")
    except CsvError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
    except OSError as exc:
        raise ValidationError(INTERNAL_ERROR, code=INTERNAL) from exc
    recipient_import.mapping = {str(i): field for i, field in mapping.items()}
    recipient_import.mode = mode
    recipient_import.status = ImportStatus.PENDING
    recipient_import.save(update_fields=["mapping", "mode", "status"])
    pk = recipient_import.pk
    if enqueue:
        transaction.on_commit(lambda: enqueue_import(pk))
    return recipient_import


def enqueue_import(import_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "campaigns.audiences.tasks.run_recipient_import",
        import_id,
        task_name=f"recipient-import-{import_id}",
    )


def recipient_import_cancel(*, recipient_import: RecipientImport) -> bool:
    """Ask a queued or running import to stop; False if it already finished."""
    active = (ImportStatus.DRAFT, ImportStatus.PENDING, ImportStatus.RUNNING)
    qs = RecipientImport.objects.filter(pk=recipient_import.pk, status__in=active)
    drafts = qs.filter(status=ImportStatus.DRAFT).update(
        status=ImportStatus.CANCELLED, finished_at=timezone.now()
    )
    if drafts:
        storage.remove(recipient_import.file_path)
        return True
    return bool(qs.update(cancel_requested=True))


def recipient_import_run(
    *, import_id: int, workers: int | None = None, progress: Progress | None = None
) -> RecipientImport:
    """Run a queued import to a final status; safe to call twice (claims first)."""
    claimed = RecipientImport.objects.filter(
        pk=import_id, status=ImportStatus.PENDING
    ).update(
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        phase=PHASE_PARSE,
    )
    recipient_import = RecipientImport.objects.get(pk=import_id)
    if not claimed:
        return recipient_import
    if workers is None:
        workers = int(getattr(settings, "RECIPIENT_IMPORT_WORKERS", 2))
    spool = storage.Spool()
    staging = staging_for_connection()
    try:
        with _collector_paused():
            staging.open()
            sink = _Sink(_merger(recipient_import), staging, spool)
            _parse(recipient_import, sink, workers, progress)
            _merge(recipient_import, sink, progress)
    except ImportCancelled:
        _finish(recipient_import, ImportStatus.CANCELLED, "cancelled", "")
    except CsvError as exc:
        _finish(recipient_import, ImportStatus.FAILED, exc.code, str(exc.message))
    except Exception:
        logger.exception("recipient import %s failed", import_id)
        _finish(recipient_import, ImportStatus.FAILED, INTERNAL, str(INTERNAL_ERROR))
    finally:
        _close(staging)
        spool.close()
        storage.remove(recipient_import.file_path)
    return recipient_import


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the run (restored afterwards).

    The run allocates millions of short-lived rows: the collector kept
    re-scanning them and the process's long-lived objects for cycles the
    import does not make (15-20 % of the wall time); refcounting frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Sink:
    """Where parsed rows go: never-seen ones to staging, the others to the spool."""

    merger: Merger
    staging: Staging
    spool: storage.Spool

    def add(self, rows: list[Any]) -> None:
        fresh, rest = self.merger.split(rows)
        self.staging.add(staged_rows(fresh))
        if rest:
            self.spool.write(rest)


def _merger(recipient_import: RecipientImport) -> Merger:
    """A merger primed with the audience's addresses, its filter sized for
    the file (a row takes at least about 32 bytes: email, phone, names)."""
    imp = recipient_import
    existing = Recipient.objects.filter(audience_id=imp.audience_id).count()
    merger = Merger(
        audience_id=imp.audience_id,
        mode=imp.mode,
        expected_keys=2 * (existing + imp.file_size // 32),
    )
    merger.prime()
    return merger


def _close(staging: Staging) -> None:
    """Drop the staging rows; a broken connection must not hide the outcome."""
    try:
        staging.close()
    except Exception:
        logger.exception("could not drop an import's staging table")


def _parse(
    recipient_import: RecipientImport,
    sink: _Sink,
    workers: int,
    progress: Progress | None,
) -> None:
    """Phase 1: validate into staging and spool, committing progress every batch."""
    report = storage.ErrorReport(storage.error_report_path(recipient_import.pk))
    try:
        handle, source = open_source(recipient_import)
        with handle:
            mapping = {int(i): f for i, f in recipient_import.mapping.items()}
            for batch in _batches(source, mapping, workers):
                sink.add(batch.rows)
                report.add(batch.errors, batch.warnings)
                _record_batch(recipient_import, batch)
                if progress:
                    progress(recipient_import)
    finally:
        report.close()


def _batches(
    source: CsvSource, mapping: dict[int, str], workers: int
) -> Iterator[Batch]:
    """Batches from a process pool, or in this process if no pool can start."""
    options: dict[str, Any] = {"mapping": mapping, "required": "any", "plain": True}
    batches = iter_batches(source, workers=workers, **options)
    try:
        first = next(batches, None)
    except (OSError, BrokenProcessPool):
        logger.warning("no process pool for the import: parsing in-process")
        batches = iter_batches(source, workers=1, **options)
        first = next(batches, None)
    if first is not None:
        yield first
        yield from batches


_PROGRESS_FIELDS = [
    "rows_read",
    "invalid",
    "warnings",
    "empty_lines",
    "bytes_read",
    "heartbeat_at",
]


def _record_batch(recipient_import: RecipientImport, batch: Batch) -> None:
    """Commit the batch's counters; stop here if a cancel was requested.

    One UPDATE that matches only while no cancel is requested: it both saves
    the progress and reads the cancel flag (a query less per batch).
    """
    imp = recipient_import
    imp.rows_read += len(batch.rows) + len(batch.errors)
    imp.invalid += len(batch.errors)
    imp.warnings += len(batch.warnings)
    imp.empty_lines += batch.blank
    imp.bytes_read = batch.bytes_read
    imp.heartbeat_at = timezone.now()
    saved = RecipientImport.objects.filter(pk=imp.pk, cancel_requested=False).update(
        **{name: getattr(imp, name) for name in _PROGRESS_FIELDS}
    )
    if not saved:
        imp.save(update_fields=_PROGRESS_FIELDS)
        raise ImportCancelled


def _cancel_requested(recipient_import: RecipientImport) -> bool:
    return RecipientImport.objects.filter(
        pk=recipient_import.pk, cancel_requested=True
    ).exists()


def _merge(
    recipient_import: RecipientImport, sink: _Sink, progress: Progress | None
) -> None:
    """Phase 2: staged rows, then kept rows, into the audience in one transaction."""
    imp = recipient_import
    imp.phase = PHASE_MERGE
    imp.bytes_read = imp.file_size
    imp.heartbeat_at = timezone.now()
    imp.save(update_fields=["phase", "bytes_read", "heartbeat_at"])
    if progress:
        progress(imp)
    merger = sink.merger
    with transaction.atomic():
        last = Recipient.objects.aggregate(last=Max("id"))["last"] or 0
        merger.first_new_id = last + 1
        late = merger.take_late_duplicates(sink.staging)
        if _cancel_requested(imp):
            raise ImportCancelled
        _grow_sqlite_cache()
        merger.insert_staged(sink.staging)
        for rows in _chunked(late, _MERGE_BATCH):
            merger.merge(rows)
        for rows in sink.spool:
            merger.merge(rows)
            if _cancel_requested(imp):
                raise ImportCancelled
        counts = merger.counts
        imp.created, imp.duplicates = counts.created, counts.duplicates
        imp.updated, imp.unsubscribed = counts.updated, counts.unsubscribed
        imp.status, imp.phase, imp.finished_at = ImportStatus.DONE, "", timezone.now()
        imp.save(update_fields=_RESULT_FIELDS)
        _audit_import(imp)
        transaction.on_commit(lambda: selectors.forget_audience_sizes(imp.audience_id))


_MERGE_BATCH = 5000


def _chunked(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _audit_import(imp: RecipientImport) -> None:
    """Who imported which file into which audience, with its counts."""
    from partnerhub.audit import Action, record

    record(
        action=Action.AUDIENCE_IMPORTED,
        actor=imp.created_by,
        target=imp.audience,
        details={
            "file": imp.file_name,
            "import": imp.pk,
            "rows": imp.rows_read,
            "created": imp.created,
            "updated": imp.updated,
            "duplicates": imp.duplicates,
            "invalid": imp.invalid,
            "unsubscribed": imp.unsubscribed,
        },
    )


def _grow_sqlite_cache() -> None:
    """A 32 MiB page cache for this transaction (SQLite's default is 2 MiB).

    With a million rows the indexes outgrow the default cache and the insert
    reads them back page by page (4.9 s of CPU against 2.9 s here); 64 MiB
    was no faster and its pages, with the sort's buffer of the same size,
    pushed the whole import past 250 MB. The pragma lasts for this
    connection only.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA main.cache_size = -32768")


def recipient_imports_fail_stale() -> int:
    """Fail imports whose worker died, within a bounded time, with the reason.

    A running import writes a heartbeat at every batch of its parse and when its
    merge starts; the merge is one transaction (no heartbeat can be seen while it
    runs), so the bound must exceed the longest merge: RECIPIENT_IMPORT_STALE_SECONDS
    (300 s by default; a 200 MB file merges in about 2 minutes here). A worker
    killed mid-import left the audience untouched, so failing it loses nothing;
    the sweep runs every minute, hence failed within the bound plus one minute.
    """
    cutoff = timezone.now() - timedelta(seconds=stale_seconds())
    stale = RecipientImport.objects.filter(status=ImportStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    for recipient_import in stale:
        _finish(recipient_import, ImportStatus.FAILED, "worker_lost", str(WORKER_LOST))
        storage.remove(recipient_import.file_path)
    return len(stale)


def stale_seconds() -> int:
    return int(getattr(settings, "RECIPIENT_IMPORT_STALE_SECONDS", 300))


DRAFT_LIFETIME = timedelta(hours=24)


def recipient_import_drafts_expire() -> int:
    """Cancel drafts never started within 24 h and delete their uploaded CSV.

    An abandoned preview would otherwise keep a file of recipients in var/
    forever. Each draft is claimed by a compare-and-set, so one confirmed at
    the same moment is left alone.
    """
    cutoff = timezone.now() - DRAFT_LIFETIME
    expired = 0
    old = RecipientImport.objects.filter(
        status=ImportStatus.DRAFT, created_at__lt=cutoff
    )
    for draft in old.only("pk", "file_path"):
        claimed = RecipientImport.objects.filter(
            pk=draft.pk, status=ImportStatus.DRAFT
        ).update(status=ImportStatus.CANCELLED, finished_at=timezone.now())
        if claimed:
            storage.remove(draft.file_path)
            expired += 1
    return expired


def _finish(
    recipient_import: RecipientImport, status: str, code: str, message: str
) -> None:
    """Record a final status outside any (rolled back) transaction."""
    imp = recipient_import
    imp.status, imp.error_code, imp.error_message = status, code, message
    imp.created = imp.updated = imp.duplicates = imp.unsubscribed = 0
    imp.phase, imp.finished_at = "", timezone.now()
    imp.save(update_fields=[*_RESULT_FIELDS, "error_code", "error_message"])


_RESULT_FIELDS = [
    "created",
    "updated",
    "duplicates",
    "unsubscribed",
    "status",
    "phase",
    "finished_at",
]
