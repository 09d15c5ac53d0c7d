"""How a campaign's own tag and the dispatch's per-batch tags share the `tag` field.

The dispatch tags every batch uniquely (`ph<campaign>b<batch>`, stored in
`DispatchBatch.provider_tag`): when a send's answer is lost, SMS Partner is asked
for the statuses of that tag (`/bulk-status-by-tag`) to learn whether it took the
batch, which is what makes the send exactly-once. The providers have one `tag`
field only, so the user's tag cannot simply replace it. The choice, per provider:

- SMS Partner: the batch tag stays, the user's tag comes first as a prefix,
  `<user>-ph12b3`, within the 20 characters (the prefix is shortened when the
  campaign and batch numbers need the room, never the batch part). Statistics
  by tag at the provider group on that prefix.
- Mail Partner: no lookup by tag exists (a lost Mail answer is settled as
  `unknown`, never looked up), so the batch tag does nothing for exactly-once
  there; the user's tag is sent whole, the same on every batch, which is what
  the provider's statistics want. Without one, the batch tag is sent.
- Voice Partner has no tag at all: the form refuses one.
"""

from __future__ import annotations

from .models import Campaign, Channel

MAX_TAG = 20
SEPARATOR = "-"


def batch_part(campaign_id: int, number: int) -> str:
    return f"ph{campaign_id}b{number}"[:MAX_TAG]


def batch_tag(campaign: Campaign, number: int) -> str:
    """`DispatchBatch.provider_tag`: unique per batch, the user's tag first on SMS."""
    own = batch_part(campaign.pk, number)
    if campaign.channel != Channel.SMS or not campaign.tag:
        return own
    room = MAX_TAG - len(own) - len(SEPARATOR)
    prefix = campaign.tag[: max(room, 0)].rstrip("-_")
    return f"{prefix}{SEPARATOR}{own}" if prefix else own


def mail_tag(campaign: Campaign, provider_tag: str) -> str:
    """The `tag` of a Mail send: the campaign's own, else the batch's."""
    return campaign.tag or provider_tag
