"""Tiny deterministic lanes for testing the harness itself (no provider, no runtime).

`passthrough(id, file)` reads a file of normalized events and re-emits them as its own lane, so a
test can write the exact log a lane "produced" and check what the gate makes of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from harness.lane import LaneInput, LaneSpec, RunContext
from harness.model import EVENT_ADAPTER, Event, ItemKind

ALL_KINDS: frozenset[ItemKind] = frozenset({
    "assistant_message", "reasoning", "command_execution", "file_change", "mcp_tool_call",
    "tool_call", "web_search", "plan", "error", "unknown",
})


def passthrough(lane_id: str, native_file: str, *, kinds: frozenset[ItemKind] = ALL_KINDS,
                capabilities: frozenset[Any] = frozenset()) -> LaneSpec:
    def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
        for line in source.stream:
            if line.strip():
                data = json.loads(line)
                data["lane"] = lane_id
                yield EVENT_ADAPTER.validate_python(data)

    return LaneSpec(id=lane_id, provider="test", input_kind="jsonl", description="test lane",
                    item_kinds=kinds, capabilities=capabilities, normalize=normalize,
                    native_file=native_file)


def log(*items: dict[str, Any], outcome: str = "completed", resumed: str | None = None,
        thread: str = "t1") -> list[dict[str, Any]]:
    """A one-run, one-turn normalized log holding `items` (completed), as event dicts."""
    events: list[dict[str, Any]] = []

    def add(etype: str, turn: int | None, **fields: Any) -> None:
        events.append({"schema_version": 1, "seq": len(events), "type": etype, "lane": "x",
                       "thread_id": thread, "turn": turn, **fields})

    add("session.started", None, provider="test", resumed_from=resumed)
    add("turn.started", 0)
    for index, item in enumerate(items):
        add("item.completed", 0, item={"id": f"item_{index}", "status": "completed", **item})
    if outcome == "completed":
        add("turn.completed", 0, usage=None)
    else:
        add("turn.failed", 0, error={"kind": outcome, "message": "boom", "retryable": True})
    return events


def jsonl(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)
