"""What the gate finds, cell by cell and pair by pair: plain records that the gate fills and
the capability check and the reports read (kept apart from the gate so they need not import it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from harness.contract.lane import LaneSpec
from harness.scenario import Scenario

CellStatus = Literal["pass", "fail", "gap", "error"]
PairStatus = Literal["pass", "masked", "fail"]
"""pass: equal field by field; masked: equal except for what named ledger entries or
declared kind gaps excuse (`masks`); fail: a difference nothing excuses."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class CellResult:
    scenario: str
    lane: str
    status: CellStatus
    checks: list[Check] = field(default_factory=list)
    reason: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    capability_gap: bool = field(default=False, metadata={
        "doc": "the scenario's ledger records a capability gap for this lane, so the "
               "scenario's `demonstrates` is not credited to it even when the cell passes"})

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass
class PairResult:
    scenario: str
    lanes: tuple[str, str]
    status: PairStatus
    diff: str = ""
    reason: str = ""
    gaps: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    seconds: float = field(default=0.0, metadata={
        "doc": "time to compare the pair under the active ledger (staleness not included)"})


@dataclass
class GateResult:
    cells: list[CellResult]
    pairs: list[PairResult]
    lanes: dict[str, LaneSpec]
    scenarios: dict[str, Scenario]
    updated_golden: list[str] = field(default_factory=list)
    capability_problems: list[str] = field(default_factory=list)
    secret_findings: list[str] = field(default_factory=list)
    stale_entries: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (all(c.status in {"pass", "gap"} for c in self.cells)
                and all(p.status in {"pass", "masked"} for p in self.pairs)
                and not self.capability_problems and not self.secret_findings
                and not self.stale_entries)


