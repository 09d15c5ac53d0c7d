"""The audit trail page (Admins): filters, pagination and CSV export.

Read-only: entries are written by the services through `partnerhub.audit.record`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .audit import Action, AuditEntry
from .pages import csv_download, delimiter_from, page_context
from .streamed_reads import streamed_read

VIEW_PERMISSION = "partnerhub.view_auditentry"
PER_PAGE = 50
OBJECT_TYPES = [
    ("", _("All")),
    ("campaign", _("Campaign")),
    ("audience", _("Audience")),
    ("recipient", _("Recipient")),
    ("unsubscribe", _("Unsubscribe")),
    ("provideraccount", _("Provider account")),
]
EXPORT_HEADER = (
    _("When"),
    _("Who"),
    _("Action"),
    _("Object type"),
    _("Object id"),
    _("Object"),
    _("Details"),
)


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=150,
        help_text=_("Part of a user name or of an object's name."),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *Action.choices]
    )
    target_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=OBJECT_TYPES
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def audit_entries(
    *,
    q: str = "",
    action: str = "",
    target_type: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries matching the filters, newest first (dates are Paris days)."""
    rows = AuditEntry.objects.all()
    if q:
        rows = rows.filter(Q(actor_name__icontains=q) | Q(target_label__icontains=q))
    if action:
        rows = rows.filter(action=action)
    if target_type:
        rows = rows.filter(target_type=target_type)
    if since:
        rows = rows.filter(at__gte=_day_start(since))
    if until:
        rows = rows.filter(at__lt=_day_start(until + timedelta(days=1)))
    return rows.order_by("-at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, audit_entries(**filters)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def audit_list(request: HttpRequest) -> HttpResponse:
    form, rows = _filtered(request)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = page_context(
        request,
        title=_("Audit trail"),
        form=form,
        page_obj=page,
        query=query.urlencode(),
        has_entries=AuditEntry.objects.exists(),
    )
    return render(request, "partnerhub/audit_list.html", context)


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered entries as CSV (`?delimiter=comma|tab|semicolon`)."""
    _form, rows = _filtered(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_download(
        _export_rows(rows),
        header=EXPORT_HEADER,
        filename=f"audit-trail-{stamp}.csv",
        delimiter=delimiter_from(request),
    )


def _export_rows(rows: QuerySet[AuditEntry]) -> Iterator[list[Any]]:
    with streamed_read():  # PostgreSQL: rows as fetched, no stored result
        for entry in rows.iterator(chunk_size=2000):
            yield [
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
                entry.who,
                entry.get_action_display(),
                entry.target_type,
                entry.target_id,
                entry.target_label,
                json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
            ]
