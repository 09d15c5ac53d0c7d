"""Home page pieces about campaigns: quick actions, last campaigns, cards."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from partnerhub import formatting
from partnerhub.dashboard import (
    Card,
    Panel,
    QuickAction,
    register,
    register_actions,
    register_panel,
)

from . import selectors, volume
from .models import Campaign, CampaignStatus, Channel
from .tables import CampaignTable

RECENT_CAMPAIGNS = 6
NEW_CAMPAIGN = {
    Channel.EMAIL: _lazy("New email campaign"),
    Channel.SMS: _lazy("New SMS campaign"),
    Channel.VOICE: _lazy("New voice campaign"),
}


@register_actions("campaigns.add_campaign")
def new_campaign_actions(user: Any) -> list[QuickAction]:
    """One button per channel; they open the compose page of that channel."""
    if not user.has_perm("campaigns.change_campaign"):
        return []
    create = reverse("campaigns:create")
    return [
        QuickAction(str(label), f"{create}?channel={channel}", primary=True)
        for channel, label in NEW_CAMPAIGN.items()
    ]


@register_actions("campaigns.import_recipients")
def import_action(user: Any) -> list[QuickAction]:
    """Imports go into an audience: the audiences page is where one is picked."""
    return [QuickAction(_("Import recipients"), reverse("audiences:list"))]


@register_panel("campaigns.view_campaign")
def recent_campaigns(request: Any) -> list[Panel]:
    """The last campaigns with their delivery rate, as the campaign list shows them."""
    campaigns = selectors.campaigns_for_list().order_by("-created_at")
    table = CampaignTable(
        campaigns[:RECENT_CAMPAIGNS],
        orderable=False,
        exclude=("audience",),
        empty_text=_("No campaign yet: create the first one with the buttons above."),
    )
    return [
        Panel(
            title=_("Last campaigns"),
            template="campaigns/_home_recent.html",
            context={"table": table},
            url=reverse("campaigns:list"),
            url_label=_("All campaigns"),
        )
    ]


@register_panel("campaigns.view_campaign")
def volume_panel(request: Any) -> list[Panel]:
    """Messages handed to the providers per day, one row of bars per channel."""
    channels = volume.daily_volume()
    return [
        Panel(
            title=_("Messages sent in the last 30 days"),
            template="campaigns/_home_volume.html",
            context={"channels": channels, "empty": not any(c.total for c in channels)},
        )
    ]


@register("campaigns.view_campaign")
def campaign_cards(user: Any) -> list[Card]:
    counts = Campaign.objects.aggregate(
        sending=Count("pk", filter=Q(status=CampaignStatus.SENDING)),
        scheduled=Count("pk", filter=Q(status=CampaignStatus.SCHEDULED)),
        failed=Count("pk", filter=Q(status=CampaignStatus.FAILED)),
    )
    url = reverse("campaigns:list")
    in_flight = counts["sending"] + counts["scheduled"]
    return [
        Card(
            title=_("Campaigns in flight"),
            value=formatting.count(in_flight),
            detail=_in_flight_detail(counts)
            if in_flight
            else _("No campaign is sending or scheduled."),
            url=url,
            tone="ok" if in_flight else "neutral",
        ),
        Card(
            title=_("Failed campaigns"),
            value=formatting.count(counts["failed"]),
            detail=_("See the reason on each campaign.") if counts["failed"] else "",
            url=url + "?status=failed",
            tone="danger" if counts["failed"] else "neutral",
        ),
    ]


def _in_flight_detail(counts: dict[str, int]) -> str:
    """ "2 sending, 1 scheduled" with the campaign states' own words."""
    sending = ngettext("%(n)s sending", "%(n)s sending", counts["sending"]) % {
        "n": formatting.count(counts["sending"])
    }
    scheduled = ngettext("%(n)s scheduled", "%(n)s scheduled", counts["scheduled"]) % {
        "n": formatting.count(counts["scheduled"])
    }
    return f"{sending}, {scheduled}"
