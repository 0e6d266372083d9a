"""pytest plugin (entry point `harness`): lets a user's own test suite use the harness.

Fixtures: `normalize_file` (normalize a native file or cassette with a lane into typed events).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.lane import LaneInput, RunContext, get_lane
from harness.model import Event

NormalizeFile = Callable[..., list[Event]]


def normalize_path(lane_id: str, path: Path, context: RunContext | None = None) -> list[Event]:
    """Normalize one file with one lane, eagerly (tests want the whole log)."""
    lane = get_lane(lane_id)
    with path.open("rb") as stream:
        source = LaneInput(stream=stream, name=str(path), path=path)
        return list(lane.normalize(source, context or RunContext()))


@pytest.fixture
def normalize_file() -> NormalizeFile:
    """`normalize_file(lane_id, path, context=None) -> list[Event]`."""
    return normalize_path
