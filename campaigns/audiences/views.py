"""Audience pages: list, detail (recipients), export, and the CSV import flow.

Upload → preview (mapping, mode) → progress (polls a JSON endpoint) → result.
Views only check permissions, bind forms and call services or selectors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from campaigns.models import Audience, ImportStatus, RecipientImport
from partnerhub import search as partnerhub_search
from partnerhub.csvio import CsvError
from partnerhub.csvio.errors import message_for
from partnerhub.pages import csv_download, delimiter_from, page_context
from partnerhub.paging import page_of

from . import report, selectors, services, storage
from .forms import MappingForm, UploadForm

VIEW = "campaigns.view_recipient"
IMPORT = "campaigns.import_recipients"
EXPORT = "campaigns.export_recipients"
PER_PAGE = 50
PREVIEW_ROWS = 10
DELIMITER_NAMES = {";": _("semicolon"), ",": _("comma"), "\t": _("tab")}
TOO_LATE = _("The import has already finished: nothing to cancel.")
BUSY = _("The import is writing its last changes; it can no longer be cancelled.")
CANCEL_ASKED = _("Cancel requested: the audience will be left unchanged.")


@permission_required(VIEW, raise_exception=True)
def audience_list(request: HttpRequest) -> HttpResponse:
    audiences = selectors.audiences_with_counts()
    context = page_context(request, title=_("Audiences"), audiences=audiences)
    return render(request, "audiences/list.html", context)


@permission_required(VIEW, raise_exception=True)
def audience_detail(request: HttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience, pk=pk)
    search = request.GET.get("q", "")
    recipients = selectors.audience_recipients(
        audience=audience, search=search, flags=False
    )
    size = None if search.strip() else selectors.audience_size(audience=audience)
    page = page_of(recipients, PER_PAGE, request.GET.get("page"), count=size)
    page.object_list = list(page.object_list)
    selectors.flag_unsubscribed(page.object_list)
    context = page_context(
        request,
        title=audience.name,
        audience=audience,
        page_obj=page,
        search=search,
        search_help=partnerhub_search.help_text(_("the email, phone or name")),
        unsubscribed=selectors.audience_unsubscribed_count(audience=audience),
        imports=selectors.audience_imports(audience=audience),
    )
    return render(request, "audiences/detail.html", context)


@permission_required(EXPORT, raise_exception=True)
def audience_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    audience = get_object_or_404(Audience, pk=pk)
    header, rows = selectors.audience_export_rows(audience=audience)
    return csv_download(
        rows,
        header=header,
        filename=f"audience-{audience.pk}.csv",
        delimiter=delimiter_from(request),
    )


class _SizeLimit(FileUploadHandler):
    """Stop reading an upload past the limit instead of spooling it all to disk."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit, self.received = limit, 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            assert self.request is not None  # given to __init__
            self.request.upload_too_large = True  # type: ignore[attr-defined]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """CSRF is checked below, once the size-limiting upload handler is in place."""
    request.upload_handlers.insert(0, _SizeLimit(request, storage.max_upload_bytes()))
    return _import_upload(request, pk)


