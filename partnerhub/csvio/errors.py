"""Reason codes for CSV import problems, and the messages users read.

Worker processes only ever exchange the plain codes below: a lazy translation
object does not belong in a pickle, and the language is the requester's, known
only in the web process. Views, the error CSV and tests look messages up in
`MESSAGES` by code, so wording changes in one place.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# --- whole-file problems (CsvError) -------------------------------------------
EMPTY_FILE = "empty_file"
BINARY_FILE = "binary_file"
SPREADSHEET_FILE = "spreadsheet_file"
UNKNOWN_ENCODING = "unknown_encoding"
UNDECODABLE = "undecodable"
HEADER_TOO_LONG = "header_too_long"
MISSING_HEADER = "missing_header"
NO_DATA_ROWS = "no_data_rows"
BAD_DELIMITER = "bad_delimiter"
BAD_MAPPING = "bad_mapping"
NO_ADDRESS_COLUMN = "no_address_column"
READ_FAILED = "read_failed"

# --- one row's problems (RowError) ----------------------------------------------
MISSING_EMAIL = "missing_email"
MISSING_PHONE = "missing_phone"
MISSING_ADDRESS = "missing_address"
INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
NO_VALID_ADDRESS = "no_valid_address"
TOO_MANY_FIELDS = "too_many_fields"
TOO_FEW_FIELDS = "too_few_fields"
CELL_TOO_LONG = "cell_too_long"
NAME_TOO_LONG = "name_too_long"
CONTROL_CHARACTERS = "control_characters"
BAD_ENCODING = "bad_encoding"
NUL_BYTE = "nul_byte"
MALFORMED_ROW = "malformed_row"
UNCLOSED_QUOTE = "unclosed_quote"

MESSAGES: dict[str, Any] = {
    EMPTY_FILE: _("The file is empty."),
    BINARY_FILE: _("This is not a text CSV file (it contains binary data)."),
    SPREADSHEET_FILE: _(
        "This looks like an Excel or OpenDocument workbook: save it as "
        "“CSV UTF-8” first."
    ),
    UNKNOWN_ENCODING: _(
        "The text encoding could not be recognised: save the file as “CSV UTF-8”."
    ),
    UNDECODABLE: _(
        "The file cannot be read with the chosen encoding: pick another encoding."
    ),
    HEADER_TOO_LONG: _("The header row is too long to be a header."),
    MISSING_HEADER: _(
        "The first row holds data, not column names: add a header row "
        "(for example: email;phone;first_name;last_name)."
    ),
    NO_DATA_ROWS: _("The file has a header row but no data rows."),
    BAD_DELIMITER: _("The delimiter must be a comma, a semicolon or a tab."),
    BAD_MAPPING: _(
        "The column mapping is invalid: each field may be chosen for one "
        "column only, among existing columns."
    ),
    NO_ADDRESS_COLUMN: _(
        "No column is mapped to the address this audience needs (email or phone)."
    ),
    READ_FAILED: _("The file could not be read."),
    MISSING_EMAIL: _("The email address is missing."),
    MISSING_PHONE: _("The phone number is missing."),
    MISSING_ADDRESS: _("The row has neither an email address nor a phone number."),
    INVALID_EMAIL: _("The email address is not valid."),
    INVALID_PHONE: _("The phone number is not valid."),
    NO_VALID_ADDRESS: _("Neither the email address nor the phone number is valid."),
    TOO_MANY_FIELDS: _("The row has more columns than the header."),
    TOO_FEW_FIELDS: _("The row has fewer columns than the header."),
    CELL_TOO_LONG: _("A cell is too long."),
    NAME_TOO_LONG: _("The first or last name is longer than 150 characters."),
    CONTROL_CHARACTERS: _(
        "The first or last name contains a line break, a tab or an invisible "
        "control character."
    ),
    BAD_ENCODING: _(
        "The row contains characters that are not valid in the file's encoding."
    ),
    NUL_BYTE: _("The row contains a NUL character (binary data)."),
    MALFORMED_ROW: _("The row is not valid CSV (check the quotes)."),
    UNCLOSED_QUOTE: _('A quoted cell is never closed (a “"” is missing).'),
}

# Columns of the downloadable report of rejected rows (see `export`).
ERROR_REPORT_HEADER = (_("Line"), _("Code"), _("Reason"), _("Content"))


def message_for(code: str) -> Any:
    """Return the user-facing (lazy) message of a code, never failing on a new code."""
    return MESSAGES.get(code, code)


class CsvError(ValueError):
    """A whole-file problem the user must fix; `code` is one of `errors`' codes."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def message(self) -> Any:
        """The (lazy) user-facing message; `detail` is for logs only."""
        return message_for(self.code)
