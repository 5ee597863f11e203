"""The held-objects GC policy: frozen from ``freeze_at`` held, handed back below it."""

from __future__ import annotations

import gc

import pytest

from wsresilience.core.runtime.heldgc import HeldObjectsGc


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_the_freeze_point_leave_the_collector_until_fewer_are_held() -> None:
    policy = HeldObjectsGc(freeze_at=3)
    held = [[i] for i in range(1000)]  # tracked objects, as connections' are
    policy.held(2)
    assert gc.get_freeze_count() == 0 and not policy.frozen
    policy.held(3)
    assert policy.frozen and gc.get_freeze_count() >= len(held)
    policy.held(2)
    assert gc.get_freeze_count() == 0 and not policy.frozen


def test_off_never_freezes_and_release_hands_everything_back() -> None:
    off = HeldObjectsGc(freeze_at=0)
    off.held(1_000_000)
    assert gc.get_freeze_count() == 0
    policy = HeldObjectsGc(freeze_at=1)
    policy.held(1)
    assert gc.get_freeze_count() > 0
    policy.release()
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError, match="gc_freeze_at must be 0"):
        HeldObjectsGc(-1)
