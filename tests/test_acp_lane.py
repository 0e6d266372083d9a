"""acp lane: every mapping from an Agent Client Protocol transcript to the model, each held to a
case that fails when the mapping is loosened; the Gemini CLI ACP driver's client decisions and
templating; the catalog's recordings."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from harness.contract.errors import LaneError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, normalize_to_dicts
from harness.contract.runmeta import recorded_context
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.gemini_acp import DRIVER, permission_outcome
from harness.scenario import load_scenario
from lanes.acp import LANE, recognizes
from lanes.codex_app_server import recognizes as app_server_recognizes

REPO = Path(__file__).resolve().parents[1]
SID = "sess-1"
OPTIONS = [{"optionId": "proceed_always", "name": "Always", "kind": "allow_always"},
           {"optionId": "proceed_once", "name": "Allow", "kind": "allow_once"},
           {"optionId": "cancel", "name": "Reject", "kind": "reject_once"}]

# ------------------------------------------------------------------------------ transcripts


def tin(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "in", "msg": {"jsonrpc": "2.0", **msg}}


def tout(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "out", "msg": {"jsonrpc": "2.0", **msg}}


def update(**fields: Any) -> dict[str, Any]:
    return tin({"method": "session/update", "params": {"sessionId": SID, "update": fields}})


def prelude(load: bool = False) -> list[dict[str, Any]]:
    method = "session/load" if load else "session/new"
    return [
        tout({"id": 0, "method": "initialize", "params": {"protocolVersion": 1}}),
        tin({"id": 0, "result": {"protocolVersion": 1,
                                 "agentInfo": {"name": "gemini-cli", "version": "0.61.0"}}}),
        tout({"id": 1, "method": method, "params": {"sessionId": SID, "cwd": "/w",
                                                    "mcpServers": []}}),
        tin({"id": 1, "result": {"sessionId": SID, "models": {"currentModelId": "m-1"}}}),
    ]


def prompt(rid: int = 2) -> dict[str, Any]:
    return tout({"id": rid, "method": "session/prompt",
                 "params": {"sessionId": SID, "prompt": [{"type": "text", "text": "go"}]}})


def answer(rid: int = 2, stop: str = "end_turn", **extra: Any) -> dict[str, Any]:
    return tin({"id": rid, "result": {"stopReason": stop, **extra}})


def transcript(*body: dict[str, Any], stop: str = "end_turn",
               **extra: Any) -> list[dict[str, Any]]:
    return [*prelude(), prompt(), *body, answer(stop=stop, **extra)]


def run(lines: list[dict[str, Any]], *, lenient: bool = False,
        context: RunContext | None = None) -> list[dict[str, Any]]:
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    ctx = (context or RunContext()).model_copy(update={"lenient": lenient})
    events = [e.model_dump(mode="json")
              for e in LANE.normalize(LaneInput(io.BytesIO(data), "t.jsonl"), ctx)]
    assert not check_events(events), check_events(events)
    return events


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed"]


def of_type(events: list[dict[str, Any]], etype: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == etype]


def call(kind: str, status: str = "in_progress", cid: str = "run_shell_command__c1",
         **fields: Any) -> dict[str, Any]:
    return update(sessionUpdate="tool_call", toolCallId=cid, status=status, kind=kind, **fields)


def call_update(status: str, cid: str = "run_shell_command__c1", **fields: Any
                ) -> dict[str, Any]:
    return update(sessionUpdate="tool_call_update", toolCallId=cid, status=status, **fields)


def text(value: str) -> list[dict[str, Any]]:
    return [{"type": "content", "content": {"type": "text", "text": value}}]


def permission(rid: int = 0, cid: str = "run_shell_command__c1", kind: str = "execute",
               **tool: Any) -> dict[str, Any]:
    return tin({"id": rid, "method": "session/request_permission", "params": {
        "sessionId": SID, "options": OPTIONS,
        "toolCall": {"toolCallId": cid, "status": "pending", "kind": kind, **tool}}})


def choose(rid: int, option: str | None) -> dict[str, Any]:
    outcome = {"outcome": "cancelled"} if option is None else \
        {"outcome": "selected", "optionId": option}
    return tout({"id": rid, "result": {"outcome": outcome}})


# ------------------------------------------------------------------------------ sessions, turns


def test_session_new_answer_opens_the_session_with_the_agent_and_model() -> None:
    start = of_type(run(transcript()), "session.started")[0]
    assert start["thread_id"] == SID
    assert start["runtime"] == {"name": "gemini-cli", "version": "0.61.0"}
    assert (start["provider"], start["model"], start["cwd"]) == ("google", "m-1", "/w")
    assert start["resumed_from"] is None


def test_session_load_is_a_resumed_run_and_its_history_replay_no_item() -> None:
    replay = update(sessionUpdate="agent_message_chunk",
                    content={"type": "text", "text": "earlier answer"})
    lines = prelude(load=True)
    lines.insert(3, replay)
    events = run([*lines, prompt(), answer()])
    assert of_type(events, "session.started")[0]["resumed_from"] == SID
    assert completed(events) == []


def test_an_unknown_agent_has_an_unknown_provider() -> None:
    lines = transcript()
    lines[1] = tin({"id": 0, "result": {"agentInfo": {"name": "some-agent"}}})
    assert of_type(run(lines), "session.started")[0]["provider"] == "unknown"


@pytest.mark.parametrize(("stop", "outcome", "reason"), [
    ("end_turn", "turn.completed", None), ("max_tokens", "turn.completed", "max_tokens"),
    ("refusal", "turn.completed", "refusal"),
    ("max_turn_requests", "turn.completed", "max_turn_requests"),
    ("cancelled", "turn.failed", None)])
def test_stop_reasons(stop: str, outcome: str, reason: str | None) -> None:
    last = run(transcript(stop=stop))[-1]
    assert last["type"] == outcome
    if outcome == "turn.completed":
        assert last["stop_reason"] == reason
    else:
        assert last["error"]["kind"] == "cancelled"


def test_an_unknown_stop_reason_is_refused() -> None:
    with pytest.raises(LaneError, match="stopReason 'finished'"):
        run(transcript(stop="finished"))


@pytest.mark.parametrize(("code", "status", "kind"), [
    (-32000, None, "auth"), (-32603, None, "unknown"), (-32603, 429, "rate_limit"),
    (-32603, 503, "provider"), (-32000, 429, "auth"), (429, None, "rate_limit"),
    (500, None, "provider"), (401, None, "auth"), (503, 429, "rate_limit"),
    (600, None, "unknown")])
def test_an_error_answer_to_the_prompt_fails_the_turn(code: int, status: int | None,
                                                      kind: str) -> None:
    """ACP's own code decides first; else an HTTP status the agent passes on in the error's
    data, or as the error code itself (Gemini CLI's way), goes through the one status table."""
    data: dict[str, object] = {"details": "quota exhausted"}
    if status is not None:
        data["status"] = status
    lines = [*prelude(), prompt(), tin({"id": 2, "error": {
        "code": code, "message": "Internal error", "data": data}})]
    last = run(lines)[-1]
    assert last["type"] == "turn.failed"
    assert last["error"]["kind"] == kind
    assert last["error"]["message"] == "Internal error: quota exhausted"


def test_acp_usage_then_geminis_meta_quota() -> None:
    acp = run(transcript(usage={"inputTokens": 9, "outputTokens": 2, "cachedReadTokens": 4,
                                "cachedWriteTokens": 5, "thoughtTokens": 1}))[-1]["usage"]
    assert (acp["input_tokens"], acp["output_tokens"], acp["cached_input_tokens"],
            acp["cache_write_input_tokens"], acp["reasoning_tokens"], acp["scope"]) == (
        9, 2, 4, 5, 1, "turn")
    meta = {"quota": {"token_count": {"input_tokens": 7, "output_tokens": 3}}}
    gemini = run(transcript(_meta=meta))[-1]["usage"]
    assert (gemini["input_tokens"], gemini["output_tokens"]) == (7, 3)
    assert run(transcript())[-1]["usage"] is None


# ------------------------------------------------------------------------------ text


def chunk(kind: str, value: str) -> dict[str, Any]:
    return update(sessionUpdate=kind, content={"type": "text", "text": value})


def test_message_chunks_are_one_message_streamed_as_deltas() -> None:
    events = run(transcript(chunk("agent_message_chunk", "Hel"),
                            chunk("agent_message_chunk", "lo")))
    assert [(i["kind"], i["text"]) for i in completed(events)] == [("assistant_message", "Hello")]
    deltas = [e["delta"]["text"] for e in of_type(events, "item.updated")]
    assert deltas == ["lo"]


def test_thought_chunks_are_reasoning_and_a_kind_change_closes_the_item() -> None:
    events = run(transcript(chunk("agent_thought_chunk", "think "),
                            chunk("agent_thought_chunk", "hard"),
                            chunk("agent_message_chunk", "done")))
    assert [(i["kind"], i["text"]) for i in completed(events)] == [
        ("reasoning", "think hard"), ("assistant_message", "done")]


def test_a_tool_call_closes_the_message_before_it() -> None:
    events = run(transcript(chunk("agent_message_chunk", "a"), call("execute", title="ls"),
                            call_update("completed"), chunk("agent_message_chunk", "b")))
    assert [i.get("text") for i in completed(events)] == ["a", None, "b"]


def test_geminis_empty_thought_subject_marker_is_no_text() -> None:
    events = run(transcript(chunk("agent_thought_chunk", "****\n17 x 23 = 391."),
                            chunk("agent_thought_chunk", "****\n"),
                            chunk("agent_thought_chunk", "**Plan**\nsteps")))
    items = completed(events)
    assert [(i["text"], i["encrypted"]) for i in items] == [
        ("17 x 23 = 391.", False), ("", True), ("**Plan**\nsteps", False)]


def test_geminis_mode_notice_is_no_message() -> None:
    events = run(transcript(chunk("agent_message_chunk", "[MODE_UPDATE] autoEdit"),
                            chunk("agent_message_chunk", "ok")))
    assert [i["text"] for i in completed(events)] == ["ok"]


def test_user_message_chunks_and_session_updates_are_no_items() -> None:
    events = run(transcript(chunk("user_message_chunk", "go"),
                            update(sessionUpdate="available_commands_update",
                                   availableCommands=[]),
                            update(sessionUpdate="current_mode_update", currentModeId="yolo"),
                            update(sessionUpdate="usage_update", used=10, size=100)))
    assert completed(events) == []


def test_non_text_chunk_strict_refuses_lenient_keeps() -> None:
    image = update(sessionUpdate="agent_message_chunk", content={"type": "image", "data": "x"})
    with pytest.raises(LaneError, match="without text content"):
        run(transcript(image))
    kept = completed(run(transcript(image), lenient=True))
    assert [i["kind"] for i in kept] == ["unknown"]


# ------------------------------------------------------------------------------ tool calls


def test_execute_is_a_command_with_the_title_or_raw_input_command() -> None:
    events = run(transcript(call("execute", title="cat notes.txt", content=text("[cwd /w]")),
                            call_update("completed", content=text("alpha")),
                            call("execute", cid="t2", title="Run", rawInput={"command": "ls"}),
                            call_update("completed", cid="t2",
                                        rawOutput={"output": "a.txt", "exit_code": 0}),
                            call("execute", cid="t3", title="Run", rawInput={"command": "false"}),
                            call_update("completed", cid="t3",
                                        rawOutput={"output": "", "exitCode": 1})))
    first, second, third = completed(events)
    assert (first["kind"], first["command"], first["output"], first["status"]) == (
        "command_execution", "cat notes.txt", "alpha", "completed")
    assert (second["command"], second["output"], second["exit_code"]) == ("ls", "a.txt", 0)
    assert (third["command"], third["exit_code"]) == ("false", 1)  # the camelCase spelling


def test_a_started_command_shows_no_output_yet() -> None:
    events = run(transcript(call("execute", title="ls", content=text("[cwd /w]")),
                            call_update("completed", content=[])))
    assert of_type(events, "item.started")[0]["item"]["output"] == ""
    assert completed(events)[0]["output"] == ""


def test_a_failed_call_is_failed_with_its_content_as_error() -> None:
    events = run(transcript(call("execute", title="false"),
                            call_update("failed", content=text("exit 1"))))
    item = completed(events)[0]
    assert (item["status"], item["error"], item["output"]) == ("failed", "exit 1", "")


@pytest.mark.parametrize(("meta", "old", "kind"), [
    ({"kind": "add"}, "", "add"), (None, None, "add"), (None, "x", "update"),
    ({"kind": "delete"}, "x", "delete")])
def test_edit_diffs_are_file_changes_relative_to_the_session_cwd(
        meta: Any, old: Any, kind: str) -> None:
    diff: dict[str, Any] = {"type": "diff", "path": "/w/NOTES.md", "oldText": old,
                            "newText": "n"}
    if meta is not None:
        diff["_meta"] = meta
    events = run(transcript(call("edit", cid="write_file__c1", locations=[{"path": "/w/NOTES.md"}]),
                            call_update("completed", cid="write_file__c1", content=[diff])))
    assert completed(events)[0]["changes"] == [
        {"path": "NOTES.md", "kind": kind, "move_path": None}]


def test_an_edit_without_diffs_names_its_locations() -> None:
    events = run(transcript(call("edit", cid="e", locations=[{"path": "/w/a.py"}]),
                            call_update("completed", cid="e"),
                            call("delete", cid="d", locations=[{"path": "/w/b.py"}]),
                            call_update("completed", cid="d")))
    assert [i["changes"] for i in completed(events)] == [
        [{"path": "a.py", "kind": "update", "move_path": None}],
        [{"path": "b.py", "kind": "delete", "move_path": None}]]


def test_mcp_tools_by_geminis_title_and_claudes_name() -> None:
    events = run(transcript(
        call("other", cid="mcp_demo_echo__c1", title="echo (demo MCP Server)",
             content=text('{"text":"ping"}')),
        call_update("completed", cid="mcp_demo_echo__c1", content=text("ping")),
        call("other", cid="toolu_1", title="mcp__demo__fail", rawInput={"reason": "x"},
             _meta={"claudeCode": {"toolName": "mcp__demo__fail"}}),
        call_update("failed", cid="toolu_1", content=text("fail: x"))))
    echo, fail = completed(events)
    assert (echo["kind"], echo["server"], echo["tool"], echo["arguments"], echo["result"]) == (
        "mcp_tool_call", "demo", "echo", {"text": "ping"}, "ping")
    assert (fail["server"], fail["tool"], fail["status"], fail["error"], fail["result"]) == (
        "demo", "fail", "failed", "fail: x", None)


@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("search", "google_web_search__c", "web_search"), ("fetch", "web_fetch__c", "web_search"),
    ("search", "glob__c", "tool_call"), ("read", "read_file__c", "tool_call"),
    ("think", "x__c", "tool_call"), ("other", "x__c", "tool_call"),
    ("brand_new_kind", "x__c", "tool_call")])
