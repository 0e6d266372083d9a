"""claude-code lane: Claude Code's stream-json, normalized.

Hand-built lines (shaped like Claude Code 2.1.328's real output, one per mapping and quirk, with
docstrings naming the quirk) plus every recorded `cassettes/*/claude-code.jsonl` checked against
the schema, the ordering rules and its scenario outline.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, get_args

import pytest

import lanes.claude_code as cc
from harness.conformance.outline import match_outline
from harness.contract.errors import FrameError, SequenceError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext
from harness.contract.model import RETRYABLE, ErrorKind, PlanEntry
from harness.contract.schema import validate_event
from harness.scenario import load_scenario
from lanes import claude_family

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
SESSION = "5d0c6c1e-0000-4000-8000-000000000001"
CWD = "/work/space"

# ==================================================================================== builders


def init(session: str = SESSION, mode: str = "acceptEdits", **extra: Any) -> dict[str, Any]:
    return {"type": "system", "subtype": "init", "cwd": CWD, "session_id": session,
            "tools": ["Bash", "ToolSearch"], "mcp_servers": [], "model": "claude-opus-5-5",
            "permissionMode": mode, "apiKeySource": "ANTHROPIC_API_KEY",
            "claude_code_version": "2.1.328", **extra}


def assistant(block: dict[str, Any], mid: str = "msg_1", **extra: Any) -> dict[str, Any]:
    return {"type": "assistant", "message": {"id": mid, "type": "message", "role": "assistant",
                                             "model": "claude-opus-5-5", "content": [block]},
            "session_id": SESSION, **extra}


def tool_use(tid: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return assistant({"type": "tool_use", "id": tid, "name": name, "input": payload},
                     mid=f"msg_{tid}")


def tool_result(tid: str, content: Any, result: Any, *, error: bool = False,
                reject: bool = False) -> dict[str, Any]:
    meta = {"id": tid, "permission_decision": {"decision": "reject" if reject else "accept"}}
    return {"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": tid, "content": content, "is_error": error}]},
        "session_id": SESSION, "tool_use_result": result, "tool_result_meta": [meta]}


def result(**extra: Any) -> dict[str, Any]:
    base = {"type": "result", "subtype": "success", "is_error": False,
            "terminal_reason": "completed", "stop_reason": "end_turn", "session_id": SESSION,
            "api_error_status": None, "result": "ok",
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 2, "output_tokens": 5,
                      "output_tokens_details": {"thinking_tokens": 1}}}
    return {**base, **extra}


def run(*lines: dict[str, Any] | bytes, context: RunContext | None = None
        ) -> list[dict[str, Any]]:
    raw = b"".join(line if isinstance(line, bytes) else json.dumps(line).encode() + b"\n"
                   for line in lines)
    source = LaneInput(stream=io.BytesIO(raw), name="in.jsonl")
    events = [e.model_dump(mode="json") for e in cc.normalize(source, context or RunContext())]
    assert [err for e in events for err in validate_event(e)] == []
    assert check_events(events) == []
    return events


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def of_type(events: list[dict[str, Any]], etype: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == etype]


# ==================================================================================== tables


def test_tool_table_is_the_documented_mapping() -> None:
    """One table (`lanes.claude_family`, shared with the anthropic lane): every Claude Code tool
    with its own kind; anything else is a tool_call."""
    assert claude_family.TOOL_KINDS == {
        "Bash": "command_execution", "Write": "file_change", "Edit": "file_change",
        "MultiEdit": "file_change", "NotebookEdit": "file_change", "TodoWrite": "plan",
        "WebSearch": "web_search"}
    assert cc.tool_kind is claude_family.tool_kind and cc.LANE.noise_tools == {"ToolSearch"}
    assert cc.tool_kind("mcp__demo__echo") == "mcp_tool_call"
    assert cc.tool_kind("Read") == cc.tool_kind("ToolSearch") == "tool_call"


def test_todo_statuses_are_claude_codes_three() -> None:
    """TodoWrite's status enum in Claude Code 2.1.328's `sdk-tools.d.ts`; anything else waits."""
    assert set(claude_family.TODO_STATUSES) == {"pending", "in_progress", "completed"}
    assert claude_family.plan_entries({"todos": [{"content": "x", "status": "odd"}]}) == [
        PlanEntry(text="x", status="pending")]


def test_exit_code_reads_both_surfaces_forms() -> None:
    """`Exit code N` (the tool_result the model gets) and `Error: Exit code N` (stream-json
    `tool_use_result`): one pattern for both lanes."""
    assert claude_family.exit_code("Exit code 3\nhi") == (3, "hi")
    assert claude_family.exit_code("Error: Exit code 1\ncat: b") == (1, "cat: b")
    assert claude_family.exit_code("touch needs approval") is None


def test_retryable_covers_every_error_kind() -> None:
    assert set(RETRYABLE) == set(get_args(ErrorKind))


def test_permission_modes_cover_claude_choices() -> None:
    """`--permission-mode` choices of 2.1.328 (plus `default`); `auto`/`manual` are unknown."""
    assert set(cc.PERMISSION_MODES) == {"default", "acceptEdits", "plan", "bypassPermissions",
                                        "dontAsk"}


def test_toolsearch_is_declared_noise() -> None:
    """Deferred tools are loaded through ToolSearch: plumbing, left out of equivalence."""
    assert cc.LANE.noise_tools == frozenset({"ToolSearch"})


# ==================================================================================== mappings


def test_init_fills_session_and_opens_the_turn() -> None:
    events = run(init(), result())
    started = events[0]
    assert started["type"] == "session.started" and started["thread_id"] == SESSION
    assert (started["cwd"], started["model"], started["auth_mode"]) == (
        CWD, "claude-opus-5-5", "api_key")
    assert started["runtime"] == {"name": "claude-code", "version": "2.1.328"}
    assert started["approval_policy"] == "on-request"
    assert [e["type"] for e in events[1:]] == ["turn.started", "turn.completed"]


def test_context_overrides_what_the_stream_cannot_know() -> None:
    ctx = RunContext(sandbox="full-access", approval_policy="never", auth_mode="api_key")
    started = run(init(mode="default"), result(), context=ctx)[0]
    assert (started["sandbox"], started["approval_policy"]) == ("full-access", "never")


def test_result_usage_is_per_turn() -> None:
    done = of_type(run(init(), result()), "turn.completed")[0]
    assert done["usage"] == {"scope": "turn", "input_tokens": 10, "cached_input_tokens": 2,
                             "cache_write_input_tokens": None,
                             "output_tokens": 5, "reasoning_tokens": 1}
    assert done["stop_reason"] == "end_turn"


def test_text_thinking_and_redacted_thinking() -> None:
    events = run(init(),
                 assistant({"type": "thinking", "thinking": "hmm", "signature": "s"}),
                 assistant({"type": "redacted_thinking", "data": "opaque"}),
                 assistant({"type": "text", "text": "391"}), result())
    items = completed(events)
    assert [(i["kind"], i["text"], i["encrypted"]) for i in items[:2]] == [
        ("reasoning", "hmm", False), ("reasoning", "", True)]
    assert items[2]["kind"] == "assistant_message" and items[2]["text"] == "391"


def test_blocks_sharing_a_message_id_get_positions() -> None:
    """Quirk: one content block per line, several lines share `message.id`; the key is id plus
    position."""
    events = run(init(), assistant({"type": "text", "text": "a"}),
                 assistant({"type": "text", "text": "b"}), result())
    assert [i["native_id"] for i in completed(events)] == ["msg_1:0", "msg_1:1"]


def test_bash_success_and_failure() -> None:
    events = run(init(),
                 tool_use("t1", "Bash", {"command": "cat a"}),
                 tool_result("t1", "alpha", {"stdout": "alpha", "stderr": ""}),
                 tool_use("t2", "Bash", {"command": "cat b"}),
                 tool_result("t2", "Exit code 1\ncat: b: No such file", "Error: Exit code 1\n"
                             "cat: b: No such file", error=True),
                 result())
    ok, bad = completed(events)
    assert (ok["kind"], ok["status"], ok["exit_code"], ok["output"]) == (
        "command_execution", "completed", 0, "alpha")
    assert (bad["status"], bad["exit_code"], bad["output"]) == ("failed", 1, "cat: b: No such file")
    assert of_type(events, "item.started")[0]["item"]["exit_code"] is None


def test_condition_false_keeps_exit_code_unknown() -> None:
    """Quirk: `test -f x` exiting 1 comes back as success with returnCodeInterpretation and no
    exit code; the lane does not guess one."""
    events = run(init(), tool_use("t1", "Bash", {"command": "test -f x"}),
                 tool_result("t1", "(Bash completed with no output)",
                             {"stdout": "", "stderr": "",
                              "returnCodeInterpretation": "Condition is false"}),
                 result())
    item = completed(events)[0]
    assert (item["status"], item["exit_code"]) == ("completed", None)


def test_write_and_edit_are_file_changes() -> None:
    events = run(init(),
                 tool_use("w", "Write", {"file_path": f"{CWD}/N.md", "content": "x"}),
                 tool_result("w", "File created", {"type": "create", "filePath": f"{CWD}/N.md"}),
                 tool_use("e", "Edit", {"file_path": f"{CWD}/g.py", "old_string": "a",
                                        "new_string": "b"}),
                 tool_result("e", "updated", {"filePath": f"{CWD}/g.py"}),
                 result())
    add, update = completed(events)
    assert add["changes"] == [{"path": f"{CWD}/N.md", "kind": "add", "move_path": None}]
    assert update["changes"] == [{"path": f"{CWD}/g.py", "kind": "update", "move_path": None}]


def test_write_over_existing_file_is_an_update() -> None:
    events = run(init(), tool_use("w", "Write", {"file_path": "/a", "content": "x"}),
                 tool_result("w", "File updated", {"type": "update", "filePath": "/a"}),
                 result())
    assert completed(events)[0]["changes"][0]["kind"] == "update"


def test_todowrite_is_a_plan() -> None:
    todos = [{"content": "Read", "status": "completed", "activeForm": "Reading"},
             {"content": "Refactor", "status": "in_progress", "activeForm": "Refactoring"}]
    events = run(init(), tool_use("p", "TodoWrite", {"todos": todos}),
                 tool_result("p", "Todos have been modified", {"newTodos": todos}), result())
    plan = completed(events)[0]
    assert plan["kind"] == "plan" and plan["entries"] == [
        {"text": "Read", "status": "completed"}, {"text": "Refactor", "status": "in_progress"}]


def test_mcp_tools_by_prefix() -> None:
    events = run(init(), tool_use("m1", "mcp__demo__echo", {"text": "ping"}),
                 tool_result("m1", [{"type": "text", "text": "ping"}],
                             [{"type": "text", "text": "ping"}]),
                 tool_use("m2", "mcp__demo__fail", {}),
                 tool_result("m2", "fail: on purpose", "Error: fail: on purpose", error=True),
                 result())
    echo, fail = completed(events)
    assert (echo["server"], echo["tool"], echo["status"]) == ("demo", "echo", "completed")
    assert echo["result"] == [{"type": "text", "text": "ping"}]
    assert (fail["status"], fail["error"]) == ("failed", "fail: on purpose")


RESULT_BLOCKS = [{"type": "text", "text": "first"},
                 {"type": "tool_reference", "tool_name": "mcp__demo__fail"},
                 {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                              "data": "iVBORw0KGgo="}},
                 {"type": "text", "text": "second"}]
"""A tool_result content of several blocks: two texts around blocks that have no text."""


def test_result_text_joins_text_blocks_with_newlines() -> None:
    """Claude Code's rule for a tool_result's text (`claude_family.result_text`, the same rule
    the anthropic lane pins): text blocks joined with a newline, other blocks add nothing.
    It names a failed tool's error and the synthetic API error line's message."""
    synthetic = {"type": "assistant", "is_api_error_message": True, "session_id": SESSION,
                 "message": {"id": "uuid-x", "role": "assistant", "model": "<synthetic>",
                             "content": RESULT_BLOCKS}}
    events = run(init(), tool_use("m1", "mcp__demo__fail", {}),
                 tool_result("m1", RESULT_BLOCKS, None, error=True),
                 tool_use("m2", "mcp__demo__fail", {}),
                 tool_result("m2", {"unexpected": "shape"}, None, error=True),
                 synthetic,
                 result(is_error=True, terminal_reason="api_error", api_error_status=500,
                        result=None))
    assert [i["error"] for i in completed(events)] == ["first\nsecond", "tool failed"]
    assert of_type(events, "turn.failed")[0]["error"]["message"] == "first\nsecond"


def test_a_file_tool_without_a_string_path_names_no_file() -> None:
    """Claude Code's file tools take `file_path` (NotebookEdit `notebook_path`) as a string;
    anything else names no file (the same rule in the anthropic lane)."""
    events = run(init(), tool_use("w", "Write", {"file_path": 7, "content": "x"}),
                 tool_result("w", "File created", {"type": "create"}),
                 tool_use("n", "NotebookEdit", {"notebook_path": f"{CWD}/n.ipynb"}),
                 tool_result("n", "Updated cell", {}), result())
    assert [i["changes"] for i in completed(events)] == [
        [], [{"path": f"{CWD}/n.ipynb", "kind": "update", "move_path": None}]]


def test_websearch_and_toolsearch() -> None:
    events = run(init(), tool_use("s", "ToolSearch", {"query": "select:WebSearch"}),
                 tool_result("s", [{"type": "tool_reference", "tool_name": "WebSearch"}],
                             {"matches": ["WebSearch"]}),
                 tool_use("w", "WebSearch", {"query": "python"}),
                 tool_result("w", "Web search results", None), result())
    search, web = completed(events)
    assert (search["kind"], search["name"], search["result"]) == (
        "tool_call", "ToolSearch", {"matches": ["WebSearch"]})
    assert (web["kind"], web["query"], web["status"]) == ("web_search", "python", "completed")


def test_permission_denial_is_a_declined_item_with_an_approval_pair() -> None:
    """Headless Claude Code denies by policy: system/permission_denied, then an error result."""
    denied = {"type": "system", "subtype": "permission_denied", "tool_name": "Bash",
              "tool_use_id": "t1", "message": "touch needs approval", "session_id": SESSION}
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "touch x"}), denied,
                 tool_result("t1", "touch needs approval", "Error: touch needs approval",
                             error=True, reject=True),
                 result())
    requested, resolved = of_type(events, "approval.requested")[0], of_type(
        events, "approval.resolved")[0]
    item = completed(events)[0]
    assert requested["item_id"] == item["id"] and requested["action"] == "Bash: touch x"
    assert (resolved["decision"], resolved["decided_by"]) == ("denied", "policy")
    assert (item["status"], item["exit_code"]) == ("declined", None)


def test_api_failure_reports_success_subtype() -> None:
    """Quirk: result.subtype is "success" even when the API failed; the synthetic assistant
    line holding the error text is the failure, not a message."""
    synthetic = assistant({"type": "text", "text": "API Error: 500 boom"}, mid="uuid-x",
                          is_api_error_message=True)
    synthetic["message"]["model"] = "<synthetic>"
    retry = {"type": "system", "subtype": "api_retry", "attempt": 1, "max_retries": 1,
             "error_status": 500, "error": "server_error", "session_id": SESSION}
    events = run(init(), retry, synthetic,
                 result(is_error=True, terminal_reason="api_error", api_error_status=500,
                        result="API Error: 500 boom"))
    failed = of_type(events, "turn.failed")[0]
    assert failed["error"] == {"kind": "provider", "message": "API Error: 500 boom",
                               "retryable": True}
    assert [i["kind"] for i in completed(events)] == ["error"]


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit"), (401, "auth"), (403, "auth"),
                                              (529, "provider"), (500, "provider"),
                                              (400, "provider"), (404, "provider"),
                                              (408, "network"), (418, "unknown")])
def test_api_error_status_kinds(status: int, kind: str) -> None:
    """`api_error_status` goes through the core's one table (`HTTP_STATUS_KINDS`)."""
    events = run(init(), result(is_error=True, terminal_reason="api_error",
                                api_error_status=status))
    assert of_type(events, "turn.failed")[0]["error"]["kind"] == kind


