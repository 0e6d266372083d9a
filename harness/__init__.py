"""Reference normalization layer and conformance gate for multi-provider agent runtimes.

The public API is what `__all__` names; each name is imported on first use, so `import harness`
(which every `harness normalize` start-up pays) loads none of the model, lanes or gate.

    import harness
    lane = harness.get_lane("codex-native")
    events = list(harness.normalize_path(lane, path, harness.recorded_context(path)))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.conformance.equivalence import Strength, Verdict, equivalent
    from harness.conformance.gate import GateOptions, run_gate
    from harness.conformance.results import CellResult, Check, GateResult, PairResult
    from harness.contract.errors import HarnessError, InputError, LaneError
    from harness.contract.invariants import check_events
    from harness.contract.lane import (
        LaneInput,
        LaneSpec,
        RunContext,
        available_lanes,
        get_lane,
        lane_ids,
        normalize_path,
    )
    from harness.contract.model import SCHEMA_VERSION, Event, Item
    from harness.contract.runmeta import recorded_context
    from harness.contract.schema import published_schema, validate_event
    from harness.record.cassette import Interaction, read_http_cassette

PUBLIC: dict[str, str] = {
    "SCHEMA_VERSION": "harness.contract.model",
    "Event": "harness.contract.model",
    "Item": "harness.contract.model",
    "LaneSpec": "harness.contract.lane",
    "LaneInput": "harness.contract.lane",
    "RunContext": "harness.contract.lane",
    "available_lanes": "harness.contract.lane",
    "get_lane": "harness.contract.lane",
    "lane_ids": "harness.contract.lane",
    "normalize_path": "harness.contract.lane",
    "recorded_context": "harness.contract.runmeta",
    "validate_event": "harness.contract.schema",
    "published_schema": "harness.contract.schema",
    "check_events": "harness.contract.invariants",
    "equivalent": "harness.conformance.equivalence",
    "Strength": "harness.conformance.equivalence",
    "Verdict": "harness.conformance.equivalence",
    "GateOptions": "harness.conformance.gate",
    "run_gate": "harness.conformance.gate",
    "GateResult": "harness.conformance.results",
    "CellResult": "harness.conformance.results",
    "PairResult": "harness.conformance.results",
    "Check": "harness.conformance.results",
    "HarnessError": "harness.contract.errors",
    "InputError": "harness.contract.errors",
    "LaneError": "harness.contract.errors",
    "Interaction": "harness.record.cassette",
    "read_http_cassette": "harness.record.cassette",
}
"""Public name -> the module that defines it."""

__all__ = [
    "SCHEMA_VERSION",
    "CellResult",
    "Check",
    "Event",
    "GateOptions",
    "GateResult",
    "HarnessError",
    "InputError",
    "Interaction",
    "Item",
    "LaneError",
    "LaneInput",
    "LaneSpec",
    "PairResult",
    "RunContext",
    "Strength",
    "Verdict",
    "__version__",
    "available_lanes",
    "check_events",
    "equivalent",
    "get_lane",
    "lane_ids",
    "normalize_path",
    "published_schema",
    "read_http_cassette",
    "recorded_context",
    "run_gate",
    "validate_event",
]
"""The public API (a test keeps it equal to `PUBLIC` plus `__version__`)."""


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from harness.cli import version  # noqa: PLC0415 -- reads metadata only when asked

        return version()
    if name in PUBLIC:
        value = getattr(importlib.import_module(PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