def test_tool_kinds(kind: str, name: str, expected: str) -> None:
    events = run(transcript(call(kind, cid=name, title="t", rawInput={"query": "q"}),
                            call_update("completed", cid=name)))
    item = completed(events)[0]
    assert item["kind"] == expected
    if expected == "web_search":
        assert item["query"] == "q"
    else:
        assert item["name"] == name.split("__", maxsplit=1)[0]


def test_a_call_completed_in_its_first_update_starts_and_completes() -> None:
    events = run(transcript(call("read", status="completed", cid="read_file__c")))
    assert [e["type"] for e in events if e["type"].startswith("item.")] == [
        "item.started", "item.completed"]


def test_an_update_for_an_unknown_call_is_refused() -> None:
    with pytest.raises(LaneError, match="never started"):
        run(transcript(call_update("completed")))


def test_a_call_restated_by_a_second_tool_call_is_one_item() -> None:
    """Claude Code's ACP adapter sends `tool_call` for one id twice: as the tool's input starts
    to stream (title `Terminal`, empty `rawInput`), then with the input. The second restates the
    call (before, refused as "started twice")."""
    events = run(transcript(call("execute", title="Terminal"), call("execute", title="b"),
                            call_update("completed")))
    items = [e for e in events if e["type"].startswith("item.")]
    assert [e["type"] for e in items] == ["item.started", "item.updated", "item.completed"]
    assert completed(events)[0]["command"] == "b"


