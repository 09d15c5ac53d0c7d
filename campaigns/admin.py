"""Admin of audiences, recipients, campaigns and deliveries: every write is a service.

Campaigns are created on the compose pages (no "Add" here); a draft is edited
through `campaign_update_draft`, and *Send now*, *Schedule*, *Cancel* and
*Duplicate* are actions with a confirmation page calling the same services as
the campaign pages. Anything past the draft stage is read-only, deliveries
always are, and only drafts can be deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partnerhub.providers import errors

from . import services
from .forms import PARIS
from .models import (
    Audience,
    Campaign,
    CampaignStatus,
    Delivery,
    DispatchBatch,
    Recipient,
)
from .states import Figures, campaign_state

REFUSED = _("“%(name)s”: %(reason)s")
NOT_A_DRAFT = _("Not a draft: left as it is.")
NOT_SCHEDULED = _("Not scheduled: left as it is.")
# Which campaigns each action applies to; the others are listed with a note.
APPLIES = {
    "send_now": (CampaignStatus.DRAFT, NOT_A_DRAFT),
    "schedule": (CampaignStatus.DRAFT, NOT_A_DRAFT),
    "cancel": (CampaignStatus.SCHEDULED, NOT_SCHEDULED),
}


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "recipient_count", "created_at"]
    search_fields = ["name", "description"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_recipients=Count("recipients"))

    @admin.display(description=_("recipients"), ordering="n_recipients")
    def recipient_count(self, obj: Audience) -> int:
        return obj.n_recipients  # type: ignore[attr-defined]

    def save_model(
        self, request: HttpRequest, obj: Audience, form: Any, change: bool
    ) -> None:
        services.audience_save(audience=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Audience) -> None:
        services.audience_delete(audience=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for audience in queryset:
            services.audience_delete(audience=audience, actor=request.user)


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    """Addresses are stored normalised (`Recipient.clean()`), as imports store them."""

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

    def save_model(
        self, request: HttpRequest, obj: Recipient, form: Any, change: bool
    ) -> None:
        services.recipient_save(recipient=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Recipient) -> None:
        services.recipient_delete(recipient=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for recipient in queryset:
            services.recipient_delete(recipient=recipient, actor=request.user)


class BatchInline(admin.TabularInline):
    model = DispatchBatch
    extra = 0
    can_delete = False
    readonly_fields = [
        "number",
        "status",
        "size",
        "provider_message_id",
        "cost",
        "attempts",
        "error",
    ]
    fields = tuple(readonly_fields)  # all shown, none editable

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CampaignAdminForm(forms.ModelForm):
    """A draft's form: the model's checks, then the draft service's own checks."""

    class Meta:
        model = Campaign
        fields = sorted(services.DRAFT_FIELDS)

    def _post_clean(self) -> None:
        # `_post_clean` and `_update_errors` are Django's form hooks, not in the stubs
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        try:
            services.campaign_validate_draft(campaign=self.instance)
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Date and time (Paris time)"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("Paris time, in the future."),
    )
    deferred_at_provider = forms.BooleanField(
        label=_("Hand it to the provider now"),
        required=False,
        help_text=_(
            "The provider keeps it until the time: minutes must be a multiple of 5 "
            "and at least 10 minutes ahead."
        ),
    )

    def clean_scheduled_at(self) -> datetime:
        """The picker's wall-clock time is Paris time, whatever the server's zone."""
        value = self.cleaned_data["scheduled_at"]
        return value.replace(tzinfo=None).replace(tzinfo=PARIS)


