"""codex-adapter lane: Codex's Responses traffic, replayed through the openai SDK, normalized.

Hand-built sequences (one per mapping and quirk, docstrings naming the quirk) come from the builders
in `tests/codex_requests.py`, which grow requests the way Codex CLI 0.169 does (seen in real
recordings: the developer and `<environment_context>` messages, the prompt, each response's output
echoed back, then tool outputs; `client_metadata` with `thread_id` and `x-codex-turn-metadata`;
Codex's tool output texts). Real recordings (`cassettes/*/codex.http.yaml`) are checked against
their scenario outline. Regenerate the reviewable cassettes in tests/data/codex_adapter/ by running
this module.
"""

from __future__ import annotations

import io
import json
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import httpx2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import OpenAI
from openai.types.responses import ResponseStreamEvent

import lanes.codex_adapter as ca
from harness.contract.errors import FrameError, InputError
from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.contract.model import RETRYABLE, ErrorKind
from harness.record.cassette import read_http_cassette, render_http_cassette
from harness.record.stub import Exchange, StubReply, StubRequest, sse_event
from lanes.codex_adapter import LANE
from tests import lanekit
from tests.codex_requests import (
    CWD,
    client_metadata,
    developer,
    environment,
    exec_output,
    patch_output,
    raw_output,
    request_body,
    tool_search_output,
    user,
)
from tests.lanekit import assert_well_formed, completed, scaled, shape, split, write

# ==================================================================================== builders

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
CODEX_CLIENT = {"originator": "codex_exec", "user-agent": "codex_exec/0.169.0 (Linux; x86_64)"}
"""How Codex names itself in every request (the lane reads Codex's own texts only then)."""
SDK_CLIENT = {"user-agent": "OpenAI/Python 3.57.0"}
"""Any other client: the plain openai SDK."""
CLIENT_HEADERS = ("originator", "user-agent")


def frame(etype: str, **fields: Any) -> bytes:
    return sse_event(etype, json.dumps({"type": etype, **fields}, ensure_ascii=False).encode())


