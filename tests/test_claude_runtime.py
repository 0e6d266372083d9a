"""Live: each recorded scenario re-run on the real Claude Code binary against the stub.

The fresh stream, templated like the recording, must normalize to exactly the recorded log (ids,
paths and timings are templated, so strict equality holds); the stub must report no problems.
Runs in CI after `harness runtimes install claude`; about a second per scenario.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness.contract.lane import LaneInput, RunContext
from harness.record.recording import render_recording, run_scenario
from harness.record.runtimes.base import RunOutput, RunPlan
from harness.record.runtimes.claude import (
    DEFAULT_CANCEL,
    DEFAULT_DENIAL,
    DRIVER,
    ClaudeDriver,
    client_mode,
    permission_answer,
)
from harness.record.secrets import Scrubber
from harness.scenario import ClientDecision, Scenario, load_scenario
from lanes.claude_code import normalize

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDED = sorted(p.parent for p in CASSETTES.glob(f"*/{DRIVER.native_file}"))


def _log(data: bytes, name: str) -> list[dict[str, Any]]:
    source = LaneInput(stream=io.BytesIO(data), name=name)
    return [e.model_dump(mode="json") for e in normalize(source, RunContext())]


def test_catalog_is_recorded() -> None:
    """Every scenario Claude Code supports has a recording (the live tests below cover it)."""
    supported = {d.name for d in CASSETTES.glob("*/") if (d / "scenario.yaml").exists()
                 and load_scenario(d / "scenario.yaml").unsupported_reason("claude") is None}
    assert supported == {d.name for d in RECORDED}


@pytest.mark.runtime
@pytest.mark.parametrize("scenario_dir", RECORDED, ids=lambda p: p.name)
def test_rerun_matches_recording(scenario_dir: Path) -> None:
    assert DRIVER.binary().exists(), "run: harness runtimes install claude"
    scenario = load_scenario(scenario_dir / "scenario.yaml")
    with tempfile.TemporaryDirectory(prefix="harness-claude-live-") as tmp:
        outputs, stub = run_scenario(DRIVER, scenario, Path(tmp).resolve(),
                                     DRIVER.responder(scenario))
        texts = render_recording(DRIVER, scenario, outputs, stub,
                                 scrub=Scrubber.from_environment())
    assert stub.log.problems == []
    recorded = (scenario_dir / DRIVER.native_file).read_bytes()
    assert _log(texts.native.encode(), "fresh") == _log(recorded, "recorded")


# ------------------------------------------------------------------ client decisions (offline)

FAKE_CLI = '''#!{python}
"""Replays the CLI's side of a recorded control-protocol transcript: prints its stdout lines,
waits at each permission prompt for the client's answer, exits 0 only at stdin's EOF."""
import json, sys
lines = open({path!r}, encoding="utf-8").read().splitlines()
def from_client(line):
    data = json.loads(line)
    return (data.get("type") == "user" and data.get("session_id") == "") or (
        data.get("type") == "control_request" and data.get("request_id") == "req_init_1") or (
        data.get("type") == "control_response"
        and "behavior" in ((data.get("response") or {{}}).get("response") or {{}}))
for line in lines:
    if from_client(line):
        continue
    print(line, flush=True)
    data = json.loads(line)
    if (data.get("request") or {{}}).get("subtype") == "can_use_tool":
        while True:
            answer = sys.stdin.readline()
            if not answer:
                sys.exit(3)
            if json.loads(answer).get("type") == "control_response":
                break
    if data.get("type") == "result":
        break
sys.stdin.read()  # the client must close stdin after `result`
sys.exit(0)
'''


class _ReplayDriver(ClaudeDriver):
    """The Claude driver with the binary swapped for a replay of a recorded transcript."""

    def __init__(self, script: Path) -> None:
        super().__init__()
        self.script = script

    def binary(self) -> Path:
        return self.script


def _replay(tmp_path: Path, scenario_name: str, *, edit: Any = None) -> tuple[RunOutput, str]:
    """Run the driver's client mode against a replay of the scenario's recording; returns the
    run and the recorded transcript (client lines included)."""
    recorded = (CASSETTES / scenario_name / DRIVER.native_file).read_text(encoding="utf-8")
    source = tmp_path / "recorded.jsonl"
    source.write_text(recorded, encoding="utf-8")
    script = tmp_path / "fake-claude"
    script.write_text(FAKE_CLI.format(python=sys.executable, path=str(source)), encoding="utf-8")
    script.chmod(0o755)
    scenario = load_scenario(CASSETTES / scenario_name / "scenario.yaml")
    if edit is not None:
        scenario = edit(scenario)
    (tmp_path / "ws").mkdir()
    (tmp_path / "home").mkdir()
    plan = RunPlan(scenario, 0, tmp_path / "ws", tmp_path / "home", "http://127.0.0.1:9")
    return _ReplayDriver(script).run(plan), recorded


@pytest.mark.parametrize("name", ["user_approve", "user_approve_session", "user_deny",
                                  "user_cancel", "user_file_change_deny",
                                  "user_file_change_approve_session", "user_approve_amendment"])
def test_client_answers_as_recorded(tmp_path: Path, name: str) -> None:
    """The driver's transcript, replayed against the CLI's recorded side, is the recording byte
    for byte: the same initialize and prompt lines, each answer exactly as recorded (allow with
    the input, session rules from the request's suggestions, the deny message, interrupt), and
    stdin closed after `result` (the replay exits 0 only then)."""
    run, recorded = _replay(tmp_path, name)
    assert run.exit_code == 0, run.stderr
    assert b"[harness:" not in run.stderr
    assert run.stdout.decode() == recorded
    assert run.thread_id == "00000000-0000-4000-8000-000000000001"


def _answers(stdout: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(raw) for raw in stdout.splitlines()]
    return [line["response"]["response"] for line in lines
            if line.get("type") == "control_response"
            and "behavior" in line["response"].get("response", {})]


def test_client_reports_unscripted_and_unused(tmp_path: Path) -> None:
    """A prompt with no scripted answer left is denied and reported; a scripted answer never
    asked for is reported (the recording must not pass silently)."""
    def no_decision(scenario: Scenario) -> Scenario:
        """Run 0 loses its decision (run 1 keeps one, so the client still plays)."""
        data = scenario.model_dump()
        data["runs"][0]["steps"][0][0]["shell"]["client"] = None
        return Scenario.model_validate(data)

    def two_decisions(scenario: Scenario) -> Scenario:
        data = scenario.model_dump()
        data["runs"][0]["steps"].insert(1, [{"shell": {"command": "true",
                                                       "client": {"decision": "approve"}}}])
        return Scenario.model_validate(data)

    (tmp_path / "a").mkdir()
    run, _ = _replay(tmp_path / "a", "user_approve_session_resume", edit=no_decision)
    assert _answers(run.stdout) == [{"behavior": "deny", "message": DEFAULT_DENIAL}]
    assert b"[harness: unscripted permission prompt for Bash: denied]" in run.stderr
    (tmp_path / "b").mkdir()
    run, _ = _replay(tmp_path / "b", "user_approve", edit=two_decisions)
    assert b"[harness: scripted decision 'approve' was never asked for]" in run.stderr


BASH_REQUEST: dict[str, Any] = {
    "subtype": "can_use_tool", "tool_name": "Bash",
    "input": {"command": "touch made.txt", "description": "Create made.txt"},
    "permission_suggestions": [
        {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch made.txt"}],
         "behavior": "allow", "destination": "localSettings"},
        {"type": "addDirectories", "directories": ["/w"], "destination": "session"},
        {"type": "setMode", "mode": "acceptEdits", "destination": "session"}],
    "tool_use_id": "toolu_1"}
WRITE_REQUEST: dict[str, Any] = {
    "subtype": "can_use_tool", "tool_name": "Write",
    "input": {"file_path": "/w/NOTES.md", "content": "# Notes\n"},
    "permission_suggestions": [{"type": "setMode", "mode": "acceptEdits",
                                "destination": "session"}],
    "tool_use_id": "toolu_2"}


@pytest.mark.parametrize(("decision", "request_", "answer"), [
    ({"decision": "approve"}, BASH_REQUEST,
     {"behavior": "allow", "updatedInput": BASH_REQUEST["input"]}),
    ({"decision": "approve_for_session"}, BASH_REQUEST,
     {"behavior": "allow", "updatedInput": BASH_REQUEST["input"], "updatedPermissions": [
         {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch made.txt"}],
          "behavior": "allow", "destination": "session"}]}),
    ({"decision": "approve_for_session"}, WRITE_REQUEST,
     {"behavior": "allow", "updatedInput": WRITE_REQUEST["input"],
      "updatedPermissions": WRITE_REQUEST["permission_suggestions"]}),
    ({"decision": "approve_with_amendment", "amendment": ["touch"]}, BASH_REQUEST,
     {"behavior": "allow", "updatedInput": BASH_REQUEST["input"], "updatedPermissions": [
         {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch:*"}],
          "behavior": "allow", "destination": "userSettings"}]}),
    ({"decision": "deny", "message": "Not now."}, BASH_REQUEST,
     {"behavior": "deny", "message": "Not now."}),
    ({"decision": "deny"}, WRITE_REQUEST, {"behavior": "deny", "message": DEFAULT_DENIAL}),
    ({"decision": "cancel"}, BASH_REQUEST,
     {"behavior": "deny", "message": DEFAULT_CANCEL, "interrupt": True}),
])
def test_permission_answer(decision: dict[str, Any], request_: dict[str, Any],
                           answer: dict[str, Any]) -> None:
    """Each scripted decision becomes exactly this `can_use_tool` answer."""
    assert permission_answer(ClientDecision.model_validate(decision), request_) == answer


def test_client_mode_arguments() -> None:
    """Client decisions switch to stream-json input with stdio permission prompts (no prompt
    argument, mode default); scenarios without them keep `claude -p <prompt>`."""
    user = load_scenario(CASSETTES / "user_approve" / "scenario.yaml")
    plain = load_scenario(CASSETTES / "shell_ok" / "scenario.yaml")
    assert client_mode(user) and not client_mode(plain)
    plan = RunPlan(user, 0, Path("/w"), Path("/h"), "http://127.0.0.1:9")
    args = DRIVER.args(plan)[1:]
    assert args == ["-p", "--input-format", "stream-json", "--output-format", "stream-json",
                    "--verbose", "--permission-mode", "default",
                    "--permission-prompt-tool", "stdio"]
    plain_args = DRIVER.args(RunPlan(plain, 0, Path("/w"), Path("/h"), "http://127.0.0.1:9"))
    assert plain_args[1:3] == ["-p", plain.runs[0].prompt]
    assert "--permission-prompt-tool" not in plain_args
