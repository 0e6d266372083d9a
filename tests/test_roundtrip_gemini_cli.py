"""Round trip for the gemini-cli lane: abstract scenario -> Gemini CLI stream-json -> lane.

`gemini_stream_lines` (`harness.testing.render.gemini_cli`) writes what Gemini CLI 0.61.0 prints
for a scenario; the property holds the lane's log of it to `gemini_cli_view`. The renderer is worth
only what it shares with the real CLI, so `test_renderer_matches_every_recording` renders every
recorded scenario it can express and holds the lane's log of that to the lane's log of the
recording (strict equivalence, commands' outputs equal).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from harness import scenario as sc
from harness.conformance.equivalence import equivalent
from harness.conformance.gate import run_context
from harness.contract.lane import RunContext, normalize_to_dicts
from harness.record.cassette import read_http_cassette
from harness.record.recording import run_scenario
from harness.record.runtimes.gemini import DRIVER
from harness.scenario import load_scenario
from harness.testing.render.common import read_jsonl, stream_log
from harness.testing.render.gemini import gemini_origins
from harness.testing.render.gemini_cli import (
    CliWorld,
    ToolOutcome,
    gemini_cli_view,
    gemini_stream_lines,
)
from harness.testing.strategies import (
    AbstractScenario,
    ShellResult,
    abstract_scenarios,
    expected_log_of,
)
from lanes.gemini_cli import LANE as GEMINI_CLI
from tests.lanekit import assert_matches, command_results

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"

EXCLUDED: dict[str, str] = {
    "approval_on_request": "headless `--approval-mode default` drops the shell tool "
                           "(tool_not_registered); the renderer models yolo runs",
    "approval_untrusted": "as approval_on_request",
}
"""Recorded scenarios the renderer cannot express, with the reason."""


def lane_log(stream: bytes, context: RunContext | None = None) -> list[dict[str, Any]]:
    return stream_log(GEMINI_CLI, stream, context)


@given(abstract_scenarios())
def test_gemini_cli_stream_round_trip(abstract: AbstractScenario) -> None:
    """lane(render(s)) == gemini_cli_view(s) (strict), schema-valid and keeping the ordering
    rules, every command's output and (null) exit code carried whole: the gemini-cli lane logs
    exactly what Gemini CLI's stream-json shows of the scenario, no more, no less."""
    items, failures = gemini_cli_view(abstract)
    assert_matches(GEMINI_CLI, lane_log(gemini_stream_lines(abstract)), abstract,
                   expected_log_of(items, failures))


# ------------------------------------------------------------------------------ fidelity


_FIELD = re.compile(r"\n(?:Exit Code|Error|Signal|Background PIDs|Process Group PGID): ")
_TRUNCATED = "Output too large."


def recorded_world(directory: Path) -> CliWorld:
    """The scenario as scripted plus what its tools really returned, read from the recording:
    each shell command's raw output and exit code from the functionResponse Gemini CLI sent the
    model (gemini.http.yaml), not from the display under test, so `shell_display` is checked
    against what the CLI printed (cassettes/multi_command: `Command exited with code: 1`). The
    CLI sends that output already ANSI-stripped and trimmed, so those two rules are checked by
    the live quirk test. MCP answers come from the tool_result lines (the server's text)."""
    scenario = load_scenario(directory / "scenario.yaml")
    sent = _function_responses(directory / "gemini.http.yaml")
    shown = {line["tool_id"]: line for line in read_jsonl(directory / "gemini-cli.jsonl")
             if line["type"] == "tool_result"}
    abstract = AbstractScenario(scenario, {})
    results: dict[tuple[int, int, int], ShellResult] = {}
    overrides: dict[str, ToolOutcome] = {}
    for call_id, where in gemini_origins(abstract).items():
        block = _block(scenario, where)
        for tool_id, line in shown.items():
            if tool_id.endswith("__" + call_id) and isinstance(block, sc.ShellBlock):
                response = sent.get(call_id, "")
                results[where] = ShellResult(_exit_code(response),
                                             _raw_output(response, line))
            elif tool_id.endswith("__" + call_id) and isinstance(block, sc.McpBlock):
                error = line.get("error")
                overrides[call_id] = ToolOutcome(
                    line.get("output"), (error["type"], error["message"]) if error else None)
    return CliWorld(AbstractScenario(scenario, results), overrides)


def _raw_output(response: str, shown: dict[str, Any]) -> str:
    """The command's output as run_shell_command reported it to the model: after `Output: `,
    up to the next field, `(empty)` for none. A response the CLI truncated keeps only the ends
    (the whole is in a file the recording does not hold), so there the display stands in."""
    if response.startswith(_TRUNCATED):
        return str(shown.get("output", ""))
    start = response.index("Output: ") + len("Output: ")
    end = _FIELD.search(response, start)
    output = response[start:end.start() if end else len(response)]
    return "" if output == "(empty)" else output


def _block(scenario: sc.Scenario, where: tuple[int, int, int]) -> sc.Block | None:
    step = scenario.runs[where[0]].steps[where[1]]
    return step[where[2]] if isinstance(step, list) else None


def _function_responses(path: Path) -> dict[str, str]:
    """functionResponse id -> its `output` text (else the response as JSON), over every
    request of the cassette."""
    found: dict[str, str] = {}
    for interaction in read_http_cassette(path):
        body = json.loads(interaction.request.body or b"{}")
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                response = part.get("functionResponse")
                if isinstance(response, dict):
                    answer = response.get("response")
                    output = answer.get("output") if isinstance(answer, dict) else None
                    found[str(response.get("id"))] = (output if isinstance(output, str)
                                                      else json.dumps(answer))
    return found


