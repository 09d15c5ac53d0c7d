"""Read the positional XML envelope of the NDA Media APIs (`_format=xml`).

The providers serialise their JSON answer as `<result>` holding one unnamed
`<entry>` per top-level value, in JSON key order; nested objects and lists become
nested `<entry>` blocks and strings are wrapped in CDATA. Names are lost, so each
endpoint declares the key order it expects (`Keys`) and `to_mapping` puts them
back. CDATA matters: `<entry>307</entry>` is the number 307 but
`<entry><![CDATA[307]]></entry>` is the string "307", exactly as in the JSON.

Parsing uses expat directly, with DTDs and entity declarations refused, which is
what defusedxml would do, without a new dependency.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from xml.parsers import expat

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")

ERROR_KEYS: tuple[str, ...] = ("success", "code", "message")  # [false, code, text]


class XmlEnvelopeError(ValueError):
    """The text is not a well-formed, DTD-free NDA Media XML envelope."""


@dataclass(frozen=True)
class Obj:
    """A nested object whose members are positional entries in this key order."""

    keys: Keys


@dataclass(frozen=True)
class ListOf:
    """A nested list whose items are objects in this key order (or scalars if None)."""

    keys: Keys | None = None


Keys = Sequence[str | tuple[str, "Obj | ListOf"]]


def keys(*parts: str | tuple[str, Obj | ListOf]) -> tuple[Any, ...]:
    """Build `Keys` tersely: plain strings are split on spaces.

    `keys("success code", ("data", ListOf(keys("id email"))))` reads like the JSON.
    """
    result: list[Any] = []
    for part in parts:
        result.extend(part.split() if isinstance(part, str) else [part])
    return tuple(result)


class _Node:
    """One element while parsing: its tag, text parts and child nodes."""

    __slots__ = ("cdata", "children", "tag", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.text: list[str] = []
        self.cdata = False
        self.children: list[_Node] = []


class _Builder:
    """Expat callbacks building a `_Node` tree; refuses DTDs and entities."""

    def __init__(self) -> None:
        self.root: _Node | None = None
        self.stack: list[_Node] = []
        self.in_cdata = False

    def start(self, tag: str, _attrs: dict[str, str]) -> None:
        node = _Node(tag)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, _tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            node = self.stack[-1]
            node.text.append(text)
            if self.in_cdata and text.strip():
                node.cdata = True

    def cdata_start(self) -> None:
        self.in_cdata = True

    def cdata_end(self) -> None:
        self.in_cdata = False

    def refuse(self, *_args: Any) -> NoReturn:
        raise XmlEnvelopeError("DTDs and entity declarations are not accepted")


def _parse_tree(data: bytes | str) -> _Node:
    """Parse into a `_Node` tree, turning every expat failure into XmlEnvelopeError."""
    builder = _Builder()
    parser = expat.ParserCreate()
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartCdataSectionHandler = builder.cdata_start
    parser.EndCdataSectionHandler = builder.cdata_end
    parser.StartDoctypeDeclHandler = builder.refuse
    parser.EntityDeclHandler = builder.refuse
    parser.ExternalEntityRefHandler = builder.refuse
    try:
        parser.Parse(data.encode("utf-8") if isinstance(data, str) else data, True)
    except expat.ExpatError as exc:
        raise XmlEnvelopeError(f"not well-formed XML: {exc}") from exc
    if builder.root is None:
        raise XmlEnvelopeError("empty XML document")
    return builder.root


def _scalar(node: _Node) -> Any:
    """A leaf's value: CDATA stays a string; bare text becomes bool/int/float."""
    text = "".join(node.text).strip()
    if node.cdata:
        return text
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def _value(node: _Node) -> Any:
    """Unnamed `<entry>` children form a list; named children form a dict."""
    if not node.children:
        return _scalar(node)
    if all(child.tag == "entry" for child in node.children):
        return [_value(child) for child in node.children]
    return {child.tag: _value(child) for child in node.children}


def parse_entries(data: bytes | str) -> list[Any] | dict[str, Any]:
    """The top-level values of a `<result>` envelope, in document order."""
    root = _parse_tree(data)
    if root.tag != "result":
        raise XmlEnvelopeError(f"unexpected root element <{root.tag}>")
    if not root.children:
        return []
    value = _value(root)
    return value if isinstance(value, list | dict) else [value]


def to_mapping(values: Any, keys: Keys) -> dict[str, Any]:
    """Name positional values with `keys`; extra values dropped, missing ones absent.

    A value already named (a dict, as the `/me` user block) keeps its names, and an
    empty entry where a list or object was expected becomes an empty one.
    """
    if isinstance(values, dict):
        return _named(values, keys)
    if not isinstance(values, list):
        values = [values]
    result: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=False):
        name, shape = (key, None) if isinstance(key, str) else key
        result[name] = _shaped(value, shape)
    return result


def _named(values: dict[str, Any], keys: Keys) -> dict[str, Any]:
    shapes = {key[0]: key[1] for key in keys if not isinstance(key, str)}
    return {name: _shaped(value, shapes.get(name)) for name, value in values.items()}


def _shaped(value: Any, shape: Obj | ListOf | None) -> Any:
    if shape is None:
        return value
    if isinstance(shape, Obj):
        return to_mapping(value, shape.keys) if value is not None else {}
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if shape.keys is None:
        return items
    return [to_mapping(item, shape.keys) for item in items]


def is_error(values: Any) -> bool:
    """An error envelope starts with `false` (`[false, code, message]`)."""
    if isinstance(values, dict):
        return values.get("success") is False
    return bool(values) and isinstance(values, list) and values[0] is False


def parse(
    data: bytes | str, keys: Keys, error_keys: Keys = ERROR_KEYS
) -> dict[str, Any]:
    """Parse an envelope and name its values, with `error_keys` for error answers."""
    values = parse_entries(data)
    return to_mapping(values, error_keys if is_error(values) else keys)
