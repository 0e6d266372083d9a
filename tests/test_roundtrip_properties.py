"""Round trips: abstract scenario -> wire encoder / native renderer -> lane -> normalized log.

Each property draws a provider-neutral scenario (`harness.strategies.abstract_scenarios`), plays
it through one provider's responder with an in-process runtime simulator (`tests/roundtrip.py`),
reads the resulting cassette with that provider's API lane, and holds the log to
`expected_log(scenario)` by strict equivalence. A failure is a bug in the encoder, the simulator's
idea of the runtime, or the lane: the shrunk example names which block.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassette import Interaction, read_http_cassette, render_http_cassette
from harness.equivalence import equivalent
from harness.invariants import check_events
from harness.lane import LaneInput, LaneSpec, RunContext
from harness.schema import validate_event
from harness.strategies import (
    AbstractScenario,
    abstract_scenarios,
    expected_log,
    expected_log_of,
)
from lanes import codex_adapter
from lanes.anthropic import LANE as ANTHROPIC
from lanes.codex_adapter import LANE as CODEX_ADAPTER
from lanes.codex_native import LANE as CODEX_NATIVE
from lanes.gemini import LANE as GEMINI
from tests.lanekit import split as _split
from tests.roundtrip import (
    anthropic_view,
    claude_exchanges,
    codex_exchanges,
    codex_exec_lines,
    codex_exec_view,
    gemini_exchanges,
    gemini_view,
    normalize_exchanges,
)
from tests.test_codex_adapter_lane import _chunked_client


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
                         labels=("expected", lane.id))
    assert verdict.equivalent, verdict.diff
    assert _commands(actual) == _commands(expected)


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
    codex-native lane, with s as Codex can show it (`codex_exec_view`)."""
    visible = codex_exec_view(abstract)
    stream = codex_exec_lines(visible)
    events = CODEX_NATIVE.normalize(LaneInput(stream=io.BytesIO(stream), name="<roundtrip>"),
                                    RunContext())
    assert_matches(CODEX_NATIVE, [e.model_dump(mode="json") for e in events], visible)


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
                                                  client_for=_chunked_client(chunks))
    return [e.model_dump(mode="json") for e in events]


@settings(max_examples=min(settings().max_examples, 160))  # SDK replay of every call: 200
# examples took 57 s on 2 cores, at the edge of the one-minute budget
@given(abstract_scenarios())
def test_anthropic_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == anthropic_view(s) (strict) for Anthropic SSE read by the anthropic
    lane, with Claude Code's requests simulated (ToolSearch/Read preparation, Bash results as
    Claude Code writes them, WebSearch's nested search call, `--resume` history)."""
    actual = normalize_exchanges(ANTHROPIC, claude_exchanges(abstract))
    assert_matches(ANTHROPIC, actual, abstract, expected_log_of(anthropic_view(abstract)))


@settings(max_examples=min(settings().max_examples, 160))  # SDK replay of every call
@given(abstract_scenarios())
def test_gemini_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == gemini_view(s) (strict) for Gemini SSE read by the gemini lane, with
    Gemini CLI's requests simulated (functionResponses with the calls' ids, run_shell_command
    results as the CLI writes them, the web search side call, `--resume` history)."""
    actual = normalize_exchanges(GEMINI, gemini_exchanges(abstract))
    assert_matches(GEMINI, actual, abstract, expected_log_of(gemini_view(abstract)))