def _exit_code(sent: str) -> int:
    match = re.search(r"Exit Code: (-?\d+)", sent)
    return int(match.group(1)) if match else 0


RECORDED = sorted(p.parent.name for p in CASSETTES.glob("*/gemini-cli.jsonl"))


def test_exclusions_name_recorded_scenarios() -> None:
    """Every excluded scenario is a recorded one (an exclusion never outlives its cassette)."""
    assert set(EXCLUDED) <= set(RECORDED)


@pytest.mark.parametrize("name", [n for n in RECORDED if n not in EXCLUDED])
def test_renderer_matches_every_recording(name: str) -> None:
    """Fidelity: for each recorded scenario, lane(render(scenario)) is strictly equivalent to
    lane(recording), commands' outputs equal (the scenario's cwd, sandbox and approval policy
    come from the recording's meta file for both). Scenarios in `EXCLUDED` say why not."""
    directory = CASSETTES / name
    context = run_context(directory, GEMINI_CLI.native_file)
    recorded = normalize_to_dicts(GEMINI_CLI, directory / "gemini-cli.jsonl", context)
    rendered = lane_log(gemini_stream_lines(recorded_world(directory)), context)
    verdict = equivalent(recorded, rendered, "strict", labels=("recording", "rendered"))
    assert verdict.equivalent, verdict.diff
    assert command_results(rendered) == command_results(recorded)


# ------------------------------------------------------------------------------ live


def _quirk_scenarios() -> list[tuple[AbstractScenario, int]]:
    """(scenario, runs the CLI prints) holding every rule the recordings do not show: ANSI and
    thoughts in text, refused calls, a shell display, 429/503 wording, a broken stream after
    tool results, a thoughts-only answer; and a run 0 failing at once (nothing resumable)."""
    text = sc.TextBlock

    def shell(command: str) -> sc.ShellBlock:
        return sc.ShellBlock(shell=sc.ShellSpec(command=command))

    def fail(status: int | None, stream: str | None = None) -> sc.FailStep:
        return sc.FailStep(fail=sc.FailureSpec(http_status=status, stream_error=stream,
                                               message="Rate limit reached for requests."))
    red = "printf '  \\033[31mred\\033[0m\\n\\n'; exit 3"
    first: list[sc.Step] = [
        [text(text="a \x1b[31mred\x1b[0m x"), shell(red), shell("\ufeff"),
         sc.WebSearchBlock(web_search=sc.WebSearchSpec(query=" ")),
         sc.PlanBlock(plan=[sc.PlanEntrySpec(text="a", status="in_progress")] * 2),
         sc.PatchBlock(patch=sc.PatchSpec(update=[sc.FileUpdate(path="f.txt", old="x",
                                                                new="x")]))],
        [text(text="b"), sc.ReasoningBlock(reasoning=sc.ReasoningSpec(text="t")),
         text(text="c")]]
    runs = [sc.Run(prompt="⟦run 0⟧ go", steps=first),
            sc.Run(prompt="⟦run 1⟧ go", steps=[fail(429)]),
            sc.Run(prompt="⟦run 2⟧ go", steps=[fail(503)]),
            sc.Run(prompt="⟦run 3⟧ go", steps=[[shell("true")], fail(None, "server_error")]),
            sc.Run(prompt="⟦run 4⟧ go", steps=[[sc.ReasoningBlock(
                reasoning=sc.ReasoningSpec(text="hm"))]])]
    quirks = sc.Scenario(name="gemini_cli_quirks", description="", runs=runs,
                         settings=sc.Settings(workspace={"f.txt": "x\n"}),
                         expect=sc.Expect(turns=[sc.ExpectedTurn()] * len(runs)))
    results = {(0, 0, 1): ShellResult(3, "  \x1b[31mred\x1b[0m\n\n"),
               (3, 0, 0): ShellResult(0, "")}
    lost = sc.Scenario(name="gemini_cli_unsaved", description="",
                       runs=[sc.Run(prompt="⟦run 0⟧ go", steps=[fail(429)]),
                             sc.Run(prompt="⟦run 1⟧ go", steps=[[text(text="ok")]])],
                       expect=sc.Expect(turns=[sc.ExpectedTurn()] * 2))
    return [(AbstractScenario(quirks, results), 5), (AbstractScenario(lost, {}), 1)]


@pytest.mark.runtime
@pytest.mark.parametrize("case", range(2))
def test_renderer_matches_the_real_cli_on_its_quirks(case: int, tmp_path: Path) -> None:
    """Fidelity beyond the catalog: the real Gemini CLI 0.61.0 runs `_quirk_scenarios` against
    the stub, which sees nothing wrong in its requests (it knows that a resumed run whose first
    call gets an HTTP error is not saved, runs 1 and 2 here: `http_failure_first`); the lane's
    log of its stdout is strictly equivalent to the lane's log of the rendering, commands'
    outputs equal, and both print the same runs."""
    if not DRIVER.binary().exists():
        pytest.fail("Gemini CLI is not installed: harness runtimes install gemini")
    abstract, printed = _quirk_scenarios()[case]
    scenario = abstract.scenario
    outputs, stub = run_scenario(DRIVER, scenario, tmp_path, DRIVER.responder(scenario))
    assert stub.log.problems == []
    real = lane_log(b"".join(out.stdout for _, out in outputs))
    rendered = lane_log(gemini_stream_lines(abstract))
    verdict = equivalent(real, rendered, "strict", labels=("gemini", "rendered"))
    assert verdict.equivalent, verdict.diff
    assert command_results(rendered) == command_results(real)
    assert sum(e["type"] == "session.started" for e in rendered) == printed
