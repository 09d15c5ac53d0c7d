"""Pagination of tables that may hold a million rows.

Django's paginator runs `COUNT(*)` on every page and reads page *n* with
`OFFSET (n-1) * size`, both of which walk every row before the page. This one is
told the count when it is already known (the campaign's stored counters), and
reads pages past the middle from the end (reversed order, small offset): the
first and the last pages, the ones people open, cost the same as on a small table.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django_tables2.rows import BoundRows


class KnownCountPaginator(Paginator):
    """A paginator given `count` when it is known (else it counts, as Django's).

    `queryset` is the rows in a total order (ending with the primary key) that
    may be read backwards, or None (then every page reads forward): a plain
    queryset is its own, a django-tables2 table passes its queryset while the
    user has not sorted it.
    """

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *args: Any,
        count: int | None = None,
        queryset: QuerySet[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.known_count = count
        self.queryset = queryset

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        return super().count

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.queryset is None or bottom <= self.count // 2:
            return super().page(number)
        backwards = self.queryset.reverse()[self.count - top : self.count - bottom]
        rows: Any = list(backwards)[::-1]
        if isinstance(self.object_list, BoundRows):
            rows = BoundRows(rows, self.object_list.table)
        # `Paginator._get_page` (Django's own hook for page classes) is not in the stubs
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


def page_of(
    rows: QuerySet[Any], per_page: int, number: Any, *, count: int | None = None
) -> Page:
    """`Paginator.get_page` (bad numbers give the first or last page), with the
    count when known and the pages past the middle read from the end."""
    return KnownCountPaginator(rows, per_page, count=count, queryset=rows).get_page(
        number
    )
