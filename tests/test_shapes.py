"""Inputs not shaped by our catalog: each fixture under `tests/data/shapes/<lane>/` reproduces a
shape seen in real traffic (other clients, SDK versions, older CLIs, other projects' saved
recordings) and is held to what its `<name>.expect.yaml` states.

An expectation is exact where it lists: every completed item in order (each a subset of fields),
every session, every turn outcome, every approval event. So a lane that drops, adds or misreads
a fact in any fixture fails here, not only in the catalog. `SHAPES.md` in each lane folder says
for every fixture what it reproduces and where that shape was seen; a test keeps the two in step.

Expectation keys (all optional except one of `expect` / `refuse`):
- `context`: run-context fields passed as `--context`.
- `refuse`: strict mode must exit 2 with one `harness: <file>:<line>: ...` line containing this.
- `expect`: what strict mode must emit (exit 0, a valid log): `sessions`, `turns`
  (`completed` | `failed:<kind>`), `items`, `usage`, `approvals`.
- `lenient`: for refused fixtures, what lenient mode must keep: `keeps` (strings that must appear
  in the lenient output, e.g. the payloads of lines it could not read) and/or an `expect` block.
- `allow_unknown`: native types strict mode may keep as `unknown` items (default none).
A string value `{contains: TEXT}` matches any string containing TEXT.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.contract.lane import available_lanes

SHAPES = Path(__file__).resolve().parent / "data" / "shapes"
EXPECT_SUFFIX = ".expect.yaml"


def fixtures() -> Iterator[tuple[str, Path, Path]]:
    """(lane, input file, expectation file) for every fixture, sorted."""
    for expectation in sorted(SHAPES.glob(f"*/*{EXPECT_SUFFIX}")):
        stem = expectation.name.removesuffix(EXPECT_SUFFIX)
        inputs = [p for p in expectation.parent.glob(f"{stem}.*")
                  if p != expectation and not p.name.endswith(EXPECT_SUFFIX)]
        assert len(inputs) == 1, f"{expectation}: expected one input file, found {inputs}"
        yield expectation.parent.name, inputs[0], expectation


FIXTURES = list(fixtures())
IDS = [f"{lane}/{path.name}" for lane, path, _ in FIXTURES]


def load_expectation(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a mapping"
    unknown_keys = set(data) - {"context", "refuse", "expect", "lenient", "allow_unknown"}
    assert not unknown_keys, f"{path}: unknown keys {sorted(unknown_keys)}"
    assert ("refuse" in data) != ("expect" in data), f"{path}: give exactly one of refuse/expect"
    return data


def normalize(lane: str, path: Path, expectation: Mapping[str, Any], tmp_path: Path,
              capsys: pytest.CaptureFixture[str], *, lenient: bool) -> tuple[int, str, str]:
    args = ["normalize", "--lane", lane, str(path)]
    if expectation.get("context"):
        context = tmp_path / "context.json"
        context.write_text(json.dumps(expectation["context"]))
        args += ["--context", str(context)]
    if lenient:
        args.append("--lenient")
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_valid_log(out: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "normalized.jsonl"
    log.write_text(out)
    code = main(["validate", str(log)])
    report = capsys.readouterr().out
    assert code == 0, report


def matches(actual: Any, wanted: Any) -> bool:
    """Subset match: dicts by the wanted keys, lists element by element, `{contains: s}` for
    substrings, anything else by equality."""
    if isinstance(wanted, dict) and set(wanted) == {"contains"}:
        return isinstance(actual, str) and str(wanted["contains"]) in actual
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(
            matches(a, w) for a, w in zip(actual, wanted, strict=True))
    return bool(actual == wanted and type(actual) is type(wanted))


def assert_all_match(what: str, actual: list[Any], wanted: list[Any]) -> None:
    assert len(actual) == len(wanted), (
        f"{what}: {len(actual)} emitted, {len(wanted)} expected:\n"
        + "\n".join(json.dumps(a, ensure_ascii=False)[:300] for a in actual))
    for index, (a, w) in enumerate(zip(actual, wanted, strict=True)):
        assert matches(a, w), f"{what}[{index}]:\n  emitted  {a}\n  expected {w}"


def outcome(event: Mapping[str, Any]) -> str:
    if event["type"] == "turn.completed":
        return "completed"
    return f"failed:{event['error']['kind']}"


def check_expect(events: list[dict[str, Any]], expect: Mapping[str, Any],
                 allow_unknown: list[str]) -> None:
    """Every listed aspect is compared exactly (count and order), each element as a subset."""
    items = [e["item"] for e in events if e["type"] == "item.completed"]
    strays = [i["native_type"] for i in items
              if i["kind"] == "unknown" and i["native_type"] not in allow_unknown]
    assert not strays, f"strict mode kept unread input as unknown: {strays}"
    if "sessions" in expect:
        assert_all_match("sessions", [e for e in events if e["type"] == "session.started"],
                         expect["sessions"])
    if "turns" in expect:
        turns = [outcome(e) for e in events if e["type"] in {"turn.completed", "turn.failed"}]
        assert turns == expect["turns"]
    if "items" in expect:
        assert_all_match("items", items, expect["items"])
    if "usage" in expect:
        assert_all_match("usage", [e["usage"] for e in events if e["type"] == "turn.completed"],
                         expect["usage"])
    if "approvals" in expect:
        assert_all_match("approvals", [e for e in events if e["type"].startswith("approval.")],
                         expect["approvals"])


def parse(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("lane, path, expectation_path", FIXTURES, ids=IDS)
def test_strict_mode_keeps_the_facts_or_refuses_in_one_line(
        lane: str, path: Path, expectation_path: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    expectation = load_expectation(expectation_path)
    code, out, err = normalize(lane, path, expectation, tmp_path, capsys, lenient=False)
    if "refuse" in expectation:
        assert (code, out) == (2, ""), f"exit {code}, expected a refusal; stderr: {err}"
        assert err.startswith(f"harness: {path}:") and err.count("\n") == 1, err
        assert str(expectation["refuse"]) in err, err
        return
    assert code == 0, err
    assert_valid_log(out, tmp_path, capsys)
    check_expect(parse(out), expectation["expect"], expectation.get("allow_unknown", []))


@pytest.mark.parametrize("lane, path, expectation_path", FIXTURES, ids=IDS)
def test_lenient_mode_loses_nothing(lane: str, path: Path, expectation_path: Path,
                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lenient mode emits a valid log for every fixture: the same log as strict mode where strict
    reads it, and for a refused input everything the expectation says must be kept."""
    expectation = load_expectation(expectation_path)
    code, out, err = normalize(lane, path, expectation, tmp_path, capsys, lenient=True)
    assert code == 0, err
    assert_valid_log(out, tmp_path, capsys)
    assert str(path.resolve().parent) not in out, "lenient output names an absolute path"
    if "expect" in expectation:
        strict_code, strict_out, _ = normalize(lane, path, expectation, tmp_path, capsys,
                                               lenient=False)
        assert strict_code == 0 and out == strict_out
        return
    lenient = expectation.get("lenient")
    assert lenient, f"{expectation_path}: a refused fixture says what lenient mode keeps"
    for text in lenient.get("keeps", []):
        assert text in out, f"lenient output lost {text!r}"
    if "expect" in lenient:
        check_expect(parse(out), lenient["expect"],
                     expectation.get("allow_unknown", []) + lenient.get("allow_unknown", []))


