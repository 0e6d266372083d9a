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
    """Anthropic's `input_tokens` leaves cache reads and writes out; the model's counts every
    input token (10 uncached + 2 read here), as the anthropic lane and OpenAI do."""
    done = of_type(run(init(), result()), "turn.completed")[0]
    assert done["usage"] == {"scope": "turn", "input_tokens": 12, "cached_input_tokens": 2,
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


@pytest.mark.parametrize(("name", "kind"), [("authentication_failed", "auth"),
                                            ("rate_limit", "rate_limit"),
                                            ("overloaded", "provider"),
                                            ("server_error", "provider"),
                                            ("billing_error", "unknown"), ("unknown", "unknown")])
def test_synthetic_error_name_gives_the_kind_without_a_status(name: str, kind: str) -> None:
    """A failure whose result names no HTTP status (signed out, a subscription limit) is read
    from the synthetic line's `error` name (`ASSISTANT_ERROR_KINDS`); a status still wins."""
    synthetic = assistant({"type": "text", "text": "Not logged in"}, mid="uuid-x", error=name)
    synthetic["message"]["model"] = "<synthetic>"
    failed = run(init(), synthetic, result(is_error=True, result="Not logged in",
                                           terminal_reason=None))
    assert of_type(failed, "turn.failed")[0]["error"]["kind"] == kind
    with_status = run(init(), synthetic, result(is_error=True, api_error_status=500))
    assert of_type(with_status, "turn.failed")[0]["error"]["kind"] == "provider"


def test_a_sub_agents_synthetic_failure_is_not_the_runs() -> None:
    """A synthetic line with `parent_tool_use_id` is a sub-agent's failure (its Task result
    reports it): a later failure of the run takes neither its kind nor its text."""
    synthetic = assistant({"type": "text", "text": "Not logged in"}, mid="uuid-x",
                          error="authentication_failed", parent_tool_use_id="toolu_task")
    synthetic["message"]["model"] = "<synthetic>"
    events = run(init(), synthetic,
                 result(subtype="error_max_turns", is_error=True, result=None,
                        terminal_reason=None, errors=["Reached maximum number of turns (3)"]))
    assert of_type(events, "turn.failed")[0]["error"] == {
        "kind": "unknown", "message": "Reached maximum number of turns (3)", "retryable": False}


def test_json_verbose_array_reads_as_its_messages() -> None:
    """`--output-format json --verbose` prints the run as one array of messages on one line:
    read element by element, as the lines they would be; an array holding anything but
    objects (or nothing) is refused like any line that is no object."""
    array = json.dumps([init(), assistant({"type": "text", "text": "hi"}), result()]).encode()
    events = run(array)
    assert [e["type"] for e in events if e["type"] != "item.started"] == [
        "session.started", "turn.started", "item.completed", "turn.completed"]
    for bad in (b'[{"type": "result"}, 3]', b"[]"):
        with pytest.raises(FrameError, match="not a JSON object"):
            run(init(), bad)


def test_resume_keeps_the_session_id() -> None:
    events = run(init(), result(), init(), result())
    sessions = of_type(events, "session.started")
    assert [s["resumed_from"] for s in sessions] == [None, SESSION]
    assert {s["thread_id"] for s in sessions} == {SESSION}


def test_a_run_the_context_says_was_resumed_names_that_session() -> None:
    """`claude -p --resume` recorded alone shows no earlier init: the recorder's
    `resumed_from` names the earlier session, on the first session.started only."""
    events = run(init(), result(), init(), result(),
                 context=RunContext(resumed_from="earlier-session"))
    sessions = of_type(events, "session.started")
    assert [s["resumed_from"] for s in sessions] == ["earlier-session", SESSION]


def test_unknown_lines_and_blocks_are_kept() -> None:
    events = run(init(), {"type": "keep_alive", "n": 1},
                 {"type": "system", "subtype": "hook_started", "hook": "h"},
                 assistant({"type": "hologram", "beam": 1}), result())
    unknown = [i for i in completed(events) if i["kind"] == "unknown"]
    assert [u["native_type"] for u in unknown] == [
        "keep_alive", "system/hook_started", "assistant/hologram"]
    assert unknown[0]["payload"] == {"type": "keep_alive", "n": 1}


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


def test_lenient_turns_problems_into_notices_and_keeps_every_unread_line_whole() -> None:
    """No silent loss: a line lenient mode cannot read is a notice naming why plus the line
    itself, exactly as written, in an `unknown` item (a line that is read despite a problem,
    content before init, is a notice only)."""
    late = tool_result("nope", "x", None)
    events = run(b"{not json\n", assistant({"type": "text", "text": "a"}), late,
                 {"no_type": True}, result(), context=RunContext(lenient=True))
    items = completed(events)
    assert [i["kind"] for i in items] == ["error", "unknown", "error", "assistant_message",
                                          "error", "unknown", "error", "unknown"]
    kept = [i["payload"] for i in items if i["kind"] == "unknown"]
    assert kept == ["{not json", json.dumps(late), '{"no_type": true}']
    assert all(i["native_type"] == "unreadable" for i in items if i["kind"] == "unknown")


def test_a_line_with_several_failing_parts_is_kept_once() -> None:
    line = tool_result("nope", "x", None)
    line["message"]["content"].append(dict(line["message"]["content"][0], tool_use_id="nope2"))
    events = run(init(), line, result(), context=RunContext(lenient=True))
    kinds = [i["kind"] for i in completed(events)]
    assert kinds.count("error") == 2 and kinds.count("unknown") == 1



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
    assert [i["kind"] for i in completed(events)] == ["error", "unknown"]


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
    notice, replay, done = completed(events)
    assert notice["kind"] == "error" and "line 3: tool_use 't1' started twice" in notice["message"]
    assert (replay["kind"], replay["payload"]) == ("unknown", json.dumps(bash))
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


# ============================================================================ control protocol


def ask(rid: str, tid: str, name: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A `can_use_tool` prompt as Claude Code 2.1.328 prints it on stdout."""
    return {"type": "control_request", "request_id": rid, "request": {
        "subtype": "can_use_tool", "tool_name": name, "input": payload, "tool_use_id": tid,
        "permission_suggestions": [], **extra}}


def answer(rid: str, **response: Any) -> dict[str, Any]:
    """The client's answer on stdin."""
    return {"type": "control_response",
            "response": {"subtype": "success", "request_id": rid, "response": response}}


def meta_result(tid: str, content: str, meta: dict[str, Any], *, error: bool,
                result_value: Any = None) -> dict[str, Any]:
    line = tool_result(tid, content, result_value if result_value is not None else
                       ("Error: " + content if error else {"stdout": "", "stderr": ""}),
                       error=error)
    line["tool_result_meta"] = [{"id": tid, **meta}] if meta else []
    return line


def approvals(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["type"], e["request_id"], e.get("item_id"), e.get("action"), e.get("reason"),
             e.get("decision"), e.get("decided_by")) for e in events
            if e["type"].startswith("approval.")]


INIT_REQUEST = {"type": "control_request", "request_id": "req_init_1",
                "request": {"subtype": "initialize"}}
INIT_ANSWER = {"type": "control_response", "response": {
    "subtype": "success", "request_id": "req_init_1",
    "response": {"commands": [{"name": "clear"}], "models": []}}}
PROMPT = {"type": "user", "message": {"role": "user", "content": "do it"},
          "parent_tool_use_id": None, "session_id": ""}


@pytest.mark.parametrize(("response", "decision", "reason"), [
    ({"behavior": "allow", "updatedInput": {"command": "touch a"}}, "approved", None),
    ({"behavior": "allow", "updatedInput": {"command": "touch a"}, "updatedPermissions": [
        {"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch:*"}],
         "behavior": "allow", "destination": "session"}]}, "approved_for_session", None),
    ({"behavior": "deny", "message": "not now"}, "denied", "not now"),
    ({"behavior": "deny", "message": "stop", "interrupt": True}, "abort", "stop"),
])
def test_a_clients_answer_decides_the_prompt(response: dict[str, Any], decision: str,
                                             reason: str | None) -> None:
    """`can_use_tool` -> approval.requested (action as for policy denials, reason =
    description); the client's control_response -> approval.resolved by the user."""
    events = run(INIT_REQUEST, PROMPT, INIT_ANSWER, init(mode="default"),
                 tool_use("t1", "Bash", {"command": "touch a"}),
                 ask("r1", "t1", "Bash", {"command": "touch a"}, description="Create a",
                     blocked_path="/work/space/a"),
                 answer("r1", **response),
                 meta_result("t1", "(Bash completed with no output)",
                             {"permission_decision": {"decision": "accept",
                                                      "source": "user_temporary"}},
                             error=False),
                 result())
    item = completed(events)[0]
    assert approvals(events) == [
        ("approval.requested", "r1", item["id"], "Bash: touch a", "Create a", None, None),
        ("approval.resolved", "r1", None, None, reason, decision, "user")]
    assert [i["kind"] for i in completed(events)] == ["command_execution"]


