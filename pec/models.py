"""PEC mailboxes, certified sends and their receipts (product.md §2).

Receipts are legal evidence (pec-massiva.md §5.6): they are stored as soon as they
are read and never deleted, not even when the operator deletes the mailbox copies
at the provider. A send is recorded *before* its HTTP call, so a lost answer leaves
a row saying so rather than nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.fields import EncryptedTextField

WARNING_AFTER = timedelta(hours=12)
FINAL_AFTER = timedelta(hours=24)


class PecMailbox(models.Model):
    label = models.CharField(_("label"), max_length=120)
    username = models.EmailField(
        _("PEC address"),
        unique=True,
        help_text=_("The mailbox's PEC address, also its username at PEC Massiva."),
    )
    password = EncryptedTextField(
        _("mailbox password"),
        help_text=_("Stored encrypted and never shown again."),
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("PEC operators"),
        blank=True,
        related_name="pec_mailboxes",
        help_text=_("The operators who may use this mailbox. Admins see every box."),
    )
    quota_usage = models.FloatField(_("quota used"), null=True, blank=True)
    quota_limit = models.FloatField(_("quota limit"), null=True, blank=True)
    quota_checked_at = models.DateTimeField(
        _("quota checked at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("PEC mailbox")
        verbose_name_plural = _("PEC mailboxes")
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label} <{self.username}>"

    @property
    def quota_ratio(self) -> float | None:
        if self.quota_usage is None or not self.quota_limit:
            return None
        return self.quota_usage / self.quota_limit


class DispatchStatus(models.TextChoices):
    """Where our own request stands (the PEC state comes from the receipts)."""

    DRAFT = "draft", _("awaiting confirmation")
    QUEUED = "queued", _("queued")
    SUBMITTING = "submitting", _("being sent")
    SENT = "sent", pgettext_lazy("PEC send", "sent")
    FAILED = "failed", _("refused")
    UNKNOWN = "unknown", _("outcome unknown")


class PecState(models.TextChoices):
    """The PEC state derived from the receipts (client `PecSendState` values)."""

    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    DELIVERED = "delivered", _("delivered")
    PARTIALLY_DELIVERED = "partially_delivered", _("partially delivered")
    NOT_DELIVERED = "not_delivered", _("not delivered")
    NOT_ACCEPTED = "not_accepted", _("not accepted")


FINAL_STATES = frozenset(
    {
        PecState.DELIVERED,
        PecState.PARTIALLY_DELIVERED,
        PecState.NOT_DELIVERED,
        PecState.NOT_ACCEPTED,
    }
)


class PecSend(models.Model):
    mailbox = models.ForeignKey(
        PecMailbox,
        verbose_name=_("mailbox"),
        on_delete=models.PROTECT,
        related_name="sends",
    )
    recipients = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=255)
    body_html = models.TextField(_("body"))
    status = models.CharField(
        _("dispatch"),
        max_length=12,
        choices=DispatchStatus.choices,
        default=DispatchStatus.DRAFT,
    )
    state = models.CharField(
        _("PEC state"),
        max_length=20,
        choices=PecState.choices,
        default=PecState.SUBMITTED,
    )
    provider_code = models.CharField(_("PEC Massiva code"), max_length=64, blank=True)
    sent_count = models.PositiveIntegerField(_("PECs sent"), null=True, blank=True)
    error_code = models.CharField(_("problem"), max_length=24, blank=True)
    error = models.TextField(_("provider's message"), blank=True)
    error_detail = models.TextField(_("provider's answer"), blank=True)
    delivered_to = models.JSONField(_("delivered to"), default=list, blank=True)
    not_delivered_to = models.JSONField(_("not delivered to"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resend_of = models.ForeignKey(
        "self",
        verbose_name=_("resend of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resends",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("receipts checked at"), null=True, blank=True)
    next_check_at = models.DateTimeField(
        _("next receipt check"), null=True, blank=True, db_index=True
    )
    checks = models.PositiveIntegerField(_("receipt checks"), default=0)
    deleted_at_provider = models.DateTimeField(
        _("mailbox copies deleted at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("PEC send")
        verbose_name_plural = _("PEC sends")
        ordering = ["-created_at", "-pk"]
        # The sends lists' order (newest first), whole, per mailbox, per state:
        # a page reads 25 index entries instead of sorting every send.
        indexes = [
            models.Index(fields=["created_at", "id"], name="pec_send_list_idx"),
            models.Index(
                fields=["mailbox", "created_at", "id"], name="pec_send_mailbox_list_idx"
            ),
            models.Index(
                fields=["state", "created_at", "id"], name="pec_send_state_list_idx"
            ),
            # Dashboard: a box's sends needing attention (few, whatever the total).
            models.Index(fields=["mailbox", "status"], name="pec_send_status_idx"),
            # A send's resends: partial, so a database whose statistics see only
            # NULLs in `resend_of` still finds this index selective (SQLite).
            models.Index(
                fields=["resend_of"],
                condition=models.Q(resend_of__isnull=False),
                name="pec_send_resends_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.provider_code or self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def warning_at(self) -> datetime | None:
        """When the 12 h "maximum time exceeded" warning is due, from acceptance."""
        return self.accepted_at + WARNING_AFTER if self.accepted_at else None

    @property
    def final_at(self) -> datetime | None:
        """When the final 24 h non-delivery notice is due, from acceptance."""
        return self.accepted_at + FINAL_AFTER if self.accepted_at else None

    @property
    def problem(self) -> str:
        """The stored failure as a sentence in the reader's language."""
        from .errors import message_for

        return message_for(self.error_code, self.error) if self.error_code else ""

    @property
    def cost(self) -> float:
        return float(settings.PEC_PRICE_PER_RECIPIENT) * len(self.recipients)