def test_every_fixture_is_described_in_its_shapes_md() -> None:
    """SHAPES.md names each fixture (what it reproduces, where the shape was seen) and nothing
    that is not there."""
    lanes = {path.name for path in SHAPES.iterdir() if path.is_dir()}
    assert lanes <= set(available_lanes()), lanes - set(available_lanes())
    for lane in sorted(lanes):
        folder = SHAPES / lane
        listed = (folder / "SHAPES.md").read_text(encoding="utf-8")
        names = {p.name for p in folder.iterdir()
                 if p.name != "SHAPES.md" and not p.name.endswith(EXPECT_SUFFIX)}
        for name in sorted(names):
            assert f"`{name}`" in listed, f"{lane}/SHAPES.md does not describe {name}"
        for mentioned in set(re.findall(r"`([^`]+\.(?:jsonl|yaml|json))`", listed)):
            assert mentioned in names or mentioned.endswith(EXPECT_SUFFIX), (
                f"{lane}/SHAPES.md names {mentioned}, which is not there")


BASE_EVENTS: list[dict[str, Any]] = [
    {"type": "session.started", "model": "m"},
    {"type": "item.completed", "item": {"kind": "assistant_message", "text": "hello world"}},
    {"type": "item.completed", "item": {"kind": "command_execution", "command": "ls",
                                        "exit_code": 0}},
    {"type": "turn.completed", "usage": {"input_tokens": 3}},
]
BASE_EXPECT: dict[str, Any] = {
    "sessions": [{"model": "m"}], "turns": ["completed"], "usage": [{"input_tokens": 3}],
    "items": [{"kind": "assistant_message", "text": {"contains": "world"}},
              {"kind": "command_execution", "command": "ls", "exit_code": 0}]}


def test_an_expectation_that_holds_passes() -> None:
    check_expect(BASE_EVENTS, BASE_EXPECT, [])


@pytest.mark.parametrize("loosened", [
    "item dropped", "item added", "field changed", "substring missing", "turn failed",
    "usage changed", "int for bool", "unknown kept"])
def test_each_loosened_log_fails_its_expectation(loosened: str) -> None:
    """The checks cannot pass vacuously: each single change to the log is caught."""
    events = json.loads(json.dumps(BASE_EVENTS))
    if loosened == "item dropped":
        del events[2]
    elif loosened == "item added":
        events.insert(2, {"type": "item.completed", "item": {"kind": "reasoning", "text": "x"}})
    elif loosened == "field changed":
        events[2]["item"]["exit_code"] = 1
    elif loosened == "substring missing":
        events[1]["item"]["text"] = "hello"
    elif loosened == "turn failed":
        events[3] = {"type": "turn.failed", "error": {"kind": "provider"}}
    elif loosened == "usage changed":
        events[3]["usage"]["input_tokens"] = 4
    elif loosened == "int for bool":
        events[2]["item"]["exit_code"] = False
    else:
        events.insert(2, {"type": "item.completed",
                          "item": {"kind": "unknown", "native_type": "x", "payload": {}}})
    with pytest.raises(AssertionError):
        check_expect(events, BASE_EXPECT, [])
