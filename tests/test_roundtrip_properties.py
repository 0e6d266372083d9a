"""Round trips: abstract scenario -> wire encoder / native renderer -> lane -> normalized log.

Each property draws a provider-neutral scenario (`harness.strategies.abstract_scenarios`), plays
it through one provider's responder with an in-process runtime simulator (`tests/roundtrip.py`),
reads the resulting cassette with that provider's API lane, and holds the log to
`expected_log(scenario)` by strict equivalence. A failure is a bug in the encoder, the simulator's
idea of the runtime, or the lane: the shrunk example names which block.

Runs may end in a failed model call (HTTP 429/500/503/529 or a broken stream); each lane view
gives the failed turn with the error kind that lane reports, and the next run resumes.
`SILENT_RESUME_LANES` and `PROMPT_AFTER_RESULTS_LANES` list the lanes with a known bug there
(see their docstrings); a test fails once a listed lane is fixed, so the lists cannot go stale.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import httpx2
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import OpenAI

from harness import scenario as sc
from harness.cassette import Interaction, read_http_cassette, render_http_cassette
from harness.equivalence import equivalent
from harness.invariants import check_events
from harness.lane import LaneInput, LaneSpec, RunContext
from harness.schema import validate_event
from harness.strategies import (
    AbstractScenario,
    ShellResult,
    abstract_scenarios,
    expected_failures,
    expected_items,
    expected_log,
    expected_log_of,
    run_failure,
)
from lanes import codex_adapter
from lanes.anthropic import LANE as ANTHROPIC
from lanes.codex_adapter import LANE as CODEX_ADAPTER
from lanes.codex_adapter import ClientFor
from lanes.codex_native import LANE as CODEX_NATIVE
from lanes.gemini import LANE as GEMINI
from tests.lanekit import split as _split
from tests.roundtrip import (
    anthropic_view,
    claude_exchanges,
    codex_exchanges,
    codex_exec_lines,
    codex_exec_view,
    codex_native_failures,
    gemini_exchanges,
    gemini_failures,
    gemini_view,
    normalize_exchanges,
)


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
    expected = as_known_bugs_show(lane.id, expected, abstract)
    verdict = equivalent(expected, actual, "strict", b_noise_tools=lane.noise_tools,
                         labels=("expected", lane.id))
    assert verdict.equivalent, verdict.diff
    assert _commands(actual) == _commands(expected)


SILENT_RESUME_LANES: frozenset[str] = frozenset()
"""Lanes with the "silent resume" bug: a run after runs that all failed before any model answer
logged as a fresh run (`resumed_from` null), because the lane calls a run resumed only when its
request carries earlier model output, though the same log already holds the thread's earlier
session. Minimal example: two runs, each only `fail: {http_status: 429}`. None now: the
codex-adapter, anthropic and gemini lanes had it and now also resume a run of the log's earlier
thread (each has a unit test). `test_known_resume_bugs_are_still_there` keeps this exact."""


PROMPT_AFTER_RESULTS_LANES: frozenset[str] = frozenset()
"""Lanes with the "prompt after results" bug: when a run failed at a model call that carried
tool results, the next run's prompt follows those results in the history (Gemini CLI: the
functionResponse content, then the prompt content; Claude Code merges both into one user
message, as its message normalizer merges adjacent user messages), and the lane reads the
request as the failed turn's continuation: the run gets no `session.started`, only a new turn
in the earlier session. Minimal example: run 0 `[shell]` then `fail: {http_status: 429}`,
run 1 `fail: {http_status: 429}`. None now: anthropic and gemini had it and now read a prompt
after the results of an ended turn as a new run (each has a unit test)."""


def _silent(run: sc.Run) -> bool:
    """The run failed at its first model call: it adds its prompt and nothing else."""
    return len(run.steps) == 1 and isinstance(run.steps[0], sc.FailStep)


def silent_runs(abstract: AbstractScenario) -> list[int]:
    """Later runs whose earlier runs all failed at their first model call (no answer carried)."""
    runs = abstract.scenario.runs
    return [r for r in range(1, len(runs)) if all(_silent(run) for run in runs[:r])]


def runs_after_results(abstract: AbstractScenario) -> list[int]:
    """Later runs whose prompt follows tool results in the history: the last earlier run that
    got past its first call failed after tool steps (silent runs in between add prompts only)."""
    found = []
    runs = abstract.scenario.runs
    for r in range(1, len(runs)):
        last = next((run for run in reversed(runs[:r]) if not _silent(run)), None)
        if last is not None and run_failure(last) is not None:
            found.append(r)
    return found


def merged_prompt_runs(abstract: AbstractScenario) -> list[int]:
    """Runs whose Claude Code request holds an earlier run's prompt in the same user message:
    after a run r-1 >= 1 that failed at its first call, Claude Code merges prompt r into the
    message holding prompt r-1 (`harness.scenario.find_run` gives such a message to the latest
    prompt in it)."""
    runs = abstract.scenario.runs
    return [r for r in range(2, len(runs)) if _silent(runs[r - 1])]


def as_known_bugs_show(lane: str, expected: list[dict[str, Any]], abstract: AbstractScenario
                       ) -> list[dict[str, Any]]:
    """The expected log as a lane with the known bugs above shows it: `silent_runs` not
    resumed (`SILENT_RESUME_LANES`), `runs_after_results` without their `session.started`
    (`PROMPT_AFTER_RESULTS_LANES`)."""
    fresh = set(silent_runs(abstract)) if lane in SILENT_RESUME_LANES else set()
    merged = set(runs_after_results(abstract)) if lane in PROMPT_AFTER_RESULTS_LANES else set()
    out: list[dict[str, Any]] = []
    run = -1
    for event in expected:
        started = event["type"] == "session.started"
        run += started
        if started and run in merged:
            continue
        out.append({**event, "resumed_from": None} if started and run in fresh else event)
    return out


def _commands(events: list[dict[str, Any]]) -> list[tuple[int | None, str]]:
    return [(e["item"]["exit_code"], e["item"]["output"]) for e in events
            if e["type"] == "item.completed" and e["item"]["kind"] == "command_execution"]


@settings(max_examples=min(settings().max_examples, 80))  # ~0.5 s each (SDK replay of every
# call, ~1 MB bodies re-sent per request): 200 took 109 s on 2 cores, 100 took 61 s
@given(abstract_scenarios())
def test_responses_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == expected_log(s) (strict) for Responses SSE read by the codex-adapter
    lane, with Codex's requests grown from prompt, echoed output and tool outputs."""
    actual = normalize_exchanges(CODEX_ADAPTER, codex_exchanges(abstract))
    assert_matches(CODEX_ADAPTER, actual, abstract)


