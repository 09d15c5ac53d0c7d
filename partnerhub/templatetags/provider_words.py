"""`{{ reason|explained }}`: a stored provider error as a sentence and an advice.

The technical text stays in the database, the admin and the logs
(`partnerhub.provider_messages`); pages show people what happened and what to do.
"""

from __future__ import annotations

from django import template

from partnerhub.provider_messages import explain, status_label

register = template.Library()


@register.filter
def explained(reason: str) -> str:
    return str(explain(reason or "")) if reason else ""


@register.filter
def provider_status(raw: str) -> str:
    """The provider's delivery status word in the reader's language."""
    return status_label(raw or "")
