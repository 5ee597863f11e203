"""Automatic garbage collection paused around one block, and the previous setting restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from wsresilience.core.runtime.gcpause import collections_paused


@pytest.fixture
def gc_setting() -> Iterator[None]:
    """Whatever a test does to the collector, the next test starts with it as it was."""
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_collection_is_off_inside_the_block_and_on_again_after(gc_setting: None) -> None:
    gc.enable()
    with collections_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_comes_back_when_the_block_raises(gc_setting: None) -> None:
    gc.enable()
    with pytest.raises(ValueError), collections_paused():
        raise ValueError("bad reply")
    assert gc.isenabled()


def test_a_caller_that_switched_collection_off_keeps_it_off(gc_setting: None) -> None:
    gc.disable()
    with collections_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
