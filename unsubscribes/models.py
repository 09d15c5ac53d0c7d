"""The suppression list: one row per channel and normalised address."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Source(models.TextChoices):
    PROVIDER = "provider", _("Provider list")
    MANUAL = "manual", _("Added by hand")
    CSV = "csv", _("CSV import")
    REPLY = "reply", _("STOP reply")


class UnsubscribeQuerySet(models.QuerySet):
    def active(self) -> UnsubscribeQuerySet:
        """Entries that suppress sending (a removal waiting to be pushed does not)."""
        return self.filter(removed_at__isnull=True)


class Unsubscribe(models.Model):
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(
        _("address"),
        max_length=254,
        help_text=_("Lower-cased email, or phone number in international E.164 form."),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("unsubscribed at"), auto_now_add=True)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)
    removed_at = models.DateTimeField(
        _("removal pending since"),
        null=True,
        blank=True,
        help_text=_(
            "Removed by hand; the deletion is pushed to the provider next sync."
        ),
    )

    objects = UnsubscribeQuerySet.as_manager()

    class Meta:
        verbose_name = _("unsubscribe")
        verbose_name_plural = _("unsubscribes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="unique_unsubscribe_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.address}"
