"""Unsubscribe pages for Marketing (thin: forms validate, services write)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from partnerhub.csvio import CsvError
from partnerhub.pages import csv_download, delimiter_from, page_context
from partnerhub.paging import page_of
from partnerhub.streamed_reads import streamed_read

from . import selectors, services
from .forms import AddForm, FilterForm, ImportForm
from .models import Unsubscribe

PER_PAGE = 50
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
HOOK_MAX_BYTES = 64 * 1024  # a reply is a few hundred bytes
# The keys SMS Partner documents for replies (providers.md §2.15): nothing else is kept.
HOOK_KEYS = frozenset(
    {"type", "phone_number", "text", "message_id", "msisdn", "to", "messageId"}
    | {"keyword", "message-timestamp", "concat", "concat-ref", "concat-total"}
    | {"concat-part"}
)
INVALID_SHOWN = 200
EXPORT_HEADER = (
    "channel",
    "address",
    "source",
    "reason",
    "unsubscribed_at",
    "provider_id",
    "synced_at",
    "state",
)


@permission_required("unsubscribes.view_unsubscribe", raise_exception=True)
def unsubscribe_list(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    rows = selectors.unsubscribes_filtered(**filters)
    counts = selectors.list_counts()
    # Unfiltered, the list's size is the sum of the counts shown above it.
    total = None if any(filters.values()) else sum(counts.values())
    page = page_of(rows, PER_PAGE, request.GET.get("page"), count=total)
    query = request.GET.copy()
    query.pop("page", None)
    context = page_context(
        request,
        title=_("Unsubscribes"),
        form=form,
        page_obj=page,
        query=query.urlencode(),
        counts=counts,
        syncs=selectors.sync_states(),
    )
    return render(request, "unsubscribes/list.html", context)


@permission_required("unsubscribes.add_unsubscribe", raise_exception=True)
def unsubscribe_add(request: HttpRequest) -> HttpResponse:
    form = AddForm(request.POST or None, initial={"channel": "email"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = services.unsubscribe_add(
            channel=data["channel"],
            address=data["address"],
            reason=data["reason"],
            actor=request.user,
        )
        address = result.unsubscribe.address
        if result.created:
            messages.success(request, _("%s is unsubscribed.") % address)
        else:
            messages.info(request, _("%s was already unsubscribed.") % address)
        return redirect("unsubscribes:list")
    context = page_context(request, title=_("Add an unsubscribe"), form=form)
    return render(request, "unsubscribes/add.html", context)


@permission_required("unsubscribes.delete_unsubscribe", raise_exception=True)
def unsubscribe_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Unsubscribe, pk=pk)
    if request.method == "POST":
        services.unsubscribe_remove(unsubscribe=row, actor=request.user)
        if services.unsubscribe_push_removal(unsubscribe=row):
            done = _("%s was removed here and from the provider's list.")
        else:
            done = _("%s was removed; the provider's list is updated at the next sync.")
        messages.success(request, done % row.address)
        return redirect("unsubscribes:list")
    title = _("Remove an unsubscribe")
    return render(
        request, "unsubscribes/remove.html", page_context(request, title=title, row=row)
    )


@permission_required("unsubscribes.add_unsubscribe", raise_exception=True)
def unsubscribe_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.unsubscribes_import_csv(
                channel=data["channel"],
                file=data["file"],
                reason=data["reason"],
                actor=request.user,
                file_name=data["file"].name,
            )
        except CsvError as exc:
            form.add_error("file", str(exc.message))
        except ValidationError as exc:
            form.add_error(None, exc)
    context = page_context(
        request,
        title=_("Import unsubscribes"),
        form=form,
        result=result,
        invalid=result.invalid[:INVALID_SHOWN] if result else [],
    )
    return render(request, "unsubscribes/import.html", context)


@permission_required("unsubscribes.view_unsubscribe", raise_exception=True)
def unsubscribe_export(request: HttpRequest) -> StreamingHttpResponse:
    form = FilterForm(request.GET or None)
    rows = selectors.unsubscribes_filtered(**(form.filters() if form.is_bound else {}))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_download(
        _export_rows(rows),
        header=EXPORT_HEADER,
        filename=f"unsubscribes-{stamp}.csv",
        delimiter=delimiter_from(request),
    )


def _export_rows(rows: Any) -> Any:
    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    with streamed_read():  # PostgreSQL: rows as fetched, no stored result
        for row in rows.iterator(chunk_size=2000):
            state = row.state
            yield (
                row.channel,
                row.address,
                row.source,
                row.reason,
                when(row.created_at),
                row.provider_id,
                when(row.synced_at),
                state,
            )


@permission_required("unsubscribes.sync_unsubscribe", raise_exception=True)
@require_POST
def unsubscribe_sync(request: HttpRequest) -> HttpResponse:
    """Queues the sync for a worker; the list page follows it until it is done."""
    services.unsubscribes_sync_request()
    messages.info(
        request,
        _("The sync has started in the background; this page shows when it is done."),
    )
    return redirect(reverse("unsubscribes:list"))


@permission_required("unsubscribes.view_unsubscribe", raise_exception=True)
def unsubscribe_sync_status(request: HttpRequest) -> JsonResponse:
    """Polled by the list page while a sync is queued or running."""
    states = {sync.channel: sync.state for sync in selectors.sync_states()}
    busy = any(state in ("queued", "running") for state in states.values())
    return JsonResponse({"channels": states, "busy": busy})


@csrf_exempt
@login_not_required
@require_POST
def sms_reply_hook(request: HttpRequest, token: str) -> HttpResponse:
    """SMS Partner reply webhook; the secret token in the URL is the only guard."""
    expected = getattr(settings, "SMS_REPLY_WEBHOOK_TOKEN", "") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > HOOK_MAX_BYTES:
        return JsonResponse({"success": False, "error": "too large"}, status=413)
    payload = _payload(request)
    if payload is None:
        return JsonResponse(
            {"success": False, "error": "malformed payload"}, status=400
        )
    try:
        outcome = services.sms_reply_receive(payload=payload)
    except ValidationError as exc:
        return JsonResponse({"success": False, "error": exc.messages}, status=400)
    return JsonResponse(
        {
            "success": True,
            "duplicate": not outcome.created,
            "stop": outcome.unsubscribed,
        }
    )


def _payload(request: HttpRequest) -> dict[str, Any] | None:
    """The documented scalar fields of a form or JSON object body, else None."""
    if request.content_type in FORM_TYPES:
        data: Any = request.POST.dict()
    else:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):  # deep nesting is malformed too
            return None
    if not isinstance(data, dict):
        return None
    kept = {k: v for k, v in data.items() if k in HOOK_KEYS}
    if any(isinstance(v, dict | list) for v in kept.values()):
        return None  # documented values are scalars
    return kept or None