def usage(inp: int = 10, out: int = 5, cached: int = 2, reasoning: int = 1) -> dict[str, Any]:
    return {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens_details": {"reasoning_tokens": reasoning}}


def _response(rid: str, status: str, output: list[dict[str, Any]],
              use: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"id": rid, "object": "response", "created_at": 0, "model": "gpt-5.5",
            "status": status, "output": output, "tools": [], "tool_choice": "auto",
            "parallel_tool_calls": True, **extra}
    if use is not None:
        body["usage"] = use
    return body


# ------------------------------------------------------------------------------ output items


def message(text: str, mid: str = "msg_1") -> dict[str, Any]:
    return {"type": "message", "id": mid, "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def reasoning(summary: str | None, rid: str = "rs_1", encrypted: str | None = None
              ) -> dict[str, Any]:
    return {"type": "reasoning", "id": rid,
            "summary": [{"type": "summary_text", "text": summary}] if summary else [],
            "encrypted_content": encrypted}


def function_call(call_id: str, name: str, arguments: Any, fid: str | None = None,
                  namespace: str | None = None) -> dict[str, Any]:
    item = {"type": "function_call", "id": fid or f"fc_{call_id}", "call_id": call_id,
            "name": name, "arguments": json.dumps(arguments), "status": "completed"}
    if namespace:
        item["namespace"] = namespace
    return item


def exec_call(call_id: str, cmd: Any) -> dict[str, Any]:
    return function_call(call_id, "exec_command", {"cmd": cmd})


def patch_call(call_id: str, patch: str) -> dict[str, Any]:
    return {"type": "custom_tool_call", "id": f"ct_{call_id}", "call_id": call_id,
            "name": "apply_patch", "input": patch, "status": "completed"}


def tool_search_call(call_id: str, query: str) -> dict[str, Any]:
    return {"type": "tool_search_call", "id": f"ts_{call_id}", "call_id": call_id,
            "execution": "client", "status": "completed", "arguments": {"query": query}}


def web_search_call(query: str, wid: str = "ws_1") -> dict[str, Any]:
    return {"type": "web_search_call", "id": wid, "status": "completed",
            "action": {"type": "search", "query": query}}


# ------------------------------------------------------------------------------ SSE bodies


def stream(items: list[dict[str, Any]], *, rid: str = "resp_1", use: dict[str, Any] | None = None,
           terminal: str = "completed", deltas: bool = True,
           error: dict[str, Any] | None = None) -> list[bytes]:
    """A Responses SSE stream: created, per item added/deltas/done, then the terminal event."""
    frames = [frame("response.created", response=_response(rid, "in_progress", []),
                    sequence_number=0)]

    def add(etype: str, **fields: Any) -> None:
        frames.append(frame(etype, sequence_number=len(frames), **fields))

    for n, item in enumerate(items):
        skeleton = {**item, "status": "in_progress"}
        if item["type"] == "message":
            skeleton["content"] = []
        if item["type"] == "reasoning":
            skeleton["summary"] = []
        add("response.output_item.added", output_index=n, item=skeleton)
        if deltas and item["type"] == "message":
            text = item["content"][0]["text"]
            for piece in (text[: len(text) // 2], text[len(text) // 2:]):
                add("response.output_text.delta", item_id=item["id"], output_index=n,
                    content_index=0, delta=piece, logprobs=[])
        if deltas and item["type"] == "reasoning" and item["summary"]:
            add("response.reasoning_summary_text.delta", item_id=item["id"], output_index=n,
                summary_index=0, delta=item["summary"][0]["text"])
        add("response.output_item.done", output_index=n, item=item)
    if terminal == "completed":
        add("response.completed", response=_response(rid, "completed", items, use or usage()))
    elif terminal == "failed":
        add("response.failed", response=_response(rid, "failed", items, error=error))
    elif terminal == "incomplete":
        add("response.incomplete", response=_response(
            rid, "incomplete", items, incomplete_details={"reason": "max_output_tokens"}))
    elif terminal == "error":
        add("error", **(error or {"code": "server_error", "message": "boom"}))
    return frames


def exchange(body: dict[str, Any] | bytes, status: int = 200, frames: list[bytes] | None = None,
             path: str = "/v1/responses", reply: bytes | None = None, *,
             client: dict[str, str] | None = None) -> Exchange:
    """One request and its answer: SSE `frames`, else the JSON `reply` (default: an error
    body); sent by Codex unless `client` names other headers."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = SSE if frames is not None else JSON
    chunks = frames if frames is not None else [reply or b'{"error": {"message": "failed"}}']
    sent = {"content-type": "application/json", **(CODEX_CLIENT if client is None else client)}
    return Exchange(StubRequest("POST", path, "", sent, raw), StubReply(status, headers, chunks))


@dataclass
class Codex:
    """One Codex thread's requests, history growing like Codex's own (see module docstring)."""

    thread: str = "thr_1"
    history: str | None = "new"
    metadata: bool = True
    inputs: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    turn_meta: dict[str, Any] = field(default_factory=dict)

    def start(self, prompt: str, *, fresh_context: bool = True) -> Codex:
        if not self.inputs:
            self.inputs.append(developer("You are Codex."))
        if fresh_context:
            self.inputs += [developer("<permissions instructions>\nApproval policy is "
                                      "currently never.\n</permissions instructions>"),
                            environment()]
        self.inputs.append(user(prompt))
        return self

    def body(self) -> dict[str, Any]:
        meta = client_metadata(self.thread, history_initialization=self.history,
                               **self.turn_meta) if self.metadata else None
        return request_body(list(self.inputs), thread=self.thread, metadata=meta)

    def answer(self, items: list[dict[str, Any]], **stream_args: Any) -> Codex:
        self.exchanges.append(exchange(self.body(), frames=stream(items, **stream_args)))
        self.inputs += items
        return self

    def reply(self, frames: list[bytes]) -> Codex:
        self.exchanges.append(exchange(self.body(), frames=frames))
        return self

    def http_error(self, status: int) -> Codex:
        self.exchanges.append(exchange(self.body(), status=status))
        return self

    def outputs(self, *items: dict[str, Any]) -> Codex:
        self.inputs += items
        return self

    def side(self, ex: Exchange) -> Codex:
        self.exchanges.append(ex)
        return self


def review_exchange(parent: str, outcome: str = "allow") -> Exchange:
    """Codex's `--approve-for-me` review: the `guardian` sub-agent on its own thread."""
    meta = client_metadata(f"rev_{parent}", subagent_kind="guardian",
                           thread_source="guardian_review", parent_thread_id=parent)
    meta["x-openai-subagent"] = "guardian"
    body = request_body([developer("You are judging one planned coding-agent action."),
                         user(">>> TRANSCRIPT START\n[1] user: do it\n>>> TRANSCRIPT END\n")],
                        thread=f"guardian:{parent}", metadata=meta)
    verdict = json.dumps({"outcome": outcome, "risk_level": "low", "rationale": "ok"})
    return exchange(body, frames=stream([message(verdict, "msg_rev")], rid="resp_rev"))


# ==================================================================================== the tests

DATA = Path(__file__).parent / "data" / "codex_adapter"
REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"


def normalize_file(path: Path, *, lenient: bool = False,
                   context: RunContext | None = None) -> list[dict[str, Any]]:
    return lanekit.normalize_file(LANE, path, lenient=lenient, context=context)


def write_with_client(path: Path, exchanges: list[Exchange]) -> Path:
    """The cassette as rendered, plus the headers a client names itself by (the recorder keeps
    no such header; cassettes recorded elsewhere do)."""
    data = yaml.safe_load(render_http_cassette(exchanges))
    for entry, ex in zip(data["interactions"], exchanges, strict=True):
        for name in CLIENT_HEADERS:
            if name in ex.request.headers:
                entry["request"]["headers"][name] = [ex.request.headers[name]]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run(tmp_path: Path, exchanges: list[Exchange], **kw: Any) -> list[dict[str, Any]]:
    events = normalize_file(write_with_client(tmp_path / LANE.native_file, exchanges), **kw)
    assert_well_formed(events)
    return events


# ------------------------------------------------------------------------------ contract tables


def test_lane_is_registered_and_truthful() -> None:
    spec = get_lane("codex-adapter")
    assert spec is LANE
    assert spec.provider == "openai" and spec.input_kind == "http-cassette"
    assert spec.native_file == "codex.http.yaml"
    assert "approvals" not in spec.capabilities, (
        "Codex's traffic shows no approvals (only hosted MCP approvals do; no catalog cassette)")


def test_retryable_table_covers_every_error_kind() -> None:
    """The table all API lanes share (lanes.api_shell) names every error kind."""
    assert set(RETRYABLE) == set(get_args(ErrorKind))


def test_event_tables_name_real_sdk_events() -> None:
    """Every handled or ignored SSE type is one the SDK knows, and each handled type maps to the
    SDK class whose `type` literal it is (so an isinstance check really confirms the type)."""
    sdk = {get_args(cls.model_fields["type"].annotation)[0]: cls
           for cls in get_args(get_args(ResponseStreamEvent)[0])}
    assert set(ca.IGNORED_EVENTS) <= set(sdk)
    for etype, cls in ca.HANDLED_EVENTS.items():
        assert sdk[etype] is cls
    assert not set(ca.HANDLED_EVENTS) & ca.IGNORED_EVENTS


def _tool_call_for(name: str, call_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call of tool `name` and a successful output for it, in Codex's shapes."""
    if name == "tool_search":
        return tool_search_call(call_id, "mcp"), tool_search_output(call_id, ["mcp__srv"])
    if name == "apply_patch":
        return (patch_call(call_id, "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"),
                patch_output(call_id))
    if name == "update_plan":
        args = {"plan": [{"step": "look", "status": "completed"}]}
        return function_call(call_id, name, args), raw_output(call_id, "Plan updated")
    if ca.TOOL_KINDS[name] == "command_execution":
        return function_call(call_id, name, {"command": ["ls", "-a"]}), exec_output(call_id, 0)
    raise AssertionError(f"no sample call for {name}")


@pytest.mark.parametrize("name", sorted(ca.TOOL_KINDS))
def test_tool_table_every_key_maps_to_its_kind(tmp_path: Path, name: str) -> None:
    """TOOL_KINDS coverage: a call of each listed tool, finished by its output in the next
    request, completes as the item kind the table names."""
    call, output = _tool_call_for(name, "call_1")
    codex = Codex().start("go").answer([call]).outputs(output).answer([message("ok")])
    items = completed(run(tmp_path, codex.exchanges))
    assert [i["kind"] for i in items] == [ca.TOOL_KINDS[name], "assistant_message"]
    assert items[0]["status"] == "completed"


def test_tool_table_default_and_mcp_rules() -> None:
    assert ca.tool_kind("write_stdin") == "tool_call"
    assert ca.tool_kind("mcp__files__read") == "mcp_tool_call"
    assert ca.tool_kind("read", "mcp__files") == "mcp_tool_call"
    assert ca.mcp_names("mcp__files__read", None) == ("files", "read")
    assert ca.mcp_names("read", "mcp__files") == ("files", "read")
    assert ca.mcp_names("mcp__files__read", "mcp__files") == ("files", "read")


# ------------------------------------------------------------------------------ parsers


def test_exec_output_parsing_current_and_legacy_formats() -> None:
    """Codex 0.169 formats exec output as header lines + `Output:`; the old `shell` tool sent
    JSON with `metadata.exit_code`; a refusal has no exit code and is kept whole."""
    text = exec_output("c", 3, "err\nOutput: inside\n")["output"]
    assert ca.parse_exec_output(text) == (3, "err\nOutput: inside\n")
    legacy = json.dumps({"output": "hi\n", "metadata": {"exit_code": 0}})
    assert ca.parse_exec_output(legacy) == (0, "hi\n")
    assert ca.parse_exec_output("exec_command failed: sandbox") == (None,
                                                                    "exec_command failed: sandbox")
    assert ca.parse_exec_output("Exit code: 1\nWall time: 0 seconds\nOutput:\n") == (1, "")


def test_patch_parsing_all_change_kinds() -> None:
    patch = ("*** Begin Patch\n*** Add File: new.txt\n+x\n*** Update File: old.txt\n@@\n-a\n+b\n"
             "*** Delete File: gone.txt\n*** Update File: src.py\n*** Move to: dst.py\n@@\n"
             "*** End Patch\n")
    changes = [c.model_dump(exclude_none=True) for c in ca.parse_patch(patch)]
    assert changes == [{"path": "new.txt", "kind": "add"}, {"path": "old.txt", "kind": "update"},
                       {"path": "gone.txt", "kind": "delete"},
                       {"path": "src.py", "kind": "move", "move_path": "dst.py"}]


def test_command_from_string_or_argv() -> None:
    assert ca.parse_command({"cmd": "echo hi"}) == "echo hi"
    argv = ["bash", "-lc", "echo 'a b'"]
    assert shlex.split(ca.parse_command({"cmd": argv})) == argv
    assert ca.parse_command({"command": ["ls", "-a"]}) == "ls -a"


def test_http_status_table() -> None:
    """HTTP statuses go through the core's one table (`HTTP_STATUS_KINDS`)."""
    assert ca.http_error(401, "x").kind == "auth"
    assert ca.http_error(403, "x").kind == "auth"
    assert (ca.http_error(429, "x").kind, ca.http_error(429, "x").retryable) == ("rate_limit", True)
    assert (ca.http_error(503, "x").kind, ca.http_error(503, "x").retryable) == ("provider", True)
    assert (ca.http_error(400, "x").kind, ca.http_error(400, "x").retryable) == ("provider", True)
    assert (ca.http_error(404, "x").kind, ca.http_error(408, "x").kind) == ("provider", "network")
    assert (ca.http_error(418, "x").kind, ca.http_error(418, "x").retryable) == ("unknown", False)


# ------------------------------------------------------------------------------ mappings


def test_text_reasoning_and_web_search(tmp_path: Path) -> None:
    """output_text deltas -> assistant_message updates then the full text; reasoning summary
    -> reasoning; encrypted_content without summary -> reasoning `encrypted: true`;
    web_search_call -> web_search with the query from its action."""
    items = [reasoning("thinking ✓", "rs_1"), reasoning(None, "rs_2", encrypted="gAAA=="),
             web_search_call("weather in Zürich"), message("héllo wörld ✓")]
    events = run(tmp_path, Codex().start("hi").answer(items).exchanges)
    done = completed(events)
    assert [(i["kind"], i.get("text"), i.get("encrypted")) for i in done] == [
        ("reasoning", "thinking ✓", False), ("reasoning", "", True),
        ("web_search", None, None), ("assistant_message", "héllo wörld ✓", None)]
    assert done[2]["query"] == "weather in Zürich"
    deltas = [e["delta"]["text"] for e in events if e["type"] == "item.updated"
              and e["item"]["kind"] == "assistant_message"]
    assert "".join(deltas) == "héllo wörld ✓"
    session = events[0]
    assert (session["provider"], session["runtime"]["name"], session["model"]) == (
        "openai", "codex-adapter", "gpt-5.5")
    assert (session["cwd"], session["sandbox"], session["approval_policy"]) == (
        CWD, "workspace-write", "never")


def test_context_fields_come_from_run_context_first(tmp_path: Path) -> None:
    ctx = RunContext(cwd="{workspace}", sandbox="read-only", approval_policy="on-request",
                     auth_mode="api_key", runtime_version="0.169.0")
    path = write(tmp_path / "c.yaml", Codex().start("hi").answer([message("x")]).exchanges)
    session = normalize_file(path, context=ctx)[0]
    assert (session["cwd"], session["sandbox"], session["approval_policy"],
            session["auth_mode"], session["runtime"]["version"]) == (
        "{workspace}", "read-only", "on-request", "api_key", "0.169.0")


def test_tool_execution_rebuilt_across_two_requests(tmp_path: Path) -> None:
    """A call streams in one response (item.started, in_progress); its output arrives in the
    NEXT request with the same call_id (item.completed with exit code and output)."""
    codex = (Codex().start("run")
             .answer([exec_call("call_1", "echo hi; exit 3")])
             .outputs(exec_output("call_1", 3, "hi\n"))
             .answer([patch_call("call_2", "*** Begin Patch\n*** Update File: a.txt\n@@\n-a\n+b"
                                           "\n*** End Patch\n")])
             .outputs(patch_output("call_2"))
             .answer([message("done")]))
    events = run(tmp_path, codex.exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:failed",
                             "file_change:completed", "assistant_message:completed",
                             "turn.completed"]
    started = next(e for e in events if e["type"] == "item.started")
    assert started["item"]["status"] == "in_progress" and started["item"]["exit_code"] is None
    cmd, patch = completed(events)[:2]
    assert (cmd["command"], cmd["exit_code"], cmd["output"]) == ("echo hi; exit 3", 3, "hi\n")
    assert patch["changes"] == [{"path": "a.txt", "kind": "update", "move_path": None}]
    turn_done = events[-1]
    assert turn_done["usage"] == {"scope": "turn", "input_tokens": 30, "cached_input_tokens": 6,
                                  "cache_write_input_tokens": None,
                                  "output_tokens": 15, "reasoning_tokens": 3}


def test_plan_mcp_tool_search_and_other_tools(tmp_path: Path) -> None:
    """update_plan -> plan entries; `mcp__srv__tool` names and `mcp__srv` namespaces ->
    mcp_tool_call; tool_search -> tool_call (a noise tool); anything else -> tool_call."""
    plan = {"explanation": "steps", "plan": [{"step": "read", "status": "completed"},
                                             {"step": "write", "status": "in_progress"}]}
    codex = (Codex().start("go")
             .answer([function_call("c1", "update_plan", plan),
                      tool_search_call("c2", "files"),
                      function_call("c3", "mcp__files__read", {"path": "a"}),
                      function_call("c4", "stat", {"path": "b"}, namespace="mcp__files"),
                      function_call("c5", "write_stdin", {"session_id": 1, "chars": ""})])
             .outputs(raw_output("c1", "Plan updated"), tool_search_output("c2", ["mcp__files"]),
                      raw_output("c3", [{"type": "input_text", "text": "content"}]),
                      raw_output("c4", json.dumps({"isError": True, "content": []})),
                      raw_output("c5", "no session"))
             .answer([message("ok")]))
    items = completed(run(tmp_path, codex.exchanges))
    assert [(i["kind"], i["status"]) for i in items] == [
        ("plan", "completed"), ("tool_call", "completed"), ("mcp_tool_call", "completed"),
        ("mcp_tool_call", "failed"), ("tool_call", "completed"), ("assistant_message", "completed")]
    assert [e["text"] for e in items[0]["entries"]] == ["read", "write"]
    assert items[0]["text"] == "steps"
    assert items[1]["name"] == "tool_search" and "tool_search" in LANE.noise_tools
    assert (items[2]["server"], items[2]["tool"], items[2]["result"]) == (
        "files", "read", [{"type": "input_text", "text": "content"}])
    assert (items[3]["server"], items[3]["tool"]) == ("files", "stat")
    assert items[4]["name"] == "write_stdin"


def test_call_without_output_fails_at_turn_end(tmp_path: Path) -> None:
    """The recording stops after a response with a call: the output never arrives, so the call
    stays in_progress and the builder fails it when the (truncated) turn closes."""
    events = run(tmp_path, Codex().start("go").answer([exec_call("c1", "sleep 9")]).exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:failed",
                             "turn.failed:stream_truncated"]


# ------------------------------------------------------------------------------ turns and runs


def test_turn_boundaries_within_one_run(tmp_path: Path) -> None:
    """Tool outputs continue a turn; a new user prompt starts the next one. Same process
    (history_initialization stays `new`, no fresh environment context): one session."""
    codex = (Codex().start("one").answer([exec_call("c1", "ls")])
             .outputs(exec_output("c1", 0)).answer([message("a")])
             .start("two", fresh_context=False).answer([message("b")]))
    events = run(tmp_path, codex.exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:completed",
                             "assistant_message:completed", "turn.completed", "turn.started",
                             "assistant_message:completed", "turn.completed"]
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]


def test_resume_starts_a_new_run(tmp_path: Path) -> None:
    """`codex exec resume`: the request carries the first run's turn; Codex says
    history_initialization `cold_resume` and re-sends its context -> new session.started with
    resumed_from = the thread (prompt_cache_key / client_metadata.thread_id)."""
    codex = Codex(thread="thr_9").start("one").answer([message("a")])
    codex.history = "cold_resume"
    codex.start("two").answer([message("b")], rid="resp_2")
    events = run(tmp_path, codex.exchanges)
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [("thr_9", None),
                                                                       ("thr_9", "thr_9")]
    assert shape(events).count("turn.completed") == 2


def _exec_resumes(*turn_ids: str) -> Codex:
    """Runs as Codex 0.169 sends them (cassettes/resume_twice): `turn_trigger: exec`, one turn id
    per process, `cold_resume` on every resume and no context re-sent; run 1 runs a command."""
    codex = Codex(thread="thr_e", turn_meta={"turn_trigger": "exec", "turn_id": turn_ids[0]})
    codex.start("one").answer([message("a")])
    for n, turn_id in enumerate(turn_ids[1:], start=1):
        codex.history, codex.turn_meta["turn_id"] = "cold_resume", turn_id
        codex.start(f"prompt {n}", fresh_context=False)
        if n == 1:
            codex.answer([exec_call("c1", "ls")]).outputs(exec_output("c1", 0))
        codex.answer([message(f"answer {n}")], rid=f"resp_{n}")
    return codex


def test_every_exec_turn_is_its_own_run(tmp_path: Path) -> None:
    """Quirk (found by recording resume_twice): a second `codex exec resume` says
    `cold_resume` again and re-sends no context, so neither older marker sees it. Each exec
    process runs one user turn: a prompt with a new `turn_id` under `turn_trigger: exec` is a new
    run; the tool output request of the same turn id continues its run."""
    events = run(tmp_path, _exec_resumes("turn_0", "turn_1", "turn_2").exchanges)
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [
        ("thr_e", None), ("thr_e", "thr_e"), ("thr_e", "thr_e")]
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "turn.completed", "session.started", "turn.started",
                             "command_execution:completed", "assistant_message:completed",
                             "turn.completed", "session.started", "turn.started",
                             "assistant_message:completed", "turn.completed"]


def test_exec_prompt_with_the_same_turn_id_stays_in_its_run(tmp_path: Path) -> None:
    """The exec marker is a *new* turn id: a prompt-ending request that repeats the current
    exec turn's id (same process) is a new turn of the same run, not a run."""
    same = Codex(thread="thr_s", turn_meta={"turn_trigger": "exec", "turn_id": "turn_0"})
    same.start("one").answer([message("a")]).start("two", fresh_context=False)
    events = run(tmp_path, same.answer([message("b")]).exchanges)
    assert shape(events).count("session.started") == 1
    assert shape(events).count("turn.completed") == 2


def test_other_turn_triggers_keep_the_older_markers(tmp_path: Path) -> None:
    """A client that runs several turns per process (any `turn_trigger` but `exec`) gets no
    new run from a new turn id alone: same history_initialization, no fresh context -> one
    session, two turns."""
    codex = Codex(thread="thr_t", turn_meta={"turn_trigger": "user", "turn_id": "turn_0"})
    codex.start("one").answer([message("a")])
    codex.turn_meta["turn_id"] = "turn_1"
    codex.start("two", fresh_context=False).answer([message("b")])
    events = run(tmp_path, codex.exchanges)
    assert shape(events).count("session.started") == 1
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]


def test_exec_turns_without_a_turn_id_keep_the_older_markers(tmp_path: Path) -> None:
    """The exec marker needs a turn id to compare: without one a re-sent prompt (a retry)
    could not be told from a new process, so the lane falls back to the older markers (same
    history_initialization, no fresh context -> one session, two turns)."""
    codex = Codex(thread="thr_n", turn_meta={"turn_trigger": "exec"})
    codex.start("one").answer([message("a")])
    codex.start("two", fresh_context=False).answer([message("b")])
    events = run(tmp_path, codex.exchanges)
    assert shape(events).count("session.started") == 1
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]


