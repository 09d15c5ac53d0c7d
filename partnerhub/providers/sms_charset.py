"""What SMS Partner does to a text sent without `isUnicode` (providers.md §2.3).

One table, used three times so they cannot disagree: by the product's counter
(`campaigns.sms`), by the composer's script (served as JSON, see `table_for_js`)
and by the sandbox. Without `isUnicode` the provider sends GSM-7: it replaces or
removes characters instead of switching to Unicode.

CONFIRMED (providers.md §2.3): `[`→`(`, `œ`→`oe`, `«`/`»`→`“`; `^ ~ | \\ ¨ §`
removed; `:br:` is a line break counting two characters; `:euro:` is `€`.

INFERRED (the spec says "e.g.": the full table is not in our sources), chosen
so that the estimate is never lower than the bill and the preview never promises
a character that will not arrive:
- the mirror images of the confirmed rules (`]`→`)`, `Œ`→`OE`, `{`→`(`, `}`→`)`);
- `“` (the provider's own replacement) is sent as one character, and the other
  typographic quotes and apostrophes become `“` and `'`;
- accented letters outside GSM-7 lose their accent (`ê`→`e`, `ç`→`c`);
- non-breaking spaces become spaces, dashes `-`, the ellipsis three dots;
- anything else (emoji, other scripts) arrives as one `?` per code point: the
  issue reports emoji "mangled"; a `?` is counted, so the estimate stays safe.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# GSM 03.38 basic alphabet, one septet each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: two septets each (escape + character).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
FALLBACK = "?"
# Appended by the provider with `isStopSms=1` (Premium). INFERRED wording and
# separator: the docs do not quote it; "STOP au 36180" is the longer of the forms
# seen, so a count that includes it is never short.
STOP_MENTION = "STOP au 36180"
BREAK_TOKEN, BREAK = ":br:", "\r\n"  # shown as one line break, counted as two
EURO_TOKEN = ":euro:"  # noqa: S105 - the provider's token for €, not a secret

CONFIRMED: dict[str, str] = {
    "[": "(",
    "œ": "oe",
    "«": "“",
    "»": "“",
    "^": "",
    "~": "",
    "|": "",
    "\\": "",
    "¨": "",
    "§": "",
}
INFERRED: dict[str, str] = {
    "]": ")",
    "{": "(",
    "}": ")",
    "Œ": "OE",
    "\u201d": "“",  # right double quotation mark
    "\u201e": "“",  # double low-9 quotation mark
    "\u201f": "“",  # double high-reversed-9 quotation mark
    "\u2019": "'",  # right single quotation mark (the French apostrophe)
    "\u2018": "'",  # left single quotation mark
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u00b4": "'",  # acute accent
    "`": "'",
    "\u00a0": " ",  # no-break space (French typography before ! ? : »)
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\t": " ",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2011": "-",  # non-breaking hyphen
    "\u2026": "...",  # horizontal ellipsis
}
# Sent as one character although outside GSM-7: the provider's own output.
SENT_AS_ONE = frozenset("“")


def _accent_free() -> dict[str, str]:
    """Latin letters outside GSM-7 lose their accent (INFERRED), e.g. ê→e."""
    table = {}
    for code in range(0x00C0, 0x0180):
        char = chr(code)
        if char in GSM7_BASIC:
            continue
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            table[char] = base
    return table


SUBSTITUTIONS: dict[str, str] = {**_accent_free(), **INFERRED, **CONFIRMED}
KEPT = (GSM7_BASIC | GSM7_EXTENDED | SENT_AS_ONE) - set(SUBSTITUTIONS)


def expand_tokens(text: str) -> str:
    """The provider's `:br:` and `:euro:`; a typed CRLF is one line break."""
    text = text.replace("\r\n", "\n")
    return text.replace(BREAK_TOKEN, BREAK).replace(EURO_TOKEN, "€")


def render_char(char: str) -> str:
    """One typed code point as the provider sends it in GSM mode."""
    if char in SUBSTITUTIONS:
        return SUBSTITUTIONS[char]
    return char if char in KEPT else FALLBACK


def gsm_render(text: str) -> str:
    """The text as it will arrive when sent without `isUnicode`."""
    return "".join(render_char(c) for c in expand_tokens(text))


def gsm_units(rendered: str) -> int:
    """Septets of a rendered text: extension characters count two."""
    return sum(2 if c in GSM7_EXTENDED else 1 for c in rendered)


def utf16_units(text: str) -> int:
    """Unicode (UCS-2/UTF-16) units: an emoji outside the BMP counts two."""
    return len(text.encode("utf-16-le")) // 2


def table_for_js() -> dict[str, Any]:
    """The same table for the composer's script (`json_script`, no inline code)."""
    return {
        "substitutions": SUBSTITUTIONS,
        "kept": "".join(sorted(KEPT)),
        "extended": "".join(sorted(GSM7_EXTENDED)),
        "fallback": FALLBACK,
        "breakToken": BREAK_TOKEN,
        "break": BREAK,
        "euroToken": EURO_TOKEN,
    }
