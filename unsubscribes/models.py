"""The suppression list (one row per channel and normalised address), its sync
state with the providers, and the SMS replies received by webhook."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from partnerhub import rules


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Source(models.TextChoices):
    PROVIDER = "provider", _("Provider list")
    MANUAL = "manual", _("Added by hand")
    CSV = "csv", _("CSV import")
    REPLY = "reply", _("STOP reply")


class UnsubscribeState(models.TextChoices):
    """Where one entry stands, defined once for the admin, the pages and the CSV."""

    REMOVING = "removal_pending", _("removal pending")
    REFUSED = "refused", _("refused by the provider")
    SYNCED = "synced", _("synced")
    UNSYNCED = "unsynced", _("not yet pushed")


# Each state as a query (the filters) — the same precedence as `Unsubscribe.state`.
_KEPT = models.Q(removed_at__isnull=True)
STATE_QUERIES: dict[str, models.Q] = {
    UnsubscribeState.REMOVING: models.Q(removed_at__isnull=False),
    UnsubscribeState.REFUSED: _KEPT & ~models.Q(provider_error=""),
    UnsubscribeState.SYNCED: _KEPT
    & models.Q(provider_error="")
    & ~models.Q(provider_id=""),
    UnsubscribeState.UNSYNCED: _KEPT & models.Q(provider_error="", provider_id=""),
}


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
    reason = models.CharField(
        _("reason"),
        max_length=255,
        blank=True,
        validators=[rules.validate_single_line],
    )
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
    provider_error = models.CharField(
        _("provider refusal"),
        max_length=255,
        blank=True,
        help_text=_(
            "Why the provider refused this address; it stays suppressed here and "
            "is not pushed again."
        ),
    )

    objects = UnsubscribeQuerySet.as_manager()

    class Meta:
        verbose_name = _("unsubscribe")
        verbose_name_plural = _("unsubscribes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="unique_unsubscribe_per_channel"
            )
        ]
        indexes = [
            models.Index(fields=["created_at"], name="unsub_created_idx"),
            # The list's order (newest first, id breaking ties), read backwards:
            # without it PostgreSQL sorts the whole list for each page.
            models.Index(fields=["created_at", "id"], name="unsub_created_id_idx"),
        ]
        permissions = [
            ("sync_unsubscribe", _("Can sync the unsubscribe lists with providers")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.address}"

    @property
    def state(self) -> str:
        """One of `UnsubscribeState` (see STATE_QUERIES for the same as queries)."""
        if self.removed_at:
            return UnsubscribeState.REMOVING
        if self.provider_error:
            return UnsubscribeState.REFUSED
        if self.provider_id:
            return UnsubscribeState.SYNCED
        return UnsubscribeState.UNSYNCED

    @property
    def state_label(self) -> str:
        return str(UnsubscribeState(self.state).label)

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def clean(self) -> None:
        """The address in its stored form (`partnerhub.rules`)."""
        if self.channel and self.address:
            try:
                self.address = rules.normalize_address(
                    channel=self.channel, address=self.address
                )
            except ValidationError as exc:
                raise ValidationError({"address": exc}) from None


class UnsubscribeSync(models.Model):
    """Last synchronisation of one channel's list with its provider.

    `running_since` doubles as a lease so the periodic task and the "Sync now"
    button never run one channel's sync twice at the same time.
    """

    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, unique=True
    )
    running_since = models.DateTimeField(_("running since"), null=True, blank=True)
    # Set by "Sync now": the sync is queued for a worker until it starts.
    requested_at = models.DateTimeField(_("last requested"), null=True, blank=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("last success"), null=True, blank=True)
    pulled = models.PositiveIntegerField(_("pulled"), default=0)
    pushed = models.PositiveIntegerField(_("pushed"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    conflicts = models.PositiveIntegerField(_("conflicts kept suppressed"), default=0)
    rejected = models.PositiveIntegerField(_("refused by the provider"), default=0)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("unsubscribe sync")
        verbose_name_plural = _("unsubscribe syncs")
        ordering = ["channel"]

    def __str__(self) -> str:
        return str(self.get_channel_display())

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.error

    @property
    def state(self) -> str:
        """`running`, `queued` (asked for, no worker yet), `done` or `never`."""
        if self.running_since:
            return "running"
        started = self.started_at
        if self.requested_at and (started is None or self.requested_at > started):
            return "queued"
        return "done" if self.finished_at else "never"


class ReplyKind(models.TextChoices):
    STOP = "stop", _("STOP")
    RESPONSE = "response", _("Reply")


class SmsReply(models.Model):
    """An SMS received from a recipient, as the SMS Partner webhook posted it."""

    phone = models.CharField(_("phone"), max_length=32)
    kind = models.CharField(_("kind"), max_length=10, choices=ReplyKind.choices)
    text = models.TextField(_("text"), blank=True)
    message_id = models.CharField(_("provider message id"), max_length=64, blank=True)
    to = models.CharField(_("received on"), max_length=32, blank=True)
    provider_time = models.DateTimeField(_("provider time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True)
    payload = models.JSONField(_("payload"), default=dict)

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:40]}"
