"""An import whose worker died does not stay "running" forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.imports import services
from campaigns.models import Audience, ImportStatus, RecipientImport
from tests.import_helpers import make_csv, upload

pytestmark = pytest.mark.django_db


def running_import(tmp_path, settings, *, started_minutes_ago: int) -> RecipientImport:
    settings.RECIPIENT_IMPORT_DIR = tmp_path
    audience = Audience.objects.create(name=f"A{started_minutes_ago}")
    draft = upload(audience, make_csv([["email"], ["a@x.fr"]]))
    RecipientImport.objects.filter(pk=draft.pk).update(
        status=ImportStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )
    return draft


def test_an_import_running_past_the_task_time_limit_is_failed_with_a_reason(
    tmp_path, settings
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600}
    dead = running_import(tmp_path, settings, started_minutes_ago=20)
    alive = running_import(tmp_path, settings, started_minutes_ago=5)

    assert services.recipient_imports_fail_stale() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ImportStatus.FAILED
    assert dead.error_code == "worker_lost"
    assert "audience was left unchanged" in dead.error_message
    assert dead.finished_at is not None
    assert alive.status == ImportStatus.RUNNING
    assert services.recipient_imports_fail_stale() == 0  # idempotent