def test_resume_keeps_the_session_id() -> None:
    events = run(init(), result(), init(), result())
    sessions = of_type(events, "session.started")
    assert [s["resumed_from"] for s in sessions] == [None, SESSION]
    assert {s["thread_id"] for s in sessions} == {SESSION}


def test_unknown_lines_and_blocks_are_kept() -> None:
    events = run(init(), {"type": "stream_event", "event": {"x": 1}},
                 {"type": "system", "subtype": "hook_started", "hook": "h"},
                 assistant({"type": "hologram", "beam": 1}), result())
    unknown = [i for i in completed(events) if i["kind"] == "unknown"]
    assert [u["native_type"] for u in unknown] == [
        "stream_event", "system/hook_started", "assistant/hologram"]
    assert unknown[0]["payload"] == {"type": "stream_event", "event": {"x": 1}}


def test_open_tool_fails_when_the_turn_ends() -> None:
    events = run(init(), tool_use("t1", "Bash", {"command": "sleep 9"}), result())
    assert completed(events)[0]["status"] == "failed"


def test_truncated_stream_ends_the_turn_truncated() -> None:
    events = run(init(), assistant({"type": "text", "text": "a"}))
    assert of_type(events, "turn.failed")[0]["error"]["kind"] == "stream_truncated"


