"""French is the product's default language: the catalogue is complete and compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES"


def po_entries() -> dict[str, str]:
    """msgid → msgstr (first form) of the French catalogue, by a small parser.

    An entry with a context is keyed as the compiled catalogue keys it (the
    context, an EOT character, then the msgid)."""
    entries: dict[str, str] = {}
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        msgid, msgstr, context, current = "", "", "", None
        for line in lines:
            match = re.match(
                r'(msgctxt|msgid|msgstr(?:\[0\])?|msgid_plural|msgstr\[\d\]) "(.*)"',
                line,
            )
            if match:
                current = match.group(1)
                chunk = match.group(2)
            elif line.startswith('"') and current:
                chunk = line[1:-1]
            else:
                continue
            if current == "msgctxt":
                context += chunk
            elif current == "msgid":
                msgid += chunk
            elif current in ("msgstr", "msgstr[0]"):
                msgstr += chunk
        if msgid:
            entries[f"{context}\x04{msgid}" if context else msgid] = msgstr
    return entries


def unescape(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text)


def test_every_string_is_translated_into_french() -> None:
    missing = [msgid for msgid, msgstr in po_entries().items() if not msgstr]
    assert missing == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    """A .po edited without `compilemessages` would ship stale French."""
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    compiled = {key if isinstance(key, str) else key[0] for key in catalogue._catalog}
    assert len(po_entries()) >= 600
    source_ids = {unescape(msgid) for msgid in po_entries()}
    assert source_ids - compiled == set()


@pytest.mark.django_db
def test_pages_are_in_french_by_default(settings, role_client) -> None:
    settings.LANGUAGE_CODE = "fr"
    client = role_client("Marketing")
    from django.utils import translation

    with translation.override("fr"):
        campaigns = client.get("/campaigns/").content.decode()
        unsubscribes = client.get("/unsubscribes/").content.decode()
    assert "Nouvelle campagne" in campaigns
    assert "<h1>Campagnes</h1>" in campaigns
    assert "Désinscriptions" in unsubscribes
