"""gemini-cli lane: Gemini CLI's stream-json, normalized.

Hand-built streams use the line shapes Gemini CLI 0.61.0 prints (seen in the recordings under
cassettes/*/gemini-cli.jsonl): `init`, `message` (assistant text as `delta: true` chunks),
`tool_use`/`tool_result` paired by `tool_id`, `error`, `result` with `stats`. Each mapping and quirk
has a test whose docstring names it; the real recordings are checked against their outlines.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lanes.gemini_cli as gc
from harness.conformance.gate import run_context
from harness.conformance.outline import match_outline
from harness.contract.errors import FrameError, SequenceError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.contract.model import RETRYABLE, ErrorKind
from harness.contract.schema import validate_event
from harness.scenario import load_scenario
from lanes import gemini_family
from lanes.gemini_cli import LANE
from tests.lanekit import scaled

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"
SID = "11111111-2222-4333-8444-555555555555"
TS = "1970-01-01T00:00:00.000Z"

# ==================================================================================== builders


def init(sid: str = SID, model: str = "gemini-2.5-pro") -> dict[str, Any]:
    return {"type": "init", "timestamp": TS, "session_id": sid, "model": model}


def user(text: str = "do it") -> dict[str, Any]:
    return {"type": "message", "timestamp": TS, "role": "user", "content": text}


def say(text: str, delta: bool = True) -> dict[str, Any]:
    line = {"type": "message", "timestamp": TS, "role": "assistant", "content": text}
    return {**line, "delta": True} if delta else line


def tool_use(name: str, call: str, **parameters: Any) -> dict[str, Any]:
    return {"type": "tool_use", "timestamp": TS, "tool_name": name,
            "tool_id": f"{name}__{call}", "parameters": parameters}


def tool_result(name: str, call: str, output: str | None = None,
                error: dict[str, str] | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"type": "tool_result", "timestamp": TS, "tool_id": f"{name}__{call}",
                            "status": "error" if error else "success"}
    if output is not None:
        line["output"] = output
    if error:
        line["error"] = error
    return line


def stats(inp: int = 10, out: int = 5, cached: int = 2) -> dict[str, Any]:
    return {"total_tokens": inp + out, "input_tokens": inp, "output_tokens": out,
            "cached": cached, "input": inp, "duration_ms": 0, "tool_calls": 0, "models": {}}


def result(status: str = "success", error: dict[str, str] | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"type": "result", "timestamp": TS, "status": status,
                            "stats": stats()}
    if error:
        line["error"] = error
    return line


def render(lines: list[dict[str, Any] | bytes]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x, ensure_ascii=False).encode())
                    + b"\n" for x in lines)


def normalize_bytes(tmp_path: Path, lines: list[dict[str, Any] | bytes], *,
                    context: RunContext | None = None, lenient: bool = False
                    ) -> list[dict[str, Any]]:
    path = tmp_path / "gemini-cli.jsonl"
    path.write_bytes(render(lines))
    return normalize_file(path, context or RunContext(lenient=lenient))


def normalize_file(path: Path, context: RunContext) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        events = LANE.normalize(LaneInput(stream=handle, name=str(path), path=path), context)
        out = [e.model_dump(mode="json") for e in events]
    assert [err for e in out for err in validate_event(e)] == []
    assert [f"{v.rule}: {v.detail}" for v in check_events(out)] == []
    return out


def run(tmp_path: Path, *body: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    """One ordinary run: init, the prompt, `body`, a successful result."""
    return normalize_bytes(tmp_path, [init(), user(), *body, result()], **kw)


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


# ==================================================================================== tables


def test_lane_is_registered_and_truthful() -> None:
    """The lane declares no reasoning: Gemini CLI prints no thought parts."""
    spec = get_lane("gemini-cli")
    assert spec is LANE
    assert (spec.provider, spec.input_kind, spec.native_file) == ("google", "jsonl",
                                                                  "gemini-cli.jsonl")
    assert "reasoning" not in spec.item_kinds and "reasoning" not in spec.capabilities


def test_handler_table_covers_every_native_type(tmp_path: Path) -> None:
    translator = gc.Translator(RunContext(), "x")
    assert set(translator._handlers()) == set(get_args(gc.NativeType))


def test_retryable_table_covers_every_error_kind() -> None:
    assert set(RETRYABLE) == set(get_args(ErrorKind))


def test_todo_table_covers_the_write_todos_enum() -> None:
    """write_todos' status enum, as offered in Gemini CLI 0.61's request (one table for both
    Gemini lanes, `lanes.gemini_family`)."""
    assert set(gemini_family.TODO_STATUSES) == {"pending", "in_progress", "completed",
                                                "cancelled", "blocked"}


def test_a_todo_of_an_unknown_status_is_pending() -> None:
    """A todo status the table does not know (a newer Gemini CLI, or none) is `pending`: the
    plan must not claim a step done that the runtime did not say was done."""
    todos = {"todos": [{"description": "a", "status": "deferred"}, {"description": "b"}]}
    assert [(e.text, e.status) for e in gemini_family.plan_entries(todos)] == [
        ("a", "pending"), ("b", "pending")]


def test_file_change_table_covers_file_tools() -> None:
    assert set(gemini_family.FILE_CHANGE_KINDS) == {
        n for n, k in gemini_family.TOOL_KINDS.items() if k == "file_change"}


SAMPLE_PARAMETERS: dict[str, dict[str, Any]] = {
    "run_shell_command": {"command": "ls"},
    "write_file": {"file_path": "a.txt", "content": "hi\n"},
    "replace": {"file_path": "a.txt", "old_string": "hi", "new_string": "ho",
                "instruction": "change"},
    "write_todos": {"todos": [{"description": "look", "status": "in_progress"}]},
    "google_web_search": {"query": "python"},
}


@pytest.mark.parametrize("name", sorted(gemini_family.TOOL_KINDS))
def test_tool_table_every_key_maps_to_its_kind(tmp_path: Path, name: str) -> None:
    """TOOL_KINDS coverage: a tool_use of each listed tool completes as the kind it names."""
    assert set(SAMPLE_PARAMETERS) == set(gemini_family.TOOL_KINDS)
    events = run(tmp_path, tool_use(name, "c1", **SAMPLE_PARAMETERS[name]),
                 tool_result(name, "c1", "ok"))
    [item] = completed(events)
    assert item["kind"] == gemini_family.TOOL_KINDS[name] and item["status"] == "completed"
    assert item["native_id"] == f"{name}__c1"


def test_other_tools_are_tool_calls(tmp_path: Path) -> None:
    events = run(tmp_path, tool_use("read_file", "c1", file_path="a"),
                 tool_result("read_file", "c1", "text"))
    [item] = completed(events)
    assert (item["kind"], item["name"], item["result"]) == ("tool_call", "read_file", "text")


def test_fields_of_each_kind(tmp_path: Path) -> None:
    events = run(tmp_path,
                 tool_use("write_file", "a", file_path="new.txt", content="x"),
                 tool_use("replace", "b", file_path="old.txt", old_string="a", new_string="b"),
                 tool_result("write_file", "a"), tool_result("replace", "b"),
                 tool_use("write_todos", "c", todos=[{"description": "x", "status": "cancelled"},
                                                     {"description": "y", "status": "blocked"}]),
                 tool_result("write_todos", "c", "updated"),
                 tool_use("google_web_search", "d", query="weather"),
                 tool_result("google_web_search", "d", "results"))
    files, plan, search = completed(events)[0:2], completed(events)[2], completed(events)[3]
    assert [f["changes"] for f in files] == [[{"path": "new.txt", "kind": "add",
                                                "move_path": None}],
                                              [{"path": "old.txt", "kind": "update",
                                                "move_path": None}]]
    assert plan["entries"] == [{"text": "x", "status": "completed"},
                               {"text": "y", "status": "pending"}]
    assert search["query"] == "weather"


# ==================================================================================== mapping


def test_session_from_init_and_context(tmp_path: Path) -> None:
    """init gives thread id and model; the rest of session.started comes from the context."""
    ctx = RunContext(cwd="{workspace}/sub", sandbox="full-access", approval_policy="never",
                     auth_mode="api_key", runtime_version="0.61.0")
    events = run(tmp_path, say("hi"), context=ctx)
    session = events[0]
    assert session["thread_id"] == SID and session["model"] == "gemini-2.5-pro"
    assert (session["cwd"], session["sandbox"], session["approval_policy"],
            session["auth_mode"]) == ("{workspace}/sub", "full-access", "never", "api_key")
    assert session["runtime"] == {"name": "gemini-cli", "version": "0.61.0"}
    assert session["resumed_from"] is None


def test_text_deltas_make_one_message(tmp_path: Path) -> None:
    """Assistant `delta: true` chunks are one message: updates carry the deltas, one completion."""
    events = run(tmp_path, say("Hello "), say("world"))
    assert types(events) == ["session.started", "turn.started", "item.started", "item.updated",
                             "item.updated", "item.completed", "turn.completed"]
    assert [e["delta"]["text"] for e in events if e["type"] == "item.updated"] == ["Hello ",
                                                                                  "world"]
    assert completed(events)[0]["text"] == "Hello world"


def test_tool_use_splits_messages(tmp_path: Path) -> None:
    events = run(tmp_path, say("Let me look."), tool_use("run_shell_command", "c", command="ls"),
                 tool_result("run_shell_command", "c", "a"), say("Done."))
    assert [(i["kind"], i.get("text")) for i in completed(events)] == [
        ("assistant_message", "Let me look."), ("command_execution", None),
        ("assistant_message", "Done.")]


def test_whole_message_without_delta(tmp_path: Path) -> None:
    events = run(tmp_path, say("All at once.", delta=False))
    assert completed(events)[0]["text"] == "All at once."
    assert "item.updated" not in types(events)


def test_a_whole_message_after_deltas_is_the_whole_text(tmp_path: Path) -> None:
    """A message without `delta` is the whole text even when chunks of it streamed before:
    it replaces them (appending would say the answer twice)."""
    events = run(tmp_path, say("Hello "), say("Hello world", delta=False))
    assert [i["text"] for i in completed(events)] == ["Hello world"]


def test_failing_shell_command_keeps_the_streams_word(tmp_path: Path) -> None:
    """Quirk: a failing shell command is `status: success` and its exit code reaches only the
    model; the lane reports `completed` with `exit_code: null`, never a guessed code."""
    events = run(tmp_path, tool_use("run_shell_command", "c", command="cat missing.txt"),
                 tool_result("run_shell_command", "c",
                             "cat: missing.txt: No such file or directory"))
    [item] = completed(events)
    assert (item["status"], item["exit_code"]) == ("completed", None)
    assert item["output"] == "cat: missing.txt: No such file or directory"


def test_tool_not_registered_is_declined_by_policy(tmp_path: Path) -> None:
    """Quirk: headless `--approval-mode default` drops tools that would ask; a call to one is
    `tool_not_registered`: a declined item with an approval pair denied by policy."""
    message = 'Tool "run_shell_command" not found.'
    events = run(tmp_path, tool_use("run_shell_command", "c", command="touch made.txt"),
                 tool_result("run_shell_command", "c", message,
                             {"type": "tool_not_registered", "message": message}))
    assert types(events)[2:6] == ["item.started", "approval.requested", "approval.resolved",
                                  "item.completed"]
    requested, resolved = events[3], events[4]
    assert requested["item_id"] == events[2]["item"]["id"]
    assert requested["action"] == "touch made.txt"
    assert (resolved["decision"], resolved["decided_by"]) == ("denied", "policy")
    assert completed(events)[0]["status"] == "declined"


def test_tool_not_registered_under_yolo_is_a_failed_call(tmp_path: Path) -> None:
    """Under `--approval-mode yolo` (policy `never`) no tool is dropped for approval, so
    `tool_not_registered` means the model named a tool the CLI does not have (Gemini CLI 0.20
    registers MCP tools under their bare names): a failed item with the CLI's message, and no
    approval pair. Without that context the decline reading stays."""
    message = 'Tool "mcp_demo_echo" not found in registry.'
    body = (tool_use("mcp_demo_echo", "c", text="ping"),
            tool_result("mcp_demo_echo", "c", message,
                        {"type": "tool_not_registered", "message": message}))
    yolo = run(tmp_path, *body, context=RunContext(approval_policy="never"))
    [item] = completed(yolo)
    assert (item["status"], item["error"], item["tool"]) == ("failed", message, "echo")
    assert not [e for e in yolo if e["type"].startswith("approval.")]
    unknown = run(tmp_path, *body)
    assert completed(unknown)[0]["status"] == "declined"


def test_policy_violation_is_declined_under_every_mode(tmp_path: Path) -> None:
    """A policy rule's denial (`policy_violation`, e.g. the build-file protection that denies
    an edit of package.json even under yolo) is a decline by policy whatever the approval mode,
    its reason the rule's message; the API lane's copy of the refusal (the functionResponse
    error) matches `gemini_family.DECLINED_ERRORS` the same way."""
    message = ("Tool execution denied by policy. Modifying build configuration files requires "
               "explicit user confirmation")
    body = (tool_use("replace", "c", file_path="package.json"),
            tool_result("replace", "c", message, {"type": "policy_violation", "message": message}))
    for policy in ("never", "unknown"):
        events = run(tmp_path, *body, context=RunContext(approval_policy=policy))
        [item] = completed(events)
        assert (item["status"], item["error"]) == ("declined", message)
        requested, resolved = [e for e in events if e["type"].startswith("approval.")]
        assert (requested["action"], requested["reason"]) == ("replace", message)
        assert (resolved["decision"], resolved["decided_by"]) == ("denied", "policy")
    assert gemini_family.DECLINED_ERRORS.match(message)
    assert not gemini_family.DECLINED_ERRORS.match("Tool execution failed: denied by policy.")


def test_declined_tool_action_is_its_name_with_a_bare_tool_id(tmp_path: Path) -> None:
    """In older releases (0.20, 0.30) a `tool_id` is the bare call id (`r0s0b0c0`, no
    `<tool_name>__` prefix): the approval's action is still the tool's name, never the id."""
    message = 'Tool "write_file" not found.'
    lines = [init(), user(),
             {"type": "tool_use", "timestamp": TS, "tool_name": "web_fetch", "tool_id": "r0s0b0c0",
              "parameters": {"prompt": "x"}},
             {"type": "tool_result", "timestamp": TS, "tool_id": "r0s0b0c0", "status": "error",
              "output": message, "error": {"type": "tool_not_registered", "message": message}},
             result()]
    events = normalize_bytes(tmp_path, lines)
    [requested] = [e for e in events if e["type"] == "approval.requested"]
    assert requested["action"] == "web_fetch"
    assert completed(events)[0]["native_id"] == "r0s0b0c0"


def test_mcp_tools_split_name_and_keep_errors(tmp_path: Path) -> None:
    """MCP tools are `mcp_<server>_<tool>`; an error result fails the item with its message."""
    events = run(tmp_path, tool_use("mcp_demo_echo", "a", text="ping"),
                 tool_result("mcp_demo_echo", "a", "ping"),
                 tool_use("mcp_demo_fail", "b"),
                 tool_result("mcp_demo_fail", "b", "Error: failed",
                             {"type": "mcp_tool_error", "message": "MCP tool 'fail' failed"}))
    echo, fail = completed(events)
    assert (echo["server"], echo["tool"], echo["status"], echo["result"]) == (
        "demo", "echo", "completed", "ping")
    assert (fail["status"], fail["error"]) == ("failed", "MCP tool 'fail' failed")


def test_mcp_server_with_underscore_is_ambiguous() -> None:
    """Quirk: `mcp_my_srv_tool` cannot say where the server name ends: split at the first `_`,
    as Gemini CLI's own `parseMcpToolName` does; a name it cannot parse is no MCP call."""
    assert gc.tool_kind is gemini_family.tool_kind and gc.mcp_names is gemini_family.mcp_names
    assert gc.mcp_names("mcp_my_srv_tool") == ("my", "srv_tool")
    assert gc.tool_kind("mcp_") == gc.tool_kind("mcp_x") == gc.tool_kind("mcp__x") == "tool_call"
    assert gc.tool_kind("mcp_x_") == "tool_call" and gc.tool_kind("mcp_x_y") == "mcp_tool_call"


