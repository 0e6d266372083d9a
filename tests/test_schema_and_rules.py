"""The published contract: the schema file, its TypeScript twin, the ordering rules and the
`schema` / `validate` commands that enforce them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import harness.contract.schema as schema_module
from harness.cli import main
from harness.contract.builder import LogBuilder, SessionInfo
from harness.contract.invariants import check_events
from harness.contract.model import (
    EVENT_ADAPTER,
    AssistantMessage,
    CommandExecution,
    ErrorNotice,
    TurnError,
    Usage,
)
from harness.contract.schema import (
    SCHEMA_PATH,
    TYPESCRIPT_PATH,
    generated_schema,
    stale_files,
    validate_event,
)
from tests.miniatures import log

REPO = Path(__file__).resolve().parents[1]
TSC = REPO / ".runtimes" / "tools" / "node_modules" / ".bin" / "tsc"


def full(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round-trip miniature events through the model so every always-present field is there."""
    return [EVENT_ADAPTER.validate_python(e).model_dump(mode="json") for e in events]


def rules(events: list[dict[str, Any]]) -> set[str]:
    return {v.rule for v in check_events(events)}


# ------------------------------------------------------------------------------ the schema


def test_checked_in_schema_is_current_and_a_valid_2020_12_schema() -> None:
    assert stale_files() == [], "run: harness schema --write"
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema == generated_schema()


