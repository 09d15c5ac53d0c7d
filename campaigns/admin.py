from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Audience, Campaign, Delivery, DispatchBatch, Recipient


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "recipient_count", "created_at"]
    search_fields = ["name", "description"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_recipients=Count("recipients"))

    @admin.display(description=_("recipients"), ordering="n_recipients")
    def recipient_count(self, obj: Audience) -> int:
        return obj.n_recipients  # type: ignore[attr-defined]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "audience",
        "updated_at",
    ]
    list_filter = ["audience"]
    search_fields = ["email", "phone", "last_name"]
    list_select_related = ["audience"]
    show_full_result_count = False


class BatchInline(admin.TabularInline):
    model = DispatchBatch
    extra = 0
    can_delete = False
    fields = [
        "number",
        "status",
        "size",
        "provider_message_id",
        "cost",
        "attempts",
        "error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "channel",
        "status",
        "audience",
        "scheduled_at",
        "dispatched_at",
    ]
    list_filter = ["channel", "status", "scheduled_at"]
    search_fields = ["name", "subject", "tag"]
    list_select_related = ["audience", "account"]
    date_hierarchy = "created_at"
    inlines = [BatchInline]
    readonly_fields = [
        "status",
        "status_reason",
        "deferred_at_provider",
        "created_by",
        "created_at",
        "dispatch_started_at",
        "dispatched_at",
        "settled_at",
        "cancelled_at",
        "estimated_cost",
    ]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "address",
        "campaign",
        "status",
        "provider_status",
        "cost",
        "updated_at",
    ]
    list_filter = ["status", "campaign__channel"]
    search_fields = ["address", "provider_message_id"]
    list_select_related = ["campaign"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