@given(abstract_scenarios())
def test_codex_exec_jsonl_round_trip(abstract: AbstractScenario) -> None:
    """lane(render(s)) == expected_log(s) (strict) for `codex exec --json` lines read by the
    codex-native lane, with s as Codex can show it (`codex_exec_view`) and a failed run's kind
    as Codex's message tells it (`codex_native_failures`)."""
    visible = codex_exec_view(abstract)
    stream = codex_exec_lines(visible)
    events = CODEX_NATIVE.normalize(LaneInput(stream=io.BytesIO(stream), name="<roundtrip>"),
                                    RunContext())
    assert_matches(CODEX_NATIVE, [e.model_dump(mode="json") for e in events], visible,
                   expected_log_of(expected_items(visible), codex_native_failures(visible)))


@settings(max_examples=min(settings().max_examples, 50))  # SDK replay per split: ~0.5 s each
@given(abstract_scenarios(max_runs=2, max_steps=2), st.data())
def test_responses_sse_rechunked_round_trip(abstract: AbstractScenario, data: st.DataObject
                                            ) -> None:
    """Drawn scenarios' Responses SSE bodies split at arbitrary byte boundaries give the log
    the whole bodies give (the codex-adapter lane tests this on one fixed cassette; here the
    bodies carry every block kind, unicode and large outputs)."""
    exchanges = codex_exchanges(abstract)
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
        path = Path(tmp) / CODEX_ADAPTER.native_file
        path.write_text(render_http_cassette(exchanges), encoding="utf-8")
        interactions = read_http_cassette(path)
    bodies = [i.response.body for i in interactions]
    cuts = [data.draw(st.lists(st.integers(0, len(b)), max_size=12)) for b in bodies]
    whole = _rechunked(interactions, [[b] for b in bodies])
    assert_matches(CODEX_ADAPTER, whole, abstract)
    assert _rechunked(interactions, [_split(b, c) for b, c in zip(bodies, cuts, strict=True)]
                      ) == whole


def _rechunked(interactions: list[Interaction], chunks: list[list[bytes]]
               ) -> list[dict[str, Any]]:
    events = codex_adapter.normalize_interactions(interactions, RunContext(), source="mem",
                                                  client_for=_chunked_replay(interactions,
                                                                             chunks))
    return [e.model_dump(mode="json") for e in events]