def test_a_denied_write_is_declined_with_the_deny_message() -> None:
    events = run(init(mode="default"),
                 tool_use("t1", "Write", {"file_path": "/w/n.txt", "content": "x"}),
                 ask("r1", "t1", "Write", {"file_path": "/w/n.txt"}, description="n.txt"),
                 answer("r1", behavior="deny", message="Not this file."),
                 meta_result("t1", "Not this file.", {"permission_decision": {
                     "decision": "reject", "source": "user_reject"}}, error=True),
                 result())
    item = completed(events)[0]
    assert (item["kind"], item["status"], item["error"]) == (
        "file_change", "declined", "Not this file.")
    assert approvals(events)[1][4:] == ("Not this file.", "denied", "user")


ACCEPT, REJECT = "accept", "reject"


@pytest.mark.parametrize(("meta", "error", "content", "expected"), [
    ({"permission_decision": {"decision": ACCEPT, "source": "user_temporary"}}, False, "ok",
     ("approved", "user", None)),
    ({"permission_decision": {"decision": ACCEPT, "source": "user_permanent"}}, False, "ok",
     ("approved_for_session", "user", None)),
    ({"permission_decision": {"decision": ACCEPT, "source": "classifier"}}, False, "ok",
     ("approved", "reviewer", None)),
    ({"permission_decision": {"decision": REJECT, "source": "user_reject"}}, True, "no way",
     ("denied", "user", "no way")),
    ({"permission_decision": {"decision": REJECT, "source": "hook"}}, True, "hook said no",
     ("denied", "policy", "hook said no")),
    ({"permission_decision": {"decision": REJECT, "source": "user_abort"}}, True, "stop",
     ("abort", "user", "stop")),
    ({"non_execution_kind": "user-rejected"}, True, "The user doesn't want to proceed",
     ("abort", "user", None)),
    ({}, False, "fine", ("approved", "user", None)),
    ({}, True, "Exit code 2\nboom", ("approved", "user", None)),
    ({}, True, "Denied by the client", ("denied", "user", "Denied by the client")),
])
def test_with_stdout_only_the_tool_result_decides(meta: dict[str, Any], error: bool,
                                                  content: str,
                                                  expected: tuple[str, str, str | None]) -> None:
    """No control_response in the file: the decision is read from the tool_result (meta
    `permission_decision` by source, `user-rejected`, else an error naming no exit code)."""
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "make"}),
                 ask("r1", "t1", "Bash", {"command": "make"}),
                 meta_result("t1", content, meta, error=error), result())
    resolved = of_type(events, "approval.resolved")
    assert [(r["decision"], r["decided_by"], r["reason"]) for r in resolved] == [expected]
    item = completed(events)[0]
    refused = expected[0] in {"denied", "abort"}
    assert item["status"] == ("declined" if refused else "failed" if error else "completed")
    assert item["error"] == (content if refused else None)
    assert of_type(events, "approval.resolved")[0]["seq"] < of_type(
        events, "item.completed")[0]["seq"]