def test_a_call_left_open_at_turn_end_fails() -> None:
    events = run(transcript(call("execute", title="sleep 9")))
    assert completed(events)[0]["status"] == "failed"


def test_plan_updates_are_one_plan_item_completed_at_turn_end() -> None:
    entries = [{"content": "Read", "priority": "high", "status": "completed"},
               {"content": "Write", "priority": "low", "status": "in_progress"}]
    events = run(transcript(update(sessionUpdate="plan", entries=entries[:1]),
                            update(sessionUpdate="plan", entries=entries)))
    plans = [i for i in completed(events) if i["kind"] == "plan"]
    assert len(plans) == 1
    assert plans[0]["entries"] == [{"text": "Read", "status": "completed"},
                                   {"text": "Write", "status": "in_progress"}]


# ------------------------------------------------------------------------------ approvals


@pytest.mark.parametrize(("option", "decision"), [
    ("proceed_once", "approved"), ("proceed_always", "approved_for_session"),
    ("cancel", "denied"), (None, "abort")])
def test_permission_decided_by_the_user(option: str | None, decision: str) -> None:
    events = run(transcript(permission(title="touch made.txt"), choose(0, option)))
    requested = of_type(events, "approval.requested")[0]
    resolved = of_type(events, "approval.resolved")[0]
    assert (requested["action"], requested["item_id"]) == ("touch made.txt", "item_0")
    assert (resolved["decision"], resolved["decided_by"]) == (decision, "user")