def test_gemini_cli_tool_rules_shared_with_the_gemini_lane(tmp_path: Path) -> None:
    """Gemini CLI's tool rules (`lanes.gemini_family`; the gemini lane pins the same): an MCP
    call is a name Gemini CLI parses as `mcp_<server>_<tool>` (`mcp_x` and `mcp__x` are plain
    tools); write_todos `blocked` waits and `cancelled` is done with; a file tool's path is
    `file_path` only; a shell command's directory is `dir_path`, else `directory`."""
    events = run(tmp_path,
                 tool_use("mcp_lonely", "a"), tool_result("mcp_lonely", "a", "1"),
                 tool_use("mcp__x", "b"), tool_result("mcp__x", "b", "2"),
                 tool_use("mcp_my_srv_do", "c"), tool_result("mcp_my_srv_do", "c", "3"),
                 tool_use("write_todos", "d", todos=[{"description": "a", "status": "blocked"},
                                                     {"description": "b",
                                                      "status": "cancelled"}]),
                 tool_result("write_todos", "d"),
                 tool_use("write_file", "e", path="p.txt"), tool_result("write_file", "e"),
                 tool_use("run_shell_command", "f", command="ls", dir_path="src"),
                 tool_result("run_shell_command", "f", "x"),
                 tool_use("run_shell_command", "g", command="ls", directory="lib"),
                 tool_result("run_shell_command", "g", "y"))
    items = completed(events)
    assert [(i["kind"], i.get("name"), i.get("server"), i.get("tool")) for i in items[:3]] == [
        ("tool_call", "mcp_lonely", None, None), ("tool_call", "mcp__x", None, None),
        ("mcp_tool_call", None, "my", "srv_do")]
    assert [(e["text"], e["status"]) for e in items[3]["entries"]] == [
        ("a", "pending"), ("b", "completed")]
    assert items[4]["changes"] == [{"path": "", "kind": "add", "move_path": None}]
    assert [i["cwd"] for i in items[5:7]] == ["src", "lib"]


