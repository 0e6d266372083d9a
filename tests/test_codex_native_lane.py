"""The codex-native lane: `codex exec --json` lines (Codex CLI 0.169) to the normalized model.

Hand-built streams pin each item type and each quirk (the quirk tests name theirs in the
docstring); hypothesis streams from `harness.testing.strategies` check the properties every log must
have; syrupy goldens (golden/_snapshots/test_codex_native_lane/) pin whole logs of the
hand-written streams in tests/data/codex_native/; the CLI tests run `harness normalize`.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given
from syrupy.assertion import SnapshotAssertion

import lanes.codex_native as cn
from harness.cli import main as cli_main
from harness.contract import model
from harness.contract.errors import FrameError, SequenceError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.contract.model import RETRYABLE, ErrorKind, dump_event_line
from harness.contract.schema import validate_event
from harness.testing.strategies import codex_exec_streams
from lanes.codex_native import LANE

DATA = Path(__file__).parent / "data"
SAMPLES = sorted((DATA / "codex_native").glob("*.jsonl"))
BAD_INPUT = sorted((DATA / "bad_input").glob("*.jsonl"))
THREAD = "019a0000-0000-7000-8000-00000000abcd"

# ------------------------------------------------------------------------------ native builders


def thread(thread_id: str = THREAD) -> dict[str, Any]:
    return {"type": "thread.started", "thread_id": thread_id}


def turn() -> dict[str, Any]:
    return {"type": "turn.started"}


def done(**usage: int) -> dict[str, Any]:
    return {"type": "turn.completed", "usage": usage or {"input_tokens": 10,
                                                         "cached_input_tokens": 0,
                                                         "output_tokens": 2}}


def failed(message: str) -> dict[str, Any]:
    return {"type": "turn.failed", "error": {"message": message}}


def item(phase: str, item_id: str, item_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": f"item.{phase}", "item": {"id": item_id, "type": item_type, **fields}}


def command(phase: str, item_id: str, *, cmd: str = "/bin/bash -lc 'ls -a'", output: str = "",
            exit_code: int | None = None, status: str = "in_progress") -> dict[str, Any]:
    return item(phase, item_id, "command_execution", command=cmd, aggregated_output=output,
                exit_code=exit_code, status=status)


def message(item_id: str, text: str) -> dict[str, Any]:
    return item("completed", item_id, "agent_message", text=text)


def in_turn(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [thread(), turn(), *items, done()]


# ------------------------------------------------------------------------------ running the lane


def encode(lines: list[dict[str, Any] | str | bytes]) -> bytes:
    out = []
    for line in lines:
        if isinstance(line, dict):
            out.append(json.dumps(line, ensure_ascii=False).encode())
        elif isinstance(line, str):
            out.append(line.encode())
        else:
            out.append(line)
    return b"".join(part + b"\n" for part in out)


def normalize_bytes(data: bytes, context: RunContext | None = None,
                    name: str = "stream.jsonl") -> list[dict[str, Any]]:
    events = LANE.normalize(LaneInput(stream=io.BytesIO(data), name=name),
                            context or RunContext())
    return [e.model_dump(mode="json") for e in events]


def run(lines: list[dict[str, Any] | str | bytes], context: RunContext | None = None
        ) -> list[dict[str, Any]]:
    """Normalize a hand-built stream and insist the log is valid (schema and ordering rules)."""
    events = normalize_bytes(encode(lines), context)
    assert_valid(events)
    return events


def assert_valid(events: list[dict[str, Any]]) -> None:
    problems = [f"{e['seq']}: {err}" for e in events for err in validate_event(e)]
    problems += [str(v) for v in check_events(events)]
    assert problems == []


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def of_type(events: list[dict[str, Any]], etype: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == etype]


# ==================================================================================== contract


def test_lane_is_registered_and_truthful() -> None:
    """The entry point names this LaneSpec; kinds are exactly what the tables can emit; no
    capability the stream cannot show (exec JSON has no approval events, no skills)."""
    spec = get_lane("codex-native")
    assert spec is LANE
    assert (spec.provider, spec.input_kind, spec.native_file) == \
        ("openai", "jsonl", "codex-native.jsonl")
    assert spec.item_kinds == {*cn.ITEM_KINDS.values(), "unknown"}
    assert not spec.capabilities & {"approvals", "skills"}


def test_item_tables_cover_every_native_item_type() -> None:
    native = set(get_args(cn.NativeItemType))
    assert set(cn.ITEM_KINDS) == native
    assert set(cn.ITEM_MODELS) == native


def test_status_change_and_retry_tables_are_exhaustive() -> None:
    assert set(cn.STATUSES) == set(get_args(cn.NativeStatus))
    assert set(cn.CHANGE_KINDS) == set(get_args(cn.NativeChangeKind))
    assert set(RETRYABLE) == set(get_args(ErrorKind))


SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "thread.started": thread("other-thread"),
    "turn.started": turn(),
    "turn.completed": done(),
    "turn.failed": failed("boom"),
    "item.started": command("started", "item_9"),
    "item.updated": item("updated", "item_9", "todo_list", items=[]),
    "item.completed": message("item_9", "hi"),
    "item.plan.delta": {"type": "item.plan.delta", "item_id": "item_9", "delta": "1. look"},
    "request_user_input": {"type": "request_user_input", "id": "t", "call_id": "c",
                           "questions": []},
    "error": {"type": "error", "message": "warning"},
}


@pytest.mark.parametrize("etype", get_args(cn.NativeEventType))
def test_every_native_event_type_has_a_mapping(etype: str) -> None:
    """Exhaustiveness of the top-level dispatch: each event type `ThreadEvent` defines is mapped
    (not kept as `unknown`), except the ones listed in KEPT_WHOLE, which are kept on purpose."""
    assert set(SAMPLE_EVENTS) == set(get_args(cn.NativeEventType))
    prefix = [thread()] if etype == "turn.started" else [thread(), turn()]
    events = normalize_bytes(encode([*prefix, SAMPLE_EVENTS[etype]]))
    unknown = [i["native_type"] for i in completed(events) if i["kind"] == "unknown"]
    assert unknown == ([etype] if etype in cn.KEPT_WHOLE else [])


# ==================================================================================== item types


def test_agent_message_and_reasoning() -> None:
    events = run(in_turn(item("completed", "item_0", "reasoning", text="**Thinking**"),
                         message("item_1", "Hello ☀")))
    reasoning, answer = completed(events)
    assert reasoning == {"id": "item_0", "status": "completed", "native_id": "item_0",
                         "kind": "reasoning", "text": "**Thinking**", "encrypted": False}
    assert (answer["kind"], answer["text"], answer["native_id"]) == \
        ("assistant_message", "Hello ☀", "item_1")


def test_command_execution_lifecycle() -> None:
    """Quirks: `exit_code` is null while running; `aggregated_output` becomes `output`."""
    events = run(in_turn(command("started", "item_0"),
                         command("completed", "item_0", output="a\nb\n", exit_code=0,
                                 status="completed")))
    started = of_type(events, "item.started")[0]["item"]
    assert (started["status"], started["exit_code"], started["output"]) == ("in_progress", None, "")
    end = completed(events)[0]
    assert (end["id"], end["status"], end["exit_code"], end["output"]) == \
        (started["id"], "completed", 0, "a\nb\n")


def test_command_is_kept_shell_wrapped() -> None:
    """Quirk: Codex prints the command shell-wrapped; the lane keeps it exactly as printed
    (unwrapping is the equivalence projection's job, not the lane's)."""
    wrapped = "/bin/bash -lc 'printf '\"'\"'%s\\n'\"'\"' héllo'"
    events = run(in_turn(command("completed", "item_0", cmd=wrapped, exit_code=0,
                                 status="completed")))
    assert completed(events)[0]["command"] == wrapped


@pytest.mark.parametrize(("native", "expected"), [
    ("failed", "failed"), ("declined", "declined"), ("completed", "completed")])
def test_command_statuses(native: str, expected: str) -> None:
    events = run(in_turn(command("completed", "item_0", exit_code=None if native == "declined"
                                 else 1, status=native)))
    assert completed(events)[0]["status"] == expected


def test_item_completed_while_in_progress_is_failed() -> None:
    """Quirk: Codex's end-of-turn reconciliation can complete an unfinished item with its native
    status still `in_progress`; a completed normalized item cannot be in progress: it failed."""
    events = run(in_turn(command("started", "item_0"), command("completed", "item_0")))
    assert completed(events)[0]["status"] == "failed"


def test_file_change() -> None:
    changes = [{"path": "/ws/a.txt", "kind": "add"}, {"path": "/ws/b.txt", "kind": "delete"},
               {"path": "/ws/c.txt", "kind": "update"}]
    events = run(in_turn(item("completed", "item_0", "file_change", changes=changes,
                              status="failed")))
    change = completed(events)[0]
    assert change["status"] == "failed"
    assert change["changes"] == [{**c, "move_path": None} for c in changes]


def test_mcp_tool_call_result_and_error() -> None:
    base = {"server": "demo", "tool": "echo", "arguments": {"text": "ping"}}
    result = {"content": [{"type": "text", "text": "ping"}], "structured_content": None}
    events = run(in_turn(
        item("started", "item_0", "mcp_tool_call", **base, result=None, error=None,
             status="in_progress"),
        item("completed", "item_0", "mcp_tool_call", **base, result=result, error=None,
             status="completed"),
        item("completed", "item_1", "mcp_tool_call", **base, result=None,
             error={"message": "server gone"}, status="failed"),
    ))
    ok, bad = completed(events)
    assert (ok["kind"], ok["server"], ok["tool"], ok["arguments"], ok["result"], ok["error"]) == \
        ("mcp_tool_call", "demo", "echo", {"text": "ping"}, result, None)
    assert (bad["status"], bad["error"], bad["result"]) == ("failed", "server gone", None)


def test_collab_tool_call_is_a_tool_call() -> None:
    states = {"thr_child": {"status": "completed", "message": "done"}}
    events = run(in_turn(item("completed", "item_0", "collab_tool_call", tool="spawn_agent",
                              sender_thread_id=THREAD, receiver_thread_ids=["thr_child"],
                              prompt="check it", agents_states=states, status="completed")))
    call = completed(events)[0]
    assert (call["kind"], call["name"], call["status"]) == ("tool_call", "spawn_agent", "completed")
    assert call["arguments"] == {"sender_thread_id": THREAD, "receiver_thread_ids": ["thr_child"],
                                 "prompt": "check it"}
    assert call["result"] == {"agents_states": states}


def test_web_search_with_two_id_keys() -> None:
    """Quirk: a web_search item carries two `id` keys in one object (`item_N` from Codex, then
    the provider's `ws_...` id). The parser keeps the last: the native id is the search id, the
    same in started and completed, so both lines are one normalized item."""
    start = '{"type":"item.started","item":{"id":"item_0","type":"web_search","id":"ws_1",' \
            '"query":"","action":{"type":"other"}}}'
    end = '{"type":"item.completed","item":{"id":"item_0","type":"web_search","id":"ws_1",' \
          '"query":"python release","action":{"type":"search","query":"python release"}}}'
    events = run([thread(), turn(), start, end, done()])
    started = of_type(events, "item.started")[0]["item"]
    search = completed(events)[0]
    assert (search["kind"], search["query"], search["native_id"]) == \
        ("web_search", "python release", "ws_1")
    assert started["id"] == search["id"]
    assert started["status"] == "in_progress"


def test_todo_list_is_a_plan() -> None:
    first = [{"text": "Read", "completed": False}, {"text": "Write", "completed": False}]
    later = [{"text": "Read", "completed": True}, {"text": "Write", "completed": False}]
    events = run(in_turn(item("started", "item_0", "todo_list", items=first),
                         item("updated", "item_0", "todo_list", items=later),
                         item("completed", "item_0", "todo_list", items=later)))
    updated = of_type(events, "item.updated")[0]["item"]
    assert updated["status"] == "in_progress"
    plan = completed(events)[0]
    assert plan["kind"] == "plan"
    assert plan["entries"] == [{"text": "Read", "status": "completed"},
                               {"text": "Write", "status": "pending"}]
    assert {e["item"]["id"] for e in events if e["type"].startswith("item.")} == {plan["id"]}


def test_plan_item_and_plan_deltas() -> None:
    events = run(in_turn({"type": "item.plan.delta", "item_id": "item_0", "delta": "1. "},
                         {"type": "item.plan.delta", "item_id": "item_0", "delta": "look"},
                         item("completed", "item_0", "plan", text="1. look")))
    updates = of_type(events, "item.updated")
    assert [u["delta"] for u in updates] == [{"field": "text", "text": "1. "},
                                             {"field": "text", "text": "look"}]
    assert updates[-1]["item"]["text"] == "1. look"
    plan = completed(events)[0]
    assert (plan["kind"], plan["text"], plan["id"]) == ("plan", "1. look", updates[0]["item"]["id"])


def test_error_item_is_a_notice_even_before_the_turn() -> None:
    """Quirk: Codex prints a warning `error` item before `turn.started` (unknown model metadata);
    it is a non-fatal notice that may stand outside a turn."""
    events = run([thread(), item("completed", "item_0", "error", message="metadata missing"),
                  turn(), done()])
    notice = events[1]
    assert (notice["type"], notice["turn"]) == ("item.completed", None)
    assert (notice["item"]["kind"], notice["item"]["message"]) == ("error", "metadata missing")


def test_top_level_error_is_a_notice() -> None:
    """A top-level `error` may precede `turn.started` or `turn.failed`; it never ends a turn."""
    events = run([thread(), {"type": "error", "message": "early"}, turn(),
                  {"type": "error", "message": "late"}, done()])
    assert [(i["kind"], i["message"]) for i in completed(events)] == \
        [("error", "early"), ("error", "late")]
    assert events[-1]["type"] == "turn.completed"


def test_unknown_item_type_is_kept_whole() -> None:
    raw = {"id": "item_0", "type": "hologram", "beam": [1, {"x": "ü"}]}
    events = run(in_turn({"type": "item.started", "item": raw},
                         {"type": "item.completed", "item": raw}))
    unknown = completed(events)[0]
    assert (unknown["kind"], unknown["native_type"], unknown["payload"], unknown["native_id"]) == \
        ("unknown", "hologram", raw, "item_0")
    assert of_type(events, "item.started")[0]["item"]["id"] == unknown["id"]


def test_unknown_top_level_event_is_kept_whole() -> None:
    raw = {"type": "session.teleported", "where": "mars"}
    events = run([thread(), raw, turn(), raw, done()])
    kept = [i for i in completed(events) if i["kind"] == "unknown"]
    assert [(i["native_type"], i["payload"]) for i in kept] == [("session.teleported", raw)] * 2


# ==================================================================================== turns, runs


def test_usage_is_cumulative() -> None:
    """Quirk: `turn.completed.usage` is cumulative over the thread; reasoning tokens and
    cache writes are kept."""
    events = run([thread(), turn(), done(input_tokens=100, cached_input_tokens=40,
                                         cache_write_input_tokens=7, output_tokens=9,
                                         reasoning_output_tokens=3),
                  thread(), turn(), done(input_tokens=250, cached_input_tokens=90,
                                         output_tokens=20)])
    first, second = (e["usage"] for e in of_type(events, "turn.completed"))
    assert first == {"scope": "cumulative", "input_tokens": 100, "cached_input_tokens": 40,
                     "cache_write_input_tokens": 7, "output_tokens": 9, "reasoning_tokens": 3}
    assert second == {"scope": "cumulative", "input_tokens": 250, "cached_input_tokens": 90,
                      "cache_write_input_tokens": None, "output_tokens": 20,
                      "reasoning_tokens": None}


def test_turn_completed_without_usage() -> None:
    events = run([thread(), turn(), {"type": "turn.completed"}])
    assert events[-1]["usage"] is None


def test_resume_repeats_thread_started_and_restarts_item_ids() -> None:
    """Quirks: a resumed run prints `thread.started` again with the same id (-> a new session
    with `resumed_from`), and its item ids restart at `item_0` (normalized ids stay unique)."""
    events = run([thread(), turn(), message("item_0", "first"), done(),
                  thread(), turn(), message("item_0", "second"), done()])
    sessions = of_type(events, "session.started")
    assert [s["resumed_from"] for s in sessions] == [None, THREAD]
    first, second = completed(events)
    assert first["native_id"] == second["native_id"] == "item_0"
    assert first["id"] != second["id"]
    assert [e["turn"] for e in of_type(events, "turn.started")] == [0, 1]


def test_a_different_thread_is_a_new_run_not_a_resume() -> None:
    events = run([thread("a"), turn(), done(), thread("b"), turn(), done()])
    assert [(s["thread_id"], s["resumed_from"]) for s in of_type(events, "session.started")] == \
        [("a", None), ("b", None)]


def test_stream_ending_inside_a_turn_is_truncated() -> None:
    """Quirk: a stream that stops inside a turn ends the log with `turn.failed` kind
    `stream_truncated`; an item still running is completed as failed first."""
    events = run([thread(), turn(), command("started", "item_0")])
    assert [e["type"] for e in events[-2:]] == ["item.completed", "turn.failed"]
    assert events[-2]["item"]["status"] == "failed"
    assert (events[-1]["error"]["kind"], events[-1]["error"]["retryable"]) == \
        ("stream_truncated", True)


def test_resume_after_a_cut_run_closes_the_cut_turn() -> None:
    """A killed run then its resume: the cut turn fails as truncated before the new session."""
    events = run([thread(), turn(), command("started", "item_0"), thread(), turn(), done()])
    types = [e["type"] for e in events]
    assert types.index("turn.failed") < [i for i, t in enumerate(types)
                                          if t == "session.started"][1]


def test_items_printed_twice_after_a_stream_retry() -> None:
    """Quirk: after a stream retry Codex can print an item again with an id already completed in
    the same turn. Decision: keep both as separate normalized items (fresh id, same native id);
    the log shows what the runtime printed and never completes one id twice."""
    events = run(in_turn(message("item_0", "partial answer"), message("item_0", "partial answer")))
    first, second = completed(events)
    assert first["native_id"] == second["native_id"] == "item_0"
    assert first["id"] != second["id"]
    assert first["text"] == second["text"]


def test_turn_ids_do_not_leak_into_the_next_turn() -> None:
    """An item left open in one turn is failed at its end; the same native id later is new."""
    events = run([thread(), turn(), command("started", "item_0"), done(),
                  turn(), command("completed", "item_0", exit_code=0, status="completed"),
                  done()])
    closed, later = completed(events)
    assert closed["status"] == "failed" and later["status"] == "completed"
    assert closed["id"] != later["id"]


@pytest.mark.parametrize(("text", "kind"), [
    ("We\u2019re currently experiencing high demand, which may cause temporary errors.",
     "provider"),
    ("exceeded retry limit, last status: 429 Too Many Requests", "rate_limit"),
    ("exceeded retry limit, last status: 500 Internal Server Error, request id: r1", "provider"),
    ("exceeded retry limit, last status: 401 Unauthorized", "auth"),
    ("stream disconnected before completion: stream closed before response.completed",
     "stream_truncated"),
    ("stream disconnected before completion: websocket closed by server before "
     "response.completed", "stream_truncated"),
    ("stream disconnected before completion: idle timeout waiting for SSE", "network"),
    ("stream disconnected before completion: The model crashed mid-answer.", "provider"),
    ("unexpected status 401 Unauthorized: invalid key", "auth"),
    ("unexpected status 403 Forbidden: Country, region, or territory not supported", "auth"),
    ("unexpected status 400 Bad Request: invalid_request_error", "provider"),
    ("unexpected status 404 Not Found: no such model", "provider"),
    ("unexpected status 429 Too Many Requests: slow down", "rate_limit"),
    ("unexpected status 503 Service Unavailable", "provider"),
    ("exceeded retry limit, last status: 408 Request Timeout", "network"),
    ("unexpected status 402 Payment Required: Quota exceeded", "rate_limit"),
    ("unexpected status 418 I'm a teapot", "unknown"),
    ("Codex ran out of room in the model's context window. Start a new thread or clear "
     "earlier history before retrying.", "provider"),
    ("Missing environment variable: `OPENAI_API_KEY`.", "auth"),
    ("Connection failed: error sending request for url", "network"),
    ("turn aborted. Something went wrong? Hit `/feedback` to report the issue.", "cancelled"),
    ("something nobody has seen", "unknown"),
])
def test_turn_failed_error_kinds(text: str, kind: str) -> None:
    """ERROR_PATTERNS: Codex prints messages, not codes; each documented message maps to a kind,
    and the top-level `error` before `turn.failed` stays a notice. A message naming the HTTP
    status (`unexpected status N`, `last status: N`) goes by the core's one table
    (`HTTP_STATUS_KINDS`); a status the table does not know leaves the wording to decide."""
    events = run([thread(), turn(), {"type": "error", "message": text}, failed(text)])
    error = events[-1]["error"]
    assert (error["kind"], error["message"], error["retryable"]) == \
        (kind, text, RETRYABLE[kind])  # type: ignore[index]
    assert completed(events)[0]["kind"] == "error"


# ==================================================================================== context


def test_context_fills_what_the_stream_lacks() -> None:
    ctx = RunContext(cwd="/work/ws", sandbox="workspace-write", approval_policy="never",
                     auth_mode="api_key", model="gpt-5.5", runtime_version="0.169.0")
    session = run(in_turn(), ctx)[0]
    assert {k: session[k] for k in ("provider", "runtime", "model", "auth_mode", "cwd",
                                    "sandbox", "approval_policy", "resumed_from")} == {
        "provider": "openai", "runtime": {"name": "codex", "version": "0.169.0"},
        "model": "gpt-5.5", "auth_mode": "api_key", "cwd": "/work/ws",
        "sandbox": "workspace-write", "approval_policy": "never", "resumed_from": None}


def test_without_context_fields_are_unknown() -> None:
    session = run(in_turn())[0]
    assert (session["runtime"], session["model"], session["cwd"], session["sandbox"],
            session["approval_policy"], session["auth_mode"]) == \
        ({"name": "codex", "version": None}, None, None, "unknown", "unknown", "unknown")


def test_context_resumed_from_marks_a_log_that_starts_with_a_resume() -> None:
    events = run(in_turn(), RunContext(resumed_from=THREAD))
    assert events[0]["resumed_from"] == THREAD


# ==================================================================================== bad input


BAD_LINES: dict[str, tuple[bytes, str]] = {
    "not_json": (b"{nope", "not JSON"),
    "not_object": (b"[1, 2]", "not a JSON object"),
    "missing_type": (b'{"item": {}}', "missing `type`"),
    "type_not_string": (b'{"type": 7}', "`type` is not a string"),
    "invalid_utf8": (b'{"type": "error", "message": "caf\xc3"}', "invalid UTF-8"),
    "item_not_object": (b'{"type": "item.completed", "item": 3}', "without an `item` object"),
    "command_without_command": (b'{"type": "item.completed", "item": {"id": "item_0", '
                                b'"type": "command_execution", "status": "completed"}}',
                                "command_execution item: command"),
    "exit_code_not_int": (b'{"type": "item.completed", "item": {"id": "i", "type": '
                          b'"command_execution", "command": "x", "exit_code": "0"}}',
                          "exit_code"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_strict_bad_line_raises_frame_error_naming_file_and_line(case: str) -> None:
    """Strict: the bad line raises a FrameError naming file:line; nothing after it is emitted."""
    bad, reason = BAD_LINES[case]
    data = encode([thread(), turn(), bad, message("item_0", "after")])
    got: list[Any] = []
    with pytest.raises(FrameError) as info:
        got.extend(LANE.normalize(LaneInput(io.BytesIO(data), "x.jsonl"), RunContext()))
    assert str(info.value).startswith("x.jsonl:3: ")
    assert reason in str(info.value)
    assert [e.type for e in got] == ["session.started", "turn.started"]  # lines 1-2 only


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_lenient_bad_line_is_a_notice_and_kept_whole_and_the_stream_goes_on(case: str) -> None:
    """Lenient: a line the lane cannot read is an `error` notice naming the line (never the
    file: the log must not depend on where the input lives), then the line itself as an
    `unknown` item (the JSON object, or the text of a line that is none), so nothing is lost."""
    bad, reason = BAD_LINES[case]
    events = run([thread(), turn(), bad, message("item_0", "after"), done()],
                 RunContext(lenient=True))
    notice, kept, after = completed(events)
    assert notice["kind"] == "error"
    assert notice["message"].startswith("line 3: ") and reason in notice["message"]
    assert "stream.jsonl" not in notice["message"]
    assert kept["kind"] == "unknown"
    try:
        whole: Any = json.loads(bad)
    except ValueError:
        whole = bad.decode("utf-8", "backslashreplace")
    assert kept["payload"] == (whole if isinstance(whole, dict) else bad.decode(
        "utf-8", "backslashreplace"))
    assert after["text"] == "after"


@pytest.mark.parametrize(("lines", "reason"), [
    ([turn()], "turn.started before thread.started"),
    ([thread(), message("item_0", "x")], "item.completed agent_message outside a turn"),
    ([thread(), done()], "turn.completed outside a turn"),
    ([thread(), turn(), turn()], "turn.started inside an open turn"),
])
def test_frames_out_of_order(lines: list[dict[str, Any]], reason: str) -> None:
    """Strict: a SequenceError naming the line; lenient: a notice, and the log stays valid."""
    with pytest.raises(SequenceError, match=reason) as info:
        normalize_bytes(encode(lines))
    assert info.value.line == len(lines)
    run(lines, RunContext(lenient=True))


def test_item_started_twice() -> None:
    """A repeated `item.started` for a running item: strict refuses it (SequenceError naming the
    line); lenient reads it as an update, so one normalized id never starts twice."""
    lines = [thread(), turn(), command("started", "item_0"), command("started", "item_0",
                                                                     output="more")]
    with pytest.raises(SequenceError, match="'item_0' started twice") as info:
        normalize_bytes(encode(lines))
    assert info.value.line == 4
    events = run([*lines, done()], RunContext(lenient=True))
    assert [e["type"] for e in events if e["type"].startswith("item.")] == \
        ["item.started", "item.updated", "item.completed"]
    assert of_type(events, "item.updated")[0]["item"]["output"] == "more"


def test_lenient_turn_restart_forgets_the_cut_turns_items() -> None:
    """Lenient `turn.started` inside an open turn fails that turn and its open items; a later
    completion with the same native id is a new item, not a second completion."""
    events = run([thread(), turn(), command("started", "item_0"), turn(),
                  command("completed", "item_0", exit_code=0, status="completed"), done()],
                 RunContext(lenient=True))
    cut, later = completed(events)
    assert (cut["status"], later["status"]) == ("failed", "completed")
    assert cut["id"] != later["id"]


def test_empty_input() -> None:
    """Codex printed nothing (e.g. a fatal config error): strict names line 1, lenient gives a
    session with a notice rather than an empty log."""
    with pytest.raises(SequenceError, match=re.escape("stream.jsonl:1: no `thread.started`")):
        normalize_bytes(b"\n\n")
    events = run([], RunContext(lenient=True))
    assert [e["type"] for e in events] == ["session.started", "item.completed"]


class _CountingStream(io.RawIOBase):
    """A never-ending native stream that counts the lines handed out."""

    def __init__(self) -> None:
        self.served = 0
        self._lines = [encode([thread()]), encode([turn()])]

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        self.served += 1
        if self.served <= 2:
            return self._lines[self.served - 1]
        return encode([message(f"item_{self.served}", "x" * 100)])


def test_normalize_streams_one_line_at_a_time() -> None:
    """Constant memory: events come out while the input is still being read."""
    source = _CountingStream()
    events = LANE.normalize(LaneInput(stream=source, name="live"),  # type: ignore[arg-type]
                            RunContext())
    first = [next(events) for _ in range(5)]
    assert first[-1].type == "item.completed"
    assert source.served <= 6


# ==================================================================================== properties


def _essentials(item: dict[str, Any]) -> tuple[Any, ...]:
    """The fields a completed item must keep, per kind."""
    kind = item["kind"]
    if kind == "command_execution":
        return kind, item["command"], item["exit_code"], item["output"]
    if kind in {"assistant_message", "reasoning"}:
        return kind, item["text"]
    if kind == "plan":
        return kind, tuple((e["text"], e["status"]) for e in item["entries"])
    if kind == "web_search":
        return kind, item["query"]
    if kind == "error":
        return kind, item["message"]
    if kind == "unknown":
        return kind, item["native_type"]
    return kind, item["status"]


def _native_completions(data: bytes) -> list[tuple[int, str, dict[str, Any]]]:
    """(run, native id, item) for every native item.completed line."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    runs = -1
    for line in data.splitlines():
        frame = json.loads(line)
        if frame["type"] == "thread.started":
            runs += 1
        elif frame["type"] == "item.completed":
            out.append((runs, frame["item"]["id"], frame["item"]))
    return out


NATIVE_ESSENTIALS = {
    "command_execution": lambda i: ("command_execution", i["command"], i["exit_code"],
                                    i["aggregated_output"]),
    "agent_message": lambda i: ("assistant_message", i["text"]),
    "reasoning": lambda i: ("reasoning", i["text"]),
    "todo_list": lambda i: ("plan", tuple((t["text"], "completed" if t["completed"] else
                                           "pending") for t in i["items"])),
    "web_search": lambda i: ("web_search", i["query"]),
    "error": lambda i: ("error", i["message"]),
    "file_change": lambda i: ("file_change", i["status"]),
    "mcp_tool_call": lambda i: ("mcp_tool_call", i["status"]),
    "collab_tool_call": lambda i: ("tool_call", i["status"]),
}


@given(codex_exec_streams())
def test_generated_streams_give_valid_logs(data: bytes) -> None:
    """Invariant: any valid `codex exec --json` stream normalizes to a log whose every event
    validates against the published JSON Schema and that keeps every ordering rule."""
    assert_valid(normalize_bytes(data))


@given(codex_exec_streams())
def test_normalizing_is_deterministic(data: bytes) -> None:
    """Invariant: the same input gives byte-identical output (no clocks, no randomness)."""
    assert normalize_bytes(data) == normalize_bytes(data)


@given(codex_exec_streams())
def test_every_native_completed_item_appears_once(data: bytes) -> None:
    """Invariant: each native `item.completed` is exactly one completed normalized item with its
    text / command / exit code / output kept; the only other completions are items the lane
    had to close itself (started, never completed natively), which are failed."""
    events = normalize_bytes(data)
    native = _native_completions(data)
    native_ids = {(run_index, nid) for run_index, nid, _ in native}
    expected = Counter(
        (r, nid, NATIVE_ESSENTIALS[i["type"]](i) if i["type"] in NATIVE_ESSENTIALS
         else ("unknown", i["type"]))
        for r, nid, i in native)
    actual: Counter[tuple[Any, ...]] = Counter()
    runs = -1
    for event in events:
        if event["type"] == "session.started":
            runs += 1
        elif event["type"] == "item.completed" and event["item"]["native_id"] is not None:
            got = event["item"]
            if (runs, got["native_id"]) not in native_ids:
                assert got["status"] == "failed", got
                continue
            key = _essentials(got) if got["kind"] not in {"file_change", "mcp_tool_call",
                                                          "tool_call"} \
                else (got["kind"], got["status"])
            actual[(runs, got["native_id"], key)] += 1
    assert actual == expected


@given(codex_exec_streams())
def test_strategy_renders_codex_shaped_lines(data: bytes) -> None:
    """The strategy itself: every line is one JSON object with a type; each run opens with
    `thread.started` on one thread; web searches carry their two `id` keys."""
    lines = data.decode("utf-8").split("\n")
    assert lines.pop() == ""  # every line ends with a newline; U+0085 etc. stay inside strings
    frames = [json.loads(line) for line in lines]
    assert frames[0]["type"] == "thread.started"
    assert len({f["thread_id"] for f in frames if f["type"] == "thread.started"}) == 1
    for line, frame in zip(lines, frames, strict=True):
        if frame.get("item", {}).get("type") == "web_search":
            assert line.count('"id":') == 2


# ==================================================================================== goldens


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_golden(sample: Path, jsonl_snapshot: SnapshotAssertion) -> None:
    """Whole logs of the hand-written streams, with a context like the recorder writes."""
    ctx = RunContext(cwd="{workspace}", sandbox="workspace-write", approval_policy="never",
                     auth_mode="api_key", model="gpt-5.5", runtime_version="0.169.0")
    events = normalize_bytes(sample.read_bytes(), ctx, name=sample.name)
    assert_valid(events)
    assert events == jsonl_snapshot


# ==================================================================================== CLI


def harness_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real `harness` process (slow to start: used only where the process itself matters)."""
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          input=stdin, timeout=60, check=False)


def harness_main(capsysbinary: pytest.CaptureFixture[bytes], *args: str
                 ) -> tuple[int, bytes, str]:
    """`harness` in this process: (exit code, stdout, stderr)."""
    code = cli_main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


MUST_FAIL = {"not_json": 1, "array": 1, "missing_type": 1, "type_not_string": 1,
             "invalid_utf8": 3, "garbage_line": 3, "cut_mid_line": 3, "empty": 1}
"""bad_input files this lane must refuse, with the line it must name; every other corpus file
either normalizes to a valid log or is refused the same way."""


@pytest.mark.parametrize("sample", BAD_INPUT, ids=lambda p: p.stem)
def test_cli_bad_input(sample: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """Bad input: exit 2 and exactly one `file:line: reason` line on stderr (no traceback), and
    stdout holds whole lines of the valid prefix only; good input: exit 0 and a valid log."""
    code, out, err = harness_main(capsysbinary, "normalize", "--lane", "codex-native",
                                  str(sample))
    lines = out.splitlines()
    assert out == b"".join(line + b"\n" for line in lines)
    events = [json.loads(line) for line in lines]
    if code == 0 and sample.stem not in MUST_FAIL:
        assert err == ""
        assert_valid(events)
        return
    assert code == 2
    assert len(err.splitlines()) == 1, err
    match = re.fullmatch(rf"harness: {re.escape(str(sample))}:(\d+): \S.*\n", err)
    assert match is not None, err
    if sample.stem in MUST_FAIL:
        assert int(match.group(1)) == MUST_FAIL[sample.stem]
    assert not [v for v in check_events(events) if v.rule != "turns_pair_up"]


@pytest.mark.parametrize("sample", BAD_INPUT, ids=lambda p: p.stem)
def test_cli_lenient_never_fails(sample: Path, capsysbinary: pytest.CaptureFixture[bytes]
                                 ) -> None:
    code, out, err = harness_main(capsysbinary, "normalize", "--lane", "codex-native",
                                  "--lenient", str(sample))
    assert (code, err) == (0, "")
    assert_valid([json.loads(line) for line in out.splitlines()])


def test_cli_process_reads_stdin_and_reports_bad_input_without_traceback() -> None:
    """The real process: `-` reads stdin (same output as the file), context flags reach
    session.started, and bad input is one stderr line with exit 2."""
    sample = DATA / "codex_native" / "basic_turn.jsonl"
    flags = ["--cwd", "/ws", "--sandbox", "read-only", "--approval-policy", "never",
             "--auth-mode", "api_key"]
    from_file = harness_cli("normalize", "--lane", "codex-native", *flags, str(sample))
    from_stdin = harness_cli("normalize", "--lane", "codex-native", *flags, "-",
                             stdin=sample.read_bytes())
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stdout == from_stdin.stdout
    session = json.loads(from_stdin.stdout.splitlines()[0])
    assert (session["cwd"], session["sandbox"], session["approval_policy"],
            session["auth_mode"]) == ("/ws", "read-only", "never", "api_key")
    bad = harness_cli("normalize", "--lane", "codex-native", "-", stdin=b"{oops\n")
    assert bad.returncode == 2
    assert bad.stderr.decode().startswith("harness: <stdin>:1: not JSON")
    assert len(bad.stderr.splitlines()) == 1


# ==================================================================================== older formats

SUMMARY = {"model": "gpt-5", "workdir": "/ws", "provider": "stub", "approval": "never",
           "sandbox": "workspace-write [workdir, /tmp, $TMPDIR]", "reasoning effort": "none"}
LENIENT = RunContext(lenient=True)


def legacy(mtype: str, **fields: Any) -> dict[str, Any]:
    """One pre-0.44 line: the protocol event printed whole."""
    return {"id": "0", "msg": {"type": mtype, **fields}}


def legacy_run(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [SUMMARY, {"prompt": "do it"}, legacy("task_started", model_context_window=1), *events]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("first", [SUMMARY, legacy("task_started")], ids=["summary", "event"])
def test_strict_refuses_a_legacy_stream_at_its_first_line(first: dict[str, Any]) -> None:
    """A pre-0.44 stream is not the current contract: strict mode refuses it in one line that
    names it, before emitting anything."""
    data = encode([first, legacy("agent_message", message="hi")])
    got: list[Any] = []
    with pytest.raises(FrameError) as info:
        got.extend(LANE.normalize(LaneInput(io.BytesIO(data), "old.jsonl"), RunContext()))
    assert str(info.value).startswith(
        "old.jsonl:1: looks like a legacy (pre-0.44) Codex stream ({id, msg} lines); ")
    assert got == []


def test_strict_refuses_a_legacy_line_inside_a_current_stream_at_that_line() -> None:
    data = encode([thread(), turn(), legacy("agent_message", message="hi")])
    with pytest.raises(FrameError, match=r"^x\.jsonl:3: looks like a legacy"):
        list(LANE.normalize(LaneInput(io.BytesIO(data), "x.jsonl"), RunContext()))


def test_legacy_summary_opens_the_session_and_is_kept_whole() -> None:
    """The config summary states model, workdir, sandbox and approval: they fill the session
    where the context does not; the summary and the prompt line are kept whole."""
    events = run([*legacy_run(), legacy("agent_message", message="done")], LENIENT)
    session = events[0]
    assert (session["model"], session["cwd"], session["sandbox"], session["approval_policy"],
            session["thread_id"]) == ("gpt-5", "/ws", "workspace-write", "never", None)
    summary, prompt, answer = completed(events)
    assert (summary["native_type"], summary["payload"]) == ("config_summary", SUMMARY)
    assert (prompt["native_type"], prompt["payload"]) == ("prompt", {"prompt": "do it"})
    assert answer["text"] == "done"
    context = RunContext(lenient=True, model="m", cwd="/c", sandbox="read-only",
                         approval_policy="on-request")
    session = run([*legacy_run(), legacy("agent_message", message="done")], context)[0]
    assert (session["model"], session["cwd"], session["sandbox"],
            session["approval_policy"]) == ("m", "/c", "read-only", "on-request")


def test_legacy_command_with_base64_and_byte_array_deltas() -> None:
    """exec_command_begin/_output_delta/_end are one command item: the command list joined as
    a shell line, cwd, each chunk an `output` delta (0.42 base64, 0.25 byte arrays), exit code
    and `aggregated_output` from the end; a non-zero exit fails the item."""
    events = run(legacy_run(
        legacy("exec_command_begin", call_id="c1", command=["bash", "-lc", "echo hi; false"],
               cwd="/ws", parsed_cmd=[]),
        legacy("exec_command_output_delta", call_id="c1", stream="stdout", chunk=b64("h")),
        legacy("exec_command_output_delta", call_id="c1", stream="stdout",
               chunk=list(b"i\n")),
        legacy("exec_command_end", call_id="c1", stdout="hi\n", stderr="",
               aggregated_output="hi\n", exit_code=1, duration={"secs": 0, "nanos": 5}),
        legacy("exec_command_begin", call_id="c2", command=["ls"], cwd="/ws"),
        legacy("exec_command_end", call_id="c2", stdout="a\n", stderr="b\n", exit_code=0),
        legacy("agent_message", message="ok"),
    ), LENIENT)
    updates = of_type(events, "item.updated")
    assert [u["delta"] for u in updates] == [{"field": "output", "text": "h"},
                                             {"field": "output", "text": "i\n"}]
    assert updates[-1]["item"]["output"] == "hi\n"
    first, second, _ = completed(events)[2:]
    assert (first["command"], first["cwd"], first["exit_code"], first["output"],
            first["status"], first["native_id"]) == \
        ("bash -lc 'echo hi; false'", "/ws", 1, "hi\n", "failed", "c1")
    assert {updates[0]["item"]["id"]} == {u["item"]["id"] for u in updates} == {first["id"]}
    assert (second["command"], second["output"], second["status"]) == ("ls", "a\nb\n",
                                                                       "completed")


def test_legacy_patch_kinds_and_failure() -> None:
    changes = {"/ws/new.txt": {"add": {"content": "x"}}, "/ws/old.txt": {"delete": {}},
               "/ws/a.txt": {"update": {"unified_diff": "@@", "move_path": None}},
               "/ws/b.txt": {"update": {"unified_diff": "@@", "move_path": "/ws/c.txt"}}}
    events = run(legacy_run(
        legacy("patch_apply_begin", call_id="p1", auto_approved=True, changes=changes),
        legacy("patch_apply_end", call_id="p1", stdout="Success.", stderr="", success=True),
        legacy("patch_apply_begin", call_id="p2", auto_approved=True,
               changes={"/ws/x.txt": {"add": {"content": "y"}}}),
        legacy("patch_apply_end", call_id="p2", stdout="", stderr="no such dir",
               success=False),
        legacy("agent_message", message="ok"),
    ), LENIENT)
    good, bad = completed(events)[2:4]
    assert [(c["path"], c["kind"], c["move_path"]) for c in good["changes"]] == [
        ("/ws/new.txt", "add", None), ("/ws/old.txt", "delete", None),
        ("/ws/a.txt", "update", None), ("/ws/b.txt", "move", "/ws/c.txt")]
    assert (good["status"], good["error"]) == ("completed", None)
    assert (bad["status"], bad["error"], bad["changes"][0]["path"]) == \
        ("failed", "no such dir", "/ws/x.txt")


def test_legacy_mcp_results() -> None:
    """`result` is Rust's `Result` printed by serde: `Ok` keeps the server's content and
    structured content in the current stream's shape and fails on `isError`; `Err` is the
    call's error."""
    call = {"server": "demo", "tool": "echo", "arguments": {"text": "ping"}}
    content = [{"type": "text", "text": "ping"}]
    events = run(legacy_run(
        legacy("mcp_tool_call_begin", call_id="m1", invocation=call),
        legacy("mcp_tool_call_end", call_id="m1", invocation=call, duration={},
               result={"Ok": {"content": content, "structuredContent": {"n": 1}}}),
        legacy("mcp_tool_call_end", call_id="m2", invocation=call,
               result={"Ok": {"content": content, "isError": True}}),
        legacy("mcp_tool_call_end", call_id="m3", invocation=call,
               result={"Err": "tool call timed out"}),
        legacy("agent_message", message="ok"),
    ), LENIENT)
    ok, is_error, err = completed(events)[2:5]
    assert (ok["status"], ok["server"], ok["tool"], ok["arguments"], ok["result"],
            ok["error"]) == ("completed", "demo", "echo", {"text": "ping"},
                             {"content": content, "structured_content": {"n": 1}}, None)
    assert (is_error["status"], is_error["result"]) == \
        ("failed", {"content": content, "structured_content": None})
    assert (err["status"], err["result"], err["error"]) == ("failed", None, "tool call timed out")


def test_legacy_reasoning_plan_and_web_search() -> None:
    events = run(legacy_run(
        legacy("agent_reasoning", text="thinking"),
        legacy("plan_update", explanation="why", plan=[{"step": "a", "status": "completed"},
                                                       {"step": "b", "status": "pending"}]),
        legacy("web_search_begin", call_id="ws_1"),
        legacy("web_search_end", call_id="ws_1", query="python release"),
        legacy("agent_message", message="ok"),
    ), LENIENT)
    reasoning, plan, search = completed(events)[2:5]
    assert (reasoning["kind"], reasoning["text"]) == ("reasoning", "thinking")
    assert (plan["kind"], plan["text"], plan["entries"]) == (
        "plan", "why", [{"text": "a", "status": "completed"}, {"text": "b", "status": "pending"}])
    assert (search["kind"], search["query"], search["native_id"]) == \
        ("web_search", "python release", "ws_1")
    assert of_type(events, "item.started")[0]["item"]["id"] == search["id"]


def test_legacy_usage_is_the_turns() -> None:
    """0.42 `token_count.info.total_token_usage` is the process's running total (the last one
    counts; a resumed run starts from zero, and a run is one turn); 0.25 prints each request's
    counts flat on the message (summed). Either way the usage is the turn's."""
    total = {"input_tokens": 10, "cached_input_tokens": 1, "output_tokens": 2,
             "reasoning_output_tokens": 3, "total_tokens": 12}
    later = {**total, "input_tokens": 30}
    events = run(legacy_run(legacy("token_count", info=None, rate_limits={}),
                            legacy("token_count", info={"total_token_usage": total}),
                            legacy("token_count", info={"total_token_usage": later}),
                            legacy("agent_message", message="ok")), LENIENT)
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 30,
                                   "cached_input_tokens": 1, "cache_write_input_tokens": None,
                                   "output_tokens": 2, "reasoning_tokens": 3}
    events = run(legacy_run(legacy("token_count", input_tokens=10, output_tokens=2),
                            legacy("token_count", input_tokens=11, output_tokens=3,
                                   cached_input_tokens=4),
                            legacy("agent_message", message="ok")), LENIENT)
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 21,
                                   "cached_input_tokens": 4, "cache_write_input_tokens": None,
                                   "output_tokens": 5, "reasoning_tokens": None}


