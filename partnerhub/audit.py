"""The audit trail: who did what to which campaign, audience or unsubscribe.

Written only by the services (one `record(...)` call per business action, in the
action's transaction), never by views or the admin, so every write path leaves
the same trace. Read by the Admins' audit page and by each campaign's timeline.
Rows are never changed or deleted by the application.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CAMPAIGN_CREATED = "campaign.created", _("Campaign created")
    CAMPAIGN_EDITED = "campaign.edited", _("Campaign edited")
    CAMPAIGN_SCHEDULED = "campaign.scheduled", _("Campaign scheduled")
    CAMPAIGN_SENT = "campaign.sent", _("Campaign sent")
    CAMPAIGN_CANCELLED = "campaign.cancelled", _("Campaign cancelled")
    CAMPAIGN_DUPLICATED = "campaign.duplicated", _("Campaign duplicated")
    CAMPAIGN_DELETED = "campaign.deleted", _("Draft deleted")
    AUDIENCE_SAVED = "audience.saved", _("Audience saved")
    AUDIENCE_DELETED = "audience.deleted", _("Audience deleted")
    RECIPIENT_SAVED = "recipient.saved", _("Recipient saved")
    RECIPIENT_DELETED = "recipient.deleted", _("Recipient deleted")
    AUDIENCE_IMPORTED = "audience.imported", _("File imported into an audience")
    UNSUBSCRIBE_ADDED = "unsubscribe.added", _("Unsubscribe added")
    UNSUBSCRIBE_REMOVED = "unsubscribe.removed", _("Unsubscribe removed")
    UNSUBSCRIBES_IMPORTED = "unsubscribe.imported", _("Unsubscribes imported")
    ACCOUNT_CHANGED = "account.changed", _("Provider account changed")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(
        _("who"),
        max_length=150,
        blank=True,
        help_text=_("Kept when the user is deleted; empty for PartnerHub itself."),
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    target_type = models.CharField(_("object type"), max_length=32)
    target_id = models.CharField(_("object id"), max_length=40, blank=True)
    target_label = models.CharField(_("object"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        app_label = "partnerhub"
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action}"

    @property
    def who(self) -> str:
        return self.actor_name or str(_("PartnerHub"))


def record(
    *,
    action: str,
    target: models.Model | None = None,
    actor: Any = None,
    details: dict[str, Any] | None = None,
    target_type: str = "",
    target_id: object = "",
    target_label: str = "",
) -> AuditEntry:
    """Write one audit entry; services call this inside their own transaction.

    `actor` is a user, or None / an anonymous user for PartnerHub itself (a STOP
    reply, a periodic task). `target` fills type, id and label unless given.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or target.pk
        target_label = target_label or str(target)
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        target_label=target_label[:255],
        details=details or {},
    )


def record_many(
    *,
    action: str,
    targets: list[models.Model],
    details: Callable[[Any], dict[str, Any]],
) -> None:
    """`record` for many targets at once, by PartnerHub itself (one INSERT)."""
    AuditEntry.objects.bulk_create(
        AuditEntry(
            action=action,
            target_type=target._meta.model_name or "",
            target_id=str(target.pk),
            target_label=str(target)[:255],
            details=details(target),
        )
        for target in targets
    )


def entries_for(target: models.Model) -> QuerySet[AuditEntry]:
    """The entries of one object, oldest first (a campaign's timeline)."""
    return AuditEntry.objects.filter(
        target_type=target._meta.model_name, target_id=str(target.pk)
    ).order_by("at", "id")