def test_the_initialize_exchange_and_the_prompt_are_no_items() -> None:
    """The client's initialize and prompt and the CLI's answer (also without its request, as
    a stdout-only recording has it) emit nothing."""
    for lines in ([INIT_REQUEST, PROMPT, INIT_ANSWER], [INIT_ANSWER]):
        events = run(*lines, init(), result())
        assert completed(events) == []
        assert [e["type"] for e in events] == ["session.started", "turn.started",
                                               "turn.completed"]


@pytest.mark.parametrize("line", [
    {"type": "control_request", "request_id": "h1",
     "request": {"subtype": "hook_callback", "callback_id": "c1", "input": {}}},
    {"type": "control_request", "request_id": "m1",
     "request": {"subtype": "mcp_message", "server_name": "s", "message": {"id": 1}}},
    {"type": "control_request", "request_id": "p1",
     "request": {"subtype": "set_permission_mode", "mode": "plan"}},
    {"type": "control_cancel_request", "request_id": "nobody"},
    {"type": "control_response", "response": {"subtype": "success", "request_id": "h1",
                                              "response": {"continue": True}}},
    {"type": "control_request", "request": {"subtype": "can_use_tool"}},
])
def test_other_control_lines_are_kept_whole(line: dict[str, Any]) -> None:
    events = run(init(), line, result())
    kept = completed(events)
    assert [(i["kind"], i["payload"]) for i in kept] == [("unknown", line)]