@pytest.mark.parametrize(("tail", "outcome"), [
    ([legacy("agent_message", message="done")], "turn.completed"),
    ([legacy("agent_message", message="done"), legacy("turn_diff", unified_diff="")],
     "turn.completed"),
    ([legacy("agent_message", message="done"), legacy("task_complete",
                                                       last_agent_message="done")],
     "turn.completed"),
    ([legacy("agent_reasoning", text="still thinking")], "stream_truncated"),
    ([legacy("agent_message", message="running"),
      legacy("exec_command_begin", call_id="c", command=["sleep", "9"])], "stream_truncated"),
    ([legacy("exec_command_begin", call_id="c", command=["sleep", "9"]),
      legacy("agent_message", message="still waiting")], "stream_truncated"),
    ([], "stream_truncated"),
])
def test_legacy_end_of_input(tail: list[dict[str, Any]], outcome: str) -> None:
    """Legacy `--json` never printed `task_complete` (0.25 and 0.42 return before printing it):
    input ending after the final answer with nothing running completed the turn; any other
    end inside a turn was a cut stream."""
    last = run(legacy_run(*tail), LENIENT)[-1]
    assert (last["type"] if last["type"] == "turn.completed"
            else last["error"]["kind"]) == outcome


def test_legacy_errors_aborts_and_retries() -> None:
    """`error` ended a legacy task (a notice, then the turn fails by the message's kind);
    `stream_error` was a retry notice; `turn_aborted` is a cancelled turn."""
    events = run(legacy_run(legacy("stream_error", message="retrying 1/5"),
                            legacy("error", message="exceeded retry limit, last status: 429 "
                                                    "Too Many Requests")), LENIENT)
    assert [i["message"] for i in completed(events)[2:]] == [
        "retrying 1/5", "exceeded retry limit, last status: 429 Too Many Requests"]
    assert events[-1]["error"]["kind"] == "rate_limit"
    events = run(legacy_run(legacy("turn_aborted", reason="interrupted")), LENIENT)
    assert (events[-1]["type"], events[-1]["error"]["kind"], events[-1]["error"]["message"]) == \
        ("turn.failed", "cancelled", "turn aborted: interrupted")


