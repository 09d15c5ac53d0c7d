"""Demo history for `manage.py demo`: audiences, five weeks of campaigns, unsubscribes.

So that every page and chart has something to show on first login: sent email, SMS
and voice campaigns with settled statuses, a cancelled and a failed one, drafts and
one scheduled, and the unsubscribes they produced. Created once (the first demo
audience is the marker); a few seconds on SQLite.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_noop

from partnerhub.audit import Action
from partnerhub.services import accounts_ensure_main
from unsubscribes.models import Channel as UnsubscribeChannel
from unsubscribes.models import Source, Unsubscribe, UnsubscribeSync

from ..models import Audience, Campaign, CampaignStatus, ImportStatus, RecipientImport
from ..services import campaign_schedule
from . import history, people
from .campaigns import (
    CANCELLED,
    DRAFTS,
    FAILED,
    FAILED_ERROR,
    FAILED_REASON,
    PAST,
    SCHEDULED,
)

# Stored in English, translated where they are shown (as HARD_BOUNCE, STOP_REASON).
MANUAL_REASONS = (
    gettext_noop("Asked by phone to customer service."),
    gettext_noop("Asked by post."),
    gettext_noop("No longer wants to be contacted (said in store)."),
    "",
)


@transaction.atomic
def seed() -> None:
    if Audience.objects.filter(name=people.AUDIENCES[0].name).exists():
        return
    accounts = {a.provider: a for a in accounts_ensure_main()}
    author = get_user_model().objects.filter(username="marketing").first()
    audiences = {a.name: a for a in people.create_audiences()}
    _imported(audiences.values(), author)
    _earlier_unsubscribes(audiences)
    rng = random.Random(16)  # noqa: S311 - demo outcomes
    context = history.Context(accounts, audiences, author)
    for past in sorted(PAST, key=lambda p: -p.days_ago):
        history.sent(past, context=context, rng=rng)
    history.failed(FAILED, context=context, reason=FAILED_REASON, error=FAILED_ERROR)
    history.cancelled(CANCELLED, context=context)
    for draft in (*DRAFTS, SCHEDULED):
        _draft(draft, context=context)
    _synced()


def _earlier_unsubscribes(audiences: dict[str, Audience]) -> None:
    """Unsubscribed before the history starts: by hand, and from provider lists."""
    rng = random.Random(8)  # noqa: S311 - demo picks
    recipients = list(
        audiences["Clients fidèles"].recipients.values_list("email", "phone")[:1200]
    )
    picked = rng.sample(recipients, 60)
    rows = []
    for i, (email, phone) in enumerate(picked):
        manual = i % 3 == 0
        channel = UnsubscribeChannel.EMAIL if i % 2 and email else "sms"
        address = email if channel == UnsubscribeChannel.EMAIL else phone
        if not address:
            continue
        rows.append(
            Unsubscribe(
                channel=channel,
                address=address,
                source=Source.MANUAL if manual else Source.PROVIDER,
                reason=rng.choice(MANUAL_REASONS) if manual else "",
                provider_id=f"demo-early-{i}",
            )
        )
    created = Unsubscribe.objects.bulk_create(rows)
    start = timezone.now() - timedelta(days=60)
    for i, row in enumerate(created):
        row.created_at = start + timedelta(hours=17 * i)
        row.synced_at = row.created_at + timedelta(hours=1)
    Unsubscribe.objects.bulk_update(created, ["created_at", "synced_at"])


def _imported(audiences: Iterable[Audience], author: Any) -> None:
    """Each audience came from one CSV import, six weeks ago (as its page shows)."""
    start = timezone.now() - timedelta(days=42)
    for i, audience in enumerate(audiences):
        at = start + timedelta(days=i, hours=2)
        size = audience.recipients.count()
        done = RecipientImport.objects.create(
            audience=audience,
            created_by=author,
            file_name=f"{slugify(audience.name)}.csv",
            file_size=size * 64,
            encoding="utf-8",
            delimiter=";",
            status=ImportStatus.DONE,
            rows_read=size + 9 + 4 * i,
            created=size,
            duplicates=6 + 3 * i,
            invalid=3 + i,
            started_at=at,
            finished_at=at + timedelta(seconds=3),
        )
        RecipientImport.objects.filter(pk=done.pk).update(created_at=at)
        Audience.objects.filter(pk=audience.pk).update(created_at=at)
        history.audit(Action.AUDIENCE_SAVED, audience, author, at)
        details = {"file": done.file_name, "rows": done.rows_read, "created": size}
        history.audit(Action.AUDIENCE_IMPORTED, audience, author, at, details)


def _draft(spec: history.Past, *, context: history.Context) -> Campaign:
    """A draft; one with negative `days_ago` is scheduled that many days ahead."""
    campaign = history.campaign(spec, context=context, status=CampaignStatus.DRAFT)
    if spec.days_ago < 0:  # the worker sends it then, as any scheduled campaign
        when = timezone.now() - timedelta(days=spec.days_ago)
        campaign_schedule(campaign=campaign, scheduled_at=when, actor=context.author)
    return campaign


def _synced() -> None:
    """Both lists were last synced with the providers an hour ago."""
    moment = timezone.now() - timedelta(hours=1)
    for channel in UnsubscribeChannel.values:
        UnsubscribeSync.objects.update_or_create(
            channel=channel,
            defaults={
                "started_at": moment,
                "finished_at": moment + timedelta(seconds=4),
                "succeeded_at": moment + timedelta(seconds=4),
                "pulled": 3,
            },
        )
