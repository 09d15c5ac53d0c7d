"""HTML as PartnerHub shows it back: sanitised for the sandboxed previews.

One sanitiser for every preview of a message body (email compose, PEC compose,
PEC inbox), so a rule added here (a tag, a URL scheme) holds everywhere.
"""

from __future__ import annotations

import nh3

# CSS properties kept in the preview (inline styles are how emails are laid out).
PREVIEW_STYLE_PROPERTIES = frozenset(
    {
        "background",
        "background-color",
        "border",
        "border-bottom",
        "border-collapse",
        "border-color",
        "border-left",
        "border-radius",
        "border-right",
        "border-spacing",
        "border-style",
        "border-top",
        "border-width",
        "color",
        "display",
        "font",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "height",
        "letter-spacing",
        "line-height",
        "margin",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "margin-top",
        "max-width",
        "min-width",
        "padding",
        "padding-bottom",
        "padding-left",
        "padding-right",
        "padding-top",
        "text-align",
        "text-decoration",
        "text-transform",
        "vertical-align",
        "width",
    }
)


def sanitise_preview(html: str) -> str:
    """The body as the preview iframe may show it: no script, handler or form."""
    attributes = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"style", "align", "width", "height", "bgcolor", "class"}
    return nh3.clean(
        html,
        attributes=attributes,
        filter_style_properties=set(PREVIEW_STYLE_PROPERTIES),
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
