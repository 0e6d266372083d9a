"""The gate tests itself: a fixed sample of mutants (one semantic regression in one lane's native
file, accepted into the goldens by `harness check --update-golden`) must make `harness check` fail
and name the scenario and the lane. The full set (every operator x lane x scenario) runs under
`nox -s mutations`; see `tests/gate_mutations.py`.

The sample covers every operator and every lane once or more and stays small: each mutant is two
gate runs over one scenario (about two seconds). It includes the mutants that once survived
(outputs that only one lane witnesses or that every runtime shortens its own way, or that a
lane's runtime never shows: the scenario outline now states those outputs, and a ledger excuse
for what a runtime never sends says what its lane shows instead (`shows`); a cancelled turn
whose flip left the interrupt in place), and these cases keep it so.

Operators whose fact no recording of a lane holds yet (acp: an exit code, a web search, a
plan: Gemini CLI over ACP sends none) are held to a hand-written transcript instead: each must
change the very field the lane reports.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from harness.contract.lane import LaneInput, RunContext
from lanes.acp import LANE as ACP
from tests.gate_mutations import (
    NATIVE_FILES,
    OPERATOR_NAMES,
    OPERATORS,
    ROOT,
    Mutant,
    mutate,
    run_baseline,
    run_mutant,
)

SAMPLE: list[tuple[str, str, str]] = [
    ("shell_ok", "codex-native.jsonl", "command"),
    ("shell_fail", "claude.http.yaml", "exit_code"),
    ("shell_ok", "gemini.http.yaml", "command_output"),
    ("hello", "codex.http.yaml", "answer_text"),
    ("multi_command", "gemini-cli.jsonl", "drop_item"),
    ("shell_ok", "claude-code.jsonl", "extra_item"),
    ("file_change", "codex.http.yaml", "file_path"),
    ("file_change", "gemini-cli.jsonl", "file_change_kind"),
    ("mcp_call", "claude-code.jsonl", "mcp_server"),
    ("mcp_call", "gemini.http.yaml", "mcp_tool"),
    ("mcp_call", "codex-native.jsonl", "mcp_arguments"),
    ("web_search", "claude.http.yaml", "search_query"),
    ("turn_failed_stream", "codex-native.jsonl", "turn_outcome"),
    ("approval_on_request", "claude-code.jsonl", "approval_decision"),
    ("large_output", "claude-code.jsonl", "command_output"),
    ("approval_reviewer_deny", "codex-native.jsonl", "command_output"),
    ("plan", "gemini-cli.jsonl", "plan_entry"),
    ("user_deny", "codex-app-server.jsonl", "approval_decision"),
    ("shell_fail", "codex-app-server.jsonl", "command_output"),
    ("user_file_change_cancel", "codex-app-server.jsonl", "file_change_kind"),
    ("user_cancel", "claude-code.jsonl", "turn_outcome"),
    ("shell_ok", "gemini-acp.jsonl", "command_output"),
    ("user_cancel", "gemini-acp.jsonl", "approval_decision"),
    ("user_file_change_cancel", "gemini-acp.jsonl", "turn_outcome"),
    ("mcp_call", "gemini-acp.jsonl", "mcp_arguments"),
    ("user_approve", "gemini-acp.jsonl", "exit_code"),
]
"""(scenario, native file, operator): each operator once, each lane two or more times."""


def test_sample_covers_every_operator_and_lane() -> None:
    assert {op for _, _, op in SAMPLE} == set(OPERATOR_NAMES)
    assert {native for _, native, _ in SAMPLE} == set(NATIVE_FILES)


@pytest.mark.parametrize(("scenario", "native", "operator"), SAMPLE,
                         ids=[f"{s}-{NATIVE_FILES[n]}-{o}" for s, n, o in SAMPLE])
def test_gate_kills_accepted_regression(scenario: str, native: str, operator: str) -> None:
    mutant = Mutant(scenario, native, operator)
    outcome = run_mutant(mutant)
    assert outcome.applicable, f"{mutant} does not apply to the catalog any more"
    assert f"{scenario}/{mutant.lane}" in outcome.golden_changed, \
        f"the lane's log did not change ({outcome.note}): the mutant tests nothing"
    assert outcome.killed, f"{mutant} survived [{outcome.note}]:\n{outcome.output[-3000:]}"
    assert outcome.named_scenario and outcome.named_lane, "\n".join(outcome.failures)


def test_unmutated_scenario_passes_the_same_procedure() -> None:
    """The control: without a mutation, accept-then-check passes, so a kill is the mutation's."""
    code, output = run_baseline("shell_ok")
    assert code == 0, output[-3000:]


