from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import formatting, throttle
from .models import CreditSnapshot, LoginLockout, ProviderAccount


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "provider",
        "parent",
        "balance",
        "credits_checked_at",
        "is_active",
    ]
    list_filter = ["provider", "is_active", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "provider_token"]
    list_select_related = ["parent"]
    readonly_fields = [
        "credits",
        "credits_unit",
        "credits_checked_at",
        "created_at",
        "api_key_last4",
        "subaccount_type",
    ]
    exclude = ["encrypted_api_key"]  # secrets are never shown back
    fieldsets = [
        (None, {"fields": ["provider", "name", "parent", "email", "is_active"]}),
        (
            _("Credits"),
            {
                "fields": [
                    "credits",
                    "credits_unit",
                    "credits_checked_at",
                    "low_credit_threshold",
                ]
            },
        ),
        (
            _("Provider"),
            {
                "fields": [
                    "provider_token",
                    "subaccount_type",
                    "api_key_last4",
                    "created_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProviderAccount | None = None
    ) -> list[str]:
        """Provider, main account and provider token are fixed once created.

        Sub-accounts are created at the provider from the Credits pages
        (`accounts:create`), never here: the add form only makes main accounts.
        """
        fixed = ["provider", "parent", "provider_token"] if obj else ["parent"]
        return [*self.readonly_fields, *fixed]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "parent": None}

    @admin.display(description=_("credits"), ordering="credits")
    def balance(self, obj: ProviderAccount) -> str:
        """With its unit and separators, as every page shows it."""
        return formatting.money(obj.credits, formatting.account_unit(obj))


@admin.register(CreditSnapshot)
class CreditSnapshotAdmin(admin.ModelAdmin):
    list_display = ["account", "taken_at", "balance"]
    list_filter = ["account__provider"]
    list_select_related = ["account"]
    date_hierarchy = "taken_at"

    @admin.display(description=_("credits"), ordering="credits")
    def balance(self, obj: CreditSnapshot) -> str:
        return formatting.money(obj.credits, formatting.account_unit(obj.account))

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class InForceFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [("current", _("In force")), ("over", _("Over"))]

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "current":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "over":
            return queryset.filter(locked_until__lte=now)
        return queryset


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Who waits to sign in, from where, until when; admins can lift the wait."""

    list_display = ["username", "address_shown", "failures", "locked_until", "in_force"]
    list_filter = [InForceFilter]
    search_fields = ["username", "address"]
    actions = ["unlock"]
    readonly_fields = ["username", "address", "failures", "locked_until", "updated_at"]

    @admin.display(description=_("client address"), ordering="address")
    def address_shown(self, obj: LoginLockout) -> str:
        return obj.address or str(_("every address"))

    @admin.display(description=_("in force"), boolean=True)
    def in_force(self, obj: LoginLockout) -> bool:
        return obj.locked_until > timezone.now()

    @admin.action(
        description=_("Unlock: let them sign in again now"), permissions=["unlock"]
    )
    def unlock(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = throttle.unlock(lockouts=list(queryset))
        message = ngettext("%d lock-out lifted.", "%d lock-outs lifted.", count)
        self.message_user(request, message % count, messages.SUCCESS)

    # Usernames and addresses are for admins (change permission), not Marketing.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("partnerhub.change_loginlockout")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partnerhub.change_loginlockout")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rows are written by the throttle only

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partnerhub.change_loginlockout")