def test_usage_from_result_stats(tmp_path: Path) -> None:
    """Per-run token counts (`scope: turn`); no reasoning tokens reported, so null."""
    events = run(tmp_path, say("hi"))
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 10, "cached_input_tokens": 2,
                                   "cache_write_input_tokens": None,
                                   "output_tokens": 5, "reasoning_tokens": None}


@pytest.mark.parametrize(("message", "kind"), [
    ('[API Error: {"error":{"code":500,"message":"boom","status":"INTERNAL"}}]', "provider"),
    ('[API Error: {"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}}]', "auth"),
    ('[API Error: {"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}]',
     "provider"),
    ('[API Error: {"error":{"code":404,"message":"gone","status":"NOT_FOUND"}}]', "provider"),
    ('[API Error: {"error":{"code":408,"message":"slow"}}]', "network"),
    ("[API Error: quota]\nPlease wait and try again later.", "rate_limit"),
    ("Model stream ended without a finish reason.", "stream_truncated"),
    ("something else", "unknown"),
])
def test_error_kind_from_text(tmp_path: Path, message: str, kind: str) -> None:
    """`result.error.type` is `unknown` for API failures: the kind comes from the text."""
    events = normalize_bytes(tmp_path, [init(), user(),
                                        result("error", {"type": "unknown", "message": message})])
    failed = events[-1]
    assert failed["type"] == "turn.failed"
    assert (failed["error"]["kind"], failed["error"]["message"]) == (kind, message)



