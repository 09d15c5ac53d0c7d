"""Shared pieces for the marketing pages that live beside the admin.

Pages render inside the admin's look (`partnerhub/page.html` extends the
branded `admin/base_site.html`), so they need the admin site's context: the
header and the user links (not the model sidebar: one navigation per page).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest, StreamingHttpResponse

from partnerhub.csvio.export import DELIMITERS, iter_csv, iter_csv_batches

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def page_context(
    request: HttpRequest, *, title: str | StrPromise, **extra: Any
) -> dict[str, Any]:
    """The admin site's context plus a page title and the page's own values.

    The product pages show one navigation, the section bar: not the admin's
    model sidebar (`partnerhub/page.html` also empties its block).
    """
    return {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,
        "title": title,
        **extra,
    }


class PageMixin:
    """For class-based views: adds `page_context` with the view's `title`."""

    title: str | StrPromise = ""
    request: HttpRequest

    def get_title(self) -> str:
        return str(self.title)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(page_context(self.request, title=self.get_title()))
        return context


def csv_download(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[Any],
    filename: str,
    delimiter: str = ";",
) -> StreamingHttpResponse:
    """A streamed CSV attachment for Excel: UTF-8 with BOM, formula cells defused."""
    chunks = iter_csv(rows, header=[str(cell) for cell in header], delimiter=delimiter)
    return csv_response(chunks, filename=filename)


def csv_batches_download(
    batches: Iterable[Sequence[Sequence[str]]],
    *,
    header: Sequence[Any],
    filename: str,
    delimiter: str = ";",
) -> StreamingHttpResponse:
    """`csv_download` of batches of safe cells (`iter_csv_batches`): the big exports."""
    chunks = iter_csv_batches(
        batches, header=[str(cell) for cell in header], delimiter=delimiter
    )
    return csv_response(chunks, filename=filename)


def csv_response(chunks: Iterable[bytes], *, filename: str) -> StreamingHttpResponse:
    """Encoded CSV chunks as a streamed attachment."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def delimiter_from(request: HttpRequest) -> str:
    """`?delimiter=comma|tab|semicolon` (default `;`, what French Excel expects)."""
    return DELIMITERS.get(request.GET.get("delimiter", ""), ";")