# ==================================================================================== bad input


def test_strict_rejects_garbage_naming_file_and_line() -> None:
    with pytest.raises(FrameError) as info:
        run(init(), b"{not json\n")
    assert str(info.value).startswith("in.jsonl:2: not JSON")


def test_strict_rejects_result_for_unknown_tool() -> None:
    with pytest.raises(SequenceError, match=r"in.jsonl:2: tool_result for unknown"):
        run(init(), tool_result("nope", "x", None))


def test_strict_rejects_content_before_init() -> None:
    with pytest.raises(SequenceError, match="before system/init"):
        run(assistant({"type": "text", "text": "a"}))


def test_lenient_turns_problems_into_notices() -> None:
    events = run(b"{not json\n", assistant({"type": "text", "text": "a"}),
                 tool_result("nope", "x", None), {"no_type": True}, result(),
                 context=RunContext(lenient=True))
    kinds = [i["kind"] for i in completed(events)]
    assert kinds.count("error") == 4 and "assistant_message" in kinds



@pytest.mark.parametrize("content", [-1, None, {"type": "text", "text": "a"}, True])
def test_assistant_content_that_is_not_blocks(content: Any) -> None:
    """An assistant `message.content` that is not a list of blocks (found by the mutation fuzz:
    `_retype` to -1 on plan/claude-code.jsonl escaped as a TypeError) is a FrameError naming
    file and line (strict) or a notice (lenient)."""
    line = assistant({"type": "text", "text": "a"})
    line["message"]["content"] = content
    with pytest.raises(FrameError, match=r"in.jsonl:2: assistant `message.content` is not a list"):
        run(init(), line)
    events = run(init(), line, result(), context=RunContext(lenient=True))
    assert [i["kind"] for i in completed(events)] == ["error"]