def test_a_giant_error_message_is_classified_by_its_head() -> None:
    """Quirk (`CLASSIFIED_PREFIX`): an error message is classified by its first few KiB. A
    100 MB provider error body in `result.error.message` was scanned by the status pattern and
    each wording pattern in turn (~15 s on a 100 MB line, a hang in practice); the cause Gemini
    CLI prints (`[API Error: {"error":{"code":N`) comes first anyway."""
    head = '[API Error: {"error":{"code":429,"message":"'
    started = time.perf_counter()
    assert gc.error_kind(head + "x" * 50_000_000) == "rate_limit"
    assert gc.error_kind("y" * 50_000_000) == "unknown"
    assert time.perf_counter() - started < 2.0
    late = "x" * gc.CLASSIFIED_PREFIX
    assert gc.error_kind(late + head) == gc.error_kind(late + "quota exceeded") == "unknown"
    assert gc.error_kind(late[len(head):] + head) == "rate_limit"


def test_an_unhashable_error_type_is_just_a_failure(tmp_path: Path) -> None:
    """A tool_result whose `error.type` is a list or object (not a string) is a failed tool,
    not a TypeError from the set lookup that tells declined tools apart (found by the
    mutation fuzz's wrong-typed fields)."""
    broken = tool_result("run_shell_command", "1", error={"type": "x", "message": "no"})
    broken["error"]["type"] = ["tool_not_registered"]
    events = normalize_bytes(tmp_path, [init(), user(),
                                        tool_use("run_shell_command", "1", command="ls"),
                                        broken, result()])
    done = [e["item"] for e in events if e["type"] == "item.completed"]
    assert [(i["kind"], i["status"]) for i in done] == [("command_execution", "failed")]

