"""Files of recipients do not linger or leak (issue #17.9): var/ is owner-only, the
SQLite database is not world-readable, and import drafts never started are swept
after 24 hours with their CSV."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from campaigns.audiences import storage, tasks
from campaigns.models import Audience, ImportStatus, RecipientImport
from tests.import_helpers import make_csv, upload

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django; django.setup(); from django.db import connection;"
    "connection.ensure_connection(); connection.cursor().execute('CREATE TABLE t (x)')"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_var_and_the_sqlite_database_are_owner_only(tmp_path) -> None:
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env |= {"DJANGO_SETTINGS_MODULE": "partnerhub.settings", "VAR_DIR": str(var)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True,
        text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert mode(var) == 0o700
    database = var / "partnerhub.sqlite3"
    assert mode(database) & 0o077 == 0
    for companion in var.glob("partnerhub.sqlite3-*"):  # WAL and shared memory
        assert mode(companion) & 0o077 == 0, companion


def test_an_existing_world_readable_var_is_tightened(tmp_path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env |= {"DJANGO_SETTINGS_MODULE": "partnerhub.settings", "VAR_DIR": str(var)}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT,
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert mode(var) == 0o700


@pytest.mark.django_db
def test_the_uploads_folder_is_owner_only(tmp_path, settings) -> None:
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    assert mode(storage.imports_dir()) == 0o700


@pytest.mark.django_db
def test_drafts_never_started_are_swept_after_24_hours(tmp_path, settings) -> None:
    settings.RECIPIENT_IMPORT_DIR = tmp_path
    audience = Audience.objects.create(name="Clients")
    old = upload(audience, make_csv([["email"], ["a@x.fr"]]))
    recent = upload(audience, make_csv([["email"], ["b@x.fr"]]))
    RecipientImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert Path(old.file_path).exists()

    assert "old drafts removed: 1" in tasks.fail_stale_imports()

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == ImportStatus.CANCELLED
    assert not Path(old.file_path).exists()
    assert recent.status == ImportStatus.DRAFT
    assert Path(recent.file_path).exists()
    assert "old drafts removed: 0" in tasks.fail_stale_imports()