DRAFT_LAYOUT = list(services.DRAFT_FIELD_ORDER)  # what a draft may change
TRACKING_FIELDS = [
    "channel",
    "status",
    "status_reason",
    "scheduled_at",
    "deferred_at_provider",
    "created_by",
    "created_at",
    "dispatch_started_at",
    "dispatched_at",
    "settled_at",
    "cancelled_at",
    "estimated_cost",
]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = [
        "name",
        "channel",
        "state",
        "audience",
        "scheduled_at",
        "dispatched_at",
    ]
    list_filter = ["channel", "status", "scheduled_at"]
    search_fields = ["name", "subject", "tag"]
    list_select_related = ["audience", "account"]
    date_hierarchy = "created_at"
    inlines = [BatchInline]
    readonly_fields = [*TRACKING_FIELDS, "campaign_page"]
    fieldsets = [
        (None, {"fields": ["campaign_page", *DRAFT_LAYOUT]}),
        (_("Status and dates"), {"fields": tuple(TRACKING_FIELDS)}),
    ]

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj: Campaign) -> str:
        """The campaign pages' word for it (a deferred send is "handed to the
        provider", a due one "sending"), not the stored status."""
        return campaign_state(obj, Figures()).label

    actions = [
        "send_now",
        "schedule",
        "cancel",
        "duplicate",
        "delete_selected",
    ]

    @admin.display(description=_("campaign page"))
    def campaign_page(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("campaigns:detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the campaign page"))

    def formfield_for_dbfield(
        self, db_field: Any, request: HttpRequest, **kw: Any
    ) -> Any:
        """No add/change/delete shortcuts to accounts or audiences from a campaign."""
        field = super().formfield_for_dbfield(db_field, request, **kw)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = False
        return field

    # --- permissions: drafts only, campaigns are created on the compose pages ---
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != CampaignStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    # --- writes through the services -----------------------------------------
    def save_model(
        self, request: HttpRequest, obj: Campaign, form: Any, change: bool
    ) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.DRAFT_FIELDS
        }
        services.campaign_update_draft(campaign=obj, actor=request.user, **fields)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A draft sent or scheduled meanwhile: say so instead of failing."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        services.campaign_delete_draft(campaign=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for campaign in queryset:
            services.campaign_delete_draft(campaign=campaign, actor=request.user)

    # --- actions, each with a confirmation page ------------------------------
    @admin.action(description=_("Send now"), permissions=["compose"])
    def send_now(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                queryset,
                action="send_now",
                title=_("Send now"),
                intro=_(
                    "These drafts are sent to their audience right away, through "
                    "the same checks as the review page (content, recipients, "
                    "credits)."
                ),
                button=_("Yes, send them now"),
            )
        self._each(
            request,
            queryset,
            lambda c: services.campaign_send(campaign=c, actor=request.user),
            _("“%(name)s” is being sent."),
        )
        return None

    @admin.action(description=_("Schedule"), permissions=["compose"])
    def schedule(self, request: HttpRequest, queryset: QuerySet) -> Any:
        form = ScheduleForm(request.POST if request.POST.get("post") else None)
        if not form.is_valid():
            return self._confirm(
                request,
                queryset,
                action="schedule",
                title=_("Schedule"),
                intro=_("These drafts are sent at the time below."),
                button=_("Schedule them"),
                form=form,
            )
        data = form.cleaned_data
        self._each(
            request,
            queryset,
            lambda c: services.campaign_schedule(
                campaign=c,
                scheduled_at=data["scheduled_at"],
                deferred_at_provider=data["deferred_at_provider"],
                actor=request.user,
            ),
            _("“%(name)s” is scheduled."),
        )
        return None

    @admin.action(description=_("Cancel"), permissions=["compose"])
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                queryset,
                action="cancel",
                title=_("Cancel"),
                intro=_(
                    "These scheduled campaigns are cancelled (at the provider too "
                    "if they were handed over). A cancelled campaign cannot be "
                    "scheduled again."
                ),
                button=_("Yes, cancel them"),
                danger=True,
            )
        for campaign in queryset:
            self._cancel_one(request, campaign)
        return None

    @admin.action(description=_("Duplicate"), permissions=["compose"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                queryset,
                action="duplicate",
                title=_("Duplicate"),
                intro=_(
                    "Each campaign is copied into a new draft with the same "
                    "content, account and audience."
                ),
                button=_("Yes, duplicate them"),
            )
        self._each(
            request,
            queryset,
            lambda c: services.campaign_duplicate(campaign=c, actor=request.user),
            _("“%(name)s” was created as a draft."),
        )
        return None

    def has_compose_permission(self, request: HttpRequest) -> bool:
        """What the compose and cancel pages require (`COMPOSE_PERMISSIONS`)."""
        from .views.compose import COMPOSE_PERMISSIONS

        return request.user.has_perms(COMPOSE_PERMISSIONS)

    def _confirm(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        action: str,
        title: Any,
        intro: Any,
        button: Any,
        form: forms.Form | None = None,
        danger: bool = False,
    ) -> TemplateResponse:
        wanted, note = APPLIES.get(action, (None, ""))
        queryset = queryset.select_related("audience")
        rows = [(c, note if wanted and c.status != wanted else "") for c in queryset]
        context = {
            **self.admin_site.each_context(request),
            "rows": rows,
            "title": title,
            "intro": intro,
            "button": button,
            "danger": danger,
            "form": form,
            "action": action,
            "queryset": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/action_confirmation.html", context
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        act: Callable[[Campaign], Campaign],
        done: Any,
    ) -> None:
        """Run one service per campaign; a refusal is reported, the rest go on."""
        for campaign in queryset:
            try:
                result = act(campaign)
            except ValidationError as exc:
                self.message_user(
                    request,
                    REFUSED % {"name": campaign.name, "reason": " ".join(exc.messages)},
                    messages.ERROR,
                )
            else:
                self.message_user(request, done % {"name": result.name})

    def _cancel_one(self, request: HttpRequest, campaign: Campaign) -> None:
        from .views.compose import provider_error_message

        try:
            outcome = services.campaign_cancel(campaign=campaign, actor=request.user)
        except ValidationError as exc:
            reason = " ".join(exc.messages)
            self.message_user(
                request, REFUSED % _args(campaign, reason), messages.ERROR
            )
            return
        except errors.ProviderError as exc:
            reason = provider_error_message(exc)
            self.message_user(
                request, REFUSED % _args(campaign, reason), messages.ERROR
            )
            return
        for refusal in outcome.refusals:
            self.message_user(
                request, REFUSED % _args(campaign, refusal), messages.ERROR
            )
        if not outcome.refusals:
            self.message_user(
                request, _("“%(name)s” is cancelled.") % {"name": campaign.name}
            )


def _args(campaign: Campaign, reason: str) -> dict[str, str]:
    return {"name": campaign.name, "reason": reason}


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """What the provider was asked and answered: never edited, never deleted."""

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

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