def test_stream_cut_fails_open_text(tmp_path: Path) -> None:
    """Quirk: a broken stream prints an `error` line and a result with no `error` object: the
    text so far ends failed, a notice keeps the message, the turn fails stream_truncated."""
    events = normalize_bytes(tmp_path, [
        init(), user(), say("Let me "),
        {"type": "error", "timestamp": TS, "severity": "error",
         "message": "Model stream ended without a finish reason."},
        result("error")])
    kinds = [(i["kind"], i["status"]) for i in completed(events)]
    assert kinds == [("assistant_message", "failed"), ("error", "completed")]
    assert events[-1]["error"]["kind"] == "stream_truncated"


def test_a_warning_does_not_cut_the_answer(tmp_path: Path) -> None:
    """An `error` line of severity `warning` is a notice the CLI prints and goes on: the text
    before it completes (only an `error` severity stops the answer and fails it)."""
    events = run(tmp_path, say("Hel"), {"type": "error", "timestamp": TS, "severity": "warning",
                                        "message": "Loop detected, continuing."}, say("lo"))
    assert [(i["kind"], i["status"], i.get("text")) for i in completed(events)] == [
        ("assistant_message", "completed", "Hel"), ("error", "completed", None),
        ("assistant_message", "completed", "lo")]
    assert events[-1]["type"] == "turn.completed"


