"""requirements.lock pins every dependency pyproject.toml declares, with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return (
        re.split(r"[\s<>=!~\[;]", requirement.strip(), maxsplit=1)[0]
        .lower()
        .replace("_", "-")
    )


def test_every_declared_dependency_is_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        m.group(1).lower().replace("_", "-")
        for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", lock, re.MULTILINE)
    }
    assert declared - pinned == set(), (
        "regenerate requirements.lock (scripts/bootstrap)"
    )
    blocks = re.findall(
        r"^[A-Za-z0-9_.\-]+==\S+((?:\s*\\\n\s*--hash=sha256:\w+)+)", lock, re.M
    )
    assert len(blocks) == len(pinned), "every pinned package carries its hashes"