def test_recorded_resumes_carry_only_the_exec_marker() -> None:
    """The facts behind the exec-turn rule, from the real recording of resume_twice: both
    resumed runs say `cold_resume` and re-send no `<environment_context>`, while each run's
    prompt request has `turn_trigger: exec` and its own turn id."""
    path = CASSETTES / "resume_twice" / "codex.http.yaml"
    prompts = [b for b in (json.loads(i.request.body) for i in read_http_cassette(path))
               if ca._is_message(ca._inputs(b)[-1], "user")]
    metas = [ca._turn_meta(b) for b in prompts]
    assert [m["history_initialization"] for m in metas] == ["new", "cold_resume", "cold_resume"]
    assert {m["turn_trigger"] for m in metas} == {"exec"}
    assert len({m["turn_id"] for m in metas}) == 3
    contexts = [sum(ca._message_text(i).startswith("<environment_context>")
                    for i in ca._inputs(b)) for b in prompts]
    assert contexts == [1, 1, 1]
    sessions = [e for e in normalize_file(path) if e["type"] == "session.started"]
    assert len(sessions) == 3 and sessions[2]["resumed_from"] == sessions[0]["thread_id"]


def test_resume_detected_without_turn_metadata(tmp_path: Path) -> None:
    """No client_metadata at all: the fresh `<environment_context>` before the new prompt is
    what marks a new process; the thread comes from prompt_cache_key."""
    codex = Codex(thread="thr_x", metadata=False).start("one").answer([message("a")])
    codex.start("two").answer([message("b")])
    sessions = [e for e in run(tmp_path, codex.exchanges) if e["type"] == "session.started"]
    assert [s["resumed_from"] for s in sessions] == [None, "thr_x"]


