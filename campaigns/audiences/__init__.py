"""Recipient CSV import and export on the database side.

`csvio` parses and validates files without touching the database; this package
stores uploads, runs the background import (spool, then one merge transaction),
reports progress and errors, and serves the audience pages.
"""
