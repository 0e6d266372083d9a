"""The public strategies of `harness.testing.strategies`: one per lane's native input.

Each strategy promises (in its docstring) that its lane normalizes every draw in strict mode into
a schema-valid log with no `unknown` item; each property below holds one strategy to that promise
through the lane's own `normalize` (the bytes as the lane's input stream, as `harness normalize`
reads stdin). The other tests show the checks bite: a foreign line in a draw is refused, a drawn
future Codex item is caught as `unknown`. The renderers the strategies use live in the package and
need nothing from tests/ (checked here too).
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.contract.errors import HarnessError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, get_lane, lane_ids
from harness.contract.schema import validate_event
from harness.testing.strategies import (
    NATIVE_INPUTS,
    acp_transcripts,
    anthropic_cassettes,
    claude_code_streams,
    codex_app_server_transcripts,
    codex_exec_streams,
    gemini_cassettes,
    gemini_cli_streams,
    native_inputs,
    responses_cassettes,
)
from tests.lanekit import scaled

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def lane_log(lane_id: str, data: bytes) -> list[dict[str, Any]]:
    """`data` through the lane in strict mode (a refusal raises), events as JSON."""
    events = get_lane(lane_id).normalize(LaneInput(stream=io.BytesIO(data), name="<drawn>"),
                                         RunContext())
    return [event.model_dump(mode="json") for event in events]


def unknown_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events
            if e["type"] == "item.completed" and e["item"]["kind"] == "unknown"]


def assert_strict_valid_log(lane_id: str, data: bytes) -> None:
    """The strategies' invariant: strict mode reads it all, every event is schema-valid, the
    ordering rules hold, and no item is `unknown`."""
    events = lane_log(lane_id, data)
    assert any(e["type"] == "session.started" for e in events), "no session in the log"
    assert [f"{e['seq']}: {p}" for e in events for p in validate_event(e)] == []
    assert [f"{v.rule}: {v.detail}" for v in check_events(events)] == []
    assert unknown_items(events) == []


# ------------------------------------------------------------------------------ one per strategy
# A quarter of the ci budget or less: the round-trip properties (tests/test_roundtrip_*.py) run
# the same renderings at full budget against each lane's view; these hold the strategies' wiring
# and their stated invariant.


@settings(max_examples=scaled(50))
@given(codex_exec_streams(future_items=False))
def test_codex_exec_streams_normalize_strictly(data: bytes) -> None:
    """Invariant: codex-native reads every `codex_exec_streams(future_items=False)` draw in
    strict mode into a schema-valid log with no unknown item."""
    assert_strict_valid_log("codex-native", data)


@settings(max_examples=scaled(50))
@given(claude_code_streams())
def test_claude_code_streams_normalize_strictly(data: bytes) -> None:
    """Invariant: claude-code reads every `claude_code_streams()` draw in strict mode into a
    schema-valid log with no unknown item."""
    assert_strict_valid_log("claude-code", data)


@settings(max_examples=scaled(50))
@given(gemini_cli_streams())
def test_gemini_cli_streams_normalize_strictly(data: bytes) -> None:
    """Invariant: gemini-cli reads every `gemini_cli_streams()` draw in strict mode into a
    schema-valid log with no unknown item."""
    assert_strict_valid_log("gemini-cli", data)


@settings(max_examples=scaled(20))  # SDK replay of every call: ~0.5 s each
@given(anthropic_cassettes())
def test_anthropic_cassettes_normalize_strictly(data: bytes) -> None:
    """Invariant: anthropic reads every `anthropic_cassettes()` draw (Messages SSE in a vcrpy
    cassette) in strict mode into a schema-valid log with no unknown item."""
    assert_strict_valid_log("anthropic", data)


@settings(max_examples=scaled(20))  # SDK replay of every call
@given(responses_cassettes())
def test_responses_cassettes_normalize_strictly(data: bytes) -> None:
    """Invariant: codex-adapter reads every `responses_cassettes()` draw (Responses SSE in a
    vcrpy cassette) in strict mode into a schema-valid log with no unknown item."""
    assert_strict_valid_log("codex-adapter", data)


@settings(max_examples=scaled(20))  # SDK replay of every call
@given(gemini_cassettes())
def test_gemini_cassettes_normalize_strictly(data: bytes) -> None:
    """Invariant: gemini reads every `gemini_cassettes()` draw (`streamGenerateContent` SSE in
    a vcrpy cassette) in strict mode into a schema-valid log with no unknown item."""
    assert_strict_valid_log("gemini", data)


@settings(max_examples=scaled(50))
@given(codex_app_server_transcripts())
def test_codex_app_server_transcripts_normalize_strictly(data: bytes) -> None:
    """Invariant: codex-app-server reads every `codex_app_server_transcripts()` draw in strict
    mode into a schema-valid log with no unknown item."""
    assert_strict_valid_log("codex-app-server", data)


@settings(max_examples=scaled(50))
@given(acp_transcripts())
def test_acp_transcripts_normalize_strictly(data: bytes) -> None:
    """Invariant: acp reads every `acp_transcripts()` draw in strict mode into a schema-valid
    log with no unknown item."""
    assert_strict_valid_log("acp", data)


@pytest.mark.parametrize("lane_id", sorted(NATIVE_INPUTS))
@settings(max_examples=scaled(10))
@given(data=st.data())
def test_native_inputs_draw_what_the_lane_reads(lane_id: str, data: st.DataObject) -> None:
    """Invariant: `native_inputs(lane)` draws input that lane reads strictly into a schema-valid
    log with no unknown item (and so is wired to the right lane's strategy)."""
    assert_strict_valid_log(lane_id, data.draw(native_inputs(lane_id)))


def test_native_inputs_cover_every_lane() -> None:
    assert set(NATIVE_INPUTS) == set(lane_ids())
    with pytest.raises(ValueError, match="no strategy for lane 'nope'"):
        native_inputs("nope")


# ------------------------------------------------------------------------------ the checks bite


@settings(max_examples=scaled(10))
@given(claude_code_streams(max_runs=1, max_steps=1))
def test_a_foreign_line_fails_the_property_check(data: bytes) -> None:
    """Claude Code's lane keeps a line type it does not know as an `unknown` item even in
    strict mode (forward compatibility), so the properties' no-unknown check is what catches
    a strategy drawing lines no Claude Code prints."""
    foreign = json.dumps({"type": "hologram", "beam": 1}).encode() + b"\n"
    assert_strict_valid_log("claude-code", data)
    with pytest.raises(AssertionError, match="unknown"):
        assert_strict_valid_log("claude-code", data + foreign)


def test_strict_mode_refuses_what_a_lane_cannot_read() -> None:
    """The properties run the lanes strictly: input out of order is refused, not logged."""
    with pytest.raises(HarnessError, match=r"before thread\.started"):
        lane_log("codex-native", b'{"type":"turn.started"}\n')


@settings(max_examples=scaled(50))
@given(codex_exec_streams())
def test_future_items_are_the_only_unknown_items(data: bytes) -> None:
    """`codex_exec_streams()` keeps drawing item types Codex does not print yet; those, and
    only those, are `unknown`, so the unknown-item check of the properties is no formality."""
    native = [json.loads(line)["item"]["type"] for line in data.splitlines()
              if json.loads(line)["type"] == "item.completed"]
    unknown = unknown_items(lane_log("codex-native", data))
    assert len(unknown) == native.count("hologram")


# ------------------------------------------------------------------------------ packaging


def test_the_package_needs_nothing_from_tests() -> None:
    """Users import the strategies and renderers from a wheel, which has no tests/ folder."""
    offenders = []
    for path in sorted(HARNESS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(HARNESS)}: {n}" for n in names
                          if n == "tests" or n.startswith("tests.")]
    assert offenders == []


def test_the_renderers_need_no_test_library() -> None:
    """Rendering (`harness.testing.render`, `harness.testing.abstract`) imports without
    hypothesis, pytest or syrupy: only `harness.testing.strategies` needs the `testing` extra."""
    modules = ["harness.testing.abstract", *sorted(
        f"harness.testing.render.{p.stem}" for p in (HARNESS / "testing" / "render").glob("*.py")
        if p.stem != "__init__")]
    probe = ("import sys\n"
             "for name in ('hypothesis', 'pytest', 'syrupy'):\n    sys.modules[name] = None\n"
             f"import {', '.join(modules)}\nprint('ok')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr
