"""Admin for the suppression list: additions and removals go through the services.

An entry is never edited here (add the right address, remove the wrong one);
syncs and SMS replies are records, read-only and undeletable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import services
from .models import SmsReply, Unsubscribe, UnsubscribeSync


class UnsubscribeAdminForm(forms.ModelForm):
    """The address is normalised by `Unsubscribe.clean()` (partnerhub.rules)."""

    class Meta:
        model = Unsubscribe
        fields = ["channel", "address", "reason"]


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    form = UnsubscribeAdminForm
    list_display = ["address", "channel", "source", "reason", "created_at", "state"]
    list_filter = [
        "channel",
        "source",
        "created_at",
        ("removed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["address", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "synced_at",
        "provider_id",
        "removed_at",
        "provider_error",
    ]
    actions = ["sync_now"]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("state"))
    def state(self, obj: Unsubscribe) -> str:
        return obj.state_label

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def save_model(
        self, request: HttpRequest, obj: Unsubscribe, form: Any, change: bool
    ) -> None:
        """Added by hand through the same service as the unsubscribe pages."""
        result = services.unsubscribe_add(
            channel=obj.channel,
            address=obj.address,
            reason=obj.reason,
            actor=request.user,
        )
        obj.pk = result.unsubscribe.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Unsubscribe) -> None:
        """A removal, not a deletion: the provider entry is deleted at next sync."""
        services.unsubscribe_remove(unsubscribe=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            services.unsubscribe_remove(unsubscribe=obj, actor=request.user)

    @admin.action(description=_("Sync both lists with the providers now"))
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not request.user.has_perm("unsubscribes.sync_unsubscribe"):
            self.message_user(request, _("You may not run a sync."), messages.ERROR)
            return
        services.unsubscribes_sync_request()
        self.message_user(
            request,
            _(
                "The sync has started in the background; the unsubscribes page "
                "shows when it is done."
            ),
            messages.INFO,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnsubscribeSync)
class UnsubscribeSyncAdmin(ReadOnlyAdmin):
    list_display = [
        "channel",
        "finished_at",
        "pulled",
        "pushed",
        "deleted",
        "conflicts",
        "rejected",
        "error",
    ]


@admin.register(SmsReply)
class SmsReplyAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "phone", "kind", "text", "message_id"]
    list_filter = ["kind", "received_at"]
    search_fields = ["phone", "text", "message_id"]
    date_hierarchy = "received_at"
