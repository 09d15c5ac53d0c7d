"""django-q2 task of the recipient import: loads the id, calls the service."""

from __future__ import annotations

from .services import (
    recipient_import_drafts_expire,
    recipient_import_run,
    recipient_imports_fail_stale,
)


def run_recipient_import(import_id: int) -> str:
    """Safe to run twice: the service claims the import before working on it."""
    result = recipient_import_run(import_id=import_id)
    return f"recipient import {import_id}: {result.status}"


def fail_stale_imports() -> str:
    """Periodic: imports whose worker died are failed; drafts over 24 h swept."""
    failed = recipient_imports_fail_stale()
    expired = recipient_import_drafts_expire()
    return f"stale recipient imports failed: {failed}, old drafts removed: {expired}"