def test_a_prompt_about_a_tool_not_seen_is_kept_whole() -> None:
    line = ask("r1", "t9", "Bash", {"command": "x"})
    events = run(init(), line, result())
    assert [(i["native_type"], i["payload"]) for i in completed(events)] == [
        ("control_request/can_use_tool", line)]
    assert approvals(events) == []


def test_a_client_error_answer_or_a_cancel_leaves_the_decision_to_stdout() -> None:
    error_answer = {"type": "control_response", "response": {
        "subtype": "error", "request_id": "r1", "error": "client crashed"}}
    for line in (error_answer, {"type": "control_cancel_request", "request_id": "r1"}):
        events = run(init(), tool_use("t1", "Bash", {"command": "make"}),
                     ask("r1", "t1", "Bash", {"command": "make"}), line,
                     meta_result("t1", "Stopped", {"permission_decision": {
                         "decision": "reject", "source": "user_reject"}}, error=True),
                     result())
        assert [r["decision"] for r in of_type(events, "approval.resolved")] == ["denied"]
        notices = [i["message"] for i in completed(events) if i["kind"] == "error"]
        assert notices == (["permission request r1: the client answered client crashed; the "
                            "outcome is read from the tool result"] if line is error_answer
                           else [])
        assert [i["kind"] for i in completed(events) if i["kind"] != "error"] == [
            "command_execution"]


def test_a_prompt_answered_or_asked_twice_is_refused_or_noted() -> None:
    lines = [init(), tool_use("t1", "Bash", {"command": "make"}),
             ask("r1", "t1", "Bash", {"command": "make"}), answer("r1", behavior="allow")]
    for extra in (answer("r1", behavior="deny", message="x"),
                  ask("r1", "t1", "Bash", {"command": "make"})):
        with pytest.raises(SequenceError, match="r1"):
            run(*lines, extra)
        events = run(*lines, extra, context=RunContext(lenient=True))
        assert len(of_type(events, "approval.resolved")) == 1
        assert [i["message"] for i in completed(events) if i["kind"] == "error"] == [
            {"control_response": "line 5: permission request 'r1' answered twice",
             "control_request": "line 5: permission request 'r1' asked twice"}[extra["type"]]]