def test_assistant_text_content_is_one_text_block() -> None:
    """The Messages API shorthand: a string `content` is one text block."""
    line = assistant({"type": "text", "text": "a"})
    line["message"]["content"] = "hello"
    events = run(init(), line, result())
    assert [(i["kind"], i["text"]) for i in completed(events)] == [("assistant_message", "hello")]


@pytest.mark.parametrize(("field", "value"), [
    ("tool_result_meta", 5), ("terminal_reason", ["completed"]), ("todos", 3)])
def test_wrong_typed_fields_are_read_as_absent(field: str, value: Any) -> None:
    """Fields the lane iterates or looks up in a set (`tool_result_meta`, `terminal_reason`,
    TodoWrite `todos`) holding a number or list are read as absent or as a failure, never a
    TypeError (found by the mutation fuzz's wrong-typed fields)."""
    todo = tool_use("t1", "TodoWrite", {"todos": value if field == "todos" else []})
    done = tool_result("t1", "ok", None)
    if field == "tool_result_meta":
        done[field] = value
    end = result(**({field: value} if field == "terminal_reason" else {}))
    events = run(init(), todo, done, end)
    assert completed(events)[0]["kind"] == "plan"
    assert events[-1]["type"] == ("turn.failed" if field == "terminal_reason" else "turn.completed")

