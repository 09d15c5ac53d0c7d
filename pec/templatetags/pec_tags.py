"""Small template helpers for the PEC pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    """`{{ tones|get:value }}`: a dict lookup with a variable key ("" if absent)."""
    return mapping.get(key, "") if mapping else ""


@register.filter
def kind_label(value: Any) -> str:
    """Label of a receipt/message type (`ReceiptType` or its value) for a badge."""
    from ..models import ReceiptKind

    raw = getattr(value, "value", value)
    if raw == ReceiptKind.TRANSPORT:
        return str(_("PEC message"))
    if raw == ReceiptKind.ANOMALY:
        return "ANOMALIA"
    if raw == ReceiptKind.VIRUS_DETECTED:
        return str(_("security notice"))
    if raw == ReceiptKind.UNKNOWN:
        return str(_("email"))
    try:
        return str(_("receipt: %s") % ReceiptKind(raw).label)
    except ValueError:
        return str(raw)


@register.filter
def kind_value(value: Any) -> str:
    return str(getattr(value, "value", value))
