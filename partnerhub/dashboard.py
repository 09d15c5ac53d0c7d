"""Dashboard of the admin index: quick actions, panels and cards.

Each app contributes through functions registered here; each only shows to users
holding its permission, so every role sees a dashboard that is theirs. Quick
actions are the buttons at the top (new campaign, import); panels are wider blocks
rendered by the app's own template (the last campaigns); cards are the figures.
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


@dataclass(frozen=True)
class QuickAction:
    label: str
    url: str
    primary: bool = False


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    url: str = ""  # "see all"
    url_label: str = ""


CardSource = Callable[[Any], list[Card]]
ActionSource = Callable[[Any], list[QuickAction]]
PanelSource = Callable[[Any], list[Panel]]
_sources: list[tuple[str, CardSource]] = []
_action_sources: list[tuple[str, ActionSource]] = []
_panel_sources: list[tuple[str, PanelSource]] = []


def register(permission: str) -> Callable[[CardSource], CardSource]:
    """Decorator: `source(user)` gives cards to users with `permission`."""

    def decorator(source: CardSource) -> CardSource:
        _sources.append((permission, source))
        return source

    return decorator


def register_actions(permission: str) -> Callable[[ActionSource], ActionSource]:
    """Decorator: `source(user)` gives quick actions to users with `permission`."""

    def decorator(source: ActionSource) -> ActionSource:
        _action_sources.append((permission, source))
        return source

    return decorator


def register_panel(permission: str) -> Callable[[PanelSource], PanelSource]:
    """Decorator: `source(request)` gives panels to users with `permission`."""

    def decorator(source: PanelSource) -> PanelSource:
        _panel_sources.append((permission, source))
        return source

    return decorator


def actions_for(user: Any) -> list[QuickAction]:
    _load_sources()
    return [a for p, s in _action_sources if user.has_perm(p) for a in s(user)]


def panels_for(request: Any) -> list[Panel]:
    _load_sources()
    user = request.user
    return [x for p, s in _panel_sources if user.has_perm(p) for x in s(request)]


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
