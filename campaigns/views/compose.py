"""Composing a campaign: draft per channel, live preview, test-send, review, cancel.

Views only bind forms and call services (`campaign_create_draft`,
`campaign_update_draft`, `campaign_test_send`, `campaign_send`,
`campaign_schedule`, `campaign_cancel`). Every view, JSON endpoints included,
needs both `campaigns.add_campaign` and `campaigns.change_campaign` (403 without).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from partnerhub.html import sanitise_preview
from partnerhub.models import ProviderAccount
from partnerhub.pages import page_context
from partnerhub.providers import errors
from partnerhub.providers.sms_charset import table_for_js

from .. import services
from ..attachments import attachment_list
from ..forms import (
    DRAFT_FORMS,
    EMAIL_PLACEHOLDERS,
    UNSUBSCRIBE_PLACEHOLDER,
    CancelForm,
    DraftForm,
    ReviewForm,
    SendMode,
    TestSendForm,
    VoiceDraftForm,
    accounts_for,
    apply_service_errors,
)
from ..models import Audience, Campaign, CampaignStatus, Channel
from ..options import VOICEMAIL_PRICE
from ..quiet_hours import REFUSED_SENTENCE, quiet_hours_warning
from ..selectors import campaign_audience_counts
from ..sms import LOW_COST_STOP, MAX_PARTS, STOP_MENTION, campaign_sms_length

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

COMPOSE_PERMISSIONS = ("campaigns.add_campaign", "campaigns.change_campaign")
compose_permission = permission_required(COMPOSE_PERMISSIONS, raise_exception=True)

NEW_TITLES: dict[str, StrPromise] = {
    Channel.EMAIL: _("New email campaign"),
    Channel.SMS: _("New SMS campaign"),
    Channel.VOICE: _("New voice campaign"),
}
TIME_ERROR_CODES = {"past", "five_minutes", "too_soon", "quiet_hours"}
MAX_PREVIEW_BYTES = 1_000_000
PROVIDER_ERROR_MESSAGES: tuple[tuple[type[errors.ProviderError], Any], ...] = (
    (errors.AddressUnsubscribed, _("The provider refuses: this address is on its "
                                   "unsubscribe or STOP list.")),
    (errors.InvalidAddress, _("The provider refused the address: %(detail)s")),
    (errors.InsufficientCredits, _("The account has not enough credits.")),
    (errors.QuietHours, REFUSED_SENTENCE),
    (errors.InvalidApiKey, _("The provider refused the account's key: ask an admin.")),
    (errors.AccessDenied, _("The provider refused access to the account: %(detail)s")),
    (errors.RateLimited, _("The provider asks to slow down: try again in a minute.")),
    (errors.ProviderBusy, _("The provider is busy and took nothing: try again in "
                            "a moment.")),
    (errors.UnknownOutcome, _("The provider did not answer in time, or its answer "
                              "was lost: the test may still arrive. Check before "
                              "sending another one.")),
    (errors.TransportError, _("The provider could not be reached: try again in a "
                              "moment.")),
    (errors.ProviderError, _("The provider refused: %(detail)s")),
)  # fmt: skip


LOW_COST_REFUSED = _(
    "The provider refuses: a Low Cost SMS is one SMS of 160 characters at most "
    "(code 42). Shorten the text or choose the Premium range."
)
LOW_COST_NOT_ELIGIBLE = _(
    "The provider refuses: this account is not eligible for the Low Cost range "
    "(code 51). Choose Premium, or ask SMS Partner to open it."
)
PROVIDER_CODE_MESSAGES: dict[tuple[str, object], Any] = {
    ("smspartner", 42): LOW_COST_REFUSED,
    ("smspartner", 51): LOW_COST_NOT_ELIGIBLE,
}


def provider_error_message(exc: errors.ProviderError) -> str:
    """A sentence for the user; the provider's own text is kept as detail."""
    by_code = PROVIDER_CODE_MESSAGES.get((exc.provider, exc.code))
    if by_code is not None:
        return str(by_code)
    for error_type, message in PROVIDER_ERROR_MESSAGES:
        if isinstance(exc, error_type):
            return str(message) % {"detail": exc.message or exc}
    return str(exc)  # pragma: no cover - ProviderError closes the table


