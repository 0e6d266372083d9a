"""Round trips: abstract scenario -> wire encoder / native renderer -> lane -> normalized log.

Each property draws a provider-neutral scenario (`harness.strategies.abstract_scenarios`), plays
it through one provider's responder with an in-process runtime simulator (`tests/roundtrip.py`),
reads the resulting cassette with that provider's API lane, and holds the log to
`expected_log(scenario)` by strict equivalence. A failure is a bug in the encoder, the simulator's
idea of the runtime, or the lane: the shrunk example names which block.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given

from harness.equivalence import equivalent
from harness.invariants import check_events
from harness.lane import LaneSpec
from harness.schema import validate_event
from harness.strategies import AbstractScenario, abstract_scenarios, expected_log
from lanes.codex_adapter import LANE as CODEX_ADAPTER
from tests.roundtrip import codex_exchanges, normalize_exchanges


def assert_matches(lane: LaneSpec, actual: list[dict[str, Any]],
                   abstract: AbstractScenario) -> None:
    """Schema-valid, ordering rules kept, strictly equivalent to the expected log, and every
    command's output and exit code carried whole (equivalence does not compare outputs)."""
    for event in actual:
        assert validate_event(event) == [], event
    assert check_events(actual) == []
    expected = expected_log(abstract)
    verdict = equivalent(expected, actual, "strict", b_noise_tools=lane.noise_tools,
                         labels=("expected", lane.id))
    assert verdict.equivalent, verdict.diff
    assert _commands(actual) == _commands(expected)


def _commands(events: list[dict[str, Any]]) -> list[tuple[int | None, str]]:
    return [(e["item"]["exit_code"], e["item"]["output"]) for e in events
            if e["type"] == "item.completed" and e["item"]["kind"] == "command_execution"]


@given(abstract_scenarios())
def test_responses_sse_round_trip(abstract: AbstractScenario) -> None:
    """lane(encode(s)) == expected_log(s) (strict) for Responses SSE read by the codex-adapter
    lane, with Codex's requests grown from prompt, echoed output and tool outputs."""
    actual = normalize_exchanges(CODEX_ADAPTER, codex_exchanges(abstract))
    assert_matches(CODEX_ADAPTER, actual, abstract)
