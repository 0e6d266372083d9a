"""Claude Code's permission-prompt MCP tool variant: a client that decides approvals as an MCP
tool Claude Code calls per prompt (`--permission-prompt-tool mcp__approver__decide`), recorded
in `user_mcp_approver`. Nothing announces such a prompt on stdout: the lane reads the decision
from the tool result's `permission_decision`, and must not mistake a rule's allow for one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.claude import APPROVER_TOOL, DRIVER, mcp_tool_channel
from harness.scenario import load_scenario
from lanes.claude_code import unannounced_grant

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "cassettes" / "user_mcp_approver" / "scenario.yaml"
APPROVER = REPO / "cassettes" / "_fixtures" / "mcp_approver.py"


def meta(**verdict: Any) -> dict[str, Any]:
    return {"tool_result_meta": [{"id": "t1", "permission_decision": verdict}]}


@pytest.mark.parametrize(("line", "decision"), [
    (meta(decision="accept", source="user_temporary"), "approved"),
    (meta(decision="accept", source="user_permanent"), "approved_for_session"),
    (meta(decision="accept", source="user_temporary", reason_type="rule"), None),
    (meta(decision="accept", source="config"), None),
    (meta(decision="reject", source="user_reject"), None),
    ({"tool_result_meta": [{"id": "other", "permission_decision": {
        "decision": "accept", "source": "user_temporary"}}]}, None),
    ({}, None),
])
def test_only_a_users_prompted_allow_is_an_unannounced_grant(line: dict[str, Any],
                                                             decision: str | None) -> None:
    assert unannounced_grant(line, "t1") == decision


def test_the_mcp_tool_channel_runs_claude_with_the_approver_as_prompt_tool(
        tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO)
    assert mcp_tool_channel(scenario)
    home = tmp_path / "home"
    home.mkdir()
    args = DRIVER.args(RunPlan(scenario, 0, tmp_path / "ws", home, "http://127.0.0.1:9"))
    assert args[1:3] == ["-p", scenario.runs[0].prompt]
    assert args[args.index("--permission-prompt-tool") + 1] == APPROVER_TOOL
    assert "--input-format" not in args
    config = json.loads(Path(args[args.index("--mcp-config") + 1]).read_text())
    approver = config["mcpServers"]["approver"]
    assert approver["command"] == sys.executable and approver["args"][0] == str(APPROVER)
    assert json.loads(approver["args"][1]) == [
        {"decision": "approve"}, {"decision": "deny", "message": "Not that one."}]


def _call(script: list[dict[str, Any]], calls: int) -> list[dict[str, Any]]:
    requests = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}},
                {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]
    requests += [{"jsonrpc": "2.0", "id": 2 + n, "method": "tools/call", "params": {
        "name": "decide", "arguments": {"tool_name": "Bash", "input": {"command": f"c{n}"},
                                        "tool_use_id": f"t{n}"}}} for n in range(calls)]
    done = subprocess.run([sys.executable, str(APPROVER), json.dumps(script)],
                          input="".join(json.dumps(r) + "\n" for r in requests), text=True,
                          capture_output=True, check=True, timeout=30)
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    return [json.loads(r["result"]["content"][0]["text"]) for r in replies[2:]]


def test_the_approver_answers_the_script_in_order_and_denies_beyond_it() -> None:
    answers = _call([{"decision": "approve"}, {"decision": "deny", "message": "No."}], 3)
    assert answers == [
        {"behavior": "allow", "updatedInput": {"command": "c0"}},
        {"behavior": "deny", "message": "No."},
        {"behavior": "deny", "message": "The user denied this."},
    ]
