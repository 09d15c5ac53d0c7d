"""The compose page's merge fields panel: fields, fallbacks, sample recipient.

Rendered with the page for the audience already chosen; `merge_fields.js` asks
`campaign_merge_fields_json` again when the audience changes, and fills the
previews with the chosen sample recipient's values.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ..forms import FALLBACK_PREFIX, MERGE_PANEL, DraftForm, merge_fallbacks_from
from ..merge_fields import audience_summary
from ..models import Audience, Campaign, Channel, Recipient
from .compose import audience_json, compose_permission


def merge_context(form: DraftForm, channel: str, sample: Any = None) -> dict[str, Any]:
    """The panel's data: the audience's fields (if one is chosen), the fallbacks."""
    if form.is_bound and MERGE_PANEL in form.data:
        fallbacks = merge_fallbacks_from(form.data)
    else:
        fallbacks = dict(form.instance.merge_fallbacks or {})
    value = form["audience"].value()
    audience = None
    if value and str(value).isdigit():
        audience = Audience.objects.filter(pk=value).first()
    summary = audience_summary(audience, channel) if audience else None
    return {
        "panel": MERGE_PANEL,
        "prefix": FALLBACK_PREFIX,
        "fields": [
            {"name": f, "fallback": fallbacks.get(f, "")}
            for f in (summary.fields if summary else [])
        ],
        "summary": summary.as_json() if summary else None,
        "fallbacks": fallbacks,
        "sample": str(sample or ""),
        "config": {
            "url": "",
            "channel": channel,
            "text": {
                "empty": _("%(count)s of %(total)s recipients have no value for "
                           "#%(field)s#: they get its fallback."),
                "emptyNoFallback": _("%(count)s of %(total)s recipients have no "
                                     "value for #%(field)s# and it has no fallback: "
                                     "they get nothing in its place."),
                "subject": _("Subject: %(subject)s"),
                "fallback": _("If #%(field)s# is empty"),
                "voice": _("Read aloud: %(subject)s"),
            },
        },
    }  # fmt: skip


@compose_permission
@require_GET
def campaign_merge_fields_json(request: HttpRequest) -> HttpResponse:
    """Fields, empty counts and sample recipients of an audience, for one channel."""
    return audience_json(request, lambda a, c: audience_summary(a, c).as_json())


def chosen_sample(campaign: Campaign, sample_id: int | None) -> Recipient | None:
    """The test send's sample recipient, if it belongs to the campaign's audience."""
    if not sample_id:
        return None
    return Recipient.objects.filter(
        pk=sample_id, audience_id=campaign.audience_id
    ).first()


def review_context(campaign: Campaign) -> dict[str, Any] | None:
    """Review page: the fields used, the first recipient's text, the empties."""
    from ..merge_fields import (
        campaign_fields,
        empty_counts,
        recipient_values,
        render,
        sample_recipients,
    )
    from ..selectors import campaign_sendable_recipients

    fields = campaign_fields(campaign)
    if not fields:
        return None
    sample = sample_recipients(campaign, limit=1).first()
    values = recipient_values(campaign, sample)
    shown = campaign.subject if campaign.channel == Channel.EMAIL else campaign.text
    empties = empty_counts(campaign, campaign_sendable_recipients(campaign=campaign))
    fallbacks = campaign.merge_fallbacks or {}
    return {
        "fields": [f"#{name}#" for name in fields],
        "sample": _sample_name(sample) if sample else "",
        "rendered": render(shown, values),
        "empty": [
            {"field": f"#{name}#", "count": count, "fallback": fallbacks.get(name, "")}
            for name, count in empties.items()
            if count
        ],
    }


def _sample_name(recipient: Recipient) -> str:
    name = f"{recipient.first_name} {recipient.last_name}".strip()
    return name or str(recipient)
