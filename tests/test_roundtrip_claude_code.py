"""Round trip for the claude-code lane: abstract scenario -> Claude Code's stream-json -> lane.

The renderer (`harness.testing.render.claude_code`) is only worth something if it prints what Claude
Code 2.1.328 prints, so it is first held to the recorded catalog: for every scenario with a
recorded `claude-code.jsonl` (the scenario's commands and MCP answers taken from the recording),
the rendering has the recording's line skeleton and the lane logs both alike (strict). Then the
property draws scenarios and holds the lane's log of the rendering to `claude_code_view`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given

from harness import scenario as sc
from harness.conformance.equivalence import equivalent
from harness.contract.lane import RunContext, normalize_to_dicts
from harness.scenario import load_scenario
from harness.testing.render.claude import CLAUDE_CWD, claude_calls, exit_interpretation
from harness.testing.render.claude_code import (
    McpResult,
    bash_line,
    claude_code_view,
    claude_stream,
    claude_stream_lines,
)
from harness.testing.render.common import (
    failures_scenario,
    jsonl_bytes,
    read_jsonl,
    shells_scenario,
    stream_log,
)
from harness.testing.strategies import (
    AbstractScenario,
    ShellResult,
    abstract_scenarios,
    expected_failures,
    expected_log_of,
)
from lanes.claude_code import LANE as CLAUDE_CODE
from lanes.claude_code import result_text
from tests.lanekit import assert_matches

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDED = sorted(p.parent.name for p in CASSETTES.glob("*/claude-code.jsonl"))
EXCLUDED = {
    "approval_on_request": "a permission denial (system/permission_denied, a rejected "
                           "tool_result): abstract scenarios have no approval policy to deny by",
    "approval_untrusted": "a permission denial, as approval_on_request",
    **{name: "a user's decision over the control protocol (control_request / control_response "
             "lines): the renderer models headless runs that nobody answers"
       for name in RECORDED
       if b'"control_request"' in (CASSETTES / name / "claude-code.jsonl").read_bytes()},
    "user_mcp_approver": "a user's decision through the permission-prompt MCP tool (the "
                         "results' permission_decision meta): the renderer models headless "
                         "runs that nobody answers",
}
"""Recorded scenarios the fidelity check leaves out, with the reason."""
_TOOLU = re.compile(r"^toolu_r(\d+)s(\d+)_\d+$")


def lane_log(stream: bytes) -> list[dict[str, Any]]:
    return stream_log(CLAUDE_CODE, stream)


# ------------------------------------------------------------------------------ fidelity


def from_recording(name: str) -> tuple[AbstractScenario, dict[tuple[int, int, int], McpResult]]:
    """The scenario with what its commands and MCP tools answered in the recorded run."""
    scenario = load_scenario(CASSETTES / name / "scenario.yaml")
    bare = AbstractScenario(scenario, {})
    lines = read_jsonl(CASSETTES / name / "claude-code.jsonl")
    kept = {b["tool_use_id"]: (b, line.get("tool_use_result")) for line in lines
            if line["type"] == "user" for b in line["message"]["content"]
            if b.get("type") == "tool_result"}
    shells: dict[tuple[int, int, int], ShellResult] = {}
    mcps: dict[tuple[int, int, int], McpResult] = {}
    for line in lines:
        for block in line["message"]["content"] if line["type"] == "assistant" else []:
            match = _TOOLU.match(str(block.get("id", "")))
            if block.get("type") != "tool_use" or match is None:
                continue
            run, step = int(match.group(1)), int(match.group(2))
            where = claude_calls(bare, run, step, CLAUDE_CWD)[block["id"]].where
            result, answer = kept[block["id"]]
            if where is None:
                continue
            if block["name"] == "Bash":
                shells[where] = _shell(answer)
            elif block["name"].startswith("mcp__"):
                mcps[where] = McpResult(result_text(result["content"]),
                                        bool(result.get("is_error")))
    return AbstractScenario(scenario, shells), mcps


def _shell(answer: Any) -> ShellResult:
    """A recorded Bash result back as (exit code, output): an interpreted exit was 1; output
    Claude Code saved to a file is its kept `stdout` prefix, then filler up to the recorded
    size (nothing Claude Code prints comes from the part the recording does not hold)."""
    if isinstance(answer, dict):
        code = 1 if answer.get("returnCodeInterpretation") else 0
        stdout = str(answer["stdout"])
        size = answer.get("persistedOutputSize")
        if isinstance(size, int):
            stdout += "x" * (size - len(stdout.encode("utf-8")) - 1) + "\n"
        return ShellResult(code, stdout)
    match = re.match(r"^Error: Exit code (\d+)\n?", str(answer))
    assert match is not None, answer
    return ShellResult(int(match.group(1)), str(answer)[match.end():])


def skeleton(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each line is, leaving out ids minted per run, texts the stub scripted per
    runtime and numbers: type, subtype, message id, block type, tool name and id, the shape of
    `tool_use_result`, the error fields of a failed call."""
    out: list[tuple[Any, ...]] = []
    for line in lines:
        kind = line["type"]
        if kind == "system":
            out.append((kind, line["subtype"]))
        elif kind == "assistant":
            message = line["message"]
            synthetic = message["model"] == "<synthetic>"
            block = message["content"][0]
            out.append((kind, len(message["content"]), None if synthetic else message["id"],
                        block["type"], block.get("name"), block.get("id"),
                        line.get("error"), line.get("api_error_status")))
        elif kind == "user":
            block = line["message"]["content"][0]
            kept = line.get("tool_use_result")
            shape = sorted(kept) if isinstance(kept, dict) else type(kept).__name__
            deferred = kept.get("total_deferred_tools") if isinstance(kept, dict) else None
            out.append((kind, len(line["message"]["content"]), block["tool_use_id"],
                        bool(block.get("is_error")), shape, deferred))
        else:
            out.append((kind, line["subtype"], line["is_error"], line["terminal_reason"],
                        line["api_error_status"]))
    return out