def test_resumed_run_alone_names_its_thread(tmp_path: Path) -> None:
    """A cassette holding only the resumed run: its history already has a turn, so the single
    session is resumed from its own thread."""
    first = Codex(thread="thr_r").start("one").answer([message("a")])
    first.exchanges.clear()
    first.history = "cold_resume"
    first.start("two").answer([message("b")])
    [session] = [e for e in run(tmp_path, first.exchanges) if e["type"] == "session.started"]
    assert session["resumed_from"] == "thr_r"


def test_run_after_runs_that_failed_at_once_is_resumed(tmp_path: Path) -> None:
    """Quirk (silent resume, found by the failure-step round trip): runs that all fail at their
    first call (HTTP 429) leave only prompts in the history, no model output, yet the next
    `codex exec resume` (`cold_resume`) of the same thread is resumed from it."""
    codex = Codex(thread="thr_f").start("one").http_error(429)
    codex.history = "cold_resume"
    codex.start("two").http_error(429)
    events = run(tmp_path, codex.exchanges)
    assert shape(events) == ["session.started", "turn.started", "turn.failed:rate_limit"] * 2
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [("thr_f", None),
                                                                       ("thr_f", "thr_f")]


def test_other_thread_is_a_new_unresumed_run(tmp_path: Path) -> None:
    a = Codex(thread="thr_a").start("one").answer([message("a")])
    b = Codex(thread="thr_b").start("two").answer([message("b")])
    sessions = [e for e in run(tmp_path, a.exchanges + b.exchanges)
                if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [("thr_a", None),
                                                                       ("thr_b", None)]


# ------------------------------------------------------------------------------ side calls


def test_auto_review_is_a_side_call_inside_the_turn(tmp_path: Path) -> None:
    """`--approve-for-me`: Codex asks the `guardian` sub-agent (own thread, parent thread in its
    metadata) before running an escalated command. It never forms a turn or a run: it becomes
    one completed tool_call `side_call.auto_review` naming the reviewed item, with the verdict."""
    codex = Codex().start("go").answer([exec_call("c1", "touch /x")])
    codex.side(review_exchange("thr_1", "allow"))
    codex.outputs(exec_output("c1", 0)).answer([message("ok")])
    events = run(tmp_path, codex.exchanges)
    assert shape(events) == ["session.started", "turn.started", "tool_call:completed",
                             "command_execution:completed", "assistant_message:completed",
                             "turn.completed"]
    review = completed(events)[0]
    assert review["name"] == "side_call.auto_review" and "side_call.auto_review" in LANE.noise_tools
    assert review["result"]["outcome"] == "allow"
    assert review["arguments"]["reviewed_item"] == completed(events)[1]["id"]
    assert events[-1]["usage"]["input_tokens"] == 20, "side calls are not turn usage"


def test_denied_review_makes_the_command_declined(tmp_path: Path) -> None:
    """A refused review: Codex sends the model `exec_command failed: ... Rejected(...)`, no exit
    code -> status `declined` (Codex's own JSON says `declined` too)."""
    refusal = ('exec_command failed: CreateProcess { message: "Rejected(\\"This action was '
               'rejected due to unacceptable risk.\\")" }')
    codex = Codex().start("go").answer([exec_call("c1", "rm -rf /")])
    codex.side(review_exchange("thr_1", "deny"))
    codex.outputs(raw_output("c1", refusal)).answer([message("ok")])
    cmd = completed(run(tmp_path, codex.exchanges))[1]
    assert (cmd["kind"], cmd["status"], cmd["exit_code"]) == ("command_execution", "declined",
                                                              None)


def test_a_refused_patch_is_a_declined_file_change(tmp_path: Path) -> None:
    """A patch the user or a review refused never ran: `declined`, like a refused command,
    not `failed` (a patch that ran and did not apply); the refusal is its error."""
    patch = "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n"
    codex = Codex().start("go").answer([patch_call("p1", patch)])
    codex.outputs(raw_output("p1", "patch rejected by user")).answer([message("ok")])
    change = completed(run(tmp_path, codex.exchanges))[0]
    assert (change["kind"], change["status"], change["error"]) == (
        "file_change", "declined", "patch rejected by user")


def test_review_recognised_from_content_without_metadata(tmp_path: Path) -> None:
    body = request_body([developer("You are judging one planned coding-agent action."),
                         user("transcript")], thread="guardian:thr_1", metadata=None)
    codex = Codex().start("go").answer([exec_call("c1", "ls")])
    codex.side(exchange(body, frames=stream([message('{"outcome": "allow"}')])))
    codex.outputs(exec_output("c1", 0)).answer([message("ok")])
    assert completed(run(tmp_path, codex.exchanges))[0]["name"] == "side_call.auto_review"


def test_unrecognised_side_call_is_an_unknown_item(tmp_path: Path) -> None:
    """A request Codex marks as not-a-turn with a request_kind we do not know is kept whole as
    an `unknown` item; a compaction on its own path is `side_call.compaction`."""
    odd = request_body([user("x")], metadata=client_metadata("thr_1", request_kind="memories"))
    compact = exchange(request_body([user("summarize")]), path="/v1/responses/compact",
                       reply=b'{"output": []}')
    codex = Codex().start("go").answer([exec_call("c1", "ls")])
    codex.side(exchange(odd, frames=stream([message("m")]))).side(compact)
    codex.outputs(exec_output("c1", 0)).answer([message("ok")])
    items = completed(run(tmp_path, codex.exchanges))
    assert [(i["kind"], i.get("name") or i.get("native_type")) for i in items[:2]] == [
        ("unknown", "side_call"), ("tool_call", "side_call.compaction")]
    assert json.loads(items[0]["payload"]["client_metadata"]["x-codex-turn-metadata"])[
        "request_kind"] == "memories"


# ------------------------------------------------------------------------------ failures


@pytest.mark.parametrize(("status", "kind", "retryable"), [
    (500, "provider", True), (401, "auth", False), (429, "rate_limit", True),
    (400, "provider", True), (404, "provider", True), (408, "network", True)])
def test_http_error_status_fails_the_turn(tmp_path: Path, status: int, kind: str,
                                          retryable: bool) -> None:
    """The SDK raises APIStatusError; the lane maps status_code through the core's one table
    (`harness.contract.model.HTTP_STATUS_KINDS`)."""
    events = run(tmp_path, Codex().start("go").http_error(status).exchanges)
    assert shape(events) == ["session.started", "turn.started", f"turn.failed:{kind}"]
    assert events[-1]["error"]["retryable"] is retryable
    assert str(status) in events[-1]["error"]["message"]


def test_response_failed_and_error_event_and_incomplete(tmp_path: Path) -> None:
    """response.failed (error.code through STREAM_ERROR_KINDS), a bare `error` event, and
    response.incomplete each fail the turn; a message cut mid-stream ends `failed`."""
    part = message("partial")
    failed = Codex(thread="t1").start("a").answer(
        [part], terminal="failed", error={"code": "rate_limit_exceeded", "message": "slow"})
    errored = Codex(thread="t2").start("b").answer([], terminal="error")
    incomplete = Codex(thread="t3").start("c").answer([], terminal="incomplete")
    events = run(tmp_path, failed.exchanges + errored.exchanges + incomplete.exchanges)
    fails = [e["error"] for e in events if e["type"] == "turn.failed"]
    assert [(f["kind"], f["message"]) for f in fails] == [
        ("rate_limit", "slow"), ("provider", "boom"),
        ("provider", "response incomplete: max_output_tokens")]
    assert completed(events)[0]["kind"] == "assistant_message"


def test_a_stream_error_of_an_unknown_code_is_the_providers() -> None:
    """A `response.failed` the API sent with a code this lane does not know (or none) is still
    the provider failing the call (`provider`, retryable), not `unknown`."""
    for code in ("brand_new_code", None):
        error = ca.stream_error(code, "x")
        assert (error.kind, error.retryable) == ("provider", True)


def test_stream_cut_then_retry_continues_the_turn(tmp_path: Path) -> None:
    """A stream that ends before response.completed and is re-sent unchanged (Codex retries):
    items cut off end failed, the turn goes on with the retried answer."""
    codex = Codex().start("go")
    cut = stream([message("half")])[:-2]  # after the deltas, before output_item.done
    codex.reply(cut).answer([message("whole")])
    events = run(tmp_path, codex.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:failed",
                             "assistant_message:completed", "turn.completed"]


def test_stream_cut_without_retry_truncates_the_turn(tmp_path: Path) -> None:
    events = run(tmp_path, Codex().start("go").reply(stream([message("half")])[:-1]).exchanges)
    assert shape(events)[-1] == "turn.failed:stream_truncated"


# ------------------------------------------------------------------------------ unknowns/errors


def test_unknown_event_and_output_item_are_kept(tmp_path: Path) -> None:
    """Quirk: the SDK builds unknown events leniently as *some* known class (an unknown event
    arrives as a ResponseAudioDeltaEvent with the foreign `type`). The lane dispatches on the
    `type` string, so both end up as `unknown` items with the whole payload."""
    frames = stream([message("hi")])
    odd_event = frame("response.brand_new", sequence_number=90, detail={"x": 1})
    odd_item = {"type": "hologram_call", "id": "hg_1", "beam": "on"}
    odd_frames = [frame("response.output_item.added", output_index=1, item=odd_item,
                        sequence_number=91),
                  frame("response.output_item.done", output_index=1, item=odd_item,
                        sequence_number=92)]
    events = run(tmp_path, Codex().start("go").reply(
        [*frames[:1], odd_event, *odd_frames, *frames[1:]]).exchanges)
    unknown = [i for i in completed(events) if i["kind"] == "unknown"]
    assert [(u["native_type"], u["payload"]) for u in unknown] == [
        ("response.brand_new", {"type": "response.brand_new", "sequence_number": 90,
                                "detail": {"x": 1}}),
        ("hologram_call", odd_item)]


def test_request_body_not_json(tmp_path: Path) -> None:
    """Strict: a FrameError naming the file and the interaction index (as `line`). Lenient: an
    `error` item, and later interactions still replay in their recorded order."""
    good = Codex().start("go").answer([message("ok")]).exchanges
    path = write(tmp_path / "c.yaml", [exchange(b"not json", frames=stream([])), *good])
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert info.value.source == str(path) and info.value.reason.startswith("interaction 0:")
    assert "interaction 0" in str(info.value)
    events = normalize_file(path, lenient=True)
    assert shape(events) == ["error:completed", "unknown:completed", "session.started",
                             "turn.started",
                             "assistant_message:completed", "turn.completed"]


DEEP = b"[" * 3000 + b"]" * 3000
"""SSE data nested deeper than Python's JSON reader goes (RecursionError, not ValueError)."""


@pytest.mark.parametrize("data", [b"{oops", DEEP], ids=["not_json", "nested_3000_deep"])
def test_sse_data_the_sdk_cannot_parse(tmp_path: Path, data: bytes) -> None:
    """Data that is not JSON, or too deep to read, is a malformed frame of its interaction."""
    frames = [*stream([message("ok")])[:2],
              b"event: response.output_text.delta\ndata: " + data + b"\n\n"]
    path = write(tmp_path / "c.yaml", Codex().start("go").reply(frames).exchanges)
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert info.value.reason.startswith("interaction 0:") and "SSE" in info.value.reason
    lenient = normalize_file(path, lenient=True)
    assert_well_formed(lenient)
    assert "error:completed" in shape(lenient)
    assert shape(lenient)[-1] == "turn.failed:stream_truncated"


def test_malformed_cassette_strict_and_lenient(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n")
    with pytest.raises(InputError) as info:
        normalize_file(bad)
    assert str(bad) in str(info.value)
    assert shape(normalize_file(bad, lenient=True)) == ["error:completed"]


def test_stream_only_input_is_copied_for_replay(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", Codex().start("go").answer([message("ok")]).exchanges)
    events = list(LANE.normalize(LaneInput(stream=io.BytesIO(path.read_bytes()), name="mem"),
                                 RunContext()))
    assert [e.type for e in events][-1] == "turn.completed"


def test_sdk_resends_the_recorded_body_unchanged() -> None:
    """Codex's keys the SDK has no parameter for (`client_metadata`) go as extra_body, so the
    request the SDK sends is the recorded one, byte-for-meaning."""
    body = Codex().start("go").body()
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(200, headers=SSE, content=b"".join(stream([message("x")])))

    client = OpenAI(base_url="http://replay.invalid/v1", api_key="replay", max_retries=0,
                    http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    list(client.responses.create(**ca._create_kwargs(body, streamed=True)))
    assert json.loads(sent[0]) == body


# ------------------------------------------------------------------------------ re-chunking


def _chunked_client(chunks_for: list[list[bytes]]) -> ca.ClientFor:
    """An SDK client whose n-th request is answered by the n-th chunk list, streamed."""
    answers = iter(chunks_for)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=SSE, content=iter(next(answers)))

    def client_for(_: Any) -> OpenAI:
        return OpenAI(base_url="http://replay.invalid/v1", api_key="replay", max_retries=0,
                      http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))

    return client_for


_RECHUNK = (Codex().start("go")
            .answer([reasoning("denke über Größe nach ✓"), exec_call("c1", "echo ünï")])
            .outputs(exec_output("c1", 0, "ünï\n"))
            .answer([message("fertig: 日本語 ✓ — ok")]))
_RECHUNK_PATH = Path(tempfile.mkdtemp(prefix="codex-adapter-rechunk-")) / "c.yaml"
write(_RECHUNK_PATH, _RECHUNK.exchanges)
_RECHUNK_INTERACTIONS = read_http_cassette(_RECHUNK_PATH)


def _normalize_chunks(chunks_for: list[list[bytes]]) -> list[dict[str, Any]]:
    events = ca.normalize_interactions(_RECHUNK_INTERACTIONS, RunContext(), source="mem",
                                       client_for=_chunked_client(chunks_for))
    return [e.model_dump(mode="json") for e in events]


@settings(max_examples=scaled(60), deadline=None)
@given(cuts=st.lists(st.lists(st.integers(min_value=0, max_value=10**6), max_size=40),
                     min_size=2, max_size=2))
def test_rechunked_sse_gives_the_identical_log(cuts: list[list[int]]) -> None:
    """The same SSE bodies split at arbitrary byte boundaries (including inside multi-byte
    UTF-8 characters and inside `event:`/`data:` lines) normalize to the identical log.
    vcrpy always delivers one chunk, so this feeds the SDK through an httpx2.MockTransport."""
    bodies = [i.response.body for i in _RECHUNK_INTERACTIONS]
    whole = _normalize_chunks([[b] for b in bodies])
    assert shape(whole)[-1] == "turn.completed"
    assert any(ord(ch) > 0x7FF for ch in json.dumps(whole, ensure_ascii=False))
    assert _normalize_chunks([split(b, c) for b, c in zip(bodies, cuts, strict=True)]) == whole


def test_vcr_replay_equals_mock_transport_replay() -> None:
    """The vcrpy path (one chunk) and the MockTransport path read the same cassette alike."""
    via_vcr = normalize_file(_RECHUNK_PATH)
    bodies = [[i.response.body] for i in _RECHUNK_INTERACTIONS]
    assert via_vcr == _normalize_chunks(bodies)


# ------------------------------------------------------------------------------ checked-in data


def _reference_cassettes() -> dict[str, list[Exchange]]:
    """The reviewable cassettes under tests/data/codex_adapter/ (regenerate: run this module)."""
    tools = (Codex().start("run it")
             .answer([reasoning("plan the work"), exec_call("call_1", "echo hi; exit 3")])
             .outputs(exec_output("call_1", 3, "hi\n"))
             .answer([patch_call("call_2", "*** Begin Patch\n*** Add File: a.txt\n+hi\n"
                                           "*** End Patch\n")])
             .outputs(patch_output("call_2"))
             .answer([message("done ✓")]))
    resume = Codex(thread="thr_resume").start("first").answer([message("one")])
    resume.history = "cold_resume"
    resume.start("second").answer([message("two")], rid="resp_2")
    review = Codex().start("go").answer([exec_call("c1", "touch /outside")])
    review.side(review_exchange("thr_1", "deny"))
    review.outputs(raw_output("c1", 'exec_command failed: Rejected("unacceptable risk")'))
    review.answer([message("I was not allowed.")])
    failure = Codex().start("go").http_error(500)
    return {"tool_rebuild": tools.exchanges, "resume": resume.exchanges,
            "auto_review_denied": review.exchanges, "http_500": failure.exchanges}


REFERENCE_SHAPES = {
    "tool_rebuild": ["session.started", "turn.started", "reasoning:completed",
                     "command_execution:failed", "file_change:completed",
                     "assistant_message:completed", "turn.completed"],
    "resume": ["session.started", "turn.started", "assistant_message:completed",
               "turn.completed", "session.started", "turn.started",
               "assistant_message:completed", "turn.completed"],
    "auto_review_denied": ["session.started", "turn.started", "tool_call:completed",
                           "command_execution:declined", "assistant_message:completed",
                           "turn.completed"],
    "http_500": ["session.started", "turn.started", "turn.failed:provider"],
}


@pytest.mark.parametrize("name", sorted(REFERENCE_SHAPES))
def test_checked_in_reference_cassettes(name: str) -> None:
    """Each checked-in cassette is what the builders render (no drift) and normalizes to its
    documented shape."""
    path = DATA / f"{name}.http.yaml"
    assert path.read_text(encoding="utf-8") == render_http_cassette(_reference_cassettes()[name])
    events = normalize_file(path)
    assert_well_formed(events)
    assert shape(events) == REFERENCE_SHAPES[name]


# ------------------------------------------------------------------------------ real recordings


def test_real_recordings_normalize_and_match_their_outlines() -> None:
    """Every recorded Codex cassette normalizes strictly, is well formed, and matches the
    scenario's outline for this lane (expect.lanes['codex-adapter'] or expect.turns; the lane's
    plumbing tools left out). With no recordings yet this checks nothing."""
    problems = lanekit.recording_problems(LANE)
    assert problems == {}, json.dumps(problems, indent=2)


# ------------------------------------------------------------------------------ any client


def sdk_body(inputs: list[dict[str, Any]] | str, **extra: Any) -> dict[str, Any]:
    """A request as the plain openai SDK sends it (no Codex metadata)."""
    return {"model": "gpt-5-mini", "input": inputs, **extra}


def whole(items: list[dict[str, Any]], *, status: str = "completed", rid: str = "resp_1",
          use: dict[str, Any] | None = None, **extra: Any) -> bytes:
    """A non-streamed answer: one JSON `response` object."""
    return json.dumps(_response(rid, status, items, use or usage(), **extra)).encode()


def sdk_exchange(body: dict[str, Any], items: list[dict[str, Any]], *, streamed: bool = False,
                 client: dict[str, str] | None = None, **answer: Any) -> Exchange:
    """`body` answered by `items`, as SSE when `streamed` else as one JSON object."""
    who = SDK_CLIENT if client is None else client
    if streamed:
        return exchange({**body, "stream": True}, frames=stream(items, **answer), client=who)
    return exchange(body, reply=whole(items, **answer), client=who)


def items_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return completed(events)


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "sse"])
def test_an_answer_is_read_whole_streamed_or_not(tmp_path: Path, streamed: bool) -> None:
    """A non-streamed answer (one JSON `response` object) used to end as a truncated turn with
    its answer lost; it is read like a stream: text, reasoning, usage, stop reason."""
    items = [reasoning("think", encrypted="gAAA-enc"), reasoning(None, "rs_2", "gAAA-only"),
             message("hello there")]
    events = run(tmp_path, [sdk_exchange(sdk_body("hi"), items, streamed=streamed,
                                         use=usage(30, 12, cached=4, reasoning=7))])
    assert shape(events) == ["session.started", "turn.started", "reasoning:completed",
                             "reasoning:completed", "assistant_message:completed",
                             "turn.completed"]
    think, opaque, answer = items_of(events)
    assert (think["text"], think["encrypted"]) == ("think", False)
    assert (opaque["text"], opaque["encrypted"]) == ("", True)
    assert answer["text"] == "hello there"
    end = events[-1]
    assert end["usage"] == {"scope": "turn", "input_tokens": 30, "cached_input_tokens": 4,
                            "cache_write_input_tokens": None, "output_tokens": 12,
                            "reasoning_tokens": 7}
    assert end["stop_reason"] == "completed"


