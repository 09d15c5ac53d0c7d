"""Provider accounts (main accounts and sub-accounts) and their credit history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField


class Provider(models.TextChoices):
    MAIL = "mail", _("Mail Partner")
    SMS = "sms", _("SMS Partner")
    VOICE = "voice", _("Voice Partner")
    PEC = "pec", _("PEC Massiva")


# Which setting holds each provider's main key and URL (the main account's key is
# never stored: it comes from the environment).
MAIN_KEY_SETTINGS: dict[str, tuple[str, str]] = {
    Provider.MAIL: ("MAILPARTNER_API_KEY", "MAILPARTNER_API_URL"),
    Provider.SMS: ("SMSPARTNER_API_KEY", "SMSPARTNER_API_URL"),
    Provider.VOICE: ("VOICEPARTNER_API_KEY", "VOICEPARTNER_API_URL"),
    Provider.PEC: ("PECMASSIVA_TOKEN", "PECMASSIVA_API_URL"),
}


class SubaccountType(models.TextChoices):
    SIMPLE = "simple", _("Simple")
    ADVANCED = "advanced", _("Advanced")


class ProviderAccount(models.Model):
    provider = models.CharField(_("provider"), max_length=8, choices=Provider.choices)
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("main account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subaccounts",
        help_text=_("Empty for a main account, whose key comes from the environment."),
    )
    encrypted_api_key = EncryptedTextField(
        _("API key"), blank=True, help_text=_("Stored encrypted; sub-accounts only.")
    )
    provider_token = models.CharField(
        _("sub-account token"),
        max_length=120,
        blank=True,
        help_text=_("The provider's id for the sub-account, used for credit moves."),
    )
    email = models.EmailField(_("email"), blank=True)
    credits = models.DecimalField(
        _("credits"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    credits_unit = models.CharField(_("credit unit"), max_length=16, blank=True)
    credits_checked_at = models.DateTimeField(
        _("credits checked at"), null=True, blank=True
    )
    low_credit_threshold = models.DecimalField(
        _("low-credit alert below"),
        max_digits=14,
        decimal_places=3,
        default=Decimal("0"),
        help_text=_("Admins are emailed when the credits fall below this value."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    subaccount_type = models.CharField(
        _("sub-account type"),
        max_length=8,
        choices=SubaccountType.choices,
        blank=True,
        help_text=_("Chosen at creation, final at the provider."),
    )
    api_key_last4 = models.CharField(
        _("key ends with"), max_length=4, blank=True, editable=False
    )
    low_credit_alerted = models.BooleanField(
        _("low-credit alert sent"),
        default=False,
        editable=False,
        help_text=_("Set when the Admins were emailed; cleared once back above."),
    )

    class Meta:
        verbose_name = _("provider account")
        verbose_name_plural = _("provider accounts")
        ordering = ["provider", "parent_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider"],
                condition=models.Q(parent__isnull=True),
                name="one_main_account_per_provider",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} — {self.name}"

    @property
    def is_main(self) -> bool:
        return self.parent_id is None

    @property
    def api_key(self) -> str:
        """The key to call the provider with (environment for main accounts)."""
        if self.is_main:
            return getattr(settings, MAIN_KEY_SETTINGS[self.provider][0])
        return self.encrypted_api_key

    @property
    def can_call_provider(self) -> bool:
        """Active, and with a key: only such accounts may pay for a campaign."""
        return self.is_active and bool(self.api_key)

    @property
    def api_url(self) -> str:
        return getattr(settings, MAIN_KEY_SETTINGS[self.provider][1])


class CreditSnapshot(models.Model):
    account = models.ForeignKey(
        ProviderAccount,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="snapshots",
    )
    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    credits = models.DecimalField(_("credits"), max_digits=14, decimal_places=3)

    class Meta:
        verbose_name = _("credit snapshot")
        verbose_name_plural = _("credit snapshots")
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.account} @ {self.taken_at:%Y-%m-%d %H:%M}: {self.credits}"


class LoginLockout(models.Model):
    """A sign-in lock-out in force or recently over (partnerhub/throttle.py).

    The counts themselves are `LoginFailureCount` rows; this row lets admins see
    who is waiting, from where, and lift the wait.
    """

    username = models.CharField(_("username"), max_length=150)
    address = models.CharField(
        _("client address"),
        max_length=45,
        blank=True,
        help_text=_("Empty: the username is locked from every address."),
    )
    failures = models.PositiveIntegerField(_("failed attempts"))
    locked_until = models.DateTimeField(_("locked until"), db_index=True)
    updated_at = models.DateTimeField(_("last failure"), auto_now=True)

    class Meta:
        verbose_name = _("sign-in lock-out")
        verbose_name_plural = _("sign-in lock-outs")
        ordering = ["-locked_until"]
        constraints = [
            models.UniqueConstraint(
                fields=["username", "address"], name="one_lockout_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address or '*'}"


class LoginFailureCount(models.Model):
    """Wrong passwords of one (username, address) pair, or of one username.

    A table rather than a cache so that counting is one SQL increment
    (partnerhub/throttle.py): parallel attempts on several workers or nodes each
    count. The key is a keyed hash, so the table names no one; a row past
    `expires_at` counts as absent and is swept.
    """

    key = models.CharField(_("key"), max_length=64, primary_key=True)
    failures = models.PositiveIntegerField(_("failed attempts"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    expires_at = models.DateTimeField(_("forgotten after"), db_index=True)

    class Meta:
        verbose_name = _("sign-in failure count")
        verbose_name_plural = _("sign-in failure counts")
        default_permissions = ()  # written by the throttle only, shown nowhere

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class CreditMove(models.Model):
    """One sub-account action at the provider: who, what, how much, the answer.

    Written only once the provider accepted, never changed afterwards.
    """

    class Kind(models.TextChoices):
        CREATE = "create", _("Created")
        ADD = "add", _("Credit added")
        REMOVE = "remove", _("Credit removed")
        DELETE = "delete", _("Deleted")

    account = models.ForeignKey(
        ProviderAccount,
        verbose_name=_("sub-account"),
        on_delete=models.PROTECT,
        related_name="credit_moves",
    )
    kind = models.CharField(_("action"), max_length=8, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=3, default=Decimal("0")
    )
    unit = models.CharField(_("unit"), max_length=16, default="EUR")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    parent_balance = models.DecimalField(
        _("main account after"), max_digits=14, decimal_places=3, null=True
    )
    subaccount_balance = models.DecimalField(
        _("sub-account after"), max_digits=14, decimal_places=3, null=True
    )
    provider_answer = models.CharField(_("provider answer"), max_length=300)

    class Meta:
        verbose_name = _("credit move")
        verbose_name_plural = _("credit moves")
        ordering = ["-created_at", "-pk"]
        # The credit history's order (newest first), whole and per sub-account.
        indexes = [
            models.Index(fields=["created_at", "id"], name="credit_move_list_idx"),
            models.Index(
                fields=["account", "created_at", "id"],
                name="credit_move_account_list_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account} {self.amount} {self.unit}"


from .audit import AuditEntry  # noqa: E402,F401 - the audit model lives in audit.py
