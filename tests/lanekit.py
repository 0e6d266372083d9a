"""Test helpers the API lane tests share (codex-adapter, anthropic, gemini): normalize a cassette
through a lane as the CLI does, check a log is well formed, read a log as short lines, split
bytes at arbitrary points, and hold the shipped recordings to their scenario outlines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import settings

from harness.conformance.equivalence import Mask, equivalent
from harness.conformance.outline import match_outline
from harness.contract.invariants import check_events
from harness.contract.lane import LaneSpec, RunContext, normalize_to_dicts
from harness.contract.model import load_event
from harness.contract.schema import validate_event
from harness.record.cassette import write_http_cassette
from harness.record.stub import Exchange
from harness.scenario import load_scenario
from harness.testing.strategies import AbstractScenario, expected_log

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"


CI_EXAMPLES = settings.get_profile("ci").max_examples
"""The `ci` profile's budget (tests/conftest.py), against which costly properties scale."""


def scaled(ci_examples: int) -> int:
    """Examples for a costly property: `ci_examples` under the ci profile, the same share of
    any other profile's budget (a tenth under dev, ten times under explore), at least one. A
    fixed cap would keep `nox -s explore` from exploring the properties that need it most."""
    return max(1, settings().max_examples * ci_examples // CI_EXAMPLES)


def write(path: Path, exchanges: list[Exchange]) -> Path:
    write_http_cassette(path, exchanges)
    return path


def normalize_file(lane: LaneSpec, path: Path, *, lenient: bool = False,
                   context: RunContext | None = None) -> list[dict[str, Any]]:
    """`path` through `lane` (strict unless `lenient` or `context` says so), events as JSON."""
    return normalize_to_dicts(lane, path, context or RunContext(lenient=lenient))


def run(lane: LaneSpec, tmp_path: Path, exchanges: list[Exchange],
        **kw: Any) -> list[dict[str, Any]]:
    """`exchanges` written as the lane's cassette, normalized, checked well formed."""
    events = normalize_file(lane, write(tmp_path / lane.native_file, exchanges), **kw)
    assert_well_formed(events)
    return events


def assert_well_formed(events: list[dict[str, Any]]) -> None:
    """Lane-independent sanity: contiguous seq, each started item completes exactly once,
    turns open and close in pairs, every event loads, and the shared invariant checker agrees."""
    assert [e["seq"] for e in events] == list(range(len(events)))
    started = [e["item"]["id"] for e in events if e["type"] == "item.started"]
    done = [e["item"]["id"] for e in events if e["type"] == "item.completed"]
    assert len(done) == len(set(done)), "an item completed twice"
    assert set(started) <= set(done), "a started item never completed"
    open_turn = False
    for e in events:
        if e["type"] == "turn.started":
            assert not open_turn
            open_turn = True
        elif e["type"] in {"turn.completed", "turn.failed"}:
            assert open_turn
            open_turn = False
    assert not open_turn
    for e in events:
        load_event(json.dumps(e))
    assert [f"{v.rule}: {v.detail}" for v in check_events(events)] == []


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def shape(events: list[dict[str, Any]]) -> list[str]:
    """A log as short lines: envelope events, and completed items as `kind:status`."""
    out: list[str] = []
    for e in events:
        if e["type"] == "item.completed":
            out.append(f"{e['item']['kind']}:{e['item']['status']}")
        elif e["type"] in {"session.started", "turn.started", "turn.completed"}:
            out.append(e["type"])
        elif e["type"] == "turn.failed":
            out.append(f"turn.failed:{e['error']['kind']}")
    return out


def command_results(events: list[dict[str, Any]]) -> list[tuple[int | None, str]]:
    """Each completed command's exit code and output, in order (equivalence ignores outputs)."""
    return [(e["item"]["exit_code"], e["item"]["output"]) for e in events
            if e["type"] == "item.completed" and e["item"]["kind"] == "command_execution"]


VIEWS_MODEL_NO_TOOL_RESULTS = (
    Mask("views-model-no-tool-results", "field", "mcp_tool_call", "result"),
    Mask("views-model-no-tool-results", "field", "tool_call", "result"),
)
"""The round-trip views do not model what each runtime's MCP server or side tool answered
(the fake server's text differs per runtime naming); named here so nothing else is excused."""


def assert_matches(lane: LaneSpec, actual: list[dict[str, Any]],
                   abstract: AbstractScenario,
                   expected: list[dict[str, Any]] | None = None) -> None:
    """Schema-valid, ordering rules kept, strictly equivalent to the expected log (or to the
    lane's view of it), and every command's output and exit code carried whole (equivalence
    does not compare outputs)."""
    for event in actual:
        assert validate_event(event) == [], event
    assert check_events(actual) == []
    expected = expected_log(abstract) if expected is None else expected
    verdict = equivalent(expected, actual, "strict", b_noise_tools=lane.noise_tools,
                         masks=VIEWS_MODEL_NO_TOOL_RESULTS, labels=("expected", lane.id))
    assert verdict.equivalent, verdict.diff
    assert command_results(actual) == command_results(expected)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at every point of `cuts` (taken modulo its length + 1), empty pieces dropped."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def recording_problems(lane: LaneSpec) -> dict[str, list[str]]:
    """Every shipped recording of `lane`, normalized strictly and checked well formed, against
    its scenario's outline for this lane (plumbing tools left out): scenario -> mismatches."""
    problems: dict[str, list[str]] = {}
    for path in sorted(CASSETTES.glob(f"*/{lane.native_file}")):
        events = normalize_file(lane, path)
        assert_well_formed(events)
        scenario = load_scenario(path.parent / "scenario.yaml")
        found = match_outline(events, scenario.expect.for_lane(lane.id), lane.noise_tools)
        if found:
            problems[path.parent.name] = found
    return problems
