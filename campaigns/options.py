"""Channel options of a draft: Mail reply-to, provider tag, Voice voicemail drop.

Checked by the draft services with the rules of `partnerhub.rules`, so the
form, the admin and any script meet the same refusals, each on its field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from partnerhub import rules

from .models import Campaign, Channel, VoiceMode

VOICEMAIL_NEEDS_AUDIO = _(
    "A voicemail drop plays an audio file: choose one (text-to-speech is for calls)."
)
VOICEMAIL_NEEDS_EMAIL = _(
    "Voice Partner reports a voicemail drop by email: enter the address to notify."
)
# Price key of `services.unit_cost` for a voicemail drop (its own price).
VOICEMAIL_PRICE = "voicemail"


def option_problems(campaign: Campaign) -> list[tuple[str, ValidationError]]:
    """Field errors of the options; normalises the reply-to address in place."""
    found: list[tuple[str, ValidationError]] = []
    try:
        rules.validate_provider_tag(channel=campaign.channel, value=campaign.tag)
    except ValidationError as exc:
        found.append(("tag", exc))
    if campaign.channel == Channel.EMAIL:
        try:
            campaign.reply_to = rules.clean_reply_to(campaign.reply_to)
        except ValidationError as exc:
            found.append(("reply_to", exc))
    if is_voicemail(campaign):
        found += _voicemail_problems(campaign)
    return found


def _voicemail_problems(campaign: Campaign) -> list[tuple[str, ValidationError]]:
    found = []
    if not campaign.voice_audio_token:
        found.append(
            ("voice_audio_token", ValidationError(VOICEMAIL_NEEDS_AUDIO, code="audio"))
        )
    email = campaign.notification_email.strip()
    if not email:
        found.append(
            (
                "notification_email",
                ValidationError(VOICEMAIL_NEEDS_EMAIL, code="required"),
            )
        )
    else:
        try:
            campaign.notification_email = rules.clean_email(email)
        except ValidationError as exc:
            found.append(("notification_email", exc))
    return found


def is_voicemail(campaign: Campaign) -> bool:
    return (
        campaign.channel == Channel.VOICE and campaign.voice_mode == VoiceMode.VOICEMAIL
    )


def price_key(campaign: Campaign) -> str:
    """Which unit price the estimate uses: a voicemail drop has its own."""
    return VOICEMAIL_PRICE if is_voicemail(campaign) else campaign.channel