def detail_url(campaign: Campaign) -> str:
    return reverse("campaigns:detail", args=[campaign.pk])


def list_url() -> str:
    return reverse("campaigns:list")


# --- compose ------------------------------------------------------------------
@compose_permission
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        return render(
            request,
            "campaigns/compose_channel.html",
            page_context(
                request, title=_("New campaign"), list_url=list_url(),
                channels=[(c.value, c.label, NEW_TITLES[c]) for c in Channel],
            ),
        )  # fmt: skip
    form = draft_form(request, Campaign(channel=channel))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create_draft(
                channel=channel, created_by=request.user, **form.draft_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return after_save(request, campaign)
    return render_compose(request, form, campaign=None, channel=channel)


@compose_permission
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        return render_locked(request, campaign)
    form = draft_form(request, campaign)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_update_draft(
                campaign=campaign, actor=request.user, **form.draft_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return after_save(request, campaign)
    return render_compose(request, form, campaign=campaign, channel=campaign.channel)


def draft_form(request: HttpRequest, campaign: Campaign) -> DraftForm:
    form_class = DRAFT_FORMS[campaign.channel]
    data = request.POST if request.method == "POST" else None
    if form_class is VoiceDraftForm:
        account = voice_account(request, campaign)
        refresh = request.GET.get("refresh_audio") == "1"
        files = (
            services.voice_audio_files(account=account, refresh=refresh)
            if account
            else None
        )
        return VoiceDraftForm(data, instance=campaign, audio_files=files)
    uploads = request.FILES if data is not None else None
    return form_class(data, uploads, instance=campaign)


def voice_account(request: HttpRequest, campaign: Campaign) -> ProviderAccount | None:
    """The account whose audio files are listed: chosen, saved, or the first."""
    accounts = accounts_for(Channel.VOICE)
    chosen = request.POST.get("account") or request.GET.get("account")
    if chosen and chosen.isdigit():
        found = accounts.filter(pk=chosen).first()
        if found:
            return found
    if campaign.account_id:
        return campaign.account
    return accounts.first()


def after_save(request: HttpRequest, campaign: Campaign) -> HttpResponseRedirect:
    if request.POST.get("action") == "review":
        return redirect("campaigns:review", pk=campaign.pk)
    messages.success(request, _("Draft saved."))
    return redirect("campaigns:edit", pk=campaign.pk)


def render_compose(
    request: HttpRequest,
    form: DraftForm,
    *,
    campaign: Campaign | None,
    channel: str,
    test_form: TestSendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if campaign is None:
        title: str | StrPromise = NEW_TITLES[channel]
    else:
        title = _("Edit “%(name)s”") % {"name": campaign.name}
    context = page_context(
        request,
        title=title,
        form=form,
        campaign=campaign,
        channel=channel,
        channel_label=Channel(channel).label,
        list_url=list_url(),
        test_form=test_form or TestSendForm(channel=channel, prefix="test"),
        placeholders=EMAIL_PLACEHOLDERS,
        unsubscribe_placeholder=UNSUBSCRIBE_PLACEHOLDER,
        counts=initial_counts(form, channel),
        preview_html=sanitise_preview(form["html"].value() or "")
        if channel == Channel.EMAIL
        else "",
        compose_config=compose_config(form, channel),
        sms_charset=table_for_js() if channel == Channel.SMS else None,
    )
    from .merge import merge_context

    sample = (test_form.data.get("test-sample") if test_form else None) or (
        request.GET.get("sample")
    )
    context["merge"] = merge_context(form, channel, sample)
    context["merge"]["config"]["url"] = reverse("campaigns:merge_fields")
    return render(request, "campaigns/compose.html", context, status=status)


def initial_counts(form: DraftForm, channel: str) -> dict[str, int] | None:
    """Recipient counts of the audience shown when the page opens, if any."""
    value = form["audience"].value()
    if not value or not str(value).isdigit():
        return None
    audience = Audience.objects.filter(pk=value).first()
    return audience_counts(audience, channel) if audience else None


def audience_counts(audience: Audience, channel: str) -> dict[str, int]:
    reachable, unsubscribed = campaign_audience_counts(
        campaign=Campaign(audience=audience, channel=channel)
    )
    return {
        "recipients": reachable,
        "unsubscribed": unsubscribed,
        "sendable": reachable - unsubscribed,
    }


def compose_config(form: DraftForm, channel: str) -> dict[str, Any]:
    """What compose.js needs: endpoints, prices, credits and its sentences."""
    # a foreign key: a ModelChoiceField (`fields` is typed as plain `Field`)
    accounts = cast(forms.ModelChoiceField, form.fields["account"]).queryset
    assert accounts is not None  # DraftForm.__init__ sets it (`accounts_for`)
    return {
        "channel": channel,
        "previewUrl": reverse("campaigns:preview"),
        "countsUrl": reverse("campaigns:audience_counts"),
        "unitCost": str(services.unit_cost(channel)),
        "stopMention": STOP_MENTION,
        "lowCostStop": LOW_COST_STOP,
        "maxParts": MAX_PARTS,
        "unsubscribePlaceholder": UNSUBSCRIBE_PLACEHOLDER,
        "credits": {
            str(a.pk): None if a.credits is None else str(a.credits) for a in accounts
        },
        # Price of one message and unit, per account: a Mail main account counts
        # emails, its sub-accounts euros (never compared across units).
        "prices": {
            str(a.pk): str(services.account_unit_price(account=a, channel=channel))
            for a in accounts
        },
        "units": {
            str(a.pk): services.account_unit_label(account=a) for a in accounts
        },
        "voicemailPrices": {
            str(a.pk): str(
                services.account_unit_price(account=a, channel=VOICEMAIL_PRICE)
            )
            for a in accounts
        }
        if channel == Channel.VOICE
        else {},
        "creditsText": {
            str(a.pk): services.account_credits_text(account=a) for a in accounts
        },
        "text": {
            "counts": str(_("%(sendable)s recipients will receive it (%(recipients)s "
                            "in the audience, %(unsubscribed)s unsubscribed).")),
            "noAudience": str(_("Choose an audience to see how many recipients.")),
            "sms": str(_("%(characters)s characters · %(encoding)s · %(parts)s SMS")),
            "tooLong": str(_("Too long: at most %(max)s SMS.")),
            "lowCostTooLong": str(_("Too long for Low Cost: one SMS of 160 "
                                    "characters at most, the mention included.")),
            "replaced": str(_("“%(from)s” is sent as “%(to)s”")),
            "removed": str(_("“%(from)s” is removed by the provider")),
            "changed": str(_("Characters replaced or removed by the provider in "
                             "GSM: %(count)s (highlighted). Choose Unicode to keep "
                             "them.")),
            "cost": str(_("Estimated cost: %(cost)s %(unit)s (%(parts)s SMS x "
                          "%(sendable)s recipients x %(price)s).")),
            "costEmail": str(_("Estimated cost: %(cost)s %(unit)s.")),
            "credits": str(_("The account has %(credits)s %(unit)s.")),
            "notEnough": str(_("Not enough credits on this account.")),
            "senderInvalid": str(services.SMS_SENDER_INVALID),
            "previewFailed": str(_("The preview could not be refreshed.")),
        },
    }  # fmt: skip


def render_locked(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """A campaign past the draft stage is shown, not edited, with what can be done."""
    message = services.NOT_EDITABLE % {"status": campaign.get_status_display().lower()}
    return render(
        request,
        "campaigns/compose_locked.html",
        page_context(
            request,
            title=_("“%(name)s” can no longer be edited") % {"name": campaign.name},
            campaign=campaign,
            message=message,
            detail_url=detail_url(campaign),
            list_url=list_url(),
            can_cancel=campaign.status == CampaignStatus.SCHEDULED,
        ),
    )


# --- JSON endpoints -------------------------------------------------------------
@compose_permission
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    html = request.POST.get("html", "")
    if len(html.encode()) > MAX_PREVIEW_BYTES:
        return HttpResponseBadRequest(_("The HTML body is too large to preview."))
    return JsonResponse(
        {
            "html": sanitise_preview(html),
            "missingUnsubscribe": bool(html.strip())
            and UNSUBSCRIBE_PLACEHOLDER not in html,
        }
    )


def audience_json(
    request: HttpRequest, answer: Callable[[Audience, str], dict[str, Any]]
) -> HttpResponse:
    """`answer(audience, channel)` for the `?audience=&channel=` the compose page
    asks about, or a 400 saying which is wrong."""
    channel = request.GET.get("channel", "")
    audience_id = request.GET.get("audience", "")
    if channel not in Channel.values or not audience_id.isdigit():
        return JsonResponse(
            {"error": str(_("Unknown channel or audience."))}, status=400
        )
    audience = get_object_or_404(Audience, pk=audience_id)
    return JsonResponse(answer(audience, channel))


@compose_permission
@require_GET
def campaign_audience_counts_json(request: HttpRequest) -> HttpResponse:
    return audience_json(request, audience_counts)


# --- test send ------------------------------------------------------------------
@compose_permission
@require_POST
def campaign_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the draft as posted, then send it to one address (nothing typed is lost)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        return render_locked(request, campaign)
    form = draft_form(request, campaign)
    test_form = TestSendForm(request.POST, channel=campaign.channel, prefix="test")

    def again(message: str | StrPromise) -> HttpResponse:
        messages.error(request, message)
        return render_compose(
            request, form, campaign=campaign, channel=campaign.channel,
            test_form=test_form,
        )  # fmt: skip

    if not form.is_valid():
        return again(_("Fix the errors below before sending a test."))
    try:
        campaign = services.campaign_update_draft(
            campaign=campaign, actor=request.user, **form.draft_fields()
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return again(_("Fix the errors below before sending a test."))
    if not test_form.is_valid():
        return again(_("Check the test address."))
    return send_test(request, campaign, test_form, again)


def send_test(
    request: HttpRequest, campaign: Campaign, test_form: TestSendForm, again: Any
) -> HttpResponse:
    from .merge import chosen_sample

    address = test_form.cleaned_data["address"]
    try:
        outcome = services.campaign_test_send(
            campaign=campaign,
            address=address,
            allow_unsubscribed=test_form.cleaned_data["confirm_unsubscribed"],
            sample=chosen_sample(campaign, test_form.cleaned_data.get("sample")),
        )
    except ValidationError as exc:
        field = "confirm_unsubscribed" if exc.code == "unsubscribed" else None
        test_form.add_error(field, exc)
        return again(" ".join(exc.messages))
    except errors.ProviderError as exc:
        return again(provider_error_message(exc))
    messages.success(
        request,
        _("Test sent to %(address)s (provider id %(id)s).")
        % {"address": address, "id": outcome.message_id},
    )
    if outcome.warning:
        messages.warning(request, outcome.warning)
    sample = test_form.cleaned_data.get("sample")
    query = f"?sample={sample}" if sample else ""
    return redirect(
        reverse("campaigns:edit", args=[campaign.pk]) + query + "#test-send"
    )


# --- review and confirm ---------------------------------------------------------
@compose_permission
@require_http_methods(["GET", "POST"])
def campaign_review(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("account"), pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        return render_locked(request, campaign)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    estimate = services.campaign_estimate(campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = queue(campaign, form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            field = "scheduled_at" if exc.code in TIME_ERROR_CODES else None
            form.add_error(field, exc)
        else:
            messages.success(request, queued_message(campaign, form.cleaned_data))
            if warning := review_quiet_warning(campaign, form):
                messages.warning(request, warning)  # the time may be picked late
            return redirect(detail_url(campaign))
    personalised = merge_review(campaign)
    return render(
        request,
        "campaigns/review.html",
        page_context(
            request,
            title=_("Review and send “%(name)s”") % {"name": campaign.name},
            campaign=campaign,
            form=form,
            estimate=estimate,
            problem=services.campaign_blocking_problem(campaign=campaign),
            sms=review_sms_length(campaign, personalised),
            preview_html=sanitise_preview(campaign.html)
            if campaign.channel == Channel.EMAIL
            else "",
            labels=confirm_labels(estimate.recipients),
            attachments=attachment_list(campaign),
            quiet_warning=review_quiet_warning(campaign, form),
            merge_review=personalised,
            later=form["mode"].value() == SendMode.LATER,
            list_url=list_url(),
        ),
    )


def review_quiet_warning(campaign: Campaign, form: ReviewForm) -> str:
    """For the time chosen on the form if any, else for a send right now."""
    chosen = None
    if form.is_bound:
        form.is_valid()  # cleaned_data keeps the valid fields of an invalid form
        data = form.cleaned_data
        if data.get("mode") == SendMode.LATER:
            chosen = data.get("scheduled_at")
    return quiet_hours_warning(channel=campaign.channel, when=chosen or timezone.now())


def merge_review(campaign: Campaign) -> dict[str, Any] | None:
    from .merge import review_context

    return review_context(campaign)


def confirm_labels(count: int) -> dict[str, str]:
    """The final button says what will happen; compose.js fills in the date.

    `later` keeps `%(date)s` and `%(time)s` for the script (dd/mm, HH:MM, Paris
    time); `later_undated` is shown until a date is chosen, or without script.
    """
    number = formats.number_format(count, force_grouping=True)
    values = {"count": number, "date": "%(date)s", "time": "%(time)s"}
    return {
        "now": ngettext(
            "Send to %(count)s recipient now",
            "Send to %(count)s recipients now",
            count,
        )
        % values,
        "later": ngettext(
            "Schedule the send to %(count)s recipient on %(date)s at %(time)s",
            "Schedule the send to %(count)s recipients on %(date)s at %(time)s",
            count,
        )
        % values,
        "later_undated": ngettext(
            "Schedule the send to %(count)s recipient",
            "Schedule the send to %(count)s recipients",
            count,
        )
        % values,
    }


def queue(campaign: Campaign, data: dict[str, Any], *, actor: Any) -> Campaign:
    if data["mode"] == SendMode.NOW:
        return services.campaign_send(campaign=campaign, actor=actor)
    return services.campaign_schedule(
        campaign=campaign,
        scheduled_at=data["scheduled_at"],
        deferred_at_provider=data["deferred_at_provider"],
        actor=actor,
    )


def queued_message(campaign: Campaign, data: dict[str, Any]) -> str:
    if data["mode"] == SendMode.NOW:
        return str(_("“%(name)s” is being sent.") % {"name": campaign.name})
    when = data["scheduled_at"].strftime("%d/%m/%Y %H:%M")
    return str(
        _("“%(name)s” is scheduled for %(when)s (Paris time).")
        % {"name": campaign.name, "when": when}
    )


def review_sms_length(campaign: Campaign, personalised: dict[str, Any] | None) -> Any:
    """Length and text as sent (substitutions, STOP mention), for the review: of
    the first recipient's own text when the campaign is personalised, so the
    bubble shows what that recipient's phone will show."""
    if campaign.channel != Channel.SMS:
        return None
    text = personalised["rendered"] if personalised else None
    return campaign_sms_length(campaign, text)


# --- cancel -------------------------------------------------------------------
@compose_permission
@require_http_methods(["GET", "POST"])
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.SCHEDULED:
        messages.error(request, services.CANNOT_CANCEL)
        return redirect(detail_url(campaign))
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return cancel(request, campaign)
    return render(
        request,
        "campaigns/cancel.html",
        page_context(
            request,
            title=_("Cancel “%(name)s”?") % {"name": campaign.name},
            campaign=campaign,
            form=form,
            detail_url=detail_url(campaign),
            list_url=list_url(),
        ),
    )


def cancel(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        outcome = services.campaign_cancel(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(detail_url(campaign))
    except errors.ProviderError as exc:
        messages.error(request, provider_error_message(exc))
        return redirect(reverse("campaigns:cancel", args=[campaign.pk]))
    for refusal in outcome.refusals:
        messages.error(request, refusal)
    if not outcome.refusals:
        messages.success(
            request, _("“%(name)s” is cancelled.") % {"name": campaign.name}
        )
    return redirect(detail_url(campaign))


# --- duplicate ----------------------------------------------------------------
@compose_permission
@require_POST
def campaign_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new draft with the same content, from a campaign in any status."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        copy = services.campaign_duplicate(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(
            request,
            _("The campaign could not be duplicated: %(reason)s")
            % {"reason": " ".join(exc.messages)},
        )
        return redirect(detail_url(campaign))
    messages.success(
        request,
        _("“%(name)s” is a new draft with the content of “%(original)s”: check "
          "it, then review and send.") % {"name": copy.name, "original": campaign.name},
    )  # fmt: skip
    return redirect("campaigns:edit", pk=copy.pk)