def test_legacy_unmapped_events_and_bad_payloads_are_kept_whole() -> None:
    """A legacy event with no place in the model is an `unknown` item holding the whole line;
    a mapped one that does not fit its shape is a notice plus the whole line."""
    odd = legacy("background_event", message="hello")
    bad = legacy("exec_command_end", call_id="c", exit_code="0")
    events = run(legacy_run(odd, bad, legacy("agent_message", message="ok")), LENIENT)
    items = completed(events)[2:]
    assert (items[0]["kind"], items[0]["native_type"], items[0]["payload"]) == \
        ("unknown", "background_event", odd)
    assert items[1]["kind"] == "error" and items[1]["message"].startswith("line 5: ")
    assert (items[2]["kind"], items[2]["payload"]) == ("unknown", bad)
    assert items[3]["text"] == "ok"


EXPERIMENTAL = [
    {"type": "session.created", "session_id": "s-1"},
    {"type": "item.completed", "item": {"id": "item_0", "item_type": "assistant_message",
                                         "text": "hi"}},
]


def test_experimental_stream_is_refused_strict_and_kept_whole_lenient() -> None:
    """0.42/0.43 `--experimental-json` (`session.created`, `item_type`): strict names it at
    line 1; lenient keeps each line whole and adds no notice."""
    with pytest.raises(FrameError, match=r"^e\.jsonl:1: looks like a pre-0\.44 `codex exec "
                                         r"--experimental-json` stream"):
        list(LANE.normalize(LaneInput(io.BytesIO(encode(EXPERIMENTAL)), "e.jsonl"),
                            RunContext()))
    with pytest.raises(FrameError, match=r":3: looks like a pre-0\.44"):
        normalize_bytes(encode([thread(), turn(), EXPERIMENTAL[1]]))
    kept = completed(run(EXPERIMENTAL, LENIENT))
    assert [(i["kind"], i["native_type"], i["payload"]) for i in kept] == [
        ("unknown", "session.created", EXPERIMENTAL[0]),
        ("unknown", "item.completed", EXPERIMENTAL[1])]


