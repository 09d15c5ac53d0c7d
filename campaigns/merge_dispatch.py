"""The dispatch's hooks for personalised campaigns (`merge_fields`).

A plain campaign goes through none of this. A personalised one differs in three
places, each a small hook `dispatch.py` calls:
- `snapshot_order`: email and voice deliveries are numbered grouped by their merge
  values, so the keyset batching finds each group's recipients side by side;
- `one_group`: a batch never mixes values (one Mail Partner `variables` set, one
  Voice Partner text per request); the values are stored on the batch
  (`merge_values`) when it is recorded, so a retry sends the same request;
- `batch_targets`: each target carries its merge values (SMS: its own, sent as its
  own text through `/bulk-send`; email and voice: the batch's).
"""

from __future__ import annotations

from typing import Any, TypeVar

from .channels import Target
from .merge_fields import Plan, plan_for
from .models import Campaign, Channel, Delivery, DeliveryStatus, DispatchBatch

PLAN = "_merge_plan"
GROUP_VALUES = "_merge_group_values"
# Channels whose request carries one content for all its recipients.
GROUPED = frozenset({Channel.EMAIL, Channel.VOICE})


def plan(campaign: Campaign) -> Plan | None:
    """The campaign's merge plan, worked out once per dispatch run."""
    if not hasattr(campaign, PLAN):
        setattr(campaign, PLAN, plan_for(campaign))
    found: Plan | None = getattr(campaign, PLAN)
    return found


def snapshot_order(campaign: Campaign) -> list[Any]:
    """Recipient order of the snapshot: by merge values first when grouped."""
    found = plan(campaign)
    if found is None or campaign.channel not in GROUPED:
        return ["id"]
    return [*found.annotations().values(), "id"]


Row = TypeVar("Row", bound=tuple[Any, ...])  # a pending delivery, its id first


def one_group(campaign: Campaign, after: int, pending: list[Row]) -> list[Row]:
    """The leading run of `pending` that shares one set of merge values.

    Its values are kept on the campaign instance for `group_values`, which the
    batch being recorded stores. Rows past the run stay unbatched for the next
    batch (the cursor stops at the run's last id).
    """
    found = plan(campaign)
    if found is None or campaign.channel not in GROUPED or not pending:
        return pending
    names = found.annotations("recipient__")
    rows = (
        Delivery.objects.filter(
            campaign=campaign,
            status=DeliveryStatus.PENDING,
            id__gt=after,
            id__lte=pending[-1][0],
        )
        .annotate(**names)
        .order_by("id")
        .values_list("id", *names)
    )
    first: tuple[Any, ...] | None = None
    last_id = pending[0][0]
    for pk, *raw in rows:  # in id order, as `pending`: stop at the first change
        if first is None:
            first = tuple(raw)
        elif tuple(raw) != first:
            break
        last_id = pk
    setattr(campaign, GROUP_VALUES, found.values(first or ()))
    return [row for row in pending if row[0] <= last_id]


def group_values(campaign: Campaign) -> dict[str, str] | None:
    """The merge values of the batch being recorded (None: plain or SMS)."""
    if campaign.channel not in GROUPED or plan(campaign) is None:
        return None
    return getattr(campaign, GROUP_VALUES, None)


def batch_targets(campaign: Campaign, batch: DispatchBatch) -> list[Target] | None:
    """The batch's targets with their merge values; None for a plain campaign."""
    found = plan(campaign)
    if found is None:
        return None
    stored = batch.merge_values if campaign.channel in GROUPED else None
    if stored is not None:  # the batch's one set of values: no need to read each
        from .dispatch import batch_targets as plain_targets  # dispatch imports us

        return [
            Target(target.address, target.name, merge=stored)
            for target in plain_targets(batch)
        ]
    names = found.annotations("recipient__")
    rows = (
        batch.pending_deliveries()
        .annotate(**names)
        .order_by("id")
        .values_list("address", "recipient__first_name", "recipient__last_name", *names)
    )
    return [
        Target(address, f"{first or ''} {last or ''}".strip(), merge=found.values(raw))
        for address, first, last, *raw in rows
    ]
