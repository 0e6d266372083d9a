"""The codex-adapter lane has the openai SDK validate stream events by their `type` tag instead
of against the untagged union (~130 µs an event, most of a replay's time): the tag must pick
exactly what the SDK's own union validation gives, on every event recorded here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai._models as openai_models
import pydantic
import pytest

import lanes.codex_adapter as ca
from harness.record.cassette import read_http_cassette
from tests import lanekit

REPO = Path(__file__).resolve().parents[1]
RECORDED = sorted([*REPO.glob("cassettes/*/codex.http.yaml"),
                   *REPO.glob("tests/data/shapes/codex-adapter/*.http.yaml")])


def _events(path: Path) -> list[Any]:
    """Every JSON object sent as SSE `data:` in the cassette's answers."""
    out = []
    for interaction in read_http_cassette(path):
        for line in interaction.response.body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:"):
                try:
                    out.append(json.loads(line[5:]))
                except ValueError:
                    continue
    return out


def _outcome(validate: Any, value: Any) -> tuple[str, Any]:
    try:
        result = validate(value)
    except pydantic.ValidationError:
        return "invalid", None
    return type(result).__name__, result.model_dump(mode="json")


SDK_UNION = openai_models.TypeAdapter(ca._EVENT_UNION)
"""The SDK's own (cached) adapter for the untagged union."""


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: str(p.relative_to(REPO)))
def test_tagged_validation_agrees_with_the_sdk_union(path: Path) -> None:
    tagged = ca._event_adapter()
    assert tagged is not None
    events = _events(path)
    broken = [dict(e, sequence_number="x") for e in events[:5] if isinstance(e, dict)]
    for value in [*events, *broken, {"type": "response.no_such_event"}, {"no": "type"}]:
        assert _outcome(tagged.validate_python, value) == _outcome(SDK_UNION.validate_python,
                                                                   value), value


def test_replay_installs_tagged_validation_for_the_event_union_only() -> None:
    lanekit.normalize_file(ca.LANE, REPO / "cassettes" / "hello" / "codex.http.yaml")
    installed = openai_models._validate_non_model_type
    assert getattr(installed, "tagged_events", False)
    assert installed(type_=int | str, value="7") == "7"  # other types: the SDK's own path
    delta = {"type": "response.output_text.delta", "sequence_number": 1, "output_index": 0,
             "item_id": "m", "content_index": 0, "delta": "hi", "logprobs": []}
    assert type(installed(type_=ca._EVENT_UNION, value=delta)).__name__ == "ResponseTextDeltaEvent"