def test_older_formats_are_recognized_as_codex_input() -> None:
    """Another lane given a legacy or experimental Codex stream names this lane."""
    assert LANE.recognizes is not None
    for first in (SUMMARY, legacy("task_started"), EXPERIMENTAL[0]):
        assert LANE.recognizes(encode([first]))
    assert not LANE.recognizes(encode([{"type": "init", "session_id": "s"}]))


@pytest.mark.parametrize(("action", "query"), [
    ({"type": "search", "query": "q1", "queries": ["q1", "q2"]}, "q1"),
    ({"type": "search", "queries": ["q1", "q2"]}, "q1 ..."),
    ({"type": "search", "queries": ["q1"]}, "q1"),
    ({"type": "open_page", "url": "https://example.com/a"}, "https://example.com/a"),
    ({"type": "find_in_page", "url": "https://example.com/a", "pattern": "p"},
     "'p' in https://example.com/a"),
    ({"type": "find_in_page", "pattern": "p"}, "'p'"),
    ({"type": "other"}, ""),
    (None, ""),
])
def test_web_search_query_falls_back_to_its_action(action: Any, query: str) -> None:
    """An empty `query` is filled from `action` by Codex's own rule (`web_search_action_detail`):
    the search, the page opened, or the pattern looked for."""
    events = run(in_turn(item("completed", "item_0", "web_search", query="", action=action)))
    assert completed(events)[0]["query"] == query
    events = run(in_turn(item("completed", "item_0", "web_search", query="printed",
                              action=action)))
    assert completed(events)[0]["query"] == "printed"