def test_reject_always_is_denied() -> None:
    options = [{"optionId": "no", "name": "Never", "kind": "reject_always"}]
    lines = transcript(tin({"id": 0, "method": "session/request_permission", "params": {
        "sessionId": SID, "options": options,
        "toolCall": {"toolCallId": "c", "kind": "execute", "title": "rm x"}}}), choose(0, "no"))
    assert of_type(run(lines), "approval.resolved")[0]["decision"] == "denied"


def test_a_rejected_call_is_declined_when_the_agent_moves_on() -> None:
    events = run(transcript(permission(title="touch made.txt"), choose(0, "cancel"),
                            chunk("agent_message_chunk", "You declined.")))
    items = completed(events)
    assert [(i["kind"], i["status"]) for i in items] == [
        ("command_execution", "declined"), ("assistant_message", "completed")]
    assert (items[0]["output"], items[0]["error"]) == ("", "rejected by the user")


def test_an_update_about_the_rejected_call_itself_closes_it_once() -> None:
    """After a rejection the agent may still report the refused call (`failed`): that update
    is about the call, so it does not close it first as a move on would; the call completes
    once, declined, in strict mode."""
    events = run(transcript(permission(title="touch made.txt"), choose(0, "cancel"),
                            call_update("failed"),
                            chunk("agent_message_chunk", "You declined.")))
    items = completed(events)
    assert [(i["kind"], i["status"], i.get("error")) for i in items] == [
        ("command_execution", "declined", "rejected by the user"),
        ("assistant_message", "completed", None)]


