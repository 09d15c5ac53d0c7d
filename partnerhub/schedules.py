"""Every periodic task of PartnerHub, declared in one place.

`manage.py setup_schedules` (run on deploy and by `manage.py demo`) applies this list
idempotently: rows are matched by name, updated in place, and schedules of ours that
are no longer declared are removed. Tasks are dotted paths, safe to run twice.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "partnerhub:"


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    func: str
    minutes: int
    description: str = ""

    @property
    def key(self) -> str:
        return PREFIX + self.name


PERIODIC_TASKS: tuple[PeriodicTask, ...] = (
    PeriodicTask(
        "dispatch-due-campaigns",
        "campaigns.tasks.dispatch_due_campaigns",
        minutes=1,
        description="Dispatch scheduled campaigns whose time has come.",
    ),
    PeriodicTask(
        "refresh-statuses",
        "campaigns.tasks.refresh_recent_statuses",
        minutes=5,
        description="Pull delivery statuses of campaigns sent in the last 48 hours.",
    ),
    PeriodicTask(
        "refresh-credits",
        "partnerhub.tasks.refresh_all_credits",
        minutes=60,
        description="Record the credits of every provider account.",
    ),
    PeriodicTask(
        "fail-stale-imports",
        "campaigns.audiences.tasks.fail_stale_imports",
        minutes=1,
        description="Mark recipient imports whose worker died as failed.",
    ),
    PeriodicTask(
        "sync-unsubscribes",
        "unsubscribes.tasks.sync_unsubscribes",
        minutes=15,
        description="Two-way sync of the unsubscribe and STOP lists with providers.",
    ),
    PeriodicTask(
        "refresh-pec-receipts",
        "pec.tasks.refresh_pec_receipts",
        minutes=1,
        description="Fetch the receipts of PEC sends whose next check is due.",
    ),
)


def schedules_apply(tasks: tuple[PeriodicTask, ...] = PERIODIC_TASKS) -> dict[str, int]:
    """Create or update the declared schedules; delete our undeclared ones."""
    from django.db import transaction
    from django_q.models import Schedule

    with transaction.atomic():
        for task in tasks:
            Schedule.objects.update_or_create(
                name=task.key,
                defaults={
                    "func": task.func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": task.minutes,
                    "repeats": -1,
                },
            )
        declared = {task.key for task in tasks}
        stale = Schedule.objects.filter(name__startswith=PREFIX).exclude(
            name__in=declared
        )
        removed, _ = stale.delete()
    return {"declared": len(tasks), "removed": removed}
