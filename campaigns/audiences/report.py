"""What an import report says, in the users' words: row outcomes, reasons, encodings.

The same wording serves the result page, its downloadable CSV and the import
command, so a row reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.csvio import errors

from .storage import REJECTED, WARNED, Problem

OUTCOMES = {
    REJECTED: pgettext_lazy("import row", "Rejected"),
    WARNED: _("Imported with a warning"),
}

# A warning is a row kept without an optional address: say what was kept.
WARNING_REASONS = {
    errors.INVALID_PHONE: _(
        "The phone number is not valid: imported with the email address only."
    ),
    errors.INVALID_EMAIL: _(
        "The email address is not valid: imported with the phone number only."
    ),
}

REPORT_HEADER = (_("Line"), _("Outcome"), _("Reason"), _("Code"), _("Content"))

# The names `csvio` detects, as a spreadsheet user knows them.
ENCODING_NAMES = {
    "utf-8": _("UTF-8"),
    "utf-8-sig": _("UTF-8 (with BOM)"),
    "cp1252": _("Windows-1252 (Excel)"),
    "utf-16": _("UTF-16 (Unicode text)"),
    "utf-32": _("UTF-32"),
}


def encoding_name(encoding: str) -> Any:
    """ "cp1252" → "Windows-1252 (Excel)"; an unknown codec keeps its own name."""
    return ENCODING_NAMES.get(encoding.lower(), encoding)


def reason(problem: Problem) -> Any:
    """Why the row was rejected, or what was dropped from it."""
    if problem.warning and problem.code in WARNING_REASONS:
        return WARNING_REASONS[problem.code]
    return errors.message_for(problem.code)


def outcome(problem: Problem) -> Any:
    return OUTCOMES.get(problem.outcome, problem.outcome)


def shown(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Problems as the result page lists them."""
    return [
        {
            "line": p.line,
            "warning": p.warning,
            "outcome": outcome(p),
            "reason": reason(p),
            "raw": p.raw,
        }
        for p in problems
    ]


def report_rows(problems: Iterable[Problem]) -> Iterator[list[Any]]:
    """Rows of the downloadable report, translated now (see `REPORT_HEADER`)."""
    for problem in problems:
        yield [
            problem.line,
            str(outcome(problem)),
            str(reason(problem)),
            problem.code,
            problem.raw,
        ]


def report_header() -> list[str]:
    return [str(label) for label in REPORT_HEADER]