@pytest.mark.parametrize("lines", [
    [{"type": "user", "message": {"role": "user", "content": [
        {"type": "text", "text": "[Request interrupted by user for tool use]"}]},
      "session_id": SESSION},
     result(subtype="error_during_execution", is_error=True, terminal_reason="aborted_tools",
            result=None, errors=["[ede_diagnostic] result_type=user"])],
    [result(subtype="error_during_execution", is_error=True, terminal_reason="aborted_streaming",
            result=None)],
    [{"type": "control_request", "request_id": "i1", "request": {"subtype": "interrupt"}},
     {"type": "control_response", "response": {"subtype": "success", "request_id": "i1"}},
     result(subtype="error_during_execution", is_error=True, terminal_reason=None,
            result=None)],
])
def test_an_interrupt_ends_the_turn_cancelled(lines: list[dict[str, Any]]) -> None:
    """The interrupt marker line, an `aborted_*` terminal reason or the client's `interrupt`
    request: the failed result is `cancelled`, and none of those lines is an item."""
    events = run(init(), *lines)
    error = of_type(events, "turn.failed")[0]["error"]
    assert (error["kind"], error["retryable"]) == ("cancelled", False)
    assert completed(events) == []


def test_an_interrupt_marker_names_the_failure() -> None:
    marker = "[Request interrupted by user for tool use]"
    events = run(init(), {"type": "user", "message": {"role": "user", "content": [
        {"type": "text", "text": marker}]}, "session_id": SESSION},
        result(subtype="error_during_execution", is_error=True, terminal_reason="aborted_tools",
               result=None, errors=["diag"]))
    assert of_type(events, "turn.failed")[0]["error"]["message"] == marker


def test_an_error_subtype_fails_the_turn_even_without_is_error() -> None:
    """Older builds: `error_max_turns` / `error_during_execution` without `terminal_reason`;
    the `errors` list is the message when there is no result text."""
    events = run(init(), result(subtype="error_max_turns", is_error=False,
                                terminal_reason=None, result=None, errors=["max turns: 3"]))
    assert of_type(events, "turn.failed")[0]["error"] == {
        "kind": "unknown", "message": "max turns: 3", "retryable": False}


def test_the_model_comes_from_the_first_assistant_line_when_init_lacks_it() -> None:
    """An init without `model` holds the run until an assistant line names it; lines that say
    nothing (status, stream_event, a prompt) may pass meanwhile."""
    bare = init()
    del bare["model"]
    status = {"type": "system", "subtype": "status", "status": None, "session_id": SESSION}
    partial = {"type": "stream_event", "event": {"type": "message_start"}}
    named = assistant({"type": "text", "text": "hi"})
    named["message"]["model"] = "claude-haiku-9"
    events = run(bare, status, partial, named, result())
    assert [e["type"] for e in events][:2] == ["session.started", "turn.started"]
    assert of_type(events, "session.started")[0]["model"] == "claude-haiku-9"
    assert of_type(events, "session.started")[0]["cwd"] == CWD


def test_a_held_run_without_a_model_line_falls_back_to_the_context() -> None:
    bare = init(model="")
    synthetic = assistant({"type": "text", "text": "API Error"}, is_api_error_message=True)
    synthetic["message"]["model"] = "<synthetic>"
    for lines in ([bare, result()], [bare, synthetic, result(is_error=True)], [bare]):
        events = run(*lines, context=RunContext(model="ctx-model"))
        assert [s["model"] for s in of_type(events, "session.started")] == ["ctx-model"]


def test_a_run_without_init_takes_the_model_of_its_first_line() -> None:
    events = run(assistant({"type": "text", "text": "hi"}), result(),
                 context=RunContext(lenient=True))
    assert of_type(events, "session.started")[0]["model"] == "claude-opus-5-5"


def test_cache_creation_is_cache_write() -> None:
    events = run(init(), result(usage={"input_tokens": 10, "cache_read_input_tokens": 2,
                                       "cache_creation_input_tokens": 7, "output_tokens": 5}))
    usage = of_type(events, "turn.completed")[0]["usage"]
    assert (usage["cached_input_tokens"], usage["cache_write_input_tokens"]) == (2, 7)


