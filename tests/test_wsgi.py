"""The WSGI entry point: start-up objects are frozen out of full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from partnerhub import wsgi


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_start_up_objects_are_frozen(unfrozen: None) -> None:
    loaded = ["a start-up object"]
    assert gc.get_freeze_count() == 0
    wsgi.freeze_startup_objects()
    assert gc.get_freeze_count() > 10_000
    assert not any(o is loaded for o in gc.get_objects())  # no longer collected


def test_the_application_is_djangos() -> None:
    assert callable(wsgi.application)
