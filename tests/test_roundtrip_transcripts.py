"""Round trips for the JSON-RPC transcript lanes: abstract scenario -> transcript -> lane.

`app_server_transcript` (`harness.testing.render.codex_app_server`) writes a client's transcript of
`codex app-server`, `acp_transcript` (`harness.testing.render.acp`) one of an ACP agent; each
property holds the lane's strict log of a drawn scenario's transcript to that lane's view of the
scenario. The app-server renderer is first held to the recorded catalog: for every recorded
scenario it can express, the lane logs the rendering and the recording alike (strict), the
commands' results taken from the recording. The ACP renderer writes ACP's optional fields
(`rawInput`, `rawOutput`, end-of-turn `usage`) that Gemini CLI's recordings lack, so it is held
to the lane's reading of ACP, not to those recordings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given

from harness import scenario as sc
from harness.conformance.equivalence import equivalent
from harness.contract.lane import RunContext, normalize_to_dicts
from harness.scenario import load_scenario
from harness.testing.render.acp import acp_failures, acp_transcript, acp_view
from harness.testing.render.codex_app_server import app_server_transcript, app_server_view
from harness.testing.render.codex_native import codex_native_failures
from harness.testing.render.common import (
    failures_scenario,
    read_jsonl,
    shells_scenario,
    stream_log,
)
from harness.testing.strategies import (
    AbstractScenario,
    ShellResult,
    abstract_scenarios,
    expected_log_of,
)
from lanes.acp import LANE as ACP
from lanes.codex_app_server import LANE as APP_SERVER
from tests.lanekit import assert_matches

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDED = sorted(p.parent.name for p in CASSETTES.glob(f"*/{APP_SERVER.native_file}"))
EXCLUDED = {
    **{name: "a user's approval decision: abstract scenarios have no approval policy to decide "
             "by" for name in RECORDED if name.startswith("user_")},
    "mcp_call": "the real MCP server's answers (the renderer answers every MCP call "
                "`<tool> done`)",
}
"""Recorded app-server scenarios the fidelity check leaves out, with the reason."""
_CALL = re.compile(r"^call_r(\d+)s(\d+)b(\d+)$")
_FAILURES = [sc.FailureSpec(http_status=status, message="slow down")
             for status in (429, 500, 503, 529)] + \
    [sc.FailureSpec(stream_error="rate_limit_exceeded", message="cut")]


# ------------------------------------------------------------------------------ app-server


def recorded_commands(path: Path) -> dict[tuple[int, int, int], ShellResult]:
    """What each recorded command returned, by the (run, step, block) its item id names."""
    results: dict[tuple[int, int, int], ShellResult] = {}
    for line in read_jsonl(path):
        msg = line["msg"]
        item = msg.get("params", {}).get("item", {}) if msg.get("method") == "item/completed" \
            else {}
        match = _CALL.match(str(item.get("id")))
        if item.get("type") == "commandExecution" and match and item["exitCode"] is not None:
            where = (int(match[1]), int(match[2]), int(match[3]))
            results[where] = ShellResult(item["exitCode"], item["aggregatedOutput"] or "")
    return results


def test_exclusions_name_recorded_scenarios() -> None:
    assert set(EXCLUDED) <= set(RECORDED)
    assert len(RECORDED) - len(EXCLUDED) >= 15  # the fidelity check covers most recordings


@pytest.mark.parametrize("name", [n for n in RECORDED if n not in EXCLUDED])
def test_app_server_rendering_reads_like_the_recording(name: str) -> None:
    """Fidelity: the lane's strict log of the rendered transcript is strictly equivalent to its
    log of the recorded one (items, texts, commands, outputs, exit codes, failures, resumes)."""
    path = CASSETTES / name / APP_SERVER.native_file
    abstract = AbstractScenario(load_scenario(path.parent / "scenario.yaml"),
                                recorded_commands(path))
    rendered = stream_log(APP_SERVER, app_server_transcript(abstract))
    recorded = normalize_to_dicts(APP_SERVER, path, RunContext())
    verdict = equivalent(recorded, rendered, "strict", labels=("recorded", "rendered"))
    assert verdict.equivalent, verdict.diff


@given(abstract_scenarios())
@example(shells_scenario([("grep x f", 1, ""), ("printf 'a\\n'", 0, "a\n"), ("false", 2, "")]))
@example(failures_scenario(_FAILURES))
def test_app_server_transcript_round_trip(abstract: AbstractScenario) -> None:
    """lane(render(s)) == app_server_view(s) (strict) for the codex-app-server lane, a failed
    run's kind as Codex's `codexErrorInfo` and message tell it (`codex_native_failures`)."""
    actual = stream_log(APP_SERVER, app_server_transcript(abstract))
    assert_matches(APP_SERVER, actual, abstract,
                   expected_log_of(app_server_view(abstract), codex_native_failures(abstract)))


# ------------------------------------------------------------------------------ acp


def _adjacent_texts() -> AbstractScenario:
    """Texts and thoughts side by side: ACP streams them as chunks that join one item."""
    blocks: list[sc.Block] = [
        sc.TextBlock(text="a"), sc.TextBlock(text="b"),
        sc.ReasoningBlock(reasoning=sc.ReasoningSpec(text="t1")),
        sc.ReasoningBlock(reasoning=sc.ReasoningSpec(text="t2")),
        sc.ReasoningBlock(reasoning=sc.ReasoningSpec(text="x", encrypted=True)),
        sc.ReasoningBlock(reasoning=sc.ReasoningSpec(text="t3")), sc.TextBlock(text="c")]
    scenario = sc.Scenario(name="chunks", description="", runs=[
        sc.Run(prompt="⟦run 0⟧ go", steps=[blocks])], expect=sc.Expect(
        turns=[sc.ExpectedTurn()]))
    return AbstractScenario(scenario, {})


def test_acp_joins_adjacent_chunks_into_one_item() -> None:
    """The view's joining is what the lane does (and what a per-block view would miss)."""
    actual = stream_log(ACP, acp_transcript(_adjacent_texts()))
    texts = [(e["item"]["kind"], e["item"]["text"], e["item"].get("encrypted"))
             for e in actual if e["type"] == "item.completed"]
    assert texts == [("assistant_message", "ab", None), ("reasoning", "t1t2", False),
                     ("reasoning", "", True), ("reasoning", "t3", False),
                     ("assistant_message", "c", None)]


@given(abstract_scenarios())
@example(_adjacent_texts())
@example(failures_scenario(_FAILURES))
def test_acp_transcript_round_trip(abstract: AbstractScenario) -> None:
    """lane(render(s)) == acp_view(s) (strict) for the acp lane, a failed run's kind from the
    HTTP status its error answer carries (`acp_failures`)."""
    actual = stream_log(ACP, acp_transcript(abstract))
    assert_matches(ACP, actual, abstract,
                   expected_log_of(acp_view(abstract), acp_failures(abstract)))