@csrf_protect
@permission_required(IMPORT, raise_exception=True)
def _import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    audience = get_object_or_404(Audience, pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if getattr(request, "upload_too_large", False):
            form = UploadForm(request.POST, MultiValueDict())
            form.is_valid()  # the file field is missing: replace its error
            form.errors.pop("file", None)
            form.add_error("file", services.too_large_error())
        elif form.is_valid():
            draft = _create(request, audience, form)
            if draft is not None:
                return redirect("audiences:import_preview", pk=draft.pk)
    context = page_context(
        request,
        title=_("Import recipients"),
        audience=audience,
        form=form,
        max_mb=storage.max_upload_bytes() // (1024 * 1024),
    )
    return render(request, "audiences/import_upload.html", context)


def _create(
    request: HttpRequest, audience: Audience, form: UploadForm
) -> RecipientImport | None:
    upload = form.cleaned_data["file"]
    try:
        return services.recipient_import_create(
            audience=audience,
            file=upload,
            file_name=upload.name,
            user=request.user,
            encoding=form.cleaned_data["encoding"] or None,
            delimiter=form.cleaned_data["delimiter"] or None,
        )
    except ValidationError as exc:
        form.add_error("file", exc)
        return None


def _import(request: HttpRequest, pk: int) -> RecipientImport:
    return get_object_or_404(RecipientImport.objects.select_related("audience"), pk=pk)


@permission_required(IMPORT, raise_exception=True)
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _import(request, pk)
    if imp.status != ImportStatus.DRAFT:
        return redirect("audiences:import_progress", pk=imp.pk)
    try:
        handle, source = services.open_source(imp)
        handle.close()  # the header and the preview rows are read already
    except (CsvError, OSError):
        services.recipient_import_cancel(recipient_import=imp)
        messages.error(request, _("The uploaded file is no longer readable."))
        return redirect("audiences:import", pk=imp.audience_id)
    mapping = {int(i): f for i, f in imp.mapping.items()}
    form = MappingForm(request.POST or None, headers=source.headers, mapping=mapping)
    start = "check" not in request.POST  # "Check the rows again" only re-judges
    if request.method == "POST" and form.is_valid() and start:
        try:
            services.recipient_import_start(
                recipient_import=imp,
                mapping=form.mapping(),
                mode=form.cleaned_data["mode"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("audiences:import_progress", pk=imp.pk)
    if form.is_bound and form.is_valid():
        mapping = form.mapping()  # judge the rows as the user mapped them
    rows = selectors.import_preview_rows(source, mapping, PREVIEW_ROWS)
    context = page_context(
        request,
        title=_("Check the columns"),
        imp=imp,
        audience=imp.audience,
        form=form,
        rows=rows,
        rejected=sum(row.rejected for row in rows),
        encoding_name=report.encoding_name(imp.encoding),
        delimiter_name=DELIMITER_NAMES.get(imp.delimiter, imp.delimiter),
    )
    return render(request, "audiences/import_preview.html", context)


@permission_required(IMPORT, raise_exception=True)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _import(request, pk)
    if imp.is_finished:  # nothing left to watch
        return redirect("audiences:import_result", pk=imp.pk)
    progress = selectors.import_progress(recipient_import=imp)
    context = page_context(
        request,
        title=_("Importing %(file)s") % {"file": imp.file_name},
        imp=imp,
        audience=imp.audience,
        progress=progress,
    )
    return render(request, "audiences/import_progress.html", context)


@permission_required(IMPORT, raise_exception=True)
def import_status(request: HttpRequest, pk: int) -> JsonResponse:
    imp = _import(request, pk)
    data = selectors.import_progress(recipient_import=imp).as_json()
    data["shown"] = {
        name: number_format(value, force_grouping=True)
        for name, value in data["counts"].items()
    }
    data["result_url"] = reverse("audiences:import_result", args=[imp.pk])
    return JsonResponse(data)


@require_POST
@permission_required(IMPORT, raise_exception=True)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _import(request, pk)
    try:
        asked = services.recipient_import_cancel(recipient_import=imp)
    except OperationalError:  # SQLite: the merge holds the write lock
        asked = None
    if asked:
        messages.success(request, CANCEL_ASKED)
    else:
        messages.warning(request, BUSY if asked is None else TOO_LATE)
    return redirect("audiences:import_progress", pk=imp.pk)


@permission_required(IMPORT, raise_exception=True)
def import_result(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _import(request, pk)
    if not imp.is_finished:
        return redirect("audiences:import_progress", pk=imp.pk)
    summary = selectors.import_report(recipient_import=imp)
    context = page_context(
        request,
        title=_("Import result"),
        imp=imp,
        audience=imp.audience,
        failure=_failure_message(imp),
        report=summary,
        problems=report.shown(summary.problems),
    )
    return render(request, "audiences/import_result.html", context)


def _failure_message(imp: RecipientImport) -> Any:
    if imp.status == ImportStatus.CANCELLED:
        return services.CANCELLED_BY_USER
    if imp.status == ImportStatus.FAILED:
        if imp.error_code == services.INTERNAL:
            return services.INTERNAL_ERROR
        return message_for(imp.error_code)
    return ""


@permission_required(IMPORT, raise_exception=True)
def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    imp = _import(request, pk)
    problems = selectors.import_errors(recipient_import=imp)
    return csv_download(
        report.report_rows(problems),
        header=report.report_header(),
        filename=f"import-{imp.pk}-errors.csv",
        delimiter=delimiter_from(request),
    )