def test_a_replayed_tool_use_line_is_refused_or_noted() -> None:
    """Quirk (`_tool_use`): Claude Code prints each tool_use block whole, once, so a tool_use
    whose id is still running is a replayed line (found by the mutation fuzz: `duplicate(i=1,
    j=1)` on approval_on_request emitted item.started twice for one id). Strict refuses it
    naming file and line; lenient keeps the first start, notes the replay, and goes on."""
    bash = tool_use("t1", "Bash", {"command": "ls"})
    with pytest.raises(SequenceError, match=r"in.jsonl:3: tool_use 't1' started twice"):
        run(init(), bash, bash)
    events = run(init(), bash, bash, tool_result("t1", "ok", {"stdout": "ok", "stderr": ""}),
                 result(), context=RunContext(lenient=True))
    assert len(of_type(events, "item.started")) == 1
    notice, done = completed(events)
    assert notice["kind"] == "error" and "line 3: tool_use 't1' started twice" in notice["message"]
    assert (done["kind"], done["status"], done["output"]) == (
        "command_execution", "completed", "ok")


def test_a_tool_use_replayed_after_its_turn_closed_is_noted() -> None:
    """Quirk (`_tool_use`, "already ended"): a tool_use whose turn closed over it (the result
    line came first, so the builder failed the open item) and whose late tool_result was refused
    is still the same id: replayed again it must not start the ended item a second time (found
    by `nox -s explore` on a mutated multi_command stream: lenient logged item.started after the
    item's completion). Strict stops at the first line after `result`."""
    bash = tool_use("t1", "Bash", {"command": "ls"})
    late = tool_result("t1", "ok", {"stdout": "ok", "stderr": ""})
    with pytest.raises(SequenceError, match=r"in.jsonl:4: user line before system/init"):
        run(init(), bash, result(), late, bash)
    events = run(init(), bash, result(), late, bash, context=RunContext(lenient=True))
    assert check_events(events) == []
    assert len(of_type(events, "item.started")) == 1
    notices = [e["message"] for e in completed(events) if e["kind"] == "error"]
    assert any("line 5: tool_use 't1' started twice" in n for n in notices), notices