@pytest.mark.parametrize(("status", "kind"), [(400, "provider"), (401, "auth"),
                                              (429, "rate_limit"), (503, "provider"),
                                              (418, "unknown")])
def test_turn_failed_json_error_event_goes_by_its_status(status: int, kind: str) -> None:
    """Codex passes a provider's JSON error event through as the message (websocket transport):
    its `status` decides, whatever its words say."""
    message = json.dumps({"type": "error", "status": status,
                          "error": {"type": "invalid_request_error", "message": "rate limit"}})
    events = run([thread(), turn(), failed(message)])
    assert events[-1]["error"]["kind"] == kind


def test_a_message_that_only_looks_like_json_is_classified_by_its_words() -> None:
    """A brace-led message that is no JSON object, or nests past the parser's depth, is no
    error event: it falls through to the patterns (hostile input must not crash the lane)."""
    for message in ("{not json", '{"status": "400"}', "{" + '"a":' + "[" * 60000,
                    '{"a":' + "[" * 60000 + "]" * 60000 + "}"):
        assert run([thread(), turn(), failed(message)])[-1]["error"]["kind"] == "unknown"


def test_statuses_are_classified_through_the_shared_table(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The lane reads HTTP statuses through the core's one table (`HTTP_STATUS_KINDS`), not its
    own copy or the message's words: changing the table changes the lane's answer."""
    monkeypatch.setitem(model.HTTP_STATUS_KINDS, 400, "auth")
    envelope = json.dumps({"type": "error", "status": 400,
                           "error": {"type": "invalid_request_error"}})
    for message in ("unexpected status 400 Bad Request: invalid_request_error", envelope):
        assert run([thread(), turn(), failed(message)])[-1]["error"]["kind"] == "auth"


def test_legacy_runs_saved_one_after_another() -> None:
    """Each config summary opens a run; the run before it ends as at the end of input (its
    final answer completes the turn, a cut one is truncated)."""
    events = run([*legacy_run(legacy("agent_message", message="one")),
                  *legacy_run(legacy("agent_reasoning", text="cut")),
                  *legacy_run(legacy("agent_message", message="three"))], LENIENT)
    assert len(of_type(events, "session.started")) == 3
    outcomes = [e["type"] if e["type"] == "turn.completed" else e["error"]["kind"]
                for e in events if e["type"] in {"turn.completed", "turn.failed"}]
    assert outcomes == ["turn.completed", "stream_truncated", "turn.completed"]


def nested(depth: int) -> Any:
    value: Any = "core"
    for _ in range(depth):
        value = [value]
    return value


def written(data: bytes, context: RunContext) -> list[dict[str, Any]]:
    """The log as the CLI writes it (`dump_event_line`, which stops near 255 levels)."""
    events = LANE.normalize(LaneInput(io.BytesIO(data), "deep.jsonl"), context)
    return [json.loads(dump_event_line(event)) for event in events]


DEEP = nested(cn.KEPT_DEPTH + 100)


@pytest.mark.parametrize("line", [
    {"type": "item.completed", "item": {"id": "item_0", "type": "hologram", "beam": DEEP}},
    {"type": "session.teleported", "where": DEEP},
], ids=["unknown item", "unknown event"])
def test_an_unknown_line_too_deep_to_write_is_kept_as_its_text(line: dict[str, Any]) -> None:
    """A line may nest up to 1024 levels (the reader's limit) but a log line only about 255 (the
    writer's): an unknown line deeper than `KEPT_DEPTH` is kept as its exact text, both modes."""
    data = encode([thread(), turn(), line, done()])
    for context in (RunContext(), LENIENT):
        events = written(data, context)
        assert_valid(events)
        unknown = [i for i in completed(events) if i["kind"] == "unknown"]
        assert [json.loads(i["payload"]) for i in unknown] == [line]


def test_a_known_item_too_deep_to_write_is_refused_or_kept_as_text() -> None:
    """MCP arguments nested past `KEPT_DEPTH`: strict refuses the line (file:line), lenient
    says so and keeps the line's text; a legacy MCP call likewise."""
    deep_call = item("completed", "item_0", "mcp_tool_call", server="s", tool="t",
                     arguments={"a": DEEP}, status="completed")
    data = encode([thread(), turn(), deep_call, done()])
    with pytest.raises(FrameError, match=r"^deep\.jsonl:3: mcp_tool_call item: nested deeper"):
        written(data, RunContext())
    events = written(data, LENIENT)
    notice, kept_line = completed(events)
    assert notice["message"].startswith("line 3: mcp_tool_call item: nested deeper")
    assert json.loads(kept_line["payload"]) == deep_call
    call = {"server": "s", "tool": "t", "arguments": {"a": DEEP}}
    legacy_deep = legacy("mcp_tool_call_begin", call_id="m", invocation=call)
    events = written(encode(legacy_run(legacy_deep, legacy("agent_message", message="ok"))),
                     LENIENT)
    assert_valid(events)
    assert [i["kind"] for i in completed(events)][2:] == ["error", "unknown", "assistant_message"]
    assert json.loads(completed(events)[3]["payload"]) == legacy_deep


def test_depth_check_counts_containers() -> None:
    assert not cn.deeper_than(nested(cn.KEPT_DEPTH))
    assert cn.deeper_than(nested(cn.KEPT_DEPTH + 1))
    assert not cn.deeper_than({"a": [1, {"b": "x" * 10}]}, limit=3)
    assert cn.deeper_than({"a": [1, {"b": []}]}, limit=3)


@pytest.mark.parametrize(("version", "scope"), [
    ("0.60.1", "turn"), ("0.77.0", "turn"), ("0.79.0", "cumulative"), ("0.171.0", "cumulative"),
    ("1.0.0", "cumulative"), (None, "cumulative"), ("dev", "cumulative")])
def test_resumed_usage_scope_follows_the_release(version: str | None, scope: str) -> None:
    """Up to 0.77.0 a resumed run counts tokens from zero (its usage is its one turn's); from
    0.79.0 it carries the thread's totals on; an unknown version reads as the current format."""
    assert cn.resumed_usage_scope(version) == scope
