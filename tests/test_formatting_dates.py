"""`formatting.datetime_text`: Django's `date_format`, faster, never different."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from partnerhub import formatting

MOMENTS = [
    datetime(2026, 12, 2, 0, 5, 9, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # Paris changes to summer time
    datetime(1999, 7, 14, 23, 59, 59, tzinfo=UTC),
    datetime(999, 1, 1, 12, 0, tzinfo=UTC),  # Django pads the year, glibc does not
]
FORMATS = [
    "SHORT_DATETIME_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "d/m",
    "H:i",
    "Y-m-d H:i:s",
    r"d/m/y \à H\hi 100%",
]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("format_name", FORMATS)
def test_it_writes_what_date_format_writes(language: str, format_name: str) -> None:
    with translation.override(language):
        for moment in MOMENTS:
            local = timezone.localtime(moment)
            expected = date_format(local, format_name)
            assert formatting.datetime_text(local, format_name) == expected


def test_only_zero_padded_numbers_go_through_strftime() -> None:
    assert formatting.strftime_pattern("d/m/Y H:i") == "%d/%m/%Y %H:%M"
    assert formatting.strftime_pattern(r"\d\a\y d 50%") == "day %d 50%%"
    assert formatting.strftime_pattern("m/d/Y P") is None  # "4 p.m.": Django's words
    assert formatting.strftime_pattern("j F Y") is None