def test_a_replayed_permission_denial_is_refused_or_noted() -> None:
    """Quirk (`_denied`): a replayed system/permission_denied line would request the same
    approval twice; strict refuses it naming file and line, lenient notes it and goes on."""
    denied = {"type": "system", "subtype": "permission_denied", "tool_name": "Bash",
              "tool_use_id": "t1", "message": "needs approval", "session_id": SESSION}
    lines = (init(mode="default"), tool_use("t1", "Bash", {"command": "touch x"}), denied, denied)
    with pytest.raises(SequenceError, match=r"in.jsonl:4: permission for 't1' denied twice"):
        run(*lines)
    events = run(*lines, result(), context=RunContext(lenient=True))
    assert len(of_type(events, "approval.requested")) == 1
    assert len(of_type(events, "approval.resolved")) == 1
    assert completed(events)[0]["kind"] == "error"


def test_a_tool_use_after_its_result_is_a_new_call() -> None:
    """A tool_use id seen again after its tool_result is not refused: the id was forgotten on
    completion, so the line starts a new item (never the finished one again)."""
    bash = tool_use("t1", "Bash", {"command": "ls"})
    done = tool_result("t1", "ok", {"stdout": "ok", "stderr": ""})
    events = run(init(), bash, done, bash, done, result())
    ids = [e["item"]["id"] for e in of_type(events, "item.started")]
    assert len(ids) == 2 and ids[0] != ids[1]


# ==================================================================================== recordings


RECORDED = sorted(CASSETTES.glob("*/claude-code.jsonl"))


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.parent.name)
def test_recording_matches_outline(path: Path) -> None:
    scenario = load_scenario(path.parent / "scenario.yaml")
    with path.open("rb") as stream:
        events = [e.model_dump(mode="json") for e in cc.normalize(
            LaneInput(stream=stream, name=str(path)), RunContext())]
    assert [err for e in events for err in validate_event(e)] == []
    assert check_events(events) == []
    assert match_outline(events, scenario.expect.for_lane("claude-code"),
                         cc.LANE.noise_tools) == []