def test_a_cancelled_call_is_declined_at_turn_end_and_the_turn_cancelled() -> None:
    events = run(transcript(permission(cid="write_file__c", kind="edit",
                                       locations=[{"path": "/w/NOTES.md"}]),
                            tout({"method": "session/cancel", "params": {"sessionId": SID}}),
                            choose(0, None), stop="cancelled"))
    item = completed(events)[0]
    assert (item["kind"], item["status"], item["error"]) == (
        "file_change", "declined", "cancelled by the user")
    assert of_type(events, "approval.requested")[0]["action"] == "/w/NOTES.md"
    assert events[-1]["error"]["kind"] == "cancelled"


def test_an_allowed_call_completes_from_its_update() -> None:
    events = run(transcript(permission(title="touch made.txt"), choose(0, "proceed_once"),
                            call_update("completed", content=[])))
    assert completed(events)[0]["status"] == "completed"


def test_a_permission_for_a_call_already_started_reuses_its_item() -> None:
    events = run(transcript(call("execute", status="pending", title="ls"),
                            permission(title="ls"), choose(0, "proceed_once"),
                            call_update("completed")))
    assert len(of_type(events, "item.started")) == 1


def test_an_answer_to_no_request_and_an_unknown_option_are_refused() -> None:
    with pytest.raises(LaneError, match="no open agent request"):
        run(transcript(choose(5, "proceed_once")))
    with pytest.raises(LaneError, match="known outcome"):
        run(transcript(permission(title="x"), choose(0, "mystery")))