def _cwd(scenario: sc.Scenario) -> str:
    sub = scenario.settings.cwd
    return CLAUDE_CWD if sub in ("", ".") else f"{CLAUDE_CWD}/{sub}"


def test_exclusions_name_recorded_scenarios() -> None:
    """Every excluded scenario is a recorded one (an exclusion never outlives its cassette)."""
    assert set(EXCLUDED) <= set(RECORDED)


@pytest.mark.parametrize("name", [n for n in RECORDED if n not in EXCLUDED])
def test_rendering_is_what_claude_code_printed(name: str) -> None:
    """Fidelity: the rendering of a recorded scenario has the recorded stream's line skeleton,
    and the claude-code lane logs it strictly equivalent to the recording, with the same
    command exit codes and outputs and the same turn failure messages."""
    abstract, mcps = from_recording(name)
    recorded_path = CASSETTES / name / "claude-code.jsonl"
    rendered = claude_stream(abstract, mcps, _cwd(abstract.scenario))
    assert skeleton(rendered) == skeleton(read_jsonl(recorded_path))
    recorded = normalize_to_dicts(CLAUDE_CODE, recorded_path, RunContext())
    actual = lane_log(jsonl_bytes(rendered))
    verdict = equivalent(recorded, actual, "strict", a_noise_tools=CLAUDE_CODE.noise_tools,
                         b_noise_tools=CLAUDE_CODE.noise_tools, labels=("recorded", "rendered"))
    assert verdict.equivalent, verdict.diff
    assert _outcomes(actual) == _outcomes(recorded)


def _outcomes(events: list[dict[str, Any]]) -> list[Any]:
    return [(e["item"]["exit_code"], e["item"]["output"]) if e["type"] == "item.completed"
            else e["error"]["message"] for e in events
            if e["type"] == "turn.failed" or (e["type"] == "item.completed"
                                              and e["item"]["kind"] == "command_execution")]


def test_large_output_is_saved_to_a_file_as_claude_code_does() -> None:
    """Fidelity of the persisted-output path (the catalog scenario replays only the kept 30 000
    characters): `seq 1 300000` renders the recorded tool_result preview, `stdout` prefix and
    `persistedOutputSize`, apart from the file name Claude Code draws at random."""
    output = "".join(f"{n}\n" for n in range(1, 300_001))
    content, is_error, kept = bash_line("seq 1 300000", ShellResult(0, output))
    recorded = next(line for line in read_jsonl(CASSETTES / "large_output" / "claude-code.jsonl")
                    if line["type"] == "user")
    block, answer = recorded["message"]["content"][0], recorded["tool_use_result"]
    assert not is_error and block["is_error"] is False

    def unplaced(text: str) -> str:
        return re.sub(r"Full output saved to: \S+", "Full output saved to: <file>", text)

    assert unplaced(content) == unplaced(block["content"])
    assert {k: v for k, v in kept.items() if k != "persistedOutputPath"} == \
        {k: v for k, v in answer.items() if k != "persistedOutputPath"}


@pytest.mark.parametrize(("command", "code", "expected"), [
    ("test -f README.md", 1, "Condition is false"),
    ("grep x f", 1, "No matches found"),
    ("grep x f", 2, None),
    ("cd src && git -C . diff --stat", 1, "Files differ"),
    ("ls | grep x", 1, "No matches found"),
    ("grep x f | wc -l", 1, None),
    ("git log", 1, None),
    ("cat f", 1, None),
    ("test -f x", 0, None),
])
def test_exit_interpretation(command: str, code: int, expected: str | None) -> None:
    """Claude Code reads exit 1 of grep/test/find/diff (as the last command) as an answer."""
    assert exit_interpretation(command, code) == expected


# ------------------------------------------------------------------------------ the property


@given(abstract_scenarios())
@example(shells_scenario([("grep x f", 1, ""), ("test -f x", 1, "no\n"), ("grep y", 2, "grep: y"),
                  ("ls | grep z", 1, "\n"), ("git diff --quiet", 1, "")]))
@example(shells_scenario([("a", 0, ""), ("b", 0, "  \n\t"), ("c", 0, "\n\nlead\n"), ("d", 3, ""),
                  ("e", 0, "🙂 " * 12_000), ("f", 0, "é" * 40_000), ("g", 1, "x" * 40_000)]))
@example(failures_scenario([sc.FailureSpec(http_status=429, message="slow down"),
                    sc.FailureSpec(http_status=529, message="Overloaded"),
                    sc.FailureSpec(http_status=503, message="Unavailable."),
                    sc.FailureSpec(stream_error="rate_limit_exceeded", message="slow"),
                    sc.FailureSpec(stream_error="overloaded", message="busy")]))
def test_claude_code_stream_round_trip(abstract: AbstractScenario) -> None:
    """lane(render(s)) == claude_code_view(s) (strict) for Claude Code's stream-json read by
    the claude-code lane: schema-valid, ordering rules kept, every run one session (resumed
    after the first, failed runs included) holding one turn whose completed items are the view's
    in order (Read before edits, a Write/Edit per file, `rm` for deletes, outputs as
    `tool_use_result.stdout`, interpreted exits without a code), and a failed run's turn failing
    with the kind of its last attempt's `api_error_status`; every command's exit code and output
    carried whole."""
    actual = lane_log(claude_stream_lines(abstract))
    assert_matches(CLAUDE_CODE, actual, abstract,
                   expected_log_of(claude_code_view(abstract), expected_failures(abstract)))
