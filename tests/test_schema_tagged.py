"""The schema validator checks a discriminated `oneOf` by the one branch the tag names
(`harness.contract.schema.TaggedValidator`): its verdict and its errors must be exactly those of
plain Draft 2020-12 validation, on every golden event and on broken variants of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.contract import schema

REPO = Path(__file__).resolve().parents[1]
GOLDEN_EVENTS = [json.loads(line) for path in sorted(REPO.glob("golden/*/*.jsonl"))
                 for line in path.read_text(encoding="utf-8").splitlines() if line]


def _plain(event: Any) -> list[tuple[str, str, list[Any]]]:
    validator = Draft202012Validator(schema.published_schema())
    return sorted(_flat(validator.iter_errors(event)))


def _tagged(event: Any) -> list[tuple[str, str, list[Any]]]:
    return sorted(_flat(schema.validator().iter_errors(event)))


def _flat(errors: Any) -> Iterator[tuple[str, str, list[Any]]]:
    for error in errors:
        yield error.message, error.validator, list(error.absolute_path)
        yield from _flat(error.context or [])


def _broken(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Variants that must fail: a field dropped, a wrong type, another tag, a foreign kind, an
    extra field, in the event and in its item."""
    for key in list(event):
        dropped = dict(event)
        del dropped[key]
        yield dropped
    yield {**event, "seq": "one"}
    yield {**event, "type": "item.completed" if event["type"] != "item.completed" else
           "turn.started"}
    yield {**event, "extra": 1}
    item = event.get("item")
    if isinstance(item, dict):
        for change in ({"kind": "no_such_kind"}, {"id": 5}, {"status": "maybe"}, {"x": 1}):
            changed = copy.deepcopy(event)
            changed["item"].update(change)
            yield changed


SAMPLE = GOLDEN_EVENTS[::45]


def test_golden_events_are_valid_both_ways() -> None:
    assert GOLDEN_EVENTS
    for event in GOLDEN_EVENTS:
        assert schema.validator().is_valid(event)
        assert schema.validate_event(event) == []


@pytest.mark.parametrize("index", range(len(SAMPLE)))
def test_tagged_validation_errors_equal_plain_validation(index: int) -> None:
    event = SAMPLE[index]
    for broken in _broken(event):
        assert _tagged(broken) == _plain(broken), broken
        assert schema.validator().is_valid(broken) == (not _plain(broken))