def test_typescript_declarations_compile() -> None:
    """The generated .d.ts is real TypeScript: the pinned tsc compiles it in strict mode."""
    assert TSC.exists(), "tsc missing: `nox -s tests` installs it into .runtimes/tools"
    done = subprocess.run([str(TSC), "--noEmit", "--strict", str(TYPESCRIPT_PATH)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = TYPESCRIPT_PATH.read_text()
    assert "export type NormalizedEvent" in text and '"session.started"' in text


def test_schema_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "normalized-log.v1.schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(schema_module, "SCHEMA_PATH", stale)
    monkeypatch.setattr(schema_module, "TYPESCRIPT_PATH", TYPESCRIPT_PATH)
    assert main(["schema", "--check"]) == 1
    assert str(stale) in capsys.readouterr().err
    assert main(["schema", "--write"]) == 0
    assert main(["schema", "--check"]) == 0


def test_schema_check_fails_on_a_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A published file that is gone is as stale as a changed one: the check names it."""
    missing = tmp_path / "normalized-log.v1.schema.json"
    monkeypatch.setattr(schema_module, "SCHEMA_PATH", missing)
    monkeypatch.setattr(schema_module, "TYPESCRIPT_PATH", TYPESCRIPT_PATH)
    assert stale_files() == [missing]
    assert main(["schema", "--check"]) == 1
    assert str(missing) in capsys.readouterr().err


def test_schema_errors_name_the_field_not_the_whole_union() -> None:
    [event] = full(log({"kind": "assistant_message", "text": "x"}))[2:3]
    event["item"]["status"] = "maybe"
    assert validate_event(event) == [
        "item.status: 'maybe' is not one of ['in_progress', 'completed', 'failed', 'declined']"]
    event["item"]["kind"] = "hologram"
    assert validate_event(event) == ["item: unknown kind 'hologram'"]
    del event["type"]
    assert validate_event(event) == ["<event>: 'type' is a required property"]


# ------------------------------------------------------------------------------ the rules


def test_a_well_formed_log_keeps_every_rule() -> None:
    events = full(log({"kind": "assistant_message", "text": "hi"}))
    assert [validate_event(e) for e in events] == [[]] * len(events)
    assert check_events(events) == []


@pytest.mark.parametrize(("damage", "rule"), [
    (lambda ev: ev.pop(1), "seq_contiguous"),
    (lambda ev: ev.pop(0), "session_first"),
    (lambda ev: ev.pop(), "turns_pair_up"),
    (lambda ev: ev.insert(3, {**ev[1]}), "turns_pair_up"),
    (lambda ev: ev[2].update(turn=None), "turn_field"),
    (lambda ev: ev.append({**ev[2], "turn": None}), "items_inside_turns"),
    (lambda ev: ev.insert(3, {**ev[2]}), "item_lifecycle"),
    (lambda ev: ev.insert(3, {**ev[2], "type": "item.started"}), "item_lifecycle"),
    (lambda ev: ev[3].update(lane="other"), "one_lane"),
    (lambda ev: ev.insert(3, {**ev[0]}), "session_first"),
    (lambda ev: ev.append({"schema_version": 1, "seq": 0, "type": "approval.requested",
                           "lane": "x", "thread_id": "t1", "turn": None, "request_id": "r",
                           "item_id": "item_0", "action": "a"}), "items_inside_turns"),
])
def test_each_rule_catches_its_violation(damage: Any, rule: str) -> None:
    events = log({"kind": "assistant_message", "text": "a"}, {"kind": "reasoning", "text": "b"})
    damage(events)
    if rule != "seq_contiguous":
        for seq, event in enumerate(events):
            event["seq"] = seq
    assert rule in rules(events)


def test_an_item_started_twice_is_flagged() -> None:
    """Two `item.started` for one id before its completion: a lane that restarts a streaming
    item under the same id would otherwise pass as one item."""
    events = log({"kind": "assistant_message", "text": "a"})
    started = {**events[2], "type": "item.started"}
    events[2:2] = [dict(started), dict(started)]
    for seq, event in enumerate(events):
        event["seq"] = seq
    assert [v.detail for v in check_events(events)] == ["item 'item_0' started twice"]


def test_turn_indices_count_up_and_every_end_closes_an_open_turn() -> None:
    """A skipped turn index and a turn end outside any turn break only `turns_pair_up` (the
    envelope's `turn` field agrees with itself there), so each detail is checked alone."""
    events = log({"kind": "assistant_message", "text": "a"})
    envelope = {"schema_version": 1, "lane": "x", "thread_id": "t1"}
    skipped = [*events, {**envelope, "type": "turn.started", "turn": 2},
               {**envelope, "type": "turn.completed", "turn": 2, "usage": None}]
    stray = [*events, {**envelope, "type": "turn.completed", "turn": None, "usage": None}]
    for damaged in (skipped, stray):
        for seq, event in enumerate(damaged):
            event["seq"] = seq
    assert [v.detail for v in check_events(skipped)] == ["turn index 2, expected 1"]
    assert [v.detail for v in check_events(stray)] == ["turn.completed without an open turn"]


def test_approvals_reference_items_and_resolve_once() -> None:
    events = log({"kind": "command_execution", "command": "rm x", "exit_code": None,
                  "output": "", "status": "declined"})
    envelope = {"schema_version": 1, "lane": "x", "thread_id": "t1", "turn": 0}
    events[3:3] = [
        {**envelope, "type": "approval.requested", "request_id": "r1", "item_id": "item_0",
         "action": "rm x"},
        {**envelope, "type": "approval.resolved", "request_id": "r1", "decision": "denied",
         "decided_by": "policy"},
    ]
    for seq, event in enumerate(events):
        event["seq"] = seq
    assert check_events(events) == []
    twice = [dict(e) for e in [*events[:5], events[4], *events[5:]]]
    for seq, event in enumerate(twice):
        event["seq"] = seq
    assert "approvals" in rules(twice)
    unknown = [dict(e) for e in events]
    unknown[3]["item_id"] = "nope"
    assert [v.detail for v in check_events(unknown)] == [
        "approval references unknown item 'nope'"]


def test_notices_may_stand_outside_turns_and_before_the_session() -> None:
    """A lane that cannot read its input reports it as a notice: allowed before any session."""
    builder = LogBuilder("x")
    events = [builder.notice("cannot read interaction 0")]
    events += builder.session_started("t", SessionInfo(provider="p"))
    events.append(builder.notice("model metadata unknown"))
    dumped = [e.model_dump(mode="json") for e in events]
    assert check_events(dumped) == []


# ------------------------------------------------------------------------------ builder property

Op = tuple[str, str]
OPS = st.lists(st.tuples(
    st.sampled_from(["session", "turn", "start", "update", "complete", "notice", "end", "fail"]),
    st.text(min_size=0, max_size=8)), max_size=40)


@given(OPS)
def test_any_sequence_of_builder_calls_yields_a_valid_log(ops: list[Op]) -> None:
    """Invariant: the LogBuilder enforces the ordering rules by construction, so whatever a lane
    asks of it, in whatever order, the log it emits is schema-valid and keeps every rule."""
    builder = LogBuilder("prop")
    events: list[Any] = []
    open_ids: list[str] = []
    for op, text in ops:
        if op == "session":
            events += builder.session_started(text or None, SessionInfo(provider="p"))
            open_ids.clear()
        elif op == "turn" and builder.has_session:
            events += builder.turn_started()
            open_ids.clear()
        elif op == "notice":
            events.append(builder.notice(text or "n"))
        elif not builder.in_turn:
            continue
        elif op == "start":
            item = CommandExecution(id=builder.fresh_id(), status="in_progress", command=text)
            open_ids.append(item.id)
            events.append(builder.item("started", item))
        elif op == "update" and open_ids:
            item = CommandExecution(id=open_ids[-1], status="in_progress", command=text,
                                    output=text)
            events.append(builder.item("updated", item))
        elif op == "complete":
            item_id = open_ids.pop() if open_ids else builder.fresh_id()
            events.append(builder.item("completed", AssistantMessage(
                id=item_id, status="completed", text=text)))
        elif op == "end":
            events += builder.turn_completed(Usage(scope="turn", input_tokens=len(text)))
            open_ids.clear()
        elif op == "fail":
            events += builder.turn_failed(TurnError(kind="provider", message=text,
                                                    retryable=True))
            open_ids.clear()
    events += builder.close()
    dumped = [e.model_dump(mode="json") for e in events]
    assert [err for e in dumped for err in validate_event(e)] == []
    assert [str(v) for v in check_events(dumped)] == []


# ------------------------------------------------------------------------------ the CLI


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_validate_exit_codes_and_positions(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.jsonl", full(log({"kind": "assistant_message", "text": "x"})))
    assert main(["validate", str(good)]) == 0
    broken = full(log({"kind": "assistant_message", "text": "x"}))
    broken[2]["turn"] = None
    bad = _write(tmp_path / "bad.jsonl", broken)
    capsys.readouterr()
    assert main(["validate", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{bad}:3: turn_field: turn None but the open turn is 0"]
    unreadable = tmp_path / "cut.jsonl"
    unreadable.write_bytes(good.read_bytes()[:-20])
    assert main(["validate", str(unreadable)]) == 2
    assert f"{unreadable}:4: not JSON" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.jsonl")]) == 2


def test_validate_reports_an_unclosed_turn_at_the_last_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    events = full(log({"kind": "assistant_message", "text": "x"}))[:-1]
    path = _write(tmp_path / "open.jsonl", events)
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{path}:3: turns_pair_up: turn 0 is never completed or failed")


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"type": "thread.started", "thread_id": "t"}\nnot json\n')
    done = subprocess.run([sys.executable, "-m", "harness", "normalize", "--lane",
                           "codex-adapter", str(bad)], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and str(bad) in done.stderr


def test_notice_items_validate_outside_turns() -> None:
    notice = ErrorNotice(id="item_0", status="completed", message="m")
    builder = LogBuilder("x")
    events = [*builder.session_started("t", SessionInfo(provider="p")),
              builder.item("completed", notice)]
    assert check_events([e.model_dump(mode="json") for e in events]) == []
