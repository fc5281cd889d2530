"""The GC pause around a sync's bulk stages ends with the stage, however the stage ends."""

import gc

import pytest

from mailbox.services.sync.collector import older_objects_frozen


def test_objects_are_frozen_during_the_stage_only_even_when_it_fails() -> None:
    before = gc.get_freeze_count()

    with pytest.raises(RuntimeError), older_objects_frozen():
        assert gc.get_freeze_count() > before
        raise RuntimeError("the stage failed")

    assert gc.get_freeze_count() == 0
