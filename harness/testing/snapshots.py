"""Golden snapshots of normalized logs for syrupy: one reviewable JSONL file per snapshot.

syrupy's default format packs every snapshot of a test module into one `.ambr` file of Python
reprs; a normalized log reads better as what it is, one compact JSON event per line, so a golden
diff in review is a diff of events. `JsonlSnapshotExtension` writes each snapshot to
`golden/_snapshots/<test module>/<test name>.jsonl` at the repository root (beside the gate's
goldens) and compares the text; `pytest --snapshot-update` rewrites the files.

    def test_log(snapshot):
        assert events == snapshot(extension_class=JsonlSnapshotExtension)

The snapshot data is an iterable of events: pydantic models (dumped in JSON mode) or dicts.
This is the only module that imports syrupy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from harness.testing import missing_extra

try:
    from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
    from syrupy.location import PyTestLocation
    from syrupy.types import PropertyFilter, PropertyMatcher, SerializableData, SerializedData
except ImportError:
    raise missing_extra("syrupy", "JSONL snapshots (the jsonl_snapshot fixture)") from None

SNAPSHOT_DIR = Path("golden") / "_snapshots"
ROOT_MARKER = "pyproject.toml"


def event_lines(events: Iterable[BaseModel | Mapping[str, Any]]) -> str:
    """Events as JSONL text: compact JSON, fields in model order, one event per line."""
    lines = []
    for event in events:
        data = event.model_dump(mode="json") if isinstance(event, BaseModel) else event
        lines.append(orjson.dumps(data).decode("utf-8") + "\n")
    return "".join(lines)


def repo_root(start: Path) -> Path:
    """The nearest folder above `start` holding `pyproject.toml` (else `start`'s parent)."""
    for folder in start.resolve().parents:
        if (folder / ROOT_MARKER).is_file():
            return folder
    return start.resolve().parent


class JsonlSnapshotExtension(SingleFileSnapshotExtension):
    """One `<test name>.jsonl` per snapshot under `golden/_snapshots/<test module>/`."""

    file_extension = "jsonl"
    _write_mode = WriteMode.TEXT

    def serialize(
        self,
        data: SerializableData,
        *,
        exclude: PropertyFilter | None = None,
        include: PropertyFilter | None = None,
        matcher: PropertyMatcher | None = None,
    ) -> SerializedData:
        if isinstance(data, str | bytes) or not isinstance(data, Iterable):
            raise TypeError(f"a JSONL snapshot takes an iterable of events, not {type(data)}")
        return event_lines(data)

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        root = repo_root(Path(test_location.filepath))
        return str(root / SNAPSHOT_DIR / test_location.basename)
