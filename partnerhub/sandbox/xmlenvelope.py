"""The positional XML envelope NDA-Media APIs answer when asked for `_format=xml`.

The providers do not name their XML elements: every value becomes an unnamed
`<entry>` in JSON key order, lists and objects nest further `<entry>` blocks, and
strings are wrapped in CDATA (providers.md §1, seeds 002/003). The one exception
seen in the docs is the `/me` `user` object, whose children keep their names and
carry plain (escaped) text. Clients that parse this must rely on position, which is
why the emulator renders from the very dict it would send as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from xml.sax.saxutils import escape

XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>"
INDENT = "    "
# Keys whose object value renders with named children instead of positional entries.
NAMED_OBJECTS = frozenset({"user"})


def render_xml(
    data: Mapping[str, Any], *, named: Iterable[str] = NAMED_OBJECTS
) -> bytes:
    """The whole document for a JSON-able mapping, encoded as UTF-8."""
    named_keys = frozenset(named)
    lines = [XML_DECLARATION, "<result>"]
    for key, value in data.items():
        if key in named_keys and isinstance(value, Mapping):
            lines.extend(_named_entry(value, 1))
        else:
            lines.extend(_entry(value, 1))
    lines.append("</result>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _entry(value: Any, depth: int) -> list[str]:
    """Lines of one positional `<entry>`, recursing into lists and objects."""
    pad = INDENT * depth
    if isinstance(value, Mapping):
        children = list(value.values())
    elif isinstance(value, list | tuple):
        children = list(value)
    else:
        return [f"{pad}{_scalar_element('entry', value, cdata=True)}"]
    lines = [f"{pad}<entry>"]
    for child in children:
        lines.extend(_entry(child, depth + 1))
    lines.append(f"{pad}</entry>")
    return lines


def _named_entry(value: Mapping[str, Any], depth: int) -> list[str]:
    """The `/me` user object: an `<entry>` whose children keep their JSON names."""
    pad = INDENT * depth
    lines = [f"{pad}<entry>"]
    for key, child in value.items():
        lines.append(f"{pad}{INDENT}{_scalar_element(key, child, cdata=False)}")
    lines.append(f"{pad}</entry>")
    return lines


def _scalar_element(tag: str, value: Any, *, cdata: bool) -> str:
    if value is None:
        return f"<{tag}/>"
    if isinstance(value, str):
        text = _cdata(value) if cdata else escape(value)
    else:
        text = json.dumps(value)  # true/false, ints and floats as JSON writes them
    return f"<{tag}>{text}</{tag}>"


def _cdata(text: str) -> str:
    """CDATA section; a literal `]]>` is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
