"""The lane contract: one module per provider surface, found via the `harness.lanes` entry point.

A lane declares what it is (`LaneSpec`: id, provider, input kind, capabilities) and offers one pure,
streaming function `normalize(source, context)` from its native input to normalized events. The
harness core (runner, gate, CLI) only ever holds a `LaneSpec`; it never imports a lane module by
name, so adding a lane is adding a module and one entry-point line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness.model import ApprovalPolicy, AuthMode, Event, ItemKind, Sandbox

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


class UnknownLaneError(HarnessError):
    """No lane with that id is installed."""


def available_lanes() -> dict[str, LaneSpec]:
    """Every installed lane by id, loaded from the `harness.lanes` entry points."""
    lanes: dict[str, LaneSpec] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, LaneSpec):
            raise TypeError(f"entry point {ep.name} does not name a LaneSpec")
        lanes[spec.id] = spec
    return dict(sorted(lanes.items()))


def get_lane(lane_id: str) -> LaneSpec:
    lanes = available_lanes()
    try:
        return lanes[lane_id]
    except KeyError:
        known = ", ".join(lanes) or "none"
        raise UnknownLaneError(f"unknown lane {lane_id!r} (installed: {known})",
                               source="--lane") from None
