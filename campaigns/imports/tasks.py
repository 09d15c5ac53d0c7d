"""django-q2 task of the recipient import: loads the id, calls the service."""

from __future__ import annotations

from .services import recipient_import_run, recipient_imports_fail_stale


def run_recipient_import(import_id: int) -> str:
    """Safe to run twice: the service claims the import before working on it."""
    result = recipient_import_run(import_id=import_id)
    return f"recipient import {import_id}: {result.status}"


def fail_stale_imports() -> str:
    """Periodic: imports whose worker died are marked failed, with the reason."""
    return f"stale recipient imports failed: {recipient_imports_fail_stale()}"
