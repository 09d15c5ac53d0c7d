"""Pagination of tables that may hold a million rows.

Django's paginator runs `COUNT(*)` on every page and reads page *n* with
`OFFSET (n-1) * size`, both of which walk every row before the page. This one is
told the count when it is already known (stored counters, cached sizes), counts
at most `COUNT_CAP` rows otherwise (a search shows "more than 10 000"), reads
pages past the middle from the end (reversed order, small offset), and serves
only the pages within `MAX_DEPTH` rows of either end: the middle of a million
rows is reached by filtering or searching, not by page number, so no page ever
skips more than `MAX_DEPTH` rows and every page costs what the first one does.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django_tables2.rows import BoundRows

COUNT_CAP = 10_000
MAX_DEPTH = 10_000


def capped_count(rows: QuerySet[Any], cap: int | None = None) -> int:
    """How many rows match, counting no further than `cap + 1` (a bounded read;
    `COUNT_CAP` by default)."""
    cap = COUNT_CAP if cap is None else cap
    return rows.order_by()[: cap + 1].count()


class BoundedPage(Page):
    """A page whose "next" and "previous" step over the pages not served."""

    paginator: KnownCountPaginator

    def has_next(self) -> bool:
        following = self.number + 1
        if following > self.paginator.num_pages:
            return False
        return self.paginator.served(following, step=1) > self.number

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.paginator.served(super().next_page_number(), step=1)

    def previous_page_number(self) -> int:
        return self.paginator.served(super().previous_page_number(), step=-1)


class KnownCountPaginator(Paginator):
    """A paginator given `count` when it is known; else it counts up to `COUNT_CAP`.

    `queryset` is the rows in a total order (ending with the primary key) that
    may be read backwards, or None (then every page reads forward): a plain
    queryset is its own, a django-tables2 table passes its queryset while the
    user has not sorted it. A capped count (`capped` is True) has no known end,
    so its pages read forward, and only up to the cap.
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
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        rows = self.queryset if self.queryset is not None else self.object_list
        if isinstance(rows, BoundRows):  # a sorted django-tables2 table
            rows = getattr(rows.data, "data", rows)
        if not isinstance(rows, QuerySet):
            return super().count
        found = capped_count(rows)
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)

    @property
    def depth_pages(self) -> int:
        """Pages served from each end."""
        return max(1, MAX_DEPTH // self.per_page)

    @cached_property
    def gap(self) -> tuple[int, int] | None:
        """First and last page not served (the middle), or None."""
        first, last = self.depth_pages + 1, self.num_pages - self.depth_pages
        if self.queryset is None or self.capped:
            last = self.num_pages  # no known end: nothing read from it
        return (first, last) if first <= last else None

    def served(self, number: int, *, step: int = 0) -> int:
        """`number`, or the served page nearest to it (beyond the gap when
        stepping forward, before it when stepping back)."""
        if self.gap is None or not self.gap[0] <= number <= self.gap[1]:
            return number
        first, last = self.gap
        if step > 0 and last < self.num_pages:
            return last + 1
        if step < 0 or last >= self.num_pages:
            return first - 1
        return first - 1 if number - first < last - number else last + 1

    def page(self, number: Any) -> Page:
        number = self.served(self.validate_number(number))
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if self.queryset is None or self.capped or bottom <= self.count // 2:
            return self._get_page(self.object_list[bottom:top], number, self)
        backwards = self.queryset.reverse()[self.count - top : self.count - bottom]
        rows: Any = list(backwards)[::-1]
        if isinstance(self.object_list, BoundRows):
            rows = BoundRows(rows, self.object_list.table)
        return self._get_page(rows, number, self)

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return BoundedPage(*args, **kwargs)


def page_of(
    rows: QuerySet[Any], per_page: int, number: Any, *, count: int | None = None
) -> Page:
    """`Paginator.get_page` (bad numbers give the first or last page), with the
    count when known and the pages past the middle read from the end."""
    return KnownCountPaginator(rows, per_page, count=count, queryset=rows).get_page(
        number
    )