# ------------------------------------------------------------------------------ strictness


def test_unknown_method_strict_refuses_lenient_keeps() -> None:
    odd = tin({"method": "session/telepathy", "params": {}})
    with pytest.raises(LaneError, match="unknown method 'session/telepathy'"):
        run(transcript(odd))
    kept = completed(run(transcript(odd), lenient=True))
    assert kept[0]["kind"] == "unknown"
    assert kept[0]["payload"]["method"] == "session/telepathy"


def test_unknown_session_update_strict_refuses_lenient_keeps() -> None:
    odd = update(sessionUpdate="agent_mood", mood="happy")
    with pytest.raises(LaneError, match="unknown sessionUpdate 'agent_mood'"):
        run(transcript(odd))
    kept = completed(run(transcript(odd), lenient=True))
    assert [i["kind"] for i in kept] == ["unknown"]


def test_agent_fs_request_and_the_clients_answer_are_kept_whole() -> None:
    events = run(transcript(tin({"id": 7, "method": "fs/read_text_file",
                                 "params": {"sessionId": SID, "path": "/w/a"}}),
                            tout({"id": 7, "error": {"code": -32601, "message": "no"}})))
    assert [i["native_type"] for i in completed(events)] == [
        "fs/read_text_file", "answer to fs/read_text_file"]


def test_extension_methods_are_kept_in_strict_mode() -> None:
    kept = completed(run(transcript(tin({"method": "_zed/progress", "params": {}}))))
    assert kept[0]["native_type"] == "_zed/progress"


def test_a_line_without_jsonrpc_is_refused() -> None:
    lines = transcript()
    lines.insert(2, {"dir": "in", "msg": {"method": "session/update", "params": {}}})
    with pytest.raises(LaneError, match=r"JSON-RPC 2\.0"):
        run(lines)


def test_a_transcript_cut_before_its_session_is_a_sessionless_run_with_a_notice() -> None:
    events = run(prelude()[:2])
    assert of_type(events, "session.started")[0]["thread_id"] is None
    assert "no session/new" in completed(events)[0]["message"]


def test_lines_without_a_connection_are_refused_strict_and_one_notice_lenient() -> None:
    lines = [tin({"method": "session/update", "params": {"sessionId": SID, "update": {
        "sessionUpdate": "available_commands_update"}}})]
    with pytest.raises(LaneError, match="no session/new"):
        run(lines)
    events = run(lines, lenient=True)
    assert completed(events)[0]["kind"] == "error"


def test_a_failed_session_load_is_a_notice() -> None:
    lines = [*prelude()[:2], tout({"id": 1, "method": "session/load",
                                   "params": {"sessionId": SID}}),
             tin({"id": 1, "error": {"code": -32603, "message": "Internal error",
                                     "data": {"details": "No previous sessions"}}})]
    events = run(lines, lenient=True)
    assert "session/load failed: Internal error (No previous sessions)" in \
        completed(events)[0]["message"]


def test_recognizer_needs_jsonrpc_2() -> None:
    acp = json.dumps(tout({"id": 0, "method": "initialize"})).encode()
    app_server = json.dumps({"dir": "out", "msg": {"id": 0, "method": "initialize"}}).encode()
    assert recognizes(acp)
    assert not recognizes(app_server)


def test_capabilities_are_what_the_recordings_show() -> None:
    assert "approvals" in LANE.capabilities
    assert "resume" not in LANE.capabilities  # Gemini CLI 0.61's session/load finds nothing
    assert "sandbox_context" not in LANE.capabilities
    assert "plan" not in LANE.capabilities  # Gemini CLI 0.61 sends write_todos as a tool call
    assert "plan" in LANE.item_kinds


def test_the_app_server_lane_does_not_claim_an_acp_transcript() -> None:
    acp = json.dumps(tout({"id": 0, "method": "initialize"})).encode()
    assert not app_server_recognizes(acp)


# ------------------------------------------------------------------------------ driver


@pytest.mark.parametrize(("decision", "outcome"), [
    ("approve", {"outcome": "selected", "optionId": "proceed_once"}),
    ("approve_for_session", {"outcome": "selected", "optionId": "proceed_always"}),
    ("approve_with_amendment", {"outcome": "selected", "optionId": "proceed_always"}),
    ("deny", {"outcome": "selected", "optionId": "cancel"}),
    ("cancel", {"outcome": "cancelled"})])
