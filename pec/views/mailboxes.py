"""PEC home (the operator's mailboxes) and one mailbox's sends and quota."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerhub.paging import page_of
from partnerhub.providers.errors import ProviderError

from .. import selectors, services
from ..errors import error_message
from ..models import PecState
from .common import STATE_TONES, STATUS_TONES, gauge, pec_context, view_permission
from .inbox import refresh_quota_if_stale

PER_PAGE = 25


@view_permission
def home(request: HttpRequest) -> HttpResponse:
    boxes = [(box, gauge(box)) for box in selectors.mailboxes_for(request.user)]
    state = request.GET.get("state", "")
    sends = selectors.sends_for(request.user)
    if state in PecState.values:
        sends = sends.filter(state=state).exclude(status="draft")
    page = page_of(sends, PER_PAGE, request.GET.get("page"))
    context = pec_context(
        request,
        title=_("PEC"),
        boxes=boxes,
        page_obj=page,
        states=PecState.choices,
        state=state,
        state_tones=STATE_TONES,
        status_tones=STATUS_TONES,
    )
    return render(request, "pec/home.html", context)


@view_permission
def mailbox(request: HttpRequest, pk: int) -> HttpResponse:
    box = selectors.mailbox_for(request.user, pk)
    refresh_quota_if_stale(request, box)
    sends = selectors.mailbox_sends(box)
    page = page_of(sends, PER_PAGE, request.GET.get("page"))
    context = pec_context(
        request,
        title=str(box.label),
        box=box,
        gauge=gauge(box),
        page_obj=page,
        state_tones=STATE_TONES,
        status_tones=STATUS_TONES,
    )
    return render(request, "pec/mailbox.html", context)


@view_permission
@require_POST
def quota_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    box = selectors.mailbox_for(request.user, pk)
    try:
        services.mailbox_refresh_quota(mailbox=box, interactive=True)
    except ProviderError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Quota updated."))
    if request.POST.get("next"):
        return redirect(_safe_next(request))
    return redirect("pec:mailbox", pk=box.pk)


def _safe_next(request: HttpRequest) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/pec/"
