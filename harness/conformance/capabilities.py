"""The capability matrix: what each lane declares, what the cassettes show, and where they differ.

A lane may only advertise what some recorded cassette demonstrates, and may only emit item kinds
it declares. Most capabilities are visible in any log (a resumed session, an MCP call); a few,
such as plugins, are demonstrated only by a scenario that declares it demonstrates them and passes
on that lane — installing a plugin proves nothing unless the session really runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from harness.contract.lane import LaneSpec
from harness.scenario import Scenario

if TYPE_CHECKING:
    from harness.conformance.results import CellResult

Events = list[dict[str, Any]]


def _has_item(kind: str) -> Callable[[Events], bool]:
    return lambda events: any(e["type"] == "item.completed" and e["item"]["kind"] == kind
                              for e in events)


def _session_field(name: str, unknown: object) -> Callable[[Events], bool]:
    return lambda events: any(e["type"] == "session.started" and e.get(name) not in
                              (None, unknown) for e in events)


EVIDENCE: Mapping[str, Callable[[Events], bool]] = {
    "approvals": lambda events: any(e["type"] == "approval.requested" for e in events),
    "resume": _session_field("resumed_from", None),
    "sandbox_context": _session_field("sandbox", "unknown"),
    "cwd_context": _session_field("cwd", None),
    "mcp": _has_item("mcp_tool_call"),
    "reasoning": _has_item("reasoning"),
    "web_search": _has_item("web_search"),
    "plan": _has_item("plan"),
    "file_change": _has_item("file_change"),
    "usage": lambda events: any(e["type"] == "turn.completed" and e.get("usage")
                                for e in events),
    "control_plane": lambda events: any(e["type"] == "session.capabilities" for e in events),
}
"""Capabilities any log can show. The rest (plugins, skills) need a scenario that declares them."""


def demonstrated(lane: str, cells: Iterable[CellResult],
                 scenarios: Mapping[str, Scenario]) -> set[str]:
    """Capabilities the lane's passing cells show."""
    shown: set[str] = set()
    for cell in cells:
        if cell.lane != lane or cell.status != "pass":
            continue
        shown.update(name for name, proof in EVIDENCE.items() if proof(cell.events))
        if not cell.capability_gap:  # the ledger says this lane lacks what the scenario shows
            shown.update(scenarios[cell.scenario].demonstrates)
    return shown


def emitted_kinds(lane: str, cells: Iterable[CellResult]) -> set[str]:
    return {e["item"]["kind"] for c in cells if c.lane == lane for e in c.events
            if e["type"].startswith("item.")}


def capability_problems(lanes: Mapping[str, LaneSpec], cells: list[CellResult],
                        scenarios: Mapping[str, Scenario]) -> list[str]:
    """Undeclared kinds emitted, and declared capabilities no cassette demonstrates."""
    problems: list[str] = []
    for lane_id, spec in lanes.items():
        extra = emitted_kinds(lane_id, cells) - set(spec.item_kinds) - {"error", "unknown"}
        problems += [f"{lane_id}: emits undeclared item kind {k!r}" for k in sorted(extra)]
        if "control_plane" not in spec.capabilities and any(
                EVIDENCE["control_plane"](c.events) for c in cells if c.lane == lane_id):
            problems.append(f"{lane_id}: emits session.capabilities but does not declare "
                            "'control_plane'")
        shown = demonstrated(lane_id, cells, scenarios)
        problems += [f"{lane_id}: declares {c!r} but no passing cassette demonstrates it"
                     for c in sorted(set(spec.capabilities) - shown)]
    return problems


def matrix(lanes: Mapping[str, LaneSpec], cells: list[CellResult] | None = None,
           scenarios: Mapping[str, Scenario] | None = None) -> list[dict[str, Any]]:
    """One row per lane: declared kinds/capabilities and, given cells, what they demonstrate."""
    rows = []
    for lane_id, spec in lanes.items():
        row: dict[str, Any] = {
            "lane": lane_id,
            "provider": spec.provider,
            "input": spec.input_kind,
            "item_kinds": sorted(spec.item_kinds),
            "capabilities": sorted(spec.capabilities),
        }
        if cells is not None and scenarios is not None:
            row["demonstrated"] = sorted(demonstrated(lane_id, cells, scenarios))
        rows.append(row)
    return rows
