"""Dashboard cards shown on the admin index.

Each app contributes cards through a function registered here; a card only shows to
users holding its permission, so every role sees a dashboard that is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    detail: str = ""
    url: str = ""
    tone: str = "neutral"  # neutral | ok | warning | danger
    rows: list[tuple[str, str]] = field(default_factory=list)
    chart: str = ""  # safe HTML (a compact SVG), already escaped by its source


CardSource = Callable[[Any], list[Card]]
_sources: list[tuple[str, CardSource]] = []


def register(permission: str) -> Callable[[CardSource], CardSource]:
    """Decorator: `source(user)` gives cards to users with `permission`."""

    def decorator(source: CardSource) -> CardSource:
        _sources.append((permission, source))
        return source

    return decorator


def cards_for(user: Any) -> list[Card]:
    """Cards from every source the user may see, in registration order."""
    _load_sources()
    cards: list[Card] = []
    for permission, source in _sources:
        if user.has_perm(permission):
            cards.extend(source(user))
    return cards


def _load_sources() -> None:
    """Import each app's `dashboard` module once so its sources register."""
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    from . import cards  # noqa: F401 - registers the credits card

    for config in apps.get_app_configs():
        if config.name == "partnerhub" or not config.name.isidentifier():
            continue
        if module_has_submodule(config.module, "dashboard"):
            __import__(f"{config.name}.dashboard")


EMPTY_STATE = _("Nothing here yet.")
