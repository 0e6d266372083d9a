"""pytest plugin (entry point `harness`): lets a user's own test suite use the harness.

Fixtures:
- `normalize_file(lane_id, path, context=None) -> list[Event]`: a native file or cassette through
  a lane, eagerly.
- `load_cassette(path) -> list[Interaction]`: an HTTP cassette (ours or any vcrpy one), read.
- `assert_equivalent(a, b, strength="structural")`: fails with the equivalence diff that points at
  the first divergence, not a wall of unequal dicts.
- `jsonl_snapshot`: syrupy's `snapshot` with the JSONL golden extension (one reviewable file per
  snapshot under `golden/_snapshots/`); needs syrupy, which is imported only when asked for.

Hypothesis strategies for native streams live in `harness.testing.strategies`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from harness.conformance.equivalence import Strength, equivalent
from harness.contract.lane import RunContext, get_lane, normalize_path
from harness.contract.model import Event
from harness.contract.runmeta import recorded_context
from harness.record.cassette import Interaction, read_http_cassette

NormalizeFile = Callable[..., list[Event]]
AssertEquivalent = Callable[..., None]
LogLike = Iterable[BaseModel | Mapping[str, Any]]


def normalize_events(lane_id: str, path: Path, context: RunContext | None = None
                     ) -> list[Event]:
    """Normalize one file with one lane, eagerly (tests want the whole log). Without a
    `context`, the recording's own (its `<runtime>.meta.json`) is used, as the gate does."""
    path = Path(path)
    return list(normalize_path(get_lane(lane_id), path, context or recorded_context(path)))


def _as_dicts(events: LogLike) -> list[Mapping[str, Any]]:
    return [e.model_dump(mode="json") if isinstance(e, BaseModel) else e for e in events]


def check_equivalent(a: LogLike, b: LogLike, strength: Strength = "structural",
                     labels: tuple[str, str] = ("expected", "actual")) -> None:
    """Raise AssertionError carrying the first divergence when two logs are not equivalent."""
    verdict = equivalent(_as_dicts(a), _as_dicts(b), strength, labels=labels)
    if not verdict.equivalent:
        raise AssertionError(f"normalized logs differ ({strength}):\n{verdict.diff}")


@pytest.fixture
def normalize_file() -> NormalizeFile:
    """`normalize_file(lane_id, path, context=None) -> list[Event]`."""
    return normalize_events


@pytest.fixture
def load_cassette() -> Callable[[Path], list[Interaction]]:
    """`load_cassette(path) -> list[Interaction]` (YAML or JSON vcrpy cassettes, gzip bodies)."""
    return read_http_cassette


@pytest.fixture
def assert_equivalent() -> AssertEquivalent:
    """`assert_equivalent(expected, actual, strength="structural")` with a readable diff."""
    return check_equivalent


@pytest.fixture
def jsonl_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's snapshot writing JSONL goldens (see harness.testing.snapshots)."""
    from harness.testing.snapshots import JsonlSnapshotExtension  # noqa: PLC0415 -- syrupy is optional

    snapshot = request.getfixturevalue("snapshot")
    return snapshot.use_extension(JsonlSnapshotExtension)