def test_a_policy_denial_keeps_the_denial_text_in_error() -> None:
    denied = {"type": "system", "subtype": "permission_denied", "tool_name": "Bash",
              "tool_use_id": "t1", "message": "touch needs approval", "session_id": SESSION}
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "touch x"}), denied,
                 tool_result("t1", "touch needs approval", "Error: touch needs approval",
                             error=True, reject=True), result())
    assert completed(events)[0]["error"] == "touch needs approval"


def test_a_failed_command_has_no_error_and_a_failed_write_says_why() -> None:
    events = run(init(), tool_use("t1", "Bash", {"command": "false"}),
                 tool_result("t1", "Exit code 1", "Error: Exit code 1", error=True),
                 tool_use("t2", "Write", {"file_path": "/w/a", "content": ""}),
                 tool_result("t2", "EACCES: permission denied", "Error: EACCES", error=True),
                 result())
    command, write = completed(events)
    assert (command["status"], command["error"]) == ("failed", None)
    assert (write["status"], write["error"]) == ("failed", "EACCES: permission denied")


def test_partial_messages_and_status_lines_are_no_items() -> None:
    events = run(init(), {"type": "stream_event", "event": {"type": "content_block_delta"}},
                 {"type": "system", "subtype": "status", "status": "compacting"},
                 assistant({"type": "text", "text": "a"}), result())
    assert [i["kind"] for i in completed(events)] == ["assistant_message"]


@pytest.mark.parametrize(("text", "meta", "expected"), [
    ("Claude requested permissions to use Bash, but you haven't granted it yet.", None,
     ("denied", "policy")),
    ("Permission to use Bash with command rm x has been denied.",
     {"non_execution_kind": "permission-rule"}, ("denied", "policy")),
    ("Claude requested permissions to use Bash, but you haven't granted it yet.",
     {"non_execution_kind": "user-rejected"}, ("denied", "policy")),
    ("nope", {"permission_decision": {"decision": "reject", "source": "user_reject"}},
     ("denied", "user")),
    ("The user doesn't want to proceed with this tool use.", None, ("denied", "user")),
])
def test_an_unannounced_refusal_gets_the_approval_pair(text: str, meta: dict[str, Any] | None,
                                                       expected: tuple[str, str]) -> None:
    """Older builds, deny rules and MCP prompt tools refuse with no permission_denied line and
    no prompt: the tool_result alone makes the declined item and its approval pair."""
    line = tool_result("t1", text, "Error: " + text, error=True)
    line["tool_result_meta"] = [] if meta is None else [{"id": "t1", **meta}]
    if meta is None:
        del line["tool_result_meta"]
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "rm x"}), line,
                 result())
    item = completed(events)[0]
    assert (item["status"], item["error"]) == ("declined", text)
    assert approvals(events) == [
        ("approval.requested", "permission_t1", item["id"], "Bash: rm x", text, None, None),
        ("approval.resolved", "permission_t1", None, None, None, *expected)]


def test_a_failure_without_refusal_words_is_no_refusal() -> None:
    line = tool_result("t1", "ENOENT: no such file", "Error: ENOENT", error=True)
    del line["tool_result_meta"]
    events = run(init(), tool_use("t1", "Read", {"file_path": "/x"}), line, result())
    assert (completed(events)[0]["status"], approvals(events)) == ("failed", [])


def test_a_policy_denial_line_is_not_paired_twice() -> None:
    """2.1.328 announces the refusal (system/permission_denied) and marks the result: one
    pair, from the announcement."""
    denied = {"type": "system", "subtype": "permission_denied", "tool_name": "Bash",
              "tool_use_id": "t1", "message": "needs approval", "session_id": SESSION}
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "touch x"}), denied,
                 tool_result("t1", "needs approval", "Error: needs approval", error=True,
                             reject=True), result())
    assert [a[1] for a in approvals(events)] == ["permission_t1", "permission_t1"]