class PecAttachmentFile(models.Model):
    """An attached file, kept so the send can be checked and resent identically."""

    send = models.ForeignKey(
        PecSend,
        verbose_name=_("send"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=120, blank=True)
    size = models.PositiveIntegerField(_("size"))
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class ReceiptKind(models.TextChoices):
    """Receipt types of pec-massiva.md §5.3 (the client's `ReceiptType` values)."""

    ACCEPTANCE = "accettazione", _("acceptance")
    NON_ACCEPTANCE = "non-accettazione", _("non-acceptance")
    TAKEN_IN_CHARGE = "presa-in-carico", _("taken in charge")
    DELIVERY = "avvenuta-consegna", pgettext_lazy("PEC receipt", "delivery")
    NON_DELIVERY = "errore-consegna", _("non-delivery")
    DELIVERY_TIMEOUT = "preavviso-errore-consegna", _("maximum time exceeded")
    TRANSPORT = "posta-certificata", _("certified message")
    VIRUS_DETECTED = "rilevazione-virus", _("security problem")
    ANOMALY = "anomalia", _("anomaly")
    UNKNOWN = "unknown", _("other")


class PecReceipt(models.Model):
    """One receipt as read from PEC Massiva; never deleted (send is PROTECTed)."""

    send = models.ForeignKey(
        PecSend,
        verbose_name=_("send"),
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    kind = models.CharField(_("type"), max_length=32, choices=ReceiptKind.choices)
    subject = models.TextField(_("subject"))
    date = models.DateTimeField(_("date"), null=True, blank=True)
    date_raw = models.CharField(_("date as received"), max_length=120, blank=True)
    issuer = models.CharField(_("issued by"), max_length=255, blank=True)
    recipient = models.CharField(_("about recipient"), max_length=255, blank=True)
    text = models.TextField(_("text"), blank=True)
    fingerprint = models.CharField(max_length=64)
    fetched_at = models.DateTimeField(_("stored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["send", "fingerprint"], name="pec_receipt_once_per_send"
            )
        ]

    def __str__(self) -> str:
        return self.subject


class PecRateSlot(models.Model):
    """Next free slot and last request per token key (database limiter, limiter.py)."""

    key = models.CharField(max_length=80, unique=True)
    next_slot = models.FloatField(default=0.0)
    last_sent = models.FloatField(default=0.0)

    class Meta:
        verbose_name = _("PEC rate slot")
        verbose_name_plural = _("PEC rate slots")

    def __str__(self) -> str:
        return self.key
