"""Admin for PEC mailboxes (Admins only): the password is write-only.

Sends and receipts are shown read-only to Admins for support; operators use the
PEC pages, which filter by mailbox grant (the admin would not).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from partnerhub import roles

from .models import PecMailbox, PecReceipt, PecSend
from .selectors import sees_every_mailbox


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("mailbox password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
        help_text=_(
            "Stored encrypted and never shown again. Leave empty to keep the "
            "current password."
        ),
    )

    class Meta:
        model = PecMailbox
        fields = ["label", "username", "password", "operators"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].label = capfirst(self.fields["password"].label)
        # only PEC operators can be granted a mailbox (Admins see every box anyway)
        cast(forms.ModelMultipleChoiceField, self.fields["operators"]).queryset = (
            get_user_model()
            .objects.filter(groups__name=roles.PEC_OPERATORS)
            .order_by("username")
            .distinct()
        )

    def clean_password(self) -> str:
        value = self.cleaned_data.get("password") or ""
        if not value and not self.instance.pk:
            raise forms.ValidationError(_("A new mailbox needs its password."))
        return value or self.instance.password


class AdminsOnly:
    """Module and objects visible only to those who manage mailboxes."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_every_mailbox(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_every_mailbox(request.user)


@admin.register(PecMailbox)
class PecMailboxAdmin(AdminsOnly, admin.ModelAdmin):
    form = MailboxForm
    list_display = ("label", "username", "operator_count", "quota", "quota_checked_at")
    search_fields = ("label", "username")
    filter_horizontal = ("operators",)

    @admin.display(description=_("operators"))
    def operator_count(self, obj: PecMailbox) -> int:
        return obj.operators.count()

    @admin.display(description=_("quota used"))
    def quota(self, obj: PecMailbox) -> str:
        ratio = obj.quota_ratio
        return "—" if ratio is None else f"{ratio:.0%}"


class ReceiptInline(admin.TabularInline):
    model = PecReceipt
    fields = ("date", "kind", "subject", "issuer", "recipient")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PecSend)
class PecSendAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = (
        "subject",
        "mailbox",
        "status",
        "state",
        "provider_code",
        "created_at",
    )
    list_filter = ("status", "state", "mailbox")
    search_fields = ("subject", "provider_code")
    inlines = [ReceiptInline]
    exclude = ("body_html",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in PecSend._meta.fields if f.name != "body_html"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
