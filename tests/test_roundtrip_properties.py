"""Round trips: abstract scenario -> wire encoder / native renderer -> lane -> normalized log.

Each property draws a provider-neutral scenario (`harness.testing.strategies.abstract_scenarios`),
plays it through one provider's responder with an in-process runtime simulator
(`harness.testing.render`), reads the resulting cassette with that provider's API lane, and holds
the log to `expected_log(scenario)` by strict equivalence. A failure is a bug in the encoder, the
simulator's idea of the runtime, or the lane: the shrunk example names which block.

Runs may end in a failed model call (HTTP 429/500/503/529 or a broken stream); each lane view
gives the failed turn with the error kind that lane reports, and the next run resumes (every
lane logs it resumed, even after runs that failed before any answer; a regression test pins the
two minimal examples that once broke the API lanes).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx2
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openai import OpenAI

from harness import scenario as sc
from harness.contract.lane import RunContext
from harness.record.cassette import Interaction, read_http_cassette, render_http_cassette
from harness.testing.render.claude import anthropic_view, claude_exchanges
from harness.testing.render.codex import codex_exchanges
from harness.testing.render.codex_native import (
    codex_exec_lines,
    codex_exec_view,
    codex_native_failures,
)
from harness.testing.render.common import normalize_exchanges, shells_scenario, stream_log
from harness.testing.render.gemini import gemini_exchanges, gemini_failures, gemini_view
from harness.testing.strategies import (
    AbstractScenario,
    ShellResult,
    abstract_scenarios,
    expected_failures,
    expected_items,
    expected_log_of,
)
from lanes import codex_adapter
from lanes.anthropic import LANE as ANTHROPIC
from lanes.codex_adapter import LANE as CODEX_ADAPTER
from lanes.codex_adapter import ClientFor
from lanes.codex_native import LANE as CODEX_NATIVE
from lanes.gemini import LANE as GEMINI
from tests.lanekit import assert_matches, scaled
from tests.lanekit import split as _split


@settings(max_examples=scaled(80))  # ~0.5 s each (SDK replay of every
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
    assert_matches(CODEX_NATIVE, stream_log(CODEX_NATIVE, codex_exec_lines(visible)), visible,
                   expected_log_of(expected_items(visible), codex_native_failures(visible)))


@settings(max_examples=scaled(50))  # SDK replay per split: ~0.5 s each
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


@settings(max_examples=scaled(160))  # SDK replay of every call: 200
# examples took 57 s on 2 cores, at the edge of the one-minute budget
@given(abstract_scenarios())
@example(shells_scenario([("grep x f", 1, ""), ("test -f x", 1, "no\n"), ("grep y", 2, "grep: y"),
                          ("ls | grep z", 1, "\n"), ("git diff --quiet", 1, "")]))
def test_anthropic_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == anthropic_view(s) (strict) for Anthropic SSE read by the anthropic
    lane, with Claude Code's requests simulated (ToolSearch/Read preparation, Bash results as
    Claude Code writes them, WebSearch's nested search call, `--resume` history). Scenarios
    that merge prompts are answered as their latest run. The pinned
    example holds exits Claude Code interprets (grep/test/diff exiting 1 reach the model as a
    plain success, as recorded in cassettes/multi_command, so the lane reads exit 0) next to
    exits it does not."""
    actual = normalize_exchanges(ANTHROPIC, claude_exchanges(abstract))
    assert_matches(ANTHROPIC, actual, abstract,
                   expected_log_of(anthropic_view(abstract), expected_failures(abstract)))


@settings(max_examples=scaled(160))  # SDK replay of every call
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
    scenario = sc.Scenario(name="resume-after-failures", description="", runs=runs,
                           expect=sc.Expect(turns=turns))
    results = {(0, s, 0): ShellResult(0, "ok") for s in range(len(first))}
    return AbstractScenario(scenario, results)


def _sessions(abstract: AbstractScenario) -> dict[str, list[str | None]]:
    """Per lane, the `resumed_from` of each session.started the lane logs for the scenario."""
    logs = {CODEX_ADAPTER.id: normalize_exchanges(CODEX_ADAPTER, codex_exchanges(abstract)),
            ANTHROPIC.id: normalize_exchanges(ANTHROPIC, claude_exchanges(abstract)),
            GEMINI.id: normalize_exchanges(GEMINI, gemini_exchanges(abstract))}
    logs[CODEX_NATIVE.id] = stream_log(CODEX_NATIVE, codex_exec_lines(abstract))
    return {lane: [e["resumed_from"] for e in log if e["type"] == "session.started"]
            for lane, log in logs.items()}


def test_runs_after_failed_runs_are_resumed_in_every_lane() -> None:
    """Regression (found by the failure-step property): (1) two runs that each only fail with a
    429 — the API lanes logged run 1 as a fresh session, since its request carries no earlier
    model output; (2) a run failing after a shell step, then a failing run — the next prompt
    follows the tool results in the history, and anthropic/gemini read it as the old turn
    going on. Every lane must log run 1 as its own session, resumed from the thread; except
    gemini in (1): run 0 saved no session, so Gemini CLI's `--resume` exits 42 with no request
    (`gemini_runs`)."""
    silent = _sessions(_two_failed_runs([]))
    assert silent.pop(GEMINI.id) == [None], silent
    assert all(len(runs) == 2 and runs[1] is not None for runs in silent.values()), silent
    shell: list[sc.Step] = [[sc.ShellBlock(shell=sc.ShellSpec(command="true"))]]
    after = _sessions(_two_failed_runs(shell))
    assert all(len(runs) == 2 and runs[1] is not None for runs in after.values()), after


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
    exchanges = claude_exchanges(abstract)
    assert [e.reply.status for e in exchanges] == [429] * 4 + [200]


def test_nested_web_search_answers_the_query_it_was_asked() -> None:
    """Regression (found by the round-trip property in CI): two WebSearch calls with queries
    `'0'` and `''`; the stub guessed the nested search's query by substring over the request
    body, so `''` was answered as `'0'` (which `web_search_20250305` contains) and the lane
    logged the second search with the wrong query. The query comes from the nested prompt."""
    steps: list[sc.Step] = [[sc.WebSearchBlock(web_search=sc.WebSearchSpec(query=q))]
                            for q in ("0", "", "python", "py")]
    steps.append([sc.TextBlock(text="done")])
    scenario = sc.Scenario(name="queries", description="",
                           runs=[sc.Run(prompt="⟦run 0⟧ search", steps=steps)],
                           expect=sc.Expect(turns=[sc.ExpectedTurn()]))
    abstract = AbstractScenario(scenario, {})
    actual = normalize_exchanges(ANTHROPIC, claude_exchanges(abstract))
    queries = [e["item"]["query"] for e in actual
               if e["type"] == "item.completed" and e["item"]["kind"] == "web_search"]
    assert queries == ["0", "", "python", "py"]
