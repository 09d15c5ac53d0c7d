"""Compose → confirm → send, the receipts timeline and its actions and exports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from partnerhub.html import sanitise_preview
from partnerhub.providers.errors import ProviderError

from .. import receipts, selectors, services
from ..errors import PecActionRefused, error_message
from ..exports import timeline_json, timeline_pdf
from ..forms import ComposeForm
from ..models import DispatchStatus
from .common import (
    KIND_TONES,
    STATE_TONES,
    STATUS_TONES,
    pec_context,
    send_permission,
    view_permission,
)


@send_permission
@view_permission
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    mailboxes = selectors.mailboxes_for(request.user)
    initial = {"mailbox": request.GET.get("mailbox")}
    form = ComposeForm(
        request.POST or None,
        request.FILES or None,
        mailboxes=mailboxes,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        send = services.send_draft(
            mailbox=data["mailbox"],
            user=request.user,
            recipients=data["recipients"],
            subject=data["subject"],
            body_html=data["body_html"],
            files=data["attachments"],
        )
        return redirect("pec:confirm", pk=send.pk)
    preview = sanitise_preview(form.data.get("body_html", "")) if form.is_bound else ""
    context = pec_context(
        request,
        title=_("New PEC"),
        form=form,
        no_mailbox=not mailboxes.exists(),
        preview_html=preview,
        price=settings.PEC_PRICE_PER_RECIPIENT,
    )
    return render(request, "pec/compose.html", context)


@send_permission
@view_permission
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """The body as the preview frame may show it (same sanitiser as email compose)."""
    return HttpResponse(sanitise_preview(request.POST.get("body_html", "")))


@send_permission
@view_permission
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    if send.status != DispatchStatus.DRAFT:
        return redirect("pec:send", pk=send.pk)
    if request.method == "POST":
        if "discard" in request.POST:
            send.delete()
            messages.info(request, _("The draft was discarded; nothing was sent."))
            return redirect("pec:home")
        services.send_confirm(send=send)
        messages.success(
            request,
            _("The PEC is on its way: the receipts will appear below as they arrive."),
        )
        return redirect("pec:send", pk=send.pk)
    context = pec_context(
        request,
        title=_("Confirm the PEC"),
        send=send,
        preview_html=sanitise_preview(send.body_html),
        attachments=list(send.attachments.all()),
    )
    return render(request, "pec/confirm.html", context)


@view_permission
def send_detail(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    if send.status == DispatchStatus.DRAFT:
        return redirect("pec:confirm", pk=send.pk)
    rows = list(send.receipts.all())
    context = pec_context(
        request,
        title=send.subject,
        send=send,
        receipts=rows,
        final_notices=receipts.final_notice_ids(send, rows),
        recipient_states=receipts.recipient_states(send),
        attachments=list(send.attachments.all()),
        resends=list(send.resends.all()),
        kind_tones=KIND_TONES,
        state_tones=STATE_TONES,
        status_tones=STATUS_TONES,
        now=timezone.now(),
        time_zone=settings.TIME_ZONE,
        in_progress=send.status in (DispatchStatus.QUEUED, DispatchStatus.SUBMITTING)
        or (send.status == DispatchStatus.SENT and not send.is_final),
    )
    return render(request, "pec/send.html", context)


@view_permission
@require_POST
def send_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    try:
        outcome = services.send_refresh(send=send, interactive=True)
    except PecActionRefused as exc:
        messages.error(request, exc.message)
        return redirect("pec:send", pk=send.pk)
    if outcome.error:
        messages.error(request, outcome.error)
    elif outcome.new_receipts:
        messages.success(request, _("%d new receipt(s).") % outcome.new_receipts)
    elif not send.receipts.exists():
        messages.info(
            request, _("No receipts yet: PEC Massiva has nothing for this send so far.")
        )
    else:
        messages.info(request, _("No new receipt."))
    return redirect("pec:send", pk=send.pk)


@send_permission
@view_permission
@require_http_methods(["GET", "POST"])
def send_resend(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    if request.method == "POST":
        if request.POST.get("checked") != "yes":
            messages.error(request, _("Tick the box to confirm you checked first."))
            return redirect("pec:send_resend", pk=send.pk)
        try:
            copy = services.send_resend(send=send, user=request.user)
        except PecActionRefused as exc:
            messages.error(request, exc.message)
            return redirect("pec:send", pk=send.pk)
        messages.success(request, _("Sent again as a new PEC."))
        return redirect("pec:send", pk=copy.pk)
    context = pec_context(request, title=_("Check and resend"), send=send)
    return render(request, "pec/resend.html", context)


@send_permission
@view_permission
@require_http_methods(["GET", "POST"])
def send_delete(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    if request.method == "POST":
        try:
            services.send_delete_at_provider(send=send, interactive=True)
        except PecActionRefused as exc:
            messages.error(request, exc.message)
        except ProviderError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(
                request,
                _(
                    "The mailbox copies were deleted at PEC Massiva. The receipts "
                    "stay stored here."
                ),
            )
        return redirect("pec:send", pk=send.pk)
    context = pec_context(request, title=_("Delete the mailbox copies"), send=send)
    return render(request, "pec/send_delete.html", context)


@view_permission
def export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    response = HttpResponse(timeline_pdf(send), content_type="application/pdf")
    name = f"pec-{send.provider_code or send.pk}-receipts.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@view_permission
def export_json(request: HttpRequest, pk: int) -> HttpResponse:
    send = selectors.send_for(request.user, pk)
    response = JsonResponse(
        timeline_json(send), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    name = f"pec-{send.provider_code or send.pk}-receipts.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