def _chunked_replay(interactions: list[Interaction], chunks: list[list[bytes]]) -> ClientFor:
    """SDK clients answering each interaction with its recorded status and headers and its
    body in the given chunks (an HTTP error stays an error, a stream stays a stream)."""
    def client_for(interaction: Interaction) -> OpenAI:
        at = next(n for n, i in enumerate(interactions) if i is interaction)
        response = interaction.response

        def handler(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(response.status, headers=response.headers,
                                   content=iter(chunks[at]))
        return OpenAI(base_url="http://replay.invalid/v1", api_key="replay", max_retries=0,
                      http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    return client_for


@settings(max_examples=min(settings().max_examples, 160))  # SDK replay of every call: 200
# examples took 57 s on 2 cores, at the edge of the one-minute budget
@given(abstract_scenarios())
def test_anthropic_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == anthropic_view(s) (strict) for Anthropic SSE read by the anthropic
    lane, with Claude Code's requests simulated (ToolSearch/Read preparation, Bash results as
    Claude Code writes them, WebSearch's nested search call, `--resume` history). Scenarios
    that merge prompts (`merged_prompt_runs`) are answered as their latest run."""
    actual = normalize_exchanges(ANTHROPIC, claude_exchanges(abstract))
    assert_matches(ANTHROPIC, actual, abstract,
                   expected_log_of(anthropic_view(abstract), expected_failures(abstract)))


@settings(max_examples=min(settings().max_examples, 160))  # SDK replay of every call
@given(abstract_scenarios())
def test_gemini_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == gemini_view(s) (strict) for Gemini SSE read by the gemini lane, with
    Gemini CLI's requests simulated (functionResponses with the calls' ids, run_shell_command
    results as the CLI writes them, the web search side call, `--resume` history)."""
    actual = normalize_exchanges(GEMINI, gemini_exchanges(abstract))
    assert_matches(GEMINI, actual, abstract,
                   expected_log_of(gemini_view(abstract), gemini_failures(abstract)))


def _two_failed_runs(first: list[sc.Step]) -> AbstractScenario:
    """Run 0 with `first` then an HTTP 429, run 1 only an HTTP 429 (shell results exit 0)."""
    fail = sc.FailStep(fail=sc.FailureSpec(http_status=429, message="slow down"))
    runs = [sc.Run(prompt="⟦run 0⟧ hi", steps=[*first, fail]),
            sc.Run(prompt="⟦run 1⟧ hi", steps=[fail])]
    turns = [sc.ExpectedTurn(outcome="failed", error_kind="rate_limit")] * 2
    scenario = sc.Scenario(name="known-bugs", description="", runs=runs,
                           expect=sc.Expect(turns=turns))
    results = {(0, s, 0): ShellResult(0, "ok") for s in range(len(first))}
    return AbstractScenario(scenario, results)


def _sessions(abstract: AbstractScenario) -> dict[str, list[str | None]]:
    """Per lane, the `resumed_from` of each session.started the lane logs for the scenario."""
    logs = {CODEX_ADAPTER.id: normalize_exchanges(CODEX_ADAPTER, codex_exchanges(abstract)),
            ANTHROPIC.id: normalize_exchanges(ANTHROPIC, claude_exchanges(abstract)),
            GEMINI.id: normalize_exchanges(GEMINI, gemini_exchanges(abstract))}
    native = CODEX_NATIVE.normalize(LaneInput(stream=io.BytesIO(codex_exec_lines(abstract)),
                                              name="<known-bugs>"), RunContext())
    logs[CODEX_NATIVE.id] = [e.model_dump(mode="json") for e in native]
    return {lane: [e["resumed_from"] for e in log if e["type"] == "session.started"]
            for lane, log in logs.items()}


def test_known_resume_bugs_are_still_there() -> None:
    """The known bugs `SILENT_RESUME_LANES` and `PROMPT_AFTER_RESULTS_LANES` on their minimal
    examples: exactly the listed lanes get the second run wrong, the others log it resumed.
    When this fails, a lane was fixed: drop it from its list."""
    silent = _sessions(_two_failed_runs([]))
    assert {lane for lane, runs in silent.items() if runs == [None, None]} \
        == SILENT_RESUME_LANES, silent
    assert {lane for lane, runs in silent.items() if runs[1] is not None} \
        == set(silent) - SILENT_RESUME_LANES, silent
    shell: list[sc.Step] = [[sc.ShellBlock(shell=sc.ShellSpec(command="true"))]]
    after = _sessions(_two_failed_runs(shell))
    assert {lane for lane, runs in after.items() if runs == [None]} \
        == PROMPT_AFTER_RESULTS_LANES, after
    assert {lane for lane, runs in after.items() if len(runs) == 2 and runs[1] is not None} \
        == set(after) - PROMPT_AFTER_RESULTS_LANES, after


def test_merged_prompts_are_answered_as_the_latest_run() -> None:
    """Regression (found by the failure-step property): runs 0 and 1 fail at their first call
    (HTTP 429), run 2 only answers; Claude Code sends run 2 with prompts 1 and 2 in one user
    message, and the responder used to answer it with run 1's 429 (`find_run` took the first
    prompt it found). The latest prompt in a message names its run."""
    fail = sc.FailStep(fail=sc.FailureSpec(http_status=429, message="slow down"))
    runs = [sc.Run(prompt=f"⟦run {n}⟧ hi", steps=[fail]) for n in range(2)]
    runs.append(sc.Run(prompt="⟦run 2⟧ hi", steps=[[sc.TextBlock(text="done")]]))
    turns = [sc.ExpectedTurn(outcome="failed", error_kind="rate_limit")] * 2
    scenario = sc.Scenario(name="merged", description="", runs=runs,
                           expect=sc.Expect(turns=[*turns, sc.ExpectedTurn()]))
    abstract = AbstractScenario(scenario, {})
    assert merged_prompt_runs(abstract) == [2]
    exchanges = claude_exchanges(abstract)
    assert [e.reply.status for e in exchanges] == [429] * 4 + [200]