def test_resumed_run_names_the_session(tmp_path: Path) -> None:
    """A later init with a session id seen before is a `--resume` of it."""
    events = normalize_bytes(tmp_path, [init(), user("a"), say("x"), result(),
                                        init(), user("b"), say("y"), result()])
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [s["resumed_from"] for s in sessions] == [None, SID]
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]


def test_unknown_lines_are_kept(tmp_path: Path) -> None:
    """Never dropped: an unknown line type becomes an `unknown` item with its payload."""
    novel = {"type": "brand_new", "x": 1}
    events = run(tmp_path, novel)
    [item] = completed(events)
    assert (item["kind"], item["native_type"], item["payload"]) == ("unknown", "brand_new", novel)


def test_input_ending_mid_turn_is_truncated(tmp_path: Path) -> None:
    events = normalize_bytes(tmp_path, [init(), user(), tool_use("run_shell_command", "c",
                                                                 command="sleep 9")])
    assert completed(events)[0]["status"] == "failed"
    assert events[-1]["error"]["kind"] == "stream_truncated"


# ==================================================================================== bad input


def test_strict_bad_json_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(FrameError) as caught:
        normalize_bytes(tmp_path, [init(), b"{not json"])
    assert caught.value.line == 2 and "gemini-cli.jsonl" in str(caught.value)


def test_strict_result_for_unknown_tool_is_a_sequence_error(tmp_path: Path) -> None:
    with pytest.raises(SequenceError) as caught:
        normalize_bytes(tmp_path, [init(), user(), tool_result("run_shell_command", "zz")])
    assert caught.value.line == 3


def test_strict_content_before_init_is_a_sequence_error(tmp_path: Path) -> None:
    with pytest.raises(SequenceError):
        normalize_bytes(tmp_path, [say("hi")])


def test_lenient_goes_on_with_notices(tmp_path: Path) -> None:
    """Lenient: each problem is an `error` notice naming the line (text before any init: no
    session and no turn, two problems); the rest still counts."""
    events = normalize_bytes(tmp_path, [b"garbage", say("hi"), {"type": 3},
                                        tool_result("x", "y"), result()], lenient=True)
    notices = [i["message"] for i in completed(events) if i["kind"] == "error"]
    assert [n.split(":")[0] for n in notices] == ["line 1", "line 2", "line 2", "line 3",
                                                   "line 4"]
    assert any(i["kind"] == "assistant_message" and i["text"] == "hi" for i in completed(events))


def test_lenient_keeps_every_line_it_cannot_read_whole(tmp_path: Path) -> None:
    """No silent loss: a line lenient mode cannot use (not JSON, cut mid-line, no `type`, a
    result for a tool never started, a malformed tool_use) stays in the log as an `unknown`
    item carrying the line, beside the notice naming it."""
    orphan = tool_result("run_shell_command", "zz", "output nobody asked for")
    events = normalize_bytes(tmp_path, [
        init(), user(), b'{"type":"tool_result","tool_id":"x","outp', {"kind": "no type"},
        orphan, {"type": "tool_use", "tool_name": 7}, say("hi"), result()], lenient=True)
    kept = [(i["native_type"], i["payload"]) for i in completed(events) if i["kind"] == "unknown"]
    assert kept == [("unreadable", '{"type":"tool_result","tool_id":"x","outp'),
                    ("unreadable", {"kind": "no type"}), ("tool_result", orphan),
                    ("tool_use", {"type": "tool_use", "tool_name": 7})]
    assert types(events)[-1] == "turn.completed"


