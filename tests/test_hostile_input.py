"""Hostile input, every lane: strict mode ends in a valid log or a typed lane error naming the
file; lenient mode never raises; no other exception type ever escapes.

The corpus is checked in (tests/data/bad_input for JSONL lanes, tests/data/bad_cassettes for
HTTP-cassette lanes); mutation properties damage each lane's real shipped cassettes at random.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.invariants import check_events
from harness.lane import LaneInput, LaneSpec, RunContext, available_lanes
from harness.schema import validate_event

DATA = Path(__file__).parent / "data"
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
LANES = available_lanes()
JSONL_LANES = [lane for lane in LANES.values() if lane.input_kind == "jsonl"]
HTTP_LANES = [lane for lane in LANES.values() if lane.input_kind == "http-cassette"]


def normalize(lane: LaneSpec, path: Path, *, lenient: bool) -> list[dict[str, Any]]:
    with path.open("rb") as stream:
        events = lane.normalize(LaneInput(stream=stream, name=str(path), path=path),
                                RunContext(lenient=lenient))
        return [e.model_dump(mode="json") for e in events]


def assert_contract(lane: LaneSpec, path: Path) -> None:
    """Strict: a valid log, or a HarnessError naming the file. Lenient: never raises, valid log."""
    try:
        strict = normalize(lane, path, lenient=False)
    except HarnessError as exc:
        assert str(path) in str(exc), f"error does not name the file: {exc}"
    else:
        _assert_valid(strict)
    lenient = normalize(lane, path, lenient=True)
    _assert_valid(lenient)


def _assert_valid(events: list[dict[str, Any]]) -> None:
    problems = [err for e in events for err in validate_event(e)]
    problems += [f"{v.rule}: {v.detail}" for v in check_events(events)]
    assert problems == []


def _ids(lanes: list[LaneSpec]) -> list[str]:
    return [lane.id for lane in lanes]


@pytest.mark.parametrize("lane", JSONL_LANES, ids=_ids(JSONL_LANES))
@pytest.mark.parametrize("sample", sorted((DATA / "bad_input").glob("*.jsonl")),
                         ids=lambda p: p.stem)
def test_jsonl_corpus(lane: LaneSpec, sample: Path) -> None:
    assert_contract(lane, sample)


@pytest.mark.parametrize("lane", HTTP_LANES, ids=_ids(HTTP_LANES))
@pytest.mark.parametrize("sample", sorted((DATA / "bad_cassettes").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_cassette_corpus(lane: LaneSpec, sample: Path) -> None:
    assert_contract(lane, sample)


def _shipped(lane: LaneSpec) -> list[Path]:
    return sorted(CASSETTES.glob(f"*/{lane.native_file}"))


def _mutate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True) or [b""]
    kind = rng.choice(["cut", "garbage", "duplicate", "swap", "drop", "flip", "utf8"])
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if kind == "cut":
        return data[: rng.randrange(len(data) + 1)]
    if kind == "garbage":
        lines.insert(i, rng.choice([b"garbage\n", b"[]\n", b'{"type": null}\n', b"{\n",
                                    b'{"type": "brand.new.event", "x": 1}\n']))
    elif kind == "duplicate":
        lines.insert(i, lines[j])
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "drop":
        del lines[i]
    elif kind == "flip" and data:
        k = rng.randrange(len(data))
        return data[:k] + bytes([data[k] ^ 0xFF]) + data[k + 1:]
    elif kind == "utf8":
        lines.insert(i, b'{"type": "item.completed", "item": {"id": "z", "type": "x\xc3"}}\n')
    return b"".join(lines)


def _mutate_cassette(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["cut_text", "cut_body", "drop_field", "status"])
    if kind == "cut_text":
        return data[: rng.randrange(len(data) + 1)]
    doc = yaml.safe_load(data)
    interactions = doc.get("interactions") or []
    if not interactions:
        return data
    target = rng.choice(interactions)
    if kind == "cut_body":
        body = target["response"]["body"]["string"]
        target["response"]["body"]["string"] = body[: rng.randrange(len(body) + 1)]
    elif kind == "drop_field":
        section = rng.choice(["request", "response"])
        target[section].pop(rng.choice(list(target[section])), None)
    else:
        target["response"]["status"]["code"] = rng.choice([400, 401, 429, 500, 529])
    return yaml.safe_dump(doc, allow_unicode=True).encode()


@pytest.mark.parametrize("lane", list(LANES.values()), ids=list(LANES))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_shipped_cassettes_keep_the_contract(lane: LaneSpec, seed: int,
                                                     tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    """Invariant: any random damage to a real shipped cassette (cut at any byte, garbage,
    duplicated/reordered/dropped lines, flipped bytes, bad UTF-8, damaged SSE bodies, missing
    cassette fields, error statuses) ends in a valid log or a typed error; lenient never raises."""
    sources = _shipped(lane)
    assert sources, f"no shipped cassette for {lane.id}"
    rng = random.Random(seed)
    source = rng.choice(sources)
    mutate = _mutate_lines if lane.input_kind == "jsonl" else _mutate_cassette
    target = tmp_path_factory.mktemp("mut") / source.name
    target.write_bytes(mutate(source.read_bytes(), rng))
    assert_contract(lane, target)
