"""SMS length rules: GSM-7 or Unicode, characters and parts (providers.md §2.3)."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
MAX_PARTS = 10
STOP_MENTION = "STOP 36180"


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "Unicode"
    characters: int
    parts: int
    per_part: int

    @property
    def too_long(self) -> bool:
        return self.parts > MAX_PARTS


def sms_length(text: str) -> SmsLength:
    """Characters and parts as the operator counts them (`:br:` counts two)."""
    text = text.replace(":br:", "\n\n").replace(":euro:", "€")
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        count = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        count = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "Unicode"
    if count <= single:
        return SmsLength(encoding, count, 1 if count else 0, single)
    return SmsLength(encoding, count, -(-count // multi), multi)