def test_indented_json_answer_is_one_object(tmp_path: Path) -> None:
    """`--output-format json` prints one object over many lines: read whole (an error answer
    fails the turn); one that is no JSON object is refused at its first line in strict mode
    and kept whole, with a notice, in lenient mode; a JSONL stream is not held back."""
    answer = {"session_id": "s1", "error": {"type": "Error", "message": "[API Error: boom]"},
              "stats": {"models": {"gemini-2.5-pro": {"tokens": {"prompt": 5, "candidates": 1}}}}}
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(answer, indent=2))
    events = normalize_file(path, RunContext())
    assert types(events) == ["session.started", "turn.started", "turn.failed"]
    assert events[-1]["error"]["message"] == "[API Error: boom]"
    path.write_text('{\n  "response": "cut')
    with pytest.raises(FrameError) as refused:
        normalize_file(path, RunContext())
    assert refused.value.line == 1
    kept = [i for i in completed(normalize_file(path, RunContext(lenient=True)))
            if i["kind"] == "unknown"]
    assert [i["payload"] for i in kept] == ['{\n  "response": "cut']


VERSION_SHAPES = REPO / "tests" / "data" / "shapes" / "gemini-cli"


def _damages() -> list[tuple[str, str]]:
    """(recording, damage) for every recorded release: a cut last line for each, and the two
    tool-call damages for each recording that has a tool call to damage."""
    cases = []
    for path in sorted(VERSION_SHAPES.glob("v*.jsonl")):
        cases.append((path.name, "cut last line"))
        if b'"type":"tool_use"' in path.read_bytes():
            cases += [(path.name, "orphan result"), (path.name, "cut mid-tool")]
    return cases


