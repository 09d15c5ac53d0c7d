"""Recipient CSV import/export core: no database, no request, no Django model.

`open_csv` detects encoding, delimiter and columns; `iter_batches` streams
validated rows in file order using every core; `export.iter_csv` streams safe
CSV downloads. The database side (dedupe, inserts, progress) lives in services.
"""

from partnerhub.csvio.columns import EMAIL, FIRST_NAME, IGNORE, LAST_NAME, PHONE
from partnerhub.csvio.normalize import normalize_email, normalize_phone
from partnerhub.csvio.pipeline import Batch, ParsedRow, RowError, iter_batches
from partnerhub.csvio.reader import CsvError, CsvSource, open_csv

__all__ = [
    "EMAIL",
    "FIRST_NAME",
    "IGNORE",
    "LAST_NAME",
    "PHONE",
    "Batch",
    "CsvError",
    "CsvSource",
    "ParsedRow",
    "RowError",
    "iter_batches",
    "normalize_email",
    "normalize_phone",
    "open_csv",
]
