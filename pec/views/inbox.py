"""Inbox of one granted mailbox: list and search (25 a page), read, delete."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from partnerhub.html import sanitise_preview
from partnerhub.providers import errors

from .. import selectors, services
from ..errors import error_detail, error_message
from ..forms import InboxSearchForm
from ..models import PecMailbox
from .common import KIND_TONES, gauge, pec_context, view_permission

QUOTA_STALE_AFTER = timedelta(minutes=15)


def refresh_quota_if_stale(request: HttpRequest, box: PecMailbox) -> None:
    checked = box.quota_checked_at
    if checked and timezone.now() - checked < QUOTA_STALE_AFTER:
        return
    try:
        services.mailbox_refresh_quota(mailbox=box, interactive=True)
    except errors.ProviderError as exc:
        messages.warning(request, _("Quota not updated: %s") % error_message(exc))


@view_permission
def inbox(request: HttpRequest, pk: int) -> HttpResponse:
    box = selectors.mailbox_for(request.user, pk)
    form = InboxSearchForm(request.GET or None)
    search, page_number = "", 1
    if form.is_bound and form.is_valid():
        search = form.cleaned_data["q"] or ""
        page_number = form.cleaned_data["page"] or 1
    refresh_quota_if_stale(request, box)
    page, problem, detail = None, "", ""
    try:
        page = services.inbox_list(
            mailbox=box, page=page_number, search=search, interactive=True
        )
    except errors.ProviderError as exc:
        problem, detail = error_message(exc), error_detail(exc)
    context = pec_context(
        request,
        title=_("Inbox of %s") % box.label,
        box=box,
        gauge=gauge(box),
        form=form,
        search=search,
        page=page,
        problem=problem,
        problem_detail=detail,
        kind_tones=KIND_TONES,
        query=urlencode({"q": search}) if search else "",
    )
    return render(request, "pec/inbox.html", context)


@view_permission
def message(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    box = selectors.mailbox_for(request.user, pk)
    try:
        found = services.inbox_read(
            mailbox=box, message_id=message_id, interactive=True
        )
    except errors.NotFound:
        messages.error(request, _("This message is no longer in the mailbox."))
        return redirect("pec:inbox", pk=box.pk)
    except errors.ProviderError as exc:
        messages.error(request, error_message(exc))
        return redirect("pec:inbox", pk=box.pk)
    context = pec_context(
        request,
        title=found.subject or _("(no subject)"),
        box=box,
        message=found,
        body_html=sanitise_preview(found.body),
        kind_tones=KIND_TONES,
    )
    return render(request, "pec/message.html", context)


@view_permission
@require_http_methods(["GET", "POST"])
def message_delete(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    box = selectors.mailbox_for(request.user, pk)
    back = reverse("pec:inbox", args=[box.pk])
    if request.method == "POST":
        try:
            services.inbox_delete(mailbox=box, message_id=message_id, interactive=True)
        except errors.ProviderError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, _("The message was deleted from the mailbox."))
        return redirect(back)
    try:
        found = services.inbox_read(
            mailbox=box, message_id=message_id, interactive=True
        )
    except errors.ProviderError as exc:
        messages.error(request, error_message(exc))
        return redirect(back)
    context = pec_context(
        request, title=_("Delete a message"), box=box, message=found, back=back
    )
    return render(request, "pec/message_delete.html", context)