def test_answer_form_comes_from_the_content_type_then_the_stream_flag() -> None:
    def interaction(ctype: str | None) -> Any:
        headers = {"content-type": ctype} if ctype else {}
        return type("I", (), {"response": type("R", (), {"headers": headers})()})()

    assert ca.answer_is_streamed(interaction("text/event-stream; charset=utf-8"), {}) is True
    assert ca.answer_is_streamed(interaction("application/json"), {"stream": True}) is False
    assert ca.answer_is_streamed(interaction(None), {"stream": True}) is True
    assert ca.answer_is_streamed(interaction(None), {"stream": "yes"}) is False


def test_function_round_trip_without_streaming(tmp_path: Path) -> None:
    """Any client's function tool: the call in one JSON answer, its output in the next
    request; the result is the output as sent (parsed when JSON)."""
    call = function_call("call_w", "get_weather", {"city": "Paris"})
    prompt = {"role": "user", "content": "weather?"}
    output = {"type": "function_call_output", "call_id": "call_w",
              "output": '{"temperature_c": 18}'}
    events = run(tmp_path, [sdk_exchange(sdk_body([prompt], tools=[{"type": "function"}]),
                                         [call]),
                            sdk_exchange(sdk_body([prompt, call, output]), [message("18 C")])])
    tool, answer = items_of(events)
    assert (tool["kind"], tool["name"], tool["arguments"], tool["result"], tool["status"]) == (
        "tool_call", "get_weather", {"city": "Paris"}, {"temperature_c": 18}, "completed")
    assert answer["text"] == "18 C"
    assert shape(events).count("turn.completed") == 1
    assert events[-1]["usage"]["input_tokens"] == 20