@pytest.mark.parametrize("native", sorted(NATIVE_FILES))
def test_operators_are_deterministic_and_leave_the_original_alone(native: str) -> None:
    path = ROOT / "cassettes" / "shell_ok" / native
    text = path.read_text(encoding="utf-8")
    applied = 0
    for name, operator in OPERATORS.items():
        first = operator(text, native)
        assert first == operator(text, native), name
        assert path.read_text(encoding="utf-8") == text
        if first is not None:
            applied += 1
            assert first != text
            assert mutate(name, native, text) is not None
    assert applied >= 6, f"only {applied} operators apply to shell_ok/{native}"


def _acp_log(text: str) -> list[dict[str, Any]]:
    events = ACP.normalize(LaneInput(io.BytesIO(text.encode()), "t.jsonl"), RunContext())
    return [e.model_dump(mode="json") for e in events]


def _acp_items(text: str) -> list[dict[str, Any]]:
    return [e["item"] for e in _acp_log(text) if e["type"] == "item.completed"]


def _acp_transcript() -> str:
    """An ACP agent that sends what Gemini CLI 0.61 does not: a plan, a web search with its
    query in `rawInput`, a command's `rawOutput` with output and exit code."""
    def agent(msg: dict[str, Any]) -> dict[str, Any]:
        return {"dir": "in", "msg": {"jsonrpc": "2.0", **msg}}

    def client(msg: dict[str, Any]) -> dict[str, Any]:
        return {"dir": "out", "msg": {"jsonrpc": "2.0", **msg}}

    def update(**fields: Any) -> dict[str, Any]:
        return agent({"method": "session/update",
                      "params": {"sessionId": "s1", "update": fields}})
    lines = [
        client({"id": 0, "method": "initialize", "params": {"protocolVersion": 1}}),
        agent({"id": 0, "result": {"protocolVersion": 1, "agentInfo": {"name": "any-agent"}}}),
        client({"id": 1, "method": "session/new", "params": {"cwd": "/w", "mcpServers": []}}),
        agent({"id": 1, "result": {"sessionId": "s1"}}),
        client({"id": 2, "method": "session/prompt", "params": {"sessionId": "s1",
                                                                "prompt": []}}),
        update(sessionUpdate="plan", entries=[
            {"content": "look it up", "status": "in_progress", "priority": "high"},
            {"content": "answer", "status": "pending", "priority": "high"}]),
        update(sessionUpdate="tool_call", toolCallId="web_search__1", title="Searching",
               kind="search", status="in_progress", rawInput={"query": "acp spec"}),
        update(sessionUpdate="tool_call_update", toolCallId="web_search__1",
               status="completed"),
        update(sessionUpdate="tool_call", toolCallId="t2", title="ls", kind="execute",
               status="in_progress", rawInput={"command": "ls"}),
        update(sessionUpdate="tool_call_update", toolCallId="t2", status="completed",
               rawOutput={"output": "a.txt", "exit_code": 0}),
        update(sessionUpdate="plan", entries=[
            {"content": "look it up", "status": "completed", "priority": "high"},
            {"content": "answer", "status": "completed", "priority": "high"}]),
        update(sessionUpdate="agent_message_chunk", content={"type": "text", "text": "Done."}),
        agent({"id": 2, "result": {"stopReason": "end_turn"}}),
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


@pytest.mark.parametrize(("operator", "kind", "field", "expected"), [
    ("exit_code", "command_execution", "exit_code", 1),
    ("command_output", "command_execution", "output", "MUTATED a.txt"),
    ("search_query", "web_search", "query", "MUTATED acp spec"),
    ("plan_entry", "plan", "entries", [{"text": "MUTATED look it up", "status": "completed"},
                                       {"text": "answer", "status": "completed"}]),
])
def test_acp_operators_change_the_fact_the_lane_reports(operator: str, kind: str, field: str,
                                                        expected: Any) -> None:
    text = _acp_transcript()
    found = mutate(operator, "gemini-acp.jsonl", text)
    assert found is not None, f"{operator} does not apply"
    before = [i for i in _acp_items(text) if i["kind"] == kind]
    after = [i for i in _acp_items(found.text) if i["kind"] == kind]
    assert len(after) == len(before) == 1
    assert after[0][field] == expected != before[0][field]
    assert {k: v for k, v in after[0].items() if k != field} == \
        {k: v for k, v in before[0].items() if k != field}, "only that field changes"
