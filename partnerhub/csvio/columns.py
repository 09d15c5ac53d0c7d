"""Header names to recipient fields.

Files come from CRMs and hand-made French spreadsheets, so a header says
"Adresse e-mail", "N° de portable" or "PRÉNOM". Names are compared after
folding case and accents and dropping everything that is not a letter or a
digit, so one synonym covers all its spellings. Columns that match nothing stay
attributes: data is never thrown away silently.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from partnerhub.csvio import errors

EMAIL = "email"
PHONE = "phone"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
IGNORE = "ignore"
FIELDS = (EMAIL, PHONE, FIRST_NAME, LAST_NAME)
MAPPING_CHOICES = (*FIELDS, IGNORE)

# Best first: when two columns match one field, the better synonym wins
# (a "mobile" column beats a "téléphone" column for SMS).
SYNONYMS: dict[str, tuple[str, ...]] = {
    EMAIL: (
        "email",
        "e-mail",
        "courriel",
        "mail",
        "mél",
        "adresse email",
        "adresse e-mail",
        "adresse mail",
        "adresse courriel",
        "adresse électronique",
        "adresse de messagerie",
        "email address",
        "e-mail address",
        "mail address",
        "email1",
        "contact email",
    ),
    PHONE: (
        "mobile",
        "portable",
        "téléphone mobile",
        "téléphone portable",
        "tél portable",
        "tél mobile",
        "numéro de portable",
        "numéro mobile",
        "numéro de mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "cellphone",
        "gsm",
        "msisdn",
        "phone",
        "téléphone",
        "tél",
        "tel",
        "phone number",
        "numéro",
        "numéro de téléphone",
        "n° de téléphone",
        "n° téléphone",
        "n° tel",
        "n° tél",
        "n° de portable",
        "n° portable",
        "n° mobile",
        "num tel",
        "telephone number",
        "phone1",
        "mobile1",
    ),
    FIRST_NAME: (
        "first_name",
        "prénom",
        "firstname",
        "first name",
        "given name",
        "forename",
        "prénom usuel",
    ),
    LAST_NAME: (
        "last_name",
        "nom",
        "lastname",
        "last name",
        "surname",
        "family name",
        "nom de famille",
        "nom de naissance",
    ),
}


def fold_header(name: str) -> str:
    """Reduce a header to lowercase ASCII letters and digits, for comparison."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


_RANKS: dict[str, tuple[str, int]] = {}
for _field, _names in SYNONYMS.items():
    for _rank, _name in enumerate(_names):
        _RANKS.setdefault(fold_header(_name), (_field, _rank))


def field_for_header(name: str) -> str | None:
    """The recipient field a header name stands for, or None for an attribute."""
    found = _RANKS.get(fold_header(name))
    return found[0] if found else None


def guess_mapping(headers: Sequence[str]) -> dict[int, str]:
    """Map column indexes to fields; per field, the best-ranked synonym wins."""
    best: dict[str, tuple[int, int]] = {}
    for index, header in enumerate(headers):
        found = _RANKS.get(fold_header(header))
        if found is None:
            continue
        field, rank = found
        if field not in best or rank < best[field][0]:
            best[field] = (rank, index)
    return {index: field for field, (_rank, index) in best.items()}


def attribute_names(headers: Sequence[str]) -> list[str]:
    """Unique, non-empty attribute names (duplicates get a numeric suffix)."""
    names: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        base = header.strip() or f"column_{index + 1}"
        name, suffix = base, 2
        while name in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name)
        names.append(name)
    return names


def check_mapping(mapping: Mapping[int, str], width: int) -> str | None:
    """Why a user-chosen mapping is unusable (a reason code), or None if fine."""
    used = [f for f in mapping.values() if f != IGNORE]
    if len(used) != len(set(used)):
        return errors.BAD_MAPPING
    for index, field in mapping.items():
        if not (0 <= index < width) or field not in MAPPING_CHOICES:
            return errors.BAD_MAPPING
    return None