def test_a_function_output_marked_unsuccessful_is_a_failed_tool_call(tmp_path: Path) -> None:
    """`success: false` on a function_call_output is the client saying the tool failed, even
    when its output text is no error object: the call is `failed`, its text the error."""
    call = function_call("call_w", "get_weather", {"city": "Atlantis"})
    prompt = {"role": "user", "content": "weather?"}
    output = {"type": "function_call_output", "call_id": "call_w", "output": "no such city",
              "success": False}
    events = run(tmp_path, [sdk_exchange(sdk_body([prompt], tools=[{"type": "function"}]),
                                         [call]),
                            sdk_exchange(sdk_body([prompt, call, output]), [message("?")])])
    tool, _ = items_of(events)
    assert (tool["kind"], tool["status"], tool["error"]) == ("tool_call", "failed",
                                                             "no such city")


def test_codex_tool_names_are_read_only_for_codex(tmp_path: Path) -> None:
    """`exec_command`, `apply_patch`, `mcp__x__y` and Codex's output texts are Codex's: from
    any other client they are plain tool calls whose output is kept as sent."""
    calls = [exec_call("c1", "ls"), patch_call("c2", "*** Add File: a\n"),
             function_call("c3", "mcp__srv__tool", {})]
    outputs = [exec_output("c1", 0, "a\n"), patch_output("c2"), raw_output("c3", "ok")]
    prompt = user("go")
    kinds = {}
    for who, client in (("sdk", SDK_CLIENT), ("codex", CODEX_CLIENT)):
        events = run(tmp_path, [
            sdk_exchange(sdk_body([prompt]), calls, client=client),
            sdk_exchange(sdk_body([prompt, *calls, *outputs]), [message("done")],
                         client=client)])
        kinds[who] = [(i["kind"], i["status"]) for i in items_of(events)]
        if who == "sdk":
            assert items_of(events)[0]["result"] == exec_output("c1", 0, "a\n")["output"]
    assert kinds["sdk"] == [("tool_call", "completed")] * 3 + [
        ("assistant_message", "completed")]
    assert kinds["codex"] == [("command_execution", "completed"), ("file_change", "completed"),
                              ("mcp_tool_call", "completed"), ("assistant_message", "completed")]


@pytest.mark.parametrize("evidence", ["originator", "user-agent", "metadata", "none"])
def test_codex_readings_need_the_traffic_to_say_codex(tmp_path: Path, evidence: str) -> None:
    """Codex's readings (`<cwd>` and the approval policy sentence in its context messages, its
    reviewer prompt as a side call) apply only when a header or `x-codex-*` metadata says Codex
    sent the request; never from the model name ("codex") or the words alone."""
    client = {"originator": {"originator": "codex_cli_rs"},
              "user-agent": {"user-agent": "codex_cli_rs/0.169.0"}}.get(evidence, SDK_CLIENT)
    meta = {"client_metadata": {"x-codex-window-id": "w1"}} if evidence == "metadata" else {}
    context = [developer("Approval policy is currently never."), environment("/srv/app"),
               user("go")]
    review = [developer("You are judging one planned coding-agent action."), user("judge")]
    events = run(tmp_path, [
        sdk_exchange(sdk_body(context, model="gpt-5-codex", **meta), [message("hi")],
                     client=client),
        sdk_exchange(sdk_body(review, model="gpt-5-codex", prompt_cache_key="guardian:t",
                              **meta), [message('{"outcome": "allow"}')], client=client)])
    session = events[0]
    if evidence == "none":
        assert shape(events).count("turn.completed") == 2, "the review text is a prompt"
        assert (session["cwd"], session["approval_policy"]) == (None, "unknown")
    else:
        assert shape(events).count("turn.completed") == 1
        assert (session["cwd"], session["approval_policy"]) == ("/srv/app", "never")
        side = items_of(events)[-1]
        assert (side["kind"], side["native_type"]) == ("unknown", "side_call.auto_review")


def test_citations_from_url_and_file_annotations(tmp_path: Path) -> None:
    text = "Paris [1] per notes."
    cited = {"type": "message", "id": "msg_c", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": text, "annotations": [
                 {"type": "url_citation", "start_index": 6, "end_index": 9,
                  "url": "https://ex.org/p", "title": "P"},
                 {"type": "file_citation", "index": 19, "file_id": "file-1",
                  "filename": "notes.txt"}]}]}
    for streamed in (False, True):
        events = run(tmp_path, [sdk_exchange(sdk_body("q"), [cited], streamed=streamed)])
        assert items_of(events)[0]["citations"] == [
            {"url": "https://ex.org/p", "title": "P", "cited_text": None},
            {"url": None, "title": "notes.txt", "cited_text": None}]


@pytest.mark.parametrize(("action", "query", "results"), [
    ({"type": "search", "query": "q1", "sources": [{"type": "url", "url": "https://a.example"}]},
     "q1", [{"url": "https://a.example", "title": None}]),
    ({"type": "search", "queries": ["q2", "q3"]}, "q2", []),
    ({"type": "open_page", "url": "https://b.example"}, "https://b.example", []),
    ({"type": "find_in_page", "url": "https://b.example", "pattern": "needle"}, "needle", []),
])
def test_web_search_query_and_sources(tmp_path: Path, action: dict[str, Any], query: str,
                                      results: list[dict[str, Any]]) -> None:
    item = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": action}
    found = items_of(run(tmp_path, [sdk_exchange(sdk_body("q"), [item, message("ok")])]))[0]
    assert (found["kind"], found["query"], found["results"]) == ("web_search", query, results)


