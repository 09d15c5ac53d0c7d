"""An import whose worker died does not stay "running" forever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.audiences import services
from campaigns.models import Audience, ImportStatus, RecipientImport
from tests.import_helpers import make_csv, upload

pytestmark = pytest.mark.django_db


def running_import(tmp_path, settings, *, started_minutes_ago: int) -> RecipientImport:
    settings.RECIPIENT_IMPORT_DIR = tmp_path
    audience = Audience.objects.create(name=f"A{Audience.objects.count()}")
    draft = upload(audience, make_csv([["email"], ["a@x.fr"]]))
    RecipientImport.objects.filter(pk=draft.pk).update(
        status=ImportStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )
    return draft


def test_an_import_whose_heartbeat_stopped_is_failed_within_the_bound(
    tmp_path, settings
) -> None:
    """Failed after RECIPIENT_IMPORT_STALE_SECONDS without a heartbeat, not after
    the task time limit (10 minutes and more before)."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 3600}
    settings.RECIPIENT_IMPORT_STALE_SECONDS = 300
    dead = running_import(tmp_path, settings, started_minutes_ago=30)
    alive = running_import(tmp_path, settings, started_minutes_ago=30)
    never_beat = running_import(tmp_path, settings, started_minutes_ago=6)
    now = timezone.now()
    RecipientImport.objects.filter(pk=dead.pk).update(
        heartbeat_at=now - timedelta(seconds=301)
    )
    RecipientImport.objects.filter(pk=alive.pk).update(
        heartbeat_at=now - timedelta(seconds=30)
    )

    assert services.recipient_imports_fail_stale() == 2

    for row in (dead, alive, never_beat):
        row.refresh_from_db()
    assert dead.status == ImportStatus.FAILED
    assert dead.error_code == "worker_lost"
    assert "audience was left unchanged" in dead.error_message
    assert dead.finished_at is not None
    assert never_beat.status == ImportStatus.FAILED
    assert alive.status == ImportStatus.RUNNING
    assert services.recipient_imports_fail_stale() == 0  # idempotent


def test_a_running_import_beats_at_every_batch(tmp_path, settings) -> None:
    settings.RECIPIENT_IMPORT_DIR = tmp_path
    audience = Audience.objects.create(name="Beats")
    rows = [["email"], *[[f"c{i}@x.fr"] for i in range(30)]]
    draft = upload(audience, make_csv(rows))
    seen = []

    def progress(imp: RecipientImport) -> None:
        seen.append(
            RecipientImport.objects.values_list("heartbeat_at", flat=True).get(
                pk=imp.pk
            )
        )

    mapping = {int(i): f for i, f in draft.mapping.items()}
    services.recipient_import_start(
        recipient_import=draft, mapping=mapping, mode="update", enqueue=False
    )
    services.recipient_import_run(import_id=draft.pk, workers=1, progress=progress)
    assert seen and all(beat is not None for beat in seen)
