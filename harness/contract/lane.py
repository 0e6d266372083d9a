"""The lane contract: one module per provider surface, found via the `harness.lanes` entry point.

A lane declares what it is (`LaneSpec`: id, provider, input kind, capabilities) and offers one pure,
streaming function `normalize(source, context)` from its native input to normalized events. The
harness core (runner, gate, CLI) only ever holds a `LaneSpec`; it never imports a lane module by
name, so adding a lane is adding a module and one entry-point line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from harness.contract.errors import HarnessError, InputError
from harness.contract.model import ApprovalPolicy, AuthMode, Event, ItemKind, Sandbox

InputKind = Literal["jsonl", "http-cassette"]
Capability = Literal[
    "approvals",
    "resume",
    "sandbox_context",
    "cwd_context",
    "mcp",
    "skills",
    "plugins",
    "reasoning",
    "usage",
    "web_search",
    "plan",
    "file_change",
    "control_plane",
]
ENTRY_POINT_GROUP = "harness.lanes"


class RunContext(BaseModel):
    """Facts about the run that the native stream does not carry; unset means unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cwd: str | None = None
    sandbox: Sandbox = "unknown"
    approval_policy: ApprovalPolicy = "unknown"
    auth_mode: AuthMode = "unknown"
    model: str | None = None
    runtime_version: str | None = None
    resumed_from: str | None = None
    lenient: bool = False


@dataclass(frozen=True)
class LaneInput:
    """A lane's native input: an open binary stream plus its name for error messages."""

    stream: BinaryIO
    name: str
    path: Path | None = None


Normalize = Callable[[LaneInput, RunContext], Iterator[Event]]
NormalizeLines = Callable[[LaneInput, RunContext], Iterator[bytes]]
"""The same log as a lane's `Normalize`, already written: JSONL lines (bytes, each ending in a
newline), byte for byte what `dump_event_line` writes of each event (harness.contract.fastlog)."""
Recognize = Callable[[bytes], bool]
"""Given the first bytes of an input (up to `HEAD_BYTES`), does it look like this lane's?"""
HEAD_BYTES = 65536


def first_json_object(head: bytes) -> dict[str, Any] | None:
    """The first non-blank line of `head` as a JSON object, or None."""
    for line in head.splitlines():
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def jsonl_recognizer(types: frozenset[str],
                     also: Callable[[dict[str, Any]], bool] | None = None) -> Recognize:
    """A JSONL lane recognizes its input by the `type` of the first object (or by `also`)."""
    def recognizes(head: bytes) -> bool:
        first = first_json_object(head)
        if first is None:
            return False
        return first.get("type") in types or (also is not None and also(first))
    return recognizes


def cassette_recognizer(uri_markers: tuple[str, ...]) -> Recognize:
    """An HTTP-cassette lane recognizes its input by the request paths its API uses."""
    def recognizes(head: bytes) -> bool:
        return b"interactions" in head and any(m.encode() in head for m in uri_markers)
    return recognizes


def refuse_foreign_input(lane: LaneSpec, head: bytes, name: str) -> None:
    """Exit-2 refusals before a lane reads anything (strict mode; lenient mode keeps whatever
    it reads as `unknown` items instead): an empty input, and an input this lane does not
    recognize but another installed lane does (`file:1: looks like X input`)."""
    if not head.strip():
        raise InputError("empty input: nothing to normalize", source=name, line=1)
    if lane.recognizes is None or lane.recognizes(head):
        return
    for other in available_lanes().values():
        if other.id != lane.id and other.recognizes is not None and other.recognizes(head):
            raise InputError(f"looks like {other.id} input ({other.native_file}), "
                             f"not {lane.id} input", source=name, line=1)


def normalize_path(lane: LaneSpec, path: Path, context: RunContext) -> Iterator[Event]:
    """A native file through a lane, streaming; the file stays open while events flow. The one
    place a path becomes a `LaneInput` (gate, recorder, pytest plugin)."""
    with path.open("rb") as stream:
        if not context.lenient:
            refuse_foreign_input(lane, stream.read(HEAD_BYTES), str(path))
            stream.seek(0)
        yield from lane.normalize(LaneInput(stream=stream, name=str(path), path=path), context)


def normalize_to_dicts(lane: LaneSpec, path: Path, context: RunContext
                       ) -> list[dict[str, Any]]:
    """The whole log of a native file as JSON-mode dicts (what the gate and drift compare)."""
    return [event.model_dump(mode="json") for event in normalize_path(lane, path, context)]


@dataclass(frozen=True)
class LaneSpec:
    """What a lane is and what it can show; the gate holds lanes to `item_kinds`/`capabilities`."""

    id: str
    provider: str
    input_kind: InputKind
    description: str
    item_kinds: frozenset[ItemKind]
    capabilities: frozenset[Capability]
    normalize: Normalize
    native_file: str = field(
        default="", metadata={"doc": "cassette file name this lane reads in a scenario folder"}
    )
    normalize_lines: NormalizeLines | None = field(
        default=None,
        metadata={"doc": "a faster writer of `normalize`'s log, byte for byte the same "
                         "(`harness normalize` uses it when the lane has one)"},
    )
    noise_tools: frozenset[str] = field(
        default=frozenset(),
        metadata={"doc": "tool_call names that are runtime plumbing (e.g. tool search), "
                         "left out of cross-lane equivalence"},
    )
    recognizes: Recognize | None = field(
        default=None,
        metadata={"doc": "whether an input's first bytes look like this lane's input; used to "
                         "refuse another lane's file with one clear line"},
    )
    output_rules: tuple[tuple[str, Callable[[str], str]], ...] = field(
        default=(),
        metadata={"doc": "named rules that undo what this lane's runtime does to a command's "
                         "output or a tool's result before the lane sees it (a placeholder "
                         "for empty output, a header); applied before cross-lane comparison"},
    )


class UnknownLaneError(HarnessError):
    """No lane with that id is installed."""


class LaneUnavailableError(HarnessError):
    """The lane is registered but cannot load (its provider SDK extra is not installed)."""


def lane_ids() -> list[str]:
    """Ids of every registered lane (cheap: loads nothing)."""
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def get_lane(lane_id: str) -> LaneSpec:
    """Load one lane by id; only that lane's module (and its SDK) is imported."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == lane_id]
    if not matches:
        known = ", ".join(lane_ids()) or "none"
        raise UnknownLaneError(f"unknown lane {lane_id!r} (installed: {known})",
                               source="--lane")
    try:
        spec = matches[0].load()
    except ImportError as exc:
        raise LaneUnavailableError(
            f"lane {lane_id!r} cannot load: {exc} (install its provider extra)", source="--lane"
        ) from None
    if not isinstance(spec, LaneSpec) or spec.id != lane_id:
        raise TypeError(f"entry point {lane_id} does not name the LaneSpec {lane_id!r}")
    return spec


def available_lanes() -> dict[str, LaneSpec]:
    """Every registered lane that loads here, by id."""
    lanes: dict[str, LaneSpec] = {}
    for lane_id in lane_ids():
        try:
            lanes[lane_id] = get_lane(lane_id)
        except LaneUnavailableError:
            continue
    return lanes