MCP_LIST = {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "srv",
            "tools": [{"name": "t", "input_schema": {"type": "object"}}]}


def mcp_call(mid: str, output: str | None, error: Any = None, status: str = "completed",
             approval: str | None = None) -> dict[str, Any]:
    return {"type": "mcp_call", "id": mid, "server_label": "srv", "name": "t",
            "arguments": '{"a": 1}', "output": output, "error": error, "status": status,
            "approval_request_id": approval}


def _mcp_frames(items: list[dict[str, Any]]) -> list[bytes]:
    """Hosted items streamed with their progress events (which add nothing to the done item)."""
    frames = [frame("response.created", response=_response("resp_1", "in_progress", []),
                    sequence_number=0)]
    for n, item in enumerate(items):
        at = {"output_index": n, "item_id": item["id"], "sequence_number": len(frames)}
        opening = {**item, "status": "in_progress"}
        if item["type"] == "mcp_call":
            opening.update(arguments="", output=None, error=None)
        frames.append(frame("response.output_item.added", output_index=n, item=opening,
                            sequence_number=len(frames)))
        frames.append(frame(f"response.{item['type']}.in_progress", **at))
        if item["type"] == "mcp_call":
            frames.append(frame("response.mcp_call_arguments.delta", delta=item["arguments"],
                                **at))
        frames.append(frame("response.output_item.done", output_index=n, item=item,
                            sequence_number=len(frames)))
    frames.append(frame("response.completed", sequence_number=len(frames),
                        response=_response("resp_1", "completed", items, usage())))
    return frames


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "sse"])
def test_mcp_calls_and_tool_lists_keep_their_facts(tmp_path: Path, streamed: bool) -> None:
    items = [MCP_LIST, mcp_call("mcp_1", "42"),
             mcp_call("mcp_2", None, {"type": "mcp_protocol_error", "code": -32602,
                                      "message": "bad params"}, "failed"),
             mcp_call("mcp_3", None, {"type": "mcp_tool_execution_error",
                                      "content": [{"type": "text", "text": "boom"}]}),
             mcp_call("mcp_4", None, "plain error")]
    body = sdk_body("go")
    ex = exchange({**body, "stream": True}, frames=_mcp_frames(items), client=SDK_CLIENT) \
        if streamed else sdk_exchange(body, items)
    events = run(tmp_path, [ex])
    listing, ok, *failed = items_of(events)
    assert (listing["kind"], listing["name"], listing["arguments"], listing["result"]) == (
        "tool_call", "mcp_list_tools", {"server_label": "srv"}, MCP_LIST["tools"])
    assert (ok["kind"], ok["server"], ok["tool"], ok["arguments"], ok["result"], ok["status"]) \
        == ("mcp_tool_call", "srv", "t", {"a": 1}, "42", "completed")
    assert [(f["status"], f["error"]) for f in failed] == [
        ("failed", "bad params"), ("failed", "boom"), ("failed", "plain error")]
    started = [e["item"]["id"] for e in events if e["type"] == "item.started"]
    assert started == ([i["id"] for i in items_of(events)] if streamed else [])


def _approval_flow(decision: dict[str, Any], answer: list[dict[str, Any]]) -> list[Exchange]:
    request = {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "srv",
               "name": "t", "arguments": '{"a": 1}'}
    reply = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", **decision}
    return [sdk_exchange(sdk_body("go"), [request]),
            sdk_exchange(sdk_body([reply], previous_response_id="resp_1"), answer)]


def test_mcp_approval_granted_then_the_call(tmp_path: Path) -> None:
    """The approval request starts the MCP call and keeps the turn open; the client's answer
    in the next request resolves it (decided by the user); the `mcp_call` naming the request
    completes the same item."""
    events = run(tmp_path, _approval_flow({"approve": True},
                                          [mcp_call("mcp_1", "42", approval="mcpr_1"),
                                           message("done")]))
    types = [e["type"] for e in events]
    assert types.count("turn.completed") == 1 and types.index("approval.resolved") < types.index(
        "turn.completed")
    asked = next(e for e in events if e["type"] == "approval.requested")
    resolved = next(e for e in events if e["type"] == "approval.resolved")
    call = items_of(events)[0]
    assert (asked["request_id"], asked["item_id"], asked["action"]) == ("mcpr_1", call["id"], "t")
    assert (resolved["decision"], resolved["decided_by"]) == ("approved", "user")
    assert (call["kind"], call["status"], call["result"], call["arguments"]) == (
        "mcp_tool_call", "completed", "42", {"a": 1})
    assert next(e["item"]["id"] for e in events if e["type"] == "item.started") == call["id"]


def test_mcp_approval_refused(tmp_path: Path) -> None:
    events = run(tmp_path, _approval_flow({"approve": False, "reason": "not now"},
                                          [message("ok, skipped")]))
    resolved = next(e for e in events if e["type"] == "approval.resolved")
    assert (resolved["decision"], resolved["decided_by"], resolved["reason"]) == (
        "denied", "user", "not now")
    call = items_of(events)[0]
    assert (call["status"], call["error"]) == ("declined", "not now")
    assert shape(events)[-1] == "turn.completed"


def test_unanswered_approval_leaves_the_turn_unfinished(tmp_path: Path) -> None:
    events = run(tmp_path, _approval_flow({"approve": True}, [message("x")])[:1])
    assert shape(events)[-2:] == ["mcp_tool_call:failed", "turn.failed:stream_truncated"]


def test_hosted_file_search_code_interpreter_and_image_keep_their_facts(tmp_path: Path) -> None:
    items = [
        {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"],
         "results": [{"file_id": "f1", "text": "t", "score": 0.5}]},
        {"type": "code_interpreter_call", "id": "ci_1", "status": "completed", "code": "1+1",
         "container_id": "cntr_1", "outputs": [{"type": "logs", "logs": "2\n"},
                                               {"type": "image", "url": "data:x"}]},
        {"type": "code_interpreter_call", "id": "ci_2", "status": "failed", "code": "1/0",
         "container_id": "cntr_1", "outputs": None},
        {"type": "image_generation_call", "id": "ig_1", "status": "completed",
         "result": "QUJD", "revised_prompt": "abc", "size": "1024x1024"},
    ]
    found = items_of(run(tmp_path, [sdk_exchange(sdk_body("go"), [*items, message("ok")])]))
    assert [(i["name"], i["arguments"], i["result"], i["status"]) for i in found[:4]] == [
        ("file_search", {"queries": ["q"]}, items[0]["results"], "completed"),
        ("code_interpreter", {"code": "1+1", "container_id": "cntr_1"}, items[1]["outputs"],
         "completed"),
        ("code_interpreter", {"code": "1/0", "container_id": "cntr_1"}, None, "failed"),
        ("image_generation", {"revised_prompt": "abc", "size": "1024x1024"}, "QUJD",
         "completed")]


def test_computer_call_waits_for_its_screenshot(tmp_path: Path) -> None:
    call = {"type": "computer_call", "id": "cu_1", "call_id": "call_c", "status": "completed",
            "action": {"type": "click", "button": "left", "x": 1, "y": 2},
            "pending_safety_checks": []}
    shot = {"type": "computer_screenshot", "image_url": "data:image/png;base64,AA=="}
    events = run(tmp_path, [
        sdk_exchange(sdk_body("click"), [call]),
        sdk_exchange(sdk_body([{"type": "computer_call_output", "call_id": "call_c",
                                "output": shot}], previous_response_id="resp_1"),
                     [message("clicked")])])
    tool = items_of(events)[0]
    assert (tool["name"], tool["arguments"], tool["result"], tool["status"]) == (
        "computer", call["action"], shot, "completed")
    assert shape(events).count("turn.completed") == 1


@pytest.mark.parametrize(("key", "given", "status"), [
    ("call_id", None, "completed"), ("id", None, "completed"),
    ("call_id", "completed", "completed"), ("call_id", "incomplete", "failed")])
def test_local_shell_call_and_its_output(tmp_path: Path, key: str, given: str | None,
                                         status: str) -> None:
    """The output names the call by `call_id` (clients seen) or by the call's `id` (the SDK's
    input type); an `incomplete` output fails the command. No exit code is invented."""
    call = {"type": "local_shell_call", "id": "lsh_1", "call_id": "call_l", "status": "completed",
            "action": {"type": "exec", "command": ["echo", "a b"], "env": {},
                       "working_directory": "/w"}}
    out = {"type": "local_shell_call_output", key: call[key], "output": "a b\n",
           **({"status": given} if given else {})}
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), [call]),
                            sdk_exchange(sdk_body([user("go"), call, out]), [message("ok")])])
    cmd = items_of(events)[0]
    assert (cmd["kind"], cmd["command"], cmd["cwd"], cmd["output"], cmd["exit_code"],
            cmd["status"]) == ("command_execution", "echo 'a b'", "/w", "a b\n", None, status)


