"""Audiences, recipients, campaigns and their deliveries."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from partnerhub import rules

ONE_LINE = [rules.validate_single_line]


class Audience(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True, validators=ONE_LINE)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


NO_ADDRESS = _("A recipient needs an email address or a phone number.")


class Recipient(models.Model):
    audience = models.ForeignKey(
        Audience,
        verbose_name=_("audience"),
        on_delete=models.CASCADE,
        related_name="recipients",
    )
    email = models.CharField(
        _("email"), max_length=254, blank=True, help_text=_("Stored lower-cased.")
    )
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, help_text=_("International E.164 form.")
    )
    first_name = models.CharField(
        _("first name"), max_length=100, blank=True, validators=ONE_LINE
    )
    last_name = models.CharField(
        _("last name"), max_length=100, blank=True, validators=ONE_LINE
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "email"],
                condition=~models.Q(email=""),
                name="unique_recipient_email_per_audience",
            ),
            models.UniqueConstraint(
                fields=["audience", "phone"],
                condition=~models.Q(phone=""),
                name="unique_recipient_phone_per_audience",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone

    def clean(self) -> None:
        """Addresses in their stored form (`partnerhub.rules`), at least one."""
        problems: dict[str, ValidationError] = {}
        cleaners = (("email", rules.clean_email), ("phone", rules.clean_phone))
        for field, clean in cleaners:
            value = getattr(self, field).strip()
            try:
                setattr(self, field, clean(value) if value else "")
            except ValidationError as exc:
                problems[field] = exc
        if not problems and not (self.email or self.phone):
            problems["email"] = ValidationError(NO_ADDRESS, code="required")
        if problems:
            raise ValidationError(problems)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice")


class VoiceMode(models.TextChoices):
    CALL = "call", _("Call and read (text-to-speech or audio file)")
    VOICEMAIL = "voicemail", _("Voicemail drop (audio file left on the voicemail)")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class SmsEncoding(models.TextChoices):
    """GSM: the provider substitutes characters; Unicode needs its activation."""

    GSM = "gsm", _("GSM (standard)")
    UNICODE = "unicode", _("Unicode")


class SmsRange(models.IntegerChoices):
    """SMS Partner's `gamme` (providers.md §2.3)."""

    PREMIUM = 1, _("Premium")
    LOW_COST = 2, _("Low Cost")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=150, validators=ONE_LINE)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    account = models.ForeignKey(
        "partnerhub.ProviderAccount",
        verbose_name=_("provider account"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    audience = models.ForeignKey(
        Audience,
        verbose_name=_("audience"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    sender = models.CharField(
        _("sender"),
        max_length=150,
        blank=True,
        help_text=_("Email: sender address. SMS: 3 to 11 letters or digits."),
        validators=ONE_LINE,
    )
    sender_name = models.CharField(
        _("sender name"), max_length=100, blank=True, validators=ONE_LINE
    )
    subject = models.CharField(
        _("subject"), max_length=255, blank=True, validators=ONE_LINE
    )
    html = models.TextField(_("HTML body"), blank=True)
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_("Email plain-text part, SMS text, or voice text."),
    )
    merge_fallbacks = models.JSONField(
        _("merge field fallbacks"),
        default=dict,
        blank=True,
        help_text=_("Value per merge field for recipients who have none."),
    )
    sms_encoding = models.CharField(
        _("SMS encoding"),
        max_length=8,
        choices=SmsEncoding.choices,
        default=SmsEncoding.GSM,
    )
    sms_range = models.PositiveSmallIntegerField(
        _("SMS range"), choices=SmsRange.choices, default=SmsRange.PREMIUM
    )
    sms_stop = models.BooleanField(
        _("STOP mention"),
        default=False,
        help_text=_(
            "Premium: the provider appends it (isStopSms). Low Cost: “NoPub=STOP” "
            "is at the end of the text."
        ),
    )
    voice_lang = models.CharField(_("voice language"), max_length=8, default="fr")
    voice_audio_token = models.CharField(_("audio file"), max_length=64, blank=True)
    voice_mode = models.CharField(
        _("voice mode"), max_length=10, choices=VoiceMode.choices, default="call"
    )
    notification_email = models.CharField(
        _("notification email"),
        max_length=254,
        blank=True,
        help_text=_("Voicemail drop: where Voice Partner reports the campaign."),
    )
    reply_to = models.CharField(_("reply-to email"), max_length=254, blank=True)
    reply_to_name = models.CharField(
        _("reply-to name"), max_length=100, blank=True, validators=ONE_LINE
    )
    tag = models.SlugField(_("tag"), max_length=20, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    deferred_at_provider = models.BooleanField(
        _("deferred at the provider"),
        default=False,
        help_text=_("Handed to the provider ahead of time with its scheduled date."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CampaignStatus.choices,
        default=CampaignStatus.DRAFT,
        db_index=True,
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    dispatch_started_at = models.DateTimeField(
        _("dispatch started"), null=True, blank=True
    )
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=40, blank=True, editable=False)
    snapshot_done = models.BooleanField(default=False, editable=False)
    estimated_cost = models.DecimalField(
        _("estimated cost"), max_digits=12, decimal_places=3, null=True, blank=True
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:detail", args=[self.pk])

    def clean(self) -> None:
        """The sender rule of the channel (`partnerhub.rules`)."""
        checks: dict[str, Callable[[str], None]] = {
            Channel.EMAIL: rules.validate_email_sender,
            Channel.SMS: rules.validate_sms_sender,
        }
        check = checks.get(self.channel)
        if check is not None and self.sender:
            try:
                check(self.sender)
            except ValidationError as exc:
                raise ValidationError({"sender": exc}) from None

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def suppression_channel(self) -> str:
        """Voice calls honour the SMS STOP list: both reach the same phone."""
        return "email" if self.channel == Channel.EMAIL else "sms"

    @property
    def address_field(self) -> str:
        return "email" if self.channel == Channel.EMAIL else "phone"


class CampaignAttachment(models.Model):
    """A file attached to every email of a campaign (Mail Partner `attachments`).

    Up to 3 x 5 MB per campaign, so the bytes live in their own table, read
    only when a batch or a test is sent, never with the campaign list or the
    dispatch's bookkeeping. In the database (not on disk) so a draft saved,
    duplicated or deleted takes its files along in the same transaction.
    """

    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    content = models.BinaryField(_("content"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class BatchStatus(models.TextChoices):
    IN_FLIGHT = "in_flight", _("In flight")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")
    UNKNOWN = "unknown", _("Outcome unknown")
    CANCELLED = "cancelled", _("Cancelled")


class DispatchBatch(models.Model):
    """Up to 500 deliveries handed to the provider in one request.

    Recorded `in_flight` before the call and `accepted` after it, in two short
    transactions: a batch found `in_flight` after a crash is reconciled, never re-sent.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="batches"
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BatchStatus.choices,
        default=BatchStatus.IN_FLIGHT,
    )
    provider_message_id = models.CharField(
        _("provider message id"), max_length=64, blank=True
    )
    provider_tag = models.CharField(_("provider tag"), max_length=20, blank=True)
    size = models.PositiveIntegerField(_("recipients"), default=0)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=4, null=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A personalised email or voice batch: the merge values its whole request
    # carries, chosen when the batch is recorded, so a retry sends the same one.
    merge_values = models.JSONField(_("merge values"), null=True, blank=True)
    # The id range its deliveries were read from. While the batch is in flight
    # its deliveries are the range's pending ones, not yet owned by any batch:
    # recording a batch writes this one row, not a row per delivery. Its answer
    # (accepted, refused, unknown) then writes each delivery once, with `batch`.
    first_delivery_id = models.BigIntegerField(_("first delivery"), null=True)
    last_delivery_id = models.BigIntegerField(_("last delivery"), null=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispatch batch")
        verbose_name_plural = _("dispatch batches")
        ordering = ["campaign_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"], name="unique_batch_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.number}"

    def _in_range(self) -> models.QuerySet[Delivery]:
        """The campaign's deliveries in this batch's id range (primary key)."""
        rows = Delivery.objects.filter(campaign_id=self.campaign_id)
        if self.first_delivery_id is None:
            return rows
        return rows.filter(
            id__gte=self.first_delivery_id, id__lte=self.last_delivery_id
        )

    def pending_deliveries(self) -> models.QuerySet[Delivery]:
        """What this batch carries while in flight: its range's unanswered rows."""
        if self.first_delivery_id is None:  # recorded outside a dispatch
            return self._in_range().filter(batch=self, status=DeliveryStatus.PENDING)
        return self._in_range().filter(batch=None, status=DeliveryStatus.PENDING)

    def owned_deliveries(self) -> models.QuerySet[Delivery]:
        """The deliveries this batch answered for (accepted, refused, unknown)."""
        return self._in_range().filter(batch=self)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DELIVERED = "delivered", _("Delivered")
    NOT_DELIVERED = "not_delivered", _("Not delivered")
    SUPPRESSED = "suppressed", _("Suppressed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNKNOWN = "unknown", _("Unknown")


FINAL_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.NOT_DELIVERED,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.FAILED,
        DeliveryStatus.CANCELLED,
        DeliveryStatus.UNKNOWN,
    }
)


class Delivery(models.Model):
    # Every index costs each dispatch write (a million rows are inserted, then
    # each updated once by its batch's answer), so each one here serves a named
    # query. `campaign` alone is the deliveries table in id order (SQLite keeps
    # its rows by (campaign, id)); a batch's deliveries are read by id range.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # Indexed by `unique_delivery_per_recipient`, which leads with it.
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("recipient"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,
    )
    address = models.CharField(_("address"), max_length=254)
    # Set when the batch's answer is written; read with the batch's id range
    # (`DispatchBatch.owned_deliveries`), so it needs no index of its own.
    batch = models.ForeignKey(
        DispatchBatch,
        verbose_name=_("batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,
    )
    provider_message_id = models.CharField(
        _("provider message id"), max_length=64, blank=True
    )
    status = models.CharField(
        _("status"), max_length=14, choices=DeliveryStatus.choices, default="pending"
    )
    provider_status = models.CharField(_("provider status"), max_length=64, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=4, null=True)
    provider_date = models.DateTimeField(_("provider date"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "address"], name="unique_delivery_per_address"
            ),
            # Recipient first: it also serves a recipient's deletion (SET_NULL).
            models.UniqueConstraint(
                fields=["recipient", "campaign"], name="unique_delivery_per_recipient"
            ),
        ]
        indexes = [
            # The deliveries table filtered by status, in id order (its pages),
            # and the dispatch's next batch: pending, in id order after a cursor.
            models.Index(
                fields=["campaign", "status", "id"], name="delivery_status_page_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_status_display()})"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting confirmation")
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportMode(models.TextChoices):
    UPDATE = "update", _("Update existing recipients with the file's values")
    SKIP = "skip", _("Keep existing recipients as they are")


class RecipientImport(models.Model):
    """One CSV upload into an audience, from preview to its report.

    The file is parsed into a spool first (progress visible, audience untouched),
    then merged into the audience in one transaction: a failed or cancelled
    import leaves the audience as it was, and its counters and error report stay.
    """

    audience = models.ForeignKey(
        Audience,
        verbose_name=_("audience"),
        on_delete=models.CASCADE,
        related_name="imports",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(max_length=500, editable=False)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    mode = models.CharField(
        _("duplicates"),
        max_length=6,
        choices=ImportMode.choices,
        default=ImportMode.UPDATE,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ImportStatus.choices,
        default=ImportStatus.DRAFT,
        db_index=True,
    )
    phase = models.CharField(max_length=10, blank=True, editable=False)
    cancel_requested = models.BooleanField(default=False, editable=False)
    # Written by the running worker at every batch: a running import whose
    # heartbeat is older than RECIPIENT_IMPORT_STALE_SECONDS lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    bytes_read = models.PositiveBigIntegerField(default=0, editable=False)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    unsubscribed = models.PositiveIntegerField(_("unsubscribed"), default=0)
    empty_lines = models.PositiveIntegerField(_("empty lines"), default=0)
    error_code = models.CharField(max_length=40, blank=True, editable=False)
    error_message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient import")
        verbose_name_plural = _("recipient imports")
        ordering = ["-created_at"]
        # The report adds up: every row read is created, updated, a duplicate
        # or rejected (once); warnings and unsubscribed are subsets, not outcomes.
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(
                    rows_read=models.F("created")
                    + models.F("updated")
                    + models.F("duplicates")
                    + models.F("invalid")
                ),
                name="recipient_import_rows_add_up",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    warnings__lte=models.F("rows_read") - models.F("invalid")
                ),
                name="recipient_import_warnings_among_imported",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(
                    unsubscribed__lte=models.F("created")
                    + models.F("updated")
                    + models.F("duplicates")
                ),
                name="recipient_import_unsubscribed_among_imported",
            ),
        ]
        permissions = [
            ("import_recipients", _("Can import recipients from a CSV file")),
            ("export_recipients", _("Can export recipients as CSV")),
        ]

    def __str__(self) -> str:
        return f"{self.audience} ← {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (
            ImportStatus.DONE,
            ImportStatus.FAILED,
            ImportStatus.CANCELLED,
        )


class CampaignCounts(models.Model):
    """A campaign's deliveries counted by status, with their cost so far.

    Kept by the transactions that change deliveries (dispatch, status refresh,
    cancel), so the campaign list and the progress poll never count a million
    rows. `manage.py recount_campaigns` rebuilds them from the deliveries.
    """

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="counts"
    )
    pending = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    not_delivered = models.BigIntegerField(default=0)
    suppressed = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0)
    unknown = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=4, null=True)

    class Meta:
        verbose_name = _("campaign counts")
        verbose_name_plural = _("campaign counts")

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.total}"

    def by_status(self) -> dict[str, int]:
        return {status: getattr(self, status) for status in DeliveryStatus.values}

    @property
    def total(self) -> int:
        return sum(self.by_status().values())
