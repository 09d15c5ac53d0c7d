"""django-tables2 tables whose body rows are written in Python, not by the template.

django-tables2's `table.html` renders every cell through the template engine: per
cell it rebuilds the column's attributes, inspects the render method's signature,
looks the record's choice label up again and resolves a dozen template variables.
On a 50-row page of 6 to 8 columns that is most of the page's CPU time (profiled:
about 60 % of the campaign list's). `PythonRowsTable.tbody` writes the same `<tbody>`
byte for byte, with what does not change from row to row (cell attributes, the
render method's arguments, choice labels) worked out once per table.

Only what PartnerHub's tables use is supported (plain columns, `render_<name>`
methods, `linkify`, static attributes); anything else is refused at the first
render rather than shown differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django_tables2.columns import BoundColumn, ManyToManyColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.rows import BoundRow
from django_tables2.utils import A, signature

# The whitespace of django_tables2/table.html's `table.tbody` block, kept so the
# page's HTML does not change by a byte.
TBODY_OPEN = "\n                <tbody {}>\n                "
TBODY_CLOSE = "\n                </tbody>\n            "
ROW = (
    "\n                    \n                    <tr {}>\n                        "
    "{}\n                    </tr>\n                    \n                "
)
CELL = "\n                            <td {}>{}</td>\n                        "
EMPTY = (
    "\n                    \n                    \n                    <tr><td "
    'colspan="{}">{}</td></tr>\n                    \n                    '
    "\n                "
)
NO_EMPTY_TEXT = "\n                    \n                "


@dataclass
class _Column:
    """What a column's cells share: worked out once per table render."""

    bound: BoundColumn
    td: str  # the <td>'s attributes
    render: Callable[..., Any]
    arguments: tuple[str, ...] | None  # None: the render method takes **kwargs
    needs_value: bool
    labels: dict[tuple[type, Any], Any] = field(default_factory=dict)  # choice labels
    attnames: dict[type, str] = field(default_factory=dict)  # model -> choice field


class PythonRowsTable(tables.Table):
    """A `tables.Table` whose template prints `{{ table.tbody }}` for its body."""

    def tbody(self) -> SafeString:
        """The `table.tbody` block of django_tables2/table.html, as it renders."""
        tbody_attrs = self.attrs.get("tbody")
        opened = TBODY_OPEN.format(
            tbody_attrs.as_html() if hasattr(tbody_attrs, "as_html") else ""
        )
        columns = [self._column(bound) for bound in self.columns]
        context = Context(autoescape=True)
        rows = [self._row(row, columns, context) for row in self._rows()]
        if rows:
            body = "".join(rows)
        elif self.empty_text:
            text = render_value_in_context(self.empty_text, context)
            body = EMPTY.format(len(self.columns), text)
        else:
            body = NO_EMPTY_TEXT
        return mark_safe(opened + body + TBODY_CLOSE)  # noqa: S308 (escaped cells)

    def _rows(self) -> Iterable[BoundRow]:
        if any(self.pinned_data.values()):
            raise ImproperlyConfigured("PythonRowsTable does not show pinned rows.")
        return self.paginated_rows  # type: ignore[no-any-return]

    def _row(self, row: BoundRow, columns: list[_Column], context: Context) -> str:
        cells = "".join(
            CELL.format(column.td, _as_text(self._cell(row, column), context))
            for column in columns
        )
        return ROW.format(row.attrs.as_html(), cells)

    def _column(self, bound: BoundColumn) -> _Column:
        column = bound.column
        if isinstance(column, (ManyToManyColumn, BaseLinkColumn)):
            raise ImproperlyConfigured(f"{type(column).__name__} is not supported.")
        if column.localize is not None:
            raise ImproperlyConfigured("Columns with `localize` are not supported.")
        attrs = {**self.attrs, **column.attrs}
        td = attrs.get("td", attrs.get("cell", {}))
        if any(callable(value) for value in td.values()):
            raise ImproperlyConfigured("Cell attributes must not be callables.")
        arguments, catch_all = signature(bound.render)
        return _Column(
            bound=bound,
            td=bound.attrs["td"].as_html(),
            render=bound.render,
            arguments=None if catch_all else arguments,
            needs_value=bool(
                column.empty_values or "value" in arguments or catch_all or bound.link
            ),
        )

    def _cell(self, row: BoundRow, column: _Column) -> Any:
        """`BoundRow.get_cell`, without its per-cell set-up."""
        value = self._value(row.record, column) if column.needs_value else None
        bound = column.bound
        if value in bound.column.empty_values:
            return bound.default
        kwargs = {
            "value": value,
            "record": row.record,
            "column": bound.column,
            "bound_column": bound,
            "bound_row": row,
            "table": self,
        }
        if column.arguments is None:
            content = column.render(**kwargs)
        elif any(name not in kwargs for name in column.arguments):
            content = None  # as django-tables2's `call_with_appropriate`
        else:
            content = column.render(**{k: kwargs[k] for k in column.arguments})
        return bound.link(content, **kwargs) if bound.link else content

    def _value(self, record: Any, column: _Column) -> Any:
        """The cell's value as django-tables2 reads it: a choice field's label
        (looked up once per raw value), else the accessor's value, else None."""
        accessor = A(column.bound.accessor)
        penultimate, remainder = accessor.penultimate(record)
        if isinstance(penultimate, models.Model):
            model = type(penultimate)
            if model not in column.attnames:
                column.attnames[model] = _choice_attname(
                    penultimate, accessor, remainder, record
                )
            if attname := column.attnames[model]:
                key = (model, getattr(penultimate, attname))
                if key not in column.labels:
                    display = getattr(penultimate, f"get_{remainder}_display")
                    column.labels[key] = display()
                return column.labels[key]
        try:
            return accessor.resolve(record)
        except Exception:  # a column that is not a field: no value, as django-tables2
            return None


def _choice_attname(model: models.Model, accessor: A, name: str, record: Any) -> str:
    """The attribute of a field with choices shown by its label, or ""."""
    try:
        model_field = accessor.get_field(record)
    except FieldDoesNotExist:
        return ""
    if not getattr(model_field, "choices", ()):
        return ""
    if not hasattr(model, f"get_{name}_display"):
        return ""
    return str(model_field.attname)


def _as_text(value: Any, context: Context) -> str:
    """`{{ cell }}`: a string needs only escaping (what `localize` and
    `template_localtime` do to one is nothing), anything else the full way."""
    if isinstance(value, str):
        return conditional_escape(value)
    return render_value_in_context(value, context)