def _shell_call(sid: str, environment: dict[str, Any] | None, status: str = "completed"
                ) -> dict[str, Any]:
    return {"type": "shell_call", "id": sid, "call_id": f"call_{sid}", "status": status,
            "environment": environment, "action": {"commands": ["make", "make test"]}}


@pytest.mark.parametrize(("outcomes", "code", "status", "error"), [
    ([{"type": "exit", "exit_code": 0}, {"type": "exit", "exit_code": 2}], 2, "failed", None),
    ([{"type": "exit", "exit_code": 0}, {"type": "exit", "exit_code": 0}], 0, "completed", None),
    ([{"type": "exit", "exit_code": 0}, {"type": "timeout"}], None, "failed", "timed out"),
])
def test_client_shell_call_reads_every_command_and_the_last_outcome(
        tmp_path: Path, outcomes: list[dict[str, Any]], code: int | None, status: str,
        error: str | None) -> None:
    call = _shell_call("sh_1", {"type": "local"})
    out = {"type": "shell_call_output", "call_id": "call_sh_1",
           "output": [{"stdout": f"out{n}\n", "stderr": f"err{n}\n", "outcome": o}
                      for n, o in enumerate(outcomes)]}
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), [call]),
                            sdk_exchange(sdk_body([user("go"), call, out]), [message("ok")])])
    cmd = items_of(events)[0]
    assert (cmd["command"], cmd["exit_code"], cmd["status"], cmd["error"], cmd["output"]) == (
        "make\nmake test", code, status, error, "out0\nerr0\nout1\nerr1\n")
    assert shape(events).count("turn.completed") == 1


@pytest.mark.parametrize(("call_status", "item_status"), [("completed", "completed"),
                                                          ("incomplete", "failed")])
def test_hosted_shell_call_without_output_ends_with_its_response(
        tmp_path: Path, call_status: str, item_status: str) -> None:
    """A shell run in the API's container needs no client output; one the API reports without
    a `shell_call_output` ends with the response as its own status says (no exit code)."""
    container = {"type": "container_reference", "container_id": "cntr_1"}
    items = [_shell_call("sh_1", container, call_status), _shell_call("sh_2", container),
             {"type": "shell_call_output", "id": "sho_2", "call_id": "call_sh_2",
              "status": "in_progress",
              "output": [{"stdout": "ok\n", "stderr": "",
                          "outcome": {"type": "exit", "exit_code": 0}}]},
             message("done")]
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), items)])
    found = {i.get("native_id"): i for i in items_of(events)}
    assert (found["sh_1"]["status"], found["sh_1"]["exit_code"]) == (item_status, None)
    assert (found["sh_2"]["status"], found["sh_2"]["exit_code"]) == ("completed", 0)
    assert shape(events)[-1] == "turn.completed"


@pytest.mark.parametrize(("operation", "kind"), [("create_file", "add"),
                                                 ("update_file", "update"),
                                                 ("delete_file", "delete")])
@pytest.mark.parametrize("applied", ["completed", "failed"])
def test_apply_patch_call_and_its_output(tmp_path: Path, operation: str, kind: str,
                                         applied: str) -> None:
    call = {"type": "apply_patch_call", "id": "apc_1", "call_id": "call_p", "status": "completed",
            "operation": {"type": operation, "path": "src/a.py", "diff": "+x\n"}}
    out = {"type": "apply_patch_call_output", "call_id": "call_p", "status": applied,
           "output": "context mismatch" if applied == "failed" else None}
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), [call]),
                            sdk_exchange(sdk_body([user("go"), call, out]), [message("ok")])])
    change = items_of(events)[0]
    assert change["changes"] == [{"path": "src/a.py", "kind": kind, "move_path": None}]
    assert (change["status"], change["error"]) == (
        ("completed", None) if applied == "completed" else ("failed", "context mismatch"))


@pytest.mark.parametrize(("status", "extra", "kind", "message_text"), [
    ("failed", {"error": {"code": "rate_limit_exceeded", "message": "slow"}}, "rate_limit",
     "slow"),
    ("incomplete", {"incomplete_details": {"reason": "content_filter"}}, "provider",
     "response incomplete: content_filter"),
    ("cancelled", {}, "cancelled", "response cancelled"),
])
def test_non_streamed_status_ends_the_turn(tmp_path: Path, status: str, extra: dict[str, Any],
                                           kind: str, message_text: str) -> None:
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), [], status=status, **extra)])
    assert shape(events)[-1] == f"turn.failed:{kind}"
    assert events[-1]["error"]["message"] == message_text


def test_background_response_not_finished_is_a_truncated_turn(tmp_path: Path) -> None:
    events = run(tmp_path, [sdk_exchange(sdk_body("go", background=True), [], status="queued")])
    assert shape(events)[-1] == "turn.failed:stream_truncated"


@pytest.mark.parametrize("reply", [b"[1, 2]", b'{"id": "resp_1", "status": "completed"}'],
                         ids=["not_an_object", "no_output"])
def test_non_streamed_answer_that_is_no_response(tmp_path: Path, reply: bytes) -> None:
    """Strict refuses naming the interaction; lenient keeps a notice and ends the turn."""
    exchanges = [exchange(sdk_body("go"), reply=reply, client=SDK_CLIENT)]
    with pytest.raises(FrameError, match="not a Responses `response` object"):
        run(tmp_path, exchanges)
    events = run(tmp_path, exchanges, lenient=True)
    assert any("not a Responses" in i.get("message", "") for i in items_of(events))
    assert shape(events)[-1] == "turn.failed:stream_truncated"


if __name__ == "__main__":  # regenerate the reference cassettes
    DATA.mkdir(parents=True, exist_ok=True)
    for cassette_name, cassette_exchanges in _reference_cassettes().items():
        write(DATA / f"{cassette_name}.http.yaml", cassette_exchanges)


def test_terminal_event_without_its_response_is_kept_as_unknown(tmp_path: Path) -> None:
    """Found by mutating shipped cassettes: a `response.completed` whose `response` object is
    missing reaches the lane (the SDK builds events leniently) and used to crash on `.usage`.
    It says nothing the lane can act on: it is kept whole and the turn ends as truncated."""
    frames = [*stream([message("ok")])[:-1], frame("response.completed", sequence_number=99)]
    events = run(tmp_path, Codex().start("go").reply(frames).exchanges)
    assert [i["native_type"] for i in completed(events) if i["kind"] == "unknown"] == [
        "response.completed"]
    assert shape(events)[-1] == "turn.failed:stream_truncated"


# ------------------------------------------------------------------------------ background mode


def _poll(rid: str, items: list[dict[str, Any]], status: str) -> Exchange:
    """A background response's poll: `GET /v1/responses/{rid}` answered with its state."""
    reply = whole(items, status=status, rid=rid)
    return Exchange(StubRequest("GET", f"/v1/responses/{rid}", "", dict(SDK_CLIENT), b""),
                    StubReply(200, JSON, [reply]))


def test_a_background_response_is_read_from_the_poll_that_finishes_it(tmp_path: Path) -> None:
    """`background: true` answers `queued`; the polls that are still running add nothing, the
    one that finishes it carries the answer (before, the queued answer cut the turn and each
    poll was an `unknown` side call)."""
    events = run(tmp_path, [sdk_exchange(sdk_body("go", background=True), [], status="queued"),
                            _poll("resp_1", [], "in_progress"),
                            _poll("resp_1", [message("done")], "completed")])
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "turn.completed"]


def test_a_background_response_never_finished_cuts_the_turn(tmp_path: Path) -> None:
    """The recording ends while the response is still queued: no answer came."""
    events = run(tmp_path, [sdk_exchange(sdk_body("go", background=True), [], status="queued"),
                            _poll("resp_1", [], "queued")])
    assert shape(events) == ["session.started", "turn.started", "turn.failed:stream_truncated"]


def test_a_poll_of_another_response_stays_a_side_call(tmp_path: Path) -> None:
    events = run(tmp_path, [sdk_exchange(sdk_body("go"), [message("hi")]),
                            _poll("resp_other", [message("x")], "completed")])
    assert shape(events)[-1] == "unknown:completed"


def test_a_whole_answer_with_an_undocumented_status_is_refused(tmp_path: Path) -> None:
    """`status: "complete"` (a hand-edited cassette; the API says `completed`) is neither an
    end nor a background state: refused naming it, not read as a cut turn."""
    with pytest.raises(FrameError, match="response status 'complete' is none the API"):
        run(tmp_path, [sdk_exchange(sdk_body("go"), [message("4")], status="complete")])


@pytest.mark.parametrize(("sent", "shown"), [
    ("Wall time: 0.0123 seconds\nOutput:\nhi\n", "hi\n"),
    ("Wall time: 1 seconds\nOutput:\n", ""),
    ("log:\nWall time: 0.5 seconds\nOutput:\nkept\n",
     "log:\nWall time: 0.5 seconds\nOutput:\nkept\n"),
    ("hi\n", "hi\n"),
])
def test_the_tool_output_header_rule_strips_only_the_leading_header(sent: str,
                                                                     shown: str) -> None:
    """`codex.tool-output-header` (what Codex puts before a tool's output in what it sends the
    model) is removed where Codex puts it, at the start; the same words printed by the
    command itself are output and stay, or the comparison would hide a changed output."""
    [(name, rule)] = LANE.output_rules
    assert name == "codex.tool-output-header"
    assert rule(sent) == shown
