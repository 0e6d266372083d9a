"""codex-app-server lane: every mapping from a `codex app-server` transcript to the model, each
held to a case that fails when the mapping is loosened; the driver's client decisions and
templating; the catalog's user-decided recordings."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.contract.errors import LaneError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, normalize_to_dicts
from harness.contract.runmeta import recorded_context
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.codex_app_server import DRIVER, codex_decision
from harness.scenario import ClientDecision, Scenario, load_scenario
from lanes.codex_app_server import LANE, error_kind

REPO = Path(__file__).resolve().parents[1]
THREAD = "00000000-0000-4000-8000-000000000002"

# ------------------------------------------------------------------------------ transcripts


def tin(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "in", "msg": msg}


def tout(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "out", "msg": msg}


def note(method: str, **params: Any) -> dict[str, Any]:
    return tin({"method": method, "params": params, "emittedAtMs": 0})


def thread_answer(rid: int, thread: str = THREAD, **extra: Any) -> dict[str, Any]:
    result = {"thread": {"id": thread}, "model": "gpt-5.5", "approvalPolicy": "untrusted",
              "sandbox": {"type": "workspaceWrite"}, **extra}
    return tin({"id": rid, "result": result})


def prelude(method: str = "thread/start", thread: str = THREAD) -> list[dict[str, Any]]:
    return [
        tout({"method": "initialize", "id": 0, "params": {}}),
        tin({"id": 0, "result": {"userAgent": "x"}}),
        tout({"method": "initialized"}),
        tout({"method": "config/read", "id": 1, "params": {}}),
        tin({"id": 1, "result": {"config": {}}}),
        tout({"method": method, "id": 2, "params": {"threadId": thread}}),
        thread_answer(2, thread),
    ]


def item(itype: str, iid: str, **fields: Any) -> dict[str, Any]:
    return {"type": itype, "id": iid, **fields}


def started(raw: dict[str, Any]) -> dict[str, Any]:
    return note("item/started", item=raw, threadId=THREAD, turnId="t")


def done(raw: dict[str, Any]) -> dict[str, Any]:
    return note("item/completed", item=raw, threadId=THREAD, turnId="t")


def turn_end(status: str = "completed", error: Any = None) -> dict[str, Any]:
    return note("turn/completed", threadId=THREAD,
                turn={"id": "t", "items": [], "status": status, "error": error})


def transcript(*body: dict[str, Any], status: str = "completed",
               error: Any = None) -> list[dict[str, Any]]:
    return [*prelude(), note("turn/started", threadId=THREAD, turn={"id": "t"}), *body,
            turn_end(status, error)]


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


CMD = "/bin/bash -lc 'touch made.txt'"


def command(status: str, **fields: Any) -> dict[str, Any]:
    return item("commandExecution", "call_1", command=CMD, cwd="/w", status=status,
                commandActions=[], **fields)


# ------------------------------------------------------------------------------ runs and turns


def test_thread_start_answer_opens_the_session_with_what_the_server_applied() -> None:
    ctx = RunContext(cwd="{workspace}", sandbox="read-only", approval_policy="never",
                     auth_mode="api_key", runtime_version="0.169.0")
    session = of_type(run(transcript(), context=ctx), "session.started")
    assert [(s["thread_id"], s["model"], s["sandbox"], s["approval_policy"], s["cwd"],
             s["auth_mode"], s["runtime"], s["resumed_from"]) for s in session] == [
        (THREAD, "gpt-5.5", "workspace-write", "untrusted", "{workspace}", "api_key",
         {"name": "codex", "version": "0.169.0"}, None)]


def test_thread_resume_answer_is_a_resumed_run() -> None:
    second = [*prelude("thread/resume"), note("turn/started", threadId=THREAD, turn={}),
              turn_end()]
    sessions = of_type(run([*transcript(), *second]), "session.started")
    assert [s["resumed_from"] for s in sessions] == [None, THREAD]


def test_token_usage_total_is_the_turns_cumulative_usage() -> None:
    breakdown = {"totalTokens": 9, "inputTokens": 5, "cachedInputTokens": 1,
                 "cacheWriteInputTokens": 2, "outputTokens": 3, "reasoningOutputTokens": 4}
    last = dict.fromkeys(breakdown, 0)
    events = run(transcript(note("thread/tokenUsage/updated", threadId=THREAD, turnId="t",
                                 tokenUsage={"total": breakdown, "last": last})))
    assert of_type(events, "turn.completed")[0]["usage"] == {
        "scope": "cumulative", "input_tokens": 5, "cached_input_tokens": 1,
        "cache_write_input_tokens": 2, "output_tokens": 3, "reasoning_tokens": 4}


@pytest.mark.parametrize(("status", "error", "kind"), [
    ("interrupted", None, "cancelled"),
    ("failed", {"message": "m", "codexErrorInfo": {"httpConnectionFailed":
                                                   {"httpStatusCode": 500}}}, "provider"),
    ("failed", {"message": "m", "codexErrorInfo": {"responseStreamDisconnected":
                                                   {"httpStatusCode": None}}},
     "stream_truncated"),
    ("failed", {"message": "m", "codexErrorInfo": {"httpConnectionFailed":
                                                   {"httpStatusCode": 429}}}, "rate_limit"),
    ("failed", {"message": "m", "codexErrorInfo": "unauthorized"}, "auth"),
    ("failed", {"message": "m", "codexErrorInfo": "other"}, "unknown"),
    ("failed", {"message": "stream disconnected before completion: x",
                "codexErrorInfo": "other"}, "provider"),
    ("failed", {"message": "high demand", "codexErrorInfo": "internalServerError"},
     "provider"),
])
def test_turn_outcomes(status: str, error: Any, kind: str) -> None:
    failed = of_type(run(transcript(status=status, error=error)), "turn.failed")
    assert [f["error"]["kind"] for f in failed] == [kind]


def test_error_kind_reads_a_status_before_the_name() -> None:
    assert error_kind({"responseStreamDisconnected": {"httpStatusCode": 401}}) == "auth"
    assert error_kind({"responseStreamConnectionFailed": {}}) == "network"


# ------------------------------------------------------------------------------ items


def test_agent_message_deltas_stream_into_the_text() -> None:
    msg = item("agentMessage", "msg_1", text="")
    events = run(transcript(
        started(msg),
        note("item/agentMessage/delta", threadId=THREAD, turnId="t", itemId="msg_1",
             delta="Hel"),
        note("item/agentMessage/delta", threadId=THREAD, turnId="t", itemId="msg_1",
             delta="lo"),
        done({**msg, "text": "Hello"})))
    updates = of_type(events, "item.updated")
    assert [(u["delta"], u["item"]["text"]) for u in updates] == [
        ({"field": "text", "text": "Hel"}, "Hel"), ({"field": "text", "text": "lo"}, "Hello")]
    assert [(i["kind"], i["text"], i["native_id"]) for i in completed(events)] == [
        ("assistant_message", "Hello", "msg_1")]


def test_command_output_deltas_stream_into_the_output() -> None:
    events = run(transcript(
        started(command("inProgress")),
        note("item/commandExecution/outputDelta", threadId=THREAD, turnId="t",
             itemId="call_1", delta="a\n"),
        done(command("completed", exitCode=0, aggregatedOutput="a\n"))))
    assert [u["delta"] for u in of_type(events, "item.updated")] == [
        {"field": "output", "text": "a\n"}]


def test_reasoning_summary_is_the_text_and_an_empty_one_is_encrypted() -> None:
    events = run(transcript(
        started(item("reasoning", "rs_1", summary=[], content=[])),
        done(item("reasoning", "rs_1", summary=["a", "b"], content=[])),
        started(item("reasoning", "rs_2", summary=[], content=[])),
        done(item("reasoning", "rs_2", summary=[], content=[])),
        started(item("reasoning", "rs_3", summary=[], content=[])),
        done(item("reasoning", "rs_3", summary=[], content=["raw"]))))
    assert [(i["kind"], i["text"], i["encrypted"]) for i in completed(events)] == [
        ("reasoning", "a\n\nb", False), ("reasoning", "", True), ("reasoning", "raw", False)]


@pytest.mark.parametrize(("native", "status"), [
    ("completed", "completed"), ("failed", "failed"), ("declined", "declined"),
    ("inProgress", "failed")])
def test_command_execution(native: str, status: str) -> None:
    events = run(transcript(started(command("inProgress")),
                            done(command(native, exitCode=1, aggregatedOutput="out"))))
    assert [(i["kind"], i["command"], i["exit_code"], i["output"], i["status"])
            for i in completed(events)] == [("command_execution", CMD, 1, "out", status)]


def test_file_change_kinds() -> None:
    changes = [{"path": "/w/a", "kind": {"type": "add"}, "diff": ""},
               {"path": "/w/b", "kind": {"type": "delete"}, "diff": ""},
               {"path": "/w/c", "kind": {"type": "update", "move_path": None}, "diff": ""},
               {"path": "/w/d", "kind": {"type": "update", "move_path": "/w/e"}, "diff": ""}]
    raw = item("fileChange", "call_2", changes=changes, status="inProgress")
    events = run(transcript(started(raw), done({**raw, "status": "completed"})))
    assert completed(events)[0]["changes"] == [
        {"path": "/w/a", "kind": "add", "move_path": None},
        {"path": "/w/b", "kind": "delete", "move_path": None},
        {"path": "/w/c", "kind": "update", "move_path": None},
        {"path": "/w/d", "kind": "move", "move_path": "/w/e"}]


def test_mcp_tool_call_error_message_and_result() -> None:
    raw = item("mcpToolCall", "call_3", server="demo", tool="fail", arguments={"x": 1},
               status="inProgress", result=None, error=None)
    result = {"content": [{"type": "text", "text": "r"}]}
    events = run(transcript(started(raw), done({**raw, "status": "failed", "result": result,
                                                "error": {"message": "boom"}})))
    assert [(i["server"], i["tool"], i["arguments"], i["result"], i["error"], i["status"])
            for i in completed(events)] == [("demo", "fail", {"x": 1}, result, "boom",
                                             "failed")]


def test_dynamic_tool_call_keeps_its_arguments_and_output() -> None:
    """A client-defined (dynamic) tool is a tool_call: its name, arguments and the output the
    client gave (`contentItems`) as the result."""
    output = [{"type": "inputText", "text": "42 rows"}]
    events = run(transcript(
        started(item("dynamicToolCall", "d1", tool="query_db", arguments={"sql": "select 1"},
                     status="inProgress", contentItems=None)),
        done(item("dynamicToolCall", "d1", tool="query_db", arguments={"sql": "select 1"},
                  status="completed", contentItems=output, success=True))))
    call = completed(events)[0]
    assert (call["kind"], call["name"], call["arguments"], call["result"], call["status"]) == (
        "tool_call", "query_db", {"sql": "select 1"}, output, "completed")


def test_web_search_query() -> None:
    raw = item("webSearch", "ws_1", query="q")
    assert [(i["kind"], i["query"]) for i in completed(run(transcript(started(raw),
                                                                      done(raw))))] == [
        ("web_search", "q")]


def test_plan_updates_are_one_plan_item_completed_at_turn_end() -> None:
    def plan(*steps: tuple[str, str]) -> dict[str, Any]:
        return note("turn/plan/updated", threadId=THREAD, turnId="t", explanation=None,
                    plan=[{"step": s, "status": st} for s, st in steps])

    msg = item("agentMessage", "msg_1", text="done")
    events = run(transcript(plan(("a", "inProgress"), ("b", "pending")),
                            plan(("a", "completed"), ("b", "completed")),
                            started(msg), done(msg)))
    assert [e["type"] for e in events if e.get("item", {}).get("kind") == "plan"] == [
        "item.started", "item.updated", "item.completed"]
    assert [(i["kind"], i.get("entries")) for i in completed(events)] == [
        ("assistant_message", None),
        ("plan", [{"text": "a", "status": "completed"}, {"text": "b", "status": "completed"}])]
    first = of_type(events, "item.started")[0]["item"]["entries"]
    assert [e["status"] for e in first] == ["in_progress", "pending"]


def test_user_message_is_no_item() -> None:
    raw = item("userMessage", "u_1", content=[])
    assert [e["type"] for e in run(transcript(started(raw), done(raw)))] == [
        "session.started", "turn.started", "turn.completed"]


def test_unknown_thread_item_type_is_kept_whole() -> None:
    raw = item("imageView", "iv_1", path="/x.png")
    items = completed(run(transcript(started(raw), done(raw))))
    assert [(i["kind"], i["native_type"], i["payload"]) for i in items] == [
        ("unknown", "imageView", raw)]


# ------------------------------------------------------------------------------ approvals


def command_request(rid: int = 7, **params: Any) -> dict[str, Any]:
    return tin({"method": "item/commandExecution/requestApproval", "id": rid,
                "params": {"threadId": THREAD, "turnId": "t", "itemId": "call_1",
                           "command": CMD, "reason": "needs write", **params}})


def answer(decision: Any, rid: int = 7) -> dict[str, Any]:
    return tout({"id": rid, "result": {"decision": decision}})


@pytest.mark.parametrize(("decision", "expected", "status"), [
    ("accept", "approved", "completed"),
    ("acceptForSession", "approved_for_session", "completed"),
    ({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}},
     "approved_for_session", "completed"),
    ("decline", "denied", "declined"),
    ("cancel", "abort", "declined"),
])
def test_command_approval_decided_by_the_user(decision: Any, expected: str,
                                              status: str) -> None:
    events = run(transcript(started(command("inProgress")), command_request(),
                            answer(decision), note("serverRequest/resolved", threadId=THREAD,
                                                   requestId=7),
                            done(command(status, exitCode=0 if status == "completed" else None))))
    asked, resolved = of_type(events, "approval.requested"), of_type(events, "approval.resolved")
    item_id = of_type(events, "item.started")[0]["item"]["id"]
    assert [(a["request_id"], a["item_id"], a["action"], a["reason"]) for a in asked] == [
        ("1:7", item_id, CMD, "needs write")]
    assert [(r["request_id"], r["decision"], r["decided_by"]) for r in resolved] == [
        ("1:7", expected, "user")]
    assert [i["status"] for i in completed(events)] == [status]


def test_cancelled_file_change_never_completed_is_closed_declined() -> None:
    raw = item("fileChange", "call_2", status="inProgress",
               changes=[{"path": "/w/a", "kind": {"type": "add"}, "diff": "x"},
                        {"path": "/w/b", "kind": {"type": "add"}, "diff": "y"}])
    request = tin({"method": "item/fileChange/requestApproval", "id": 0,
                   "params": {"threadId": THREAD, "turnId": "t", "itemId": "call_2",
                              "reason": None, "startedAtMs": 0}})
    events = run(transcript(started(raw), request, answer("cancel", 0), status="interrupted"))
    assert [a["action"] for a in of_type(events, "approval.requested")] == ["/w/a, /w/b"]
    assert [r["decision"] for r in of_type(events, "approval.resolved")] == ["abort"]
    assert [(i["kind"], i["status"]) for i in completed(events)] == [("file_change", "declined")]
    assert [f["error"]["kind"] for f in of_type(events, "turn.failed")] == ["cancelled"]


def test_an_item_left_open_without_a_refusal_still_fails() -> None:
    """Only a refused item is closed `declined`; anything else the turn leaves open fails."""
    events = run(transcript(started(command("inProgress")), status="interrupted"))
    assert [i["status"] for i in completed(events)] == ["failed"]


def test_a_second_process_restarts_request_ids() -> None:
    """Each app-server process numbers its requests from 0: request ids stay unique per log."""
    first = transcript(started(command("inProgress")), command_request(0), answer("accept", 0),
                       done(command("completed", exitCode=0)))
    second = [*prelude("thread/resume"), note("turn/started", threadId=THREAD, turn={}),
              started(command("inProgress")), command_request(0), answer("accept", 0),
              done(command("completed", exitCode=0)), turn_end()]
    ids = [a["request_id"] for a in of_type(run([*first, *second]), "approval.requested")]
    assert ids == ["1:0", "2:0"]


def test_an_answer_to_no_request_is_refused() -> None:
    with pytest.raises(LaneError, match="no open server request"):
        run(transcript(answer("accept")))


def test_an_unknown_decision_is_refused() -> None:
    with pytest.raises(LaneError, match="known `decision`"):
        run(transcript(started(command("inProgress")), command_request(), answer("maybe")))


# ------------------------------------------------------------------------------ other lines


def test_ignored_notifications_and_control_plane_answers_are_no_events() -> None:
    events = run(transcript(note("thread/status/changed", threadId=THREAD, status={}),
                            note("account/rateLimits/updated", rateLimits={}),
                            note("turn/diff/updated", threadId=THREAD, turnId="t", diff="")))
    assert [e["type"] for e in events] == ["session.started", "turn.started", "turn.completed"]


def test_warnings_and_errors_are_notices() -> None:
    events = run([note("configWarning", summary="no bubblewrap", details=None),
                  *transcript(note("error", error={"message": "retrying"}, willRetry=True,
                                   threadId=THREAD, turnId="t"))])
    assert [i["message"] for i in completed(events)] == ["no bubblewrap", "retrying"]
    assert events[0]["type"] == "item.completed"  # a notice may precede the session


def test_unknown_method_strict_refuses_lenient_keeps() -> None:
    lines = transcript(note("thread/teleported", where="mars"))
    with pytest.raises(LaneError, match="unknown method 'thread/teleported'") as caught:
        run(lines)
    assert caught.value.line == len(prelude()) + 2
    kept = completed(run(lines, lenient=True))
    assert [(i["kind"], i["native_type"]) for i in kept] == [("unknown", "thread/teleported")]


def test_known_unmodelled_method_is_kept_whole_in_strict_mode() -> None:
    line = note("model/rerouted", fromModel="a", toModel="b")
    kept = completed(run(transcript(line)))
    assert [(i["kind"], i["native_type"], i["payload"]) for i in kept] == [
        ("unknown", "model/rerouted", line["msg"])]


def test_a_server_request_the_client_does_not_decide_and_its_answer_are_kept_whole() -> None:
    ask = tin({"method": "item/tool/requestUserInput", "id": 9, "params": {"questions": []}})
    refusal = tout({"id": 9, "error": {"code": -32601, "message": "not handled"}})
    kept = completed(run(transcript(ask, refusal)))
    assert [(i["native_type"], i["payload"]) for i in kept] == [
        ("item/tool/requestUserInput", ask["msg"]),
        ("answer to item/tool/requestUserInput", refusal["msg"])]


def test_a_client_request_the_server_refused_is_kept_as_a_notice() -> None:
    """An error answer to one of the client's requests (here `config/read`) is no event of
    the run, but dropping it would lose why the run went as it did: a notice names it."""
    lines = transcript()
    lines[4] = tin({"id": 1, "error": {"code": -32600, "message": "bad config"}})
    notices = [i for i in completed(run(lines)) if i["kind"] == "error"]
    assert [n["message"] for n in notices] == ["config/read failed: bad config"]


def test_a_line_that_is_no_transcript_line_is_refused() -> None:
    with pytest.raises(LaneError, match="not a transcript line"):
        run([{"method": "initialize"}])


def test_a_transcript_cut_before_its_thread_is_a_threadless_session_with_a_notice() -> None:
    for lenient in (False, True):
        events = run(prelude()[:5], lenient=lenient)
        assert [(e["type"], e["thread_id"]) for e in events] == [
            ("session.started", None), ("item.completed", None)]
        assert "no thread/start" in completed(events)[0]["message"]


def test_lines_without_a_connection_are_refused_strict_and_one_notice_lenient() -> None:
    lines = [note("configWarning", summary="w", details=None)]
    with pytest.raises(LaneError, match="no thread/start"):
        run(lines)
    assert [i["kind"] for i in completed(run(lines, lenient=True))] == ["error", "error"]


def test_recognizer_tells_a_transcript_from_the_exec_stream() -> None:
    assert LANE.recognizes is not None
    assert LANE.recognizes(json.dumps(prelude()[0]).encode())
    assert not LANE.recognizes(b'{"type": "thread.started", "thread_id": "x"}\n')


def test_capabilities_claim_approvals() -> None:
    assert "approvals" in LANE.capabilities and "plugins" not in LANE.capabilities


# ------------------------------------------------------------------------------ the catalog


def catalog(scenario: str) -> list[dict[str, Any]]:
    path = REPO / "cassettes" / scenario / LANE.native_file
    return normalize_to_dicts(LANE, path, recorded_context(path))


def test_approve_for_session_repeat_runs_unasked() -> None:
    events = catalog("user_approve_session")
    assert [r["decision"] for r in of_type(events, "approval.resolved")] == [
        "approved_for_session"]
    commands = [i for i in completed(events) if i["kind"] == "command_execution"]
    assert [(c["command"], c["status"]) for c in commands] == [(CMD, "completed")] * 2


@pytest.mark.parametrize(("scenario", "decision"), [
    ("user_approve", "approved"), ("user_approve_amendment", "approved_for_session"),
    ("user_deny", "denied"), ("user_cancel", "abort"), ("user_file_change_deny", "denied"),
    ("user_file_change_cancel", "abort")])
def test_catalog_user_decisions(scenario: str, decision: str) -> None:
    resolved = of_type(catalog(scenario), "approval.resolved")
    assert [(r["decision"], r["decided_by"]) for r in resolved] == [(decision, "user")]


def test_the_transcript_keeps_the_control_plane_exchanges() -> None:
    lines = [json.loads(line) for line in
             (REPO / "cassettes" / "hello" / LANE.native_file).read_text().splitlines()]
    sent = [line["msg"].get("method") for line in lines if line["dir"] == "out"]
    for method in ("skills/list", "mcpServerStatus/list", "config/read", "account/read"):
        assert method in sent
    answered = {line["msg"]["id"] for line in lines if line["dir"] == "in"
                and "method" not in line["msg"]}
    asked = {line["msg"]["id"] for line in lines if line["dir"] == "out" and "id" in
             line["msg"] and "method" in line["msg"]}
    assert asked == answered


# ------------------------------------------------------------------------------ the driver


@pytest.mark.parametrize(("client", "wire"), [
    ("approve", "accept"), ("approve_for_session", "acceptForSession"),
    ("deny", "decline"), ("cancel", "cancel"),
    ({"decision": "approve_with_amendment", "amendment": ["touch"]},
     {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}),
    ({"decision": "approve_with_amendment"},
     {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch", "made.txt"]}}),
])
def test_driver_decisions(client: Any, wire: Any) -> None:
    decision = ClientDecision.model_validate(client)
    assert codex_decision(decision, {"proposedExecpolicyAmendment": ["touch", "made.txt"]}) \
        == wire


def test_scenario_lists_client_decisions_in_step_order() -> None:
    scenario = load_scenario(REPO / "cassettes" / "user_approve_session" / "scenario.yaml")
    assert [d.decision for d in scenario.client_decisions(0)] == ["approve_for_session"]
    plain = load_scenario(REPO / "cassettes" / "shell_ok" / "scenario.yaml")
    assert plain.client_decisions(0) == []


def test_driver_templates_timings_hosts_and_paths(tmp_path: Path) -> None:
    scenario = Scenario.model_validate({"name": "s", "description": "d",
                                        "runs": [{"prompt": "p", "steps": [[{"text": "t"}]]}],
                                        "expect": {"turns": [{}]}})
    plan = RunPlan(scenario, 0, tmp_path / "workspace", tmp_path / "home", "http://127.0.0.1:5")
    text = (f'{{"emittedAtMs": 1764900000123, "startedAt": 17649, "processId": "4242", '
            f'"serverName": "box", "cwd": "{tmp_path}/workspace", '
            f'"userAgent": "a/0.169.0 (Debian 12.0.0; x86_64) dumb", '
            f'"path": "sessions/2026/12/04/rollout-2026-12-04T23-54-14-x.jsonl", '
            f'"version": "sha256:{"ab" * 32}"}}')
    assert json.loads(DRIVER.template(text, plan)) == {
        "emittedAtMs": 0, "startedAt": 0, "processId": "0", "serverName": "{host}",
        "cwd": "{workspace}", "userAgent": "a/0.169.0 ({os}) dumb",
        "path": "sessions/{date}/rollout-{datetime}-x.jsonl", "version": "sha256:{config}"}


def test_driver_shares_the_codex_install_and_its_versions() -> None:
    from harness.record.runtimes.install import install_dir, runtimes_root  # noqa: PLC0415
    from harness.record.runtimes.registry import get_driver  # noqa: PLC0415

    assert install_dir(DRIVER) == runtimes_root() / "codex"
    assert DRIVER.binary() == runtimes_root() / "codex" / "node_modules" / ".bin" / "codex"
    other = get_driver("codex-app-server", "0.169.0")
    assert other.binary() == runtimes_root() / "codex@0.169.0" / "node_modules" / ".bin" / "codex"
    assert get_driver("codex").binary() == DRIVER.binary()


# ------------------------------------------------------------------------------ outline approvals


def test_outline_approvals_fail_when_a_decision_changes() -> None:
    """A user decision no other lane witnesses is held by the outline (`outline.approvals`)."""
    from harness.conformance.outline import match_outline  # noqa: PLC0415

    scenario = load_scenario(REPO / "cassettes" / "user_deny" / "scenario.yaml")
    events = catalog("user_deny")
    assert match_outline(events, scenario.expect.turns) == []
    for event in events:
        if event["type"] == "approval.resolved":
            event["decision"] = "approved"
    assert any(p.startswith("outline.approvals: run 0") for p in
               match_outline(events, scenario.expect.turns))
    dropped = [e for e in catalog("user_deny") if e["type"] != "approval.resolved"]
    assert any(p.startswith("outline.approvals") for p in
               match_outline(dropped, scenario.expect.turns))


def test_outline_without_approvals_does_not_check_them() -> None:
    from harness.conformance.outline import match_outline  # noqa: PLC0415

    scenario = load_scenario(REPO / "cassettes" / "user_deny" / "scenario.yaml")
    unchecked = [t.model_copy(update={"approvals": None}) for t in scenario.expect.turns]
    events = [e for e in catalog("user_deny") if e["type"] != "approval.resolved"]
    assert not any(p.startswith("outline.approvals") for p in match_outline(events, unchecked))


def test_recordings_hold_no_temp_path_port_host_or_timing() -> None:
    """Templating made the transcripts machine-independent (re-recording gives no diff but
    real timing)."""
    for path in sorted((REPO / "cassettes").glob(f"*/{LANE.native_file}")):
        text = path.read_text(encoding="utf-8")
        assert "/tmp/" not in text and "harness-codex-app-server-" not in text, path
        assert re.search(r'"(emittedAtMs|startedAtMs|completedAt)": [1-9]', text) is None, path
        assert re.search(r"127\.0\.0\.1:\d", text) is None, path
        assert '"serverName": "{host}"' in text, path