@pytest.mark.parametrize(("recording", "damage"), _damages())
def test_damaged_recordings_from_every_version_lose_nothing_in_lenient_mode(
        tmp_path: Path, recording: str, damage: str) -> None:
    """Every recorded release's stream (0.20 .. 0.61, bare or prefixed tool ids, old stats, the
    indented `--output-format json` answer), damaged three ways: strict refuses in one
    `file:line` error; lenient gives a valid log that still holds every line's facts, the
    damaged line kept whole as `unknown`."""
    lines = (VERSION_SHAPES / recording).read_bytes().splitlines(keepends=True)
    uses = [n for n, line in enumerate(lines) if b'"type":"tool_use"' in line]
    if damage == "orphan result":
        damaged = lines[: uses[0]] + lines[uses[0] + 1:]
        orphan_id = json.loads(lines[uses[0]])["tool_id"]
    else:
        at = len(lines) - 1 if damage == "cut last line" else uses[0]
        cut = lines[at].rstrip(b"\n")[: len(lines[at]) // 2]
        damaged = [*lines[:at], cut + b"\n", *lines[at + 1:]]
    path = tmp_path / "gemini-cli.jsonl"
    path.write_bytes(b"".join(damaged))
    with pytest.raises((FrameError, SequenceError)) as refused:
        normalize_file(path, RunContext())
    assert refused.value.line is not None
    events = normalize_file(path, RunContext(lenient=True))
    payloads = [i["payload"] for i in completed(events) if i["kind"] == "unknown"]
    if damage == "orphan result":
        assert [p["tool_id"] for p in payloads if isinstance(p, dict)] == [orphan_id]
    elif damage == "cut last line" and lines[0].strip() == b"{":
        # an indented `--output-format json` answer is one object: kept whole, every line
        assert payloads == [b"".join(damaged).rstrip(b"\n").decode()]
    elif damage == "cut last line":
        assert payloads == [cut.decode()]
    else:  # the cut tool_use, then its result (now an orphan), both whole
        tool_id = json.loads(lines[uses[0]])["tool_id"]
        assert payloads[0] == cut.decode()
        assert [p["tool_id"] for p in payloads[1:]] == [tool_id]
    facts = json.dumps(events)
    for line in damaged:
        data = _try_json(line)
        if isinstance(data, dict) and data.get("type") == "message" and data.get("role") == \
                "assistant":
            assert json.dumps(data["content"])[1:-1] in facts


def _try_json(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


@settings(max_examples=scaled(60), deadline=None)
@given(chunks=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6),
       tools=st.lists(st.sampled_from([*sorted(gemini_family.TOOL_KINDS), "mcp_s_t", "glob"]),
                      max_size=4))
def test_deltas_concatenate_and_tools_close_once(tmp_path_factory: pytest.TempPathFactory,
                                                 chunks: list[str], tools: list[str]) -> None:
    """Invariant: the message text is the concatenation of its deltas, and every tool item
    completes exactly once, whatever the chunking and tool mix."""
    body: list[dict[str, Any] | bytes] = [say(c) for c in chunks]
    for n, name in enumerate(tools):
        body += [tool_use(name, f"c{n}"), tool_result(name, f"c{n}", "ok")]
    events = normalize_bytes(tmp_path_factory.mktemp("p"), [init(), user(), *body, result()])
    items = completed(events)
    assert items[0]["text"] == "".join(chunks)
    assert len(items) == 1 + len(tools)
    assert len({i["id"] for i in items}) == len(items)


# ==================================================================================== recordings

RECORDED = sorted(CASSETTES.glob("*/gemini-cli.jsonl"))


@pytest.mark.parametrize("native", RECORDED, ids=lambda p: p.parent.name)
def test_recorded_stream_matches_its_outline(native: Path) -> None:
    """Real Gemini CLI 0.61.0 recordings, with their meta context: valid, and as outlined."""
    scenario = load_scenario(native.parent / "scenario.yaml")
    events = normalize_file(native, run_context(native.parent, LANE.native_file))
    assert match_outline(events, scenario.expect.for_lane(LANE.id), LANE.noise_tools) == []
    assert events[0]["cwd"] is not None and events[0]["sandbox"] == "full-access"


@pytest.mark.parametrize("message", [
    "The model returned an empty response with no text or thoughts. This may be a transient "
    "API issue; please try again.",
    "The model returned reasoning thoughts but no final response text. If your context window "
    "is near capacity, try using /compress.",
    "Model response was truncated because it exceeded the token limit. Try using /compress to "
    "free up context space.",
    "The model response was blocked due to safety settings.",
])
def test_an_unusable_answer_fails_provider(tmp_path: Path, message: str) -> None:
    """Regression (found by the gemini-cli round trip): Gemini CLI refuses an answer with no
    text (thoughts only, or empty at the first call), or cut or blocked, with a fixed `error`
    line and a `result` with `status: error` and no error object; the lane said `unknown`.
    The model's answer was the problem: `provider`. Text already printed ends failed."""
    events = normalize_bytes(tmp_path, [
        init(), user(), say("<!-- "),
        {"type": "error", "timestamp": TS, "severity": "error", "message": message},
        result("error")])
    assert [(i["kind"], i["status"]) for i in completed(events)] == [
        ("assistant_message", "failed"), ("error", "completed")]
    assert events[-1]["error"]["kind"] == "provider"


def test_output_format_json_is_one_whole_run(tmp_path: Path) -> None:
    """`gemini -p --output-format json` prints one object without `type`: a run with its
    session, model (`stats.models`), answer, summed token counts and outcome; with `error` the
    turn fails."""
    stats = {"models": {"gemini-2.5-pro": {"tokens": {"prompt": 100, "candidates": 8,
                                                      "cached": 40, "thoughts": 3}},
                        "gemini-2.5-flash": {"tokens": {"prompt": 10, "candidates": 2}}}}
    whole = {"session_id": "s-1", "response": "Hello!", "stats": stats}
    events = normalize_bytes(tmp_path, [whole])
    assert types(events) == ["session.started", "turn.started", "item.completed",
                             "turn.completed"]
    assert (events[0]["thread_id"], events[0]["model"]) == ("s-1", "gemini-2.5-pro")
    assert events[2]["item"]["text"] == "Hello!"
    usage = events[3]["usage"]
    assert (usage["input_tokens"], usage["cached_input_tokens"], usage["output_tokens"],
            usage["reasoning_tokens"]) == (110, 40, 10, 3)
    failed = normalize_bytes(tmp_path, [{"response": "", "stats": stats,
                                         "error": {"type": "ApiError", "message": "quota"}}])
    assert types(failed)[-1] == "turn.failed"
    assert failed[-1]["error"]["kind"] == "rate_limit"
    resumed = normalize_bytes(tmp_path, [whole], context=RunContext(resumed_from="s-0"))
    assert resumed[0]["resumed_from"] == "s-0"  # a `--resume` run: the context says which


@pytest.mark.parametrize(("shown", "compared"), [
    ("Command exited with code: 1", ""), ("  Command exited with code: -2\n", ""),
    ("Command exited with code: 1\nbut it printed this", "Command exited with code: 1\nbut it "
                                                           "printed this"),
    ("done", "done")])
def test_the_empty_failure_placeholder_rule_takes_the_placeholder_alone(shown: str,
                                                                        compared: str) -> None:
    """`gemini-cli.empty-failure-placeholder`: what Gemini CLI shows for a failed command that
    printed nothing compares as no output; a text that only starts with those words is
    output and stays."""
    [(name, rule)] = LANE.output_rules
    assert name == "gemini-cli.empty-failure-placeholder"
    assert rule(shown) == compared