def test_a_prompt_left_open_is_denied_when_the_result_lists_it() -> None:
    """No answer and no tool_result in the file: `result.permission_denials` decides; a prompt
    it does not list stays open (its item fails with the turn)."""
    denials = [{"tool_name": "Bash", "tool_use_id": "t1", "tool_input": {"command": "a"}}]
    events = run(init(mode="default"), tool_use("t1", "Bash", {"command": "a"}),
                 ask("r1", "t1", "Bash", {"command": "a"}),
                 tool_use("t2", "Bash", {"command": "b"}),
                 ask("r2", "t2", "Bash", {"command": "b"}),
                 result(permission_denials=denials))
    assert [(r["request_id"], r["decision"], r["decided_by"])
            for r in of_type(events, "approval.resolved")] == [("r1", "denied", "user")]
    assert [(i["command"], i["status"]) for i in completed(events)] == [
        ("a", "declined"), ("b", "failed")]


def test_an_edited_input_is_what_the_item_runs() -> None:
    """An allow whose `updatedInput` differs runs the edited input: the item is updated to it
    (an unchanged input updates nothing)."""
    asked = {"command": "touch a"}
    for updated, command, updates in ((asked, "touch a", 0),
                                      ({"command": "touch b"}, "touch b", 1)):
        events = run(init(mode="default"), tool_use("t1", "Bash", asked),
                     ask("r1", "t1", "Bash", asked),
                     answer("r1", behavior="allow", updatedInput=updated),
                     tool_result("t1", "(Bash completed with no output)",
                                 {"stdout": "", "stderr": ""}), result())
        assert completed(events)[0]["command"] == command
        assert len(of_type(events, "item.updated")) == updates
        assert of_type(events, "approval.requested")[0]["action"] == "Bash: touch a"


@pytest.mark.parametrize(("text", "kind"), [
    ('API Error: 500 {"type":"error","error":{"type":"api_error"}}', "provider"),
    ('API Error: 429 {"type":"error","error":{"type":"rate_limit_error"}}', "rate_limit"),
    ("API Error: 401 invalid x-api-key", "auth"),
    ("API Error: Connection error.", "network"),
    ("API Error: Request timed out.", "network"),
    ("API Error: something else", "unknown"),
])
def test_older_builds_name_the_status_only_in_the_text(text: str, kind: str) -> None:
    """Builds before 2.1.x print no `api_error_status` / `terminal_reason`: the status is the
    head of the result text (`API Error: NNN ...`); with no status, a failure to reach the API
    at all says so in its words (`CONNECTION_ERROR`)."""
    events = run(init(), {"type": "result", "subtype": "success", "is_error": True,
                          "result": text, "session_id": SESSION})
    assert of_type(events, "turn.failed")[0]["error"] == {
        "kind": kind, "message": text,
        "retryable": kind in {"provider", "rate_limit", "network"}}


def test_output_format_json_is_one_whole_run() -> None:
    """`claude -p --output-format json` prints one result object: a run with its session, the
    model named in `modelUsage`, the answer text and the outcome, not a refusal."""
    whole = {"type": "result", "subtype": "success", "is_error": False, "result": "Hello!",
             "session_id": "s-1", "modelUsage": {"claude-sonnet-4-6": {"inputTokens": 3}},
             "usage": {"input_tokens": 3, "cache_read_input_tokens": 7,
                       "cache_creation_input_tokens": 1, "output_tokens": 2}}
    events = run(whole)
    assert [e["type"] for e in events] == ["session.started", "turn.started", "item.completed",
                                           "turn.completed"]
    assert (events[0]["thread_id"], events[0]["model"]) == ("s-1", "claude-sonnet-4-6")
    assert events[2]["item"]["text"] == "Hello!"
    assert events[3]["usage"]["input_tokens"] == 11
    failed = run({**whole, "is_error": True, "subtype": "error_during_execution",
                  "result": "boom"})
    assert [e["type"] for e in failed][-1] == "turn.failed"
    assert not [e for e in failed if e["type"] == "item.completed"]
