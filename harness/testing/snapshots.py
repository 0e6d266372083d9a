"""Golden snapshots of normalized logs for syrupy: one reviewable JSONL file per snapshot.

syrupy's default format packs every snapshot of a test module into one `.ambr` file of Python
reprs; a normalized log reads better as what it is, one compact JSON event per line, so a golden
diff in review is a diff of events. The `jsonl_snapshot` fixture writes each snapshot to
`<snapshot dir>/<test module>/<test name>.jsonl`, where the snapshot dir is the pytest ini option
`harness_snapshot_dir` (default `golden/_snapshots`) under pytest's rootdir, so it does not move
when a `pyproject.toml` appears somewhere; `pytest --snapshot-update` rewrites the files.

    def test_log(jsonl_snapshot):
        assert events == jsonl_snapshot

Used directly (`snapshot(extension_class=JsonlSnapshotExtension)`), the folder is
`golden/_snapshots` under the nearest folder above the test file holding `pyproject.toml`.
The snapshot data is an iterable of events: pydantic models (dumped in JSON mode) or dicts.
This is the only module that imports syrupy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
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

    snapshot_root: Path | None = None
    """The folder of every test module's snapshots; None: `golden/_snapshots` at the repo root."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        root = cls.snapshot_root or repo_root(Path(test_location.filepath)) / SNAPSHOT_DIR
        return str(root / test_location.basename)


@cache
def extension_in(folder: Path) -> type[JsonlSnapshotExtension]:
    """The extension writing under `folder` (one class per folder, made once)."""
    return type("JsonlSnapshotExtensionIn", (JsonlSnapshotExtension,),
                {"snapshot_root": folder})
