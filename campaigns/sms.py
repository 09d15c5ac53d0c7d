"""SMS length as the provider bills it: GSM-7 after its substitutions, or Unicode.

Without `isUnicode` SMS Partner never switches to Unicode: it replaces or removes
characters (`partnerhub.providers.sms_charset`) and sends GSM-7, 160 characters
or 153 per part. With `isUnicode=1` (activated by its support) it is 70 / 67
UTF-16 units. `isStopSms=1` makes the provider append the STOP mention on the
Premium range; on Low Cost it is not available and "NoPub=STOP" is written in
the text by PartnerHub (providers.md §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from partnerhub.providers.sms_charset import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    STOP_MENTION,
    expand_tokens,
    gsm_render,
    gsm_units,
    utf16_units,
)

from .models import SmsEncoding, SmsRange

if TYPE_CHECKING:
    from .models import Campaign

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENDED",
    "LOW_COST_STOP",
    "MAX_PARTS",
    "STOP_MENTION",
    "SmsLength",
    "campaign_sms_length",
    "gsm_render",
    "sms_length",
    "sms_options",
]

MAX_PARTS = 10
LOW_COST_MAX_PARTS = 1  # code 42: "Low Cost max 160 chars", one SMS
# Written by PartnerHub at the end of a Low Cost text (no `isStopSms` there).
LOW_COST_STOP = "NoPub=STOP"


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "Unicode"
    characters: int
    parts: int
    per_part: int
    text: str = ""  # what the recipient's phone shows, STOP mention included

    @property
    def too_long(self) -> bool:
        return self.parts > MAX_PARTS


def sms_length(
    text: str, *, unicode: bool = False, provider_stop: bool = False
) -> SmsLength:
    """Characters and parts of `text` as sent (`:br:` counts two).

    `provider_stop`: the provider appends its STOP mention (`isStopSms=1`).
    """
    shown = expand_tokens(text) if unicode else gsm_render(text)
    if provider_stop and shown:
        shown = f"{shown} {STOP_MENTION}"
    if unicode:
        count, single, multi, encoding = utf16_units(shown), 70, 67, "Unicode"
    else:
        count, single, multi, encoding = gsm_units(shown), 160, 153, "GSM-7"
    if count <= single:
        return SmsLength(encoding, count, 1 if count else 0, single, shown)
    return SmsLength(encoding, count, -(-count // multi), multi, shown)


def sms_options(campaign: Campaign) -> dict[str, Any]:
    """The `sms_length` options of a campaign (encoding, provider's STOP)."""
    return {
        "unicode": campaign.sms_encoding == SmsEncoding.UNICODE,
        "provider_stop": campaign.sms_stop and campaign.sms_range == SmsRange.PREMIUM,
    }


def campaign_sms_length(campaign: Campaign, text: str | None = None) -> SmsLength:
    """Length of the campaign's text (or of one recipient's `text`) as sent."""
    return sms_length(campaign.text if text is None else text, **sms_options(campaign))


def max_parts(campaign: Campaign) -> int:
    """Low Cost takes one SMS only (code 42); Premium up to 10 (code 52)."""
    return LOW_COST_MAX_PARTS if campaign.sms_range == SmsRange.LOW_COST else MAX_PARTS