def test_driver_decisions(decision: str, outcome: dict[str, Any]) -> None:
    assert permission_outcome(decision, OPTIONS) == outcome


def test_driver_deny_falls_back_to_reject_always_and_else_cancels() -> None:
    always = [{"optionId": "never", "kind": "reject_always"}]
    assert permission_outcome("deny", always) == {"outcome": "selected", "optionId": "never"}
    assert permission_outcome("deny", []) == {"outcome": "cancelled"}


def test_driver_shares_the_gemini_install_and_settings(tmp_path: Path) -> None:
    assert DRIVER.install_name == "gemini"
    assert DRIVER.binary().parts[-4:] == ("gemini", "node_modules", ".bin", "gemini")
    scenario = load_scenario(REPO / "cassettes" / "user_approve" / "scenario.yaml")
    plan = RunPlan(scenario, 0, tmp_path / "workspace", tmp_path / "home", "http://127.0.0.1:1")
    assert DRIVER.arguments(plan)[:5] == ["--acp", "-m", "gemini-2.5-pro", "--approval-mode",
                                          "default"]
    assert DRIVER.context(scenario)["approval_policy"] == "untrusted"


def test_driver_templates_session_ids_and_paths(tmp_path: Path) -> None:
    scenario = load_scenario(REPO / "cassettes" / "hello" / "scenario.yaml")
    plan = RunPlan(scenario, 0, tmp_path / "workspace", tmp_path / "home", "http://127.0.0.1:1")
    raw = json.dumps({"sessionId": "abc-random", "cwd": str(tmp_path / "workspace")},
                     separators=(", ", ": ")) + " abc-random"
    out = DRIVER.template(raw, plan)
    assert "abc-random" not in out and str(tmp_path) not in out
    assert "96fb236c-f844-5e81-945f-055704e89e28" in out and "{workspace}" in out


# ------------------------------------------------------------------------------ catalog


RECORDED = sorted(p.parent.name for p in (REPO / "cassettes").glob("*/gemini-acp.jsonl"))


@pytest.mark.parametrize(("scenario", "decision"), [
    ("user_approve", "approved"), ("user_approve_session", "approved_for_session"),
    ("user_deny", "denied"), ("user_cancel", "abort"), ("user_file_change_deny", "denied"),
    ("user_file_change_cancel", "abort"),
    ("user_file_change_approve_session", "approved_for_session"),
    ("user_approve_amendment", "approved_for_session"), ("user_escalate_approve", "approved")])
def test_catalog_user_decisions(scenario: str, decision: str) -> None:
    folder = REPO / "cassettes" / scenario
    events = normalize_to_dicts(LANE, folder / "gemini-acp.jsonl",
                                recorded_context(folder / "gemini-acp.meta.json"))
    assert [e["decision"] for e in of_type(events, "approval.resolved")] == [decision]
    assert all(e["decided_by"] == "user" for e in of_type(events, "approval.resolved"))


@pytest.mark.parametrize("scenario", RECORDED)
def test_recordings_hold_no_temp_path_or_random_session(scenario: str) -> None:
    text = (REPO / "cassettes" / scenario / "gemini-acp.jsonl").read_text(encoding="utf-8")
    assert "/tmp/" not in text
    for line in text.splitlines():
        msg = json.loads(line)["msg"]
        session = (msg.get("params") or {}).get("sessionId")
        if session is not None:
            assert session.count("-") == 4 and len(session) == 36


def test_a_failed_prompts_data_message_is_kept() -> None:
    """Codex's ACP adapter answers a failed prompt with -32603 "Internal error" and the real
    failure in `data.message`; before, the log kept only "Internal error"."""
    lines = [*prelude(), prompt(), tin({"id": 2, "error": {
        "code": -32603, "message": "Internal error",
        "data": {"message": "unexpected status 401 Unauthorized", "codex_error_info": "other"}}})]
    last = run(lines)[-1]
    assert (last["error"]["kind"], last["error"]["message"]) == (
        "unknown", "Internal error: unexpected status 401 Unauthorized")
