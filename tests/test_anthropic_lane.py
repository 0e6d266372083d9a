"""anthropic lane: any client's Messages API traffic, replayed through the anthropic SDK.

Hand-built sequences (one per mapping and quirk, docstrings naming the quirk) come from the
builders below, which grow requests the way Claude Code 2.1.328 does (seen by running it against
a stub on 127.0.0.1): `POST /v1/messages?beta=true`, `metadata.user_id` a JSON string carrying
`session_id`, a first user message of `<system-reminder>` blocks then the prompt, a `role:
"system"` environment message naming the working directory, each answer echoed back as an
assistant message, then one user message of `tool_result` blocks (Bash failures as
`Exit code N\\n<output>` with `is_error`, denials as "... but you haven't granted it yet.",
ToolSearch results followed by a "Tool loaded." text). Real recordings
(`cassettes/*/claude.http.yaml`) are checked against their scenario outline. Regenerate the
reviewable cassettes in tests/data/anthropic/ by running this module. `plain_body` / `plain`
build what the plain `anthropic` SDK sends (no Claude Code marker): those requests must be read
as a conversation, whatever their model or words; `whole` is a non-streamed answer.
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import httpx2
import pytest
import yaml
from anthropic import Anthropic, APIConnectionError, APITimeoutError
from anthropic.types.beta import (
    BetaContentBlock,
    BetaRawContentBlockDelta,
    BetaRawMessageStreamEvent,
    BetaStopReason,
)
from anthropic.types.shared import ErrorType
from hypothesis import given, settings
from hypothesis import strategies as st

import lanes.anthropic as la
from harness.contract.errors import FrameError, InputError
from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.record.cassette import (
    HttpRequest,
    HttpResponse,
    Interaction,
    read_http_cassette,
    render_http_cassette,
)
from harness.record.stub import Exchange, StubReply, StubRequest, sse_event
from lanes import claude_family
from lanes.anthropic import LANE
from lanes.api_shell import sdk_kwargs
from tests import lanekit
from tests.lanekit import assert_well_formed, completed, scaled, shape, split, write

# ==================================================================================== builders

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
CWD = "/work/space"
MODEL = "claude-opus-5-5"
SESSION = "9d731ade-85aa-4cd2-aa26-8abed03e1a27"
TOOLS = [{"name": n, "input_schema": {"type": "object"}}
         for n in ("Bash", "Edit", "Read", "ToolSearch", "Write")]


def frame(etype: str, **fields: Any) -> bytes:
    return sse_event(etype, json.dumps({"type": etype, **fields}, ensure_ascii=False).encode())


def halves(text: str) -> list[str]:
    return [text[: len(text) // 2], text[len(text) // 2:]]


# ------------------------------------------------------------------------------ content blocks


def text(value: str, citations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": value, "_citations": citations or []}


def thinking(value: str, signature: str = "c2lnbmF0dXJl") -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": signature}


def redacted(data: str = "ZW5jcnlwdGVk") -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": data}


def tool_use(tid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": tid, "name": name, "input": args}


def bash(tid: str, command: str) -> dict[str, Any]:
    return tool_use(tid, "Bash", {"command": command, "description": "run it"})


def server_tool_use(tid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "server_tool_use", "id": tid, "name": name, "input": args}


def search_result(tid: str, error: str | None = None) -> dict[str, Any]:
    content: Any = ({"type": "web_search_tool_result_error", "error_code": error} if error else
                    [{"type": "web_search_result", "title": "Zürich weather",
                      "url": "https://example.invalid/w", "encrypted_content": "abc",
                      "page_age": None}])
    return {"type": "web_search_tool_result", "tool_use_id": tid, "content": content}


def mcp_use(tid: str, server: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "mcp_tool_use", "id": tid, "server_name": server, "name": name,
            "input": args}


def mcp_result(tid: str, value: str, is_error: bool = False) -> dict[str, Any]:
    return {"type": "mcp_tool_result", "tool_use_id": tid, "is_error": is_error,
            "content": [{"type": "text", "text": value}]}


def echoed(block: dict[str, Any]) -> dict[str, Any]:
    """A block as Claude Code echoes it back in the next request's history."""
    return {k: v for k, v in block.items() if not k.startswith("_")}


# ------------------------------------------------------------------------------ SSE bodies


def usage(inp: int = 10, out: int = 5, read: int = 3, write: int = 2,
          thinking_tokens: int | None = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"input_tokens": inp, "output_tokens": out,
                            "cache_read_input_tokens": read,
                            "cache_creation_input_tokens": write}
    if thinking_tokens is not None:
        body["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    return body


def _block_frames(index: int, block: dict[str, Any]) -> list[bytes]:
    btype = block["type"]
    if btype == "text":
        out = [frame("content_block_start", index=index,
                     content_block={"type": "text", "text": ""})]
        out += [frame("content_block_delta", index=index, delta={"type": "text_delta",
                                                                 "text": piece})
                for piece in halves(block["text"])]
        out += [frame("content_block_delta", index=index,
                      delta={"type": "citations_delta", "citation": c})
                for c in block["_citations"]]
    elif btype == "thinking":
        out = [frame("content_block_start", index=index,
                     content_block={"type": "thinking", "thinking": "", "signature": ""})]
        if block["thinking"]:
            out.append(frame("content_block_delta", index=index,
                             delta={"type": "thinking_delta", "thinking": block["thinking"]}))
        out.append(frame("content_block_delta", index=index,
                         delta={"type": "signature_delta", "signature": block["signature"]}))
    elif btype in {"tool_use", "server_tool_use", "mcp_tool_use"}:
        out = [frame("content_block_start", index=index,
                     content_block={**block, "input": {}})]
        out += [frame("content_block_delta", index=index,
                      delta={"type": "input_json_delta", "partial_json": piece})
                for piece in halves(json.dumps(block["input"], ensure_ascii=False))]
    else:
        out = [frame("content_block_start", index=index, content_block=block)]
    return [*out, frame("content_block_stop", index=index)]


def stream(blocks: list[dict[str, Any]], *, stop: str | None = None, mid: str = "msg_1",
           use: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
           model: str = MODEL) -> list[bytes]:
    """A Messages SSE stream: message_start, ping, each block, message_delta, message_stop (or an
    `error` event after the blocks)."""
    start_usage = {k: v for k, v in (use or usage()).items() if k != "output_tokens"}
    frames = [frame("message_start", message={
        "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {**start_usage, "output_tokens": 1}}),
        frame("ping")]
    for index, block in enumerate(blocks):
        frames += _block_frames(index, block)
    if error is not None:
        return [*frames, frame("error", error=error)]
    if stop is None:
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    frames.append(frame("message_delta", delta={"stop_reason": stop, "stop_sequence": None},
                        usage={"output_tokens": (use or usage())["output_tokens"]}))
    return [*frames, frame("message_stop")]


def whole(blocks: list[dict[str, Any]], *, stop: str | None = None, mid: str = "msg_w",
          use: dict[str, Any] | None = None, model: str = MODEL) -> bytes:
    """A non-streamed Messages answer (`stream` false): one JSON message; a text block's
    citations ride on the block itself."""
    content = [{**echoed(b), "citations": b["_citations"]} if b.get("_citations") else echoed(b)
               for b in blocks]
    if stop is None:
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return json.dumps({"id": mid, "type": "message", "role": "assistant", "model": model,
                       "content": content, "stop_reason": stop, "stop_sequence": None,
                       "usage": use or usage()}, ensure_ascii=False).encode()


# ------------------------------------------------------------------------------ requests


def reminder(body: str) -> dict[str, Any]:
    return {"type": "text", "text": f"<system-reminder>\n{body}\n</system-reminder>"}


START_REMINDERS = [reminder("You are powered by the model named Opus 5.5. The exact model ID is "
                            f"{MODEL}."),
                   reminder("Attribution for git commits and pull requests you create from "
                            "here on ...")]


def environment(cwd: str = CWD) -> dict[str, Any]:
    return {"role": "system", "content": [{"type": "text", "text": (
        "# Environment\nYou have been invoked in the following environment: \n"
        f" - Primary working directory: {cwd}\n - Is a git repository: false\n"
        " - Platform: linux\n - Shell: bash\n")}]}


def tool_result(tid: str, content: Any, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def user_id(session: str) -> str:
    return json.dumps({"device_id": "d" * 64, "account_uuid": "", "session_id": session},
                      separators=(",", ":"))


def request_body(messages: list[dict[str, Any]], *, session: str | None = SESSION,
                 model: str = MODEL, stream_on: bool = True,
                 tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model, "messages": messages,
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.328;"},
                   {"type": "text", "text": "You are a Claude agent, built on Anthropic's "
                                            "Claude Agent SDK.",
                    "cache_control": {"type": "ephemeral"}}],
        "tools": TOOLS if tools is None else tools,
        "max_tokens": 32000, "thinking": {"type": "adaptive", "display": "updates"},
        "context_management": {"edits": []}, "stream": stream_on}
    if session is not None:
        body["metadata"] = {"user_id": user_id(session)}
    return body


def exchange(body: dict[str, Any] | bytes, *, status: int = 200,
             frames: list[bytes] | None = None, path: str = "/v1/messages",
             reply: bytes | None = None,
             query: str = "beta=true") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = SSE if frames is not None else JSON
    chunks = frames if frames is not None else [reply or error_body("api_error", "failed")]
    return Exchange(StubRequest("POST", path, query, {"content-type": "application/json"}, raw),
                    StubReply(status, headers, chunks))


def plain_body(messages: list[dict[str, Any]], *, stream_on: bool = True,
               model: str = "claude-haiku-4-5", system: str | None = None,
               tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A request as the plain `anthropic` SDK sends it: no Claude Code header, system prompt or
    metadata (the model is a haiku and the words say title/summary on purpose)."""
    body: dict[str, Any] = {"model": model, "max_tokens": 1024, "messages": messages}
    if system is not None:
        body["system"] = system
    if tools is not None:
        body["tools"] = tools
    if stream_on:
        body["stream"] = True
    return body


def plain(body: dict[str, Any], blocks: list[dict[str, Any]], **answer: Any) -> Exchange:
    """A plain client's call at `/v1/messages` (no `?beta=true`), streamed or whole as its body
    says."""
    if body.get("stream"):
        return exchange(body, frames=stream(blocks, **answer), query="")
    return exchange(body, reply=whole(blocks, **answer), query="")


def error_body(etype: str, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": etype, "message": message}}).encode()


@dataclass
class Claude:
    """One Claude Code session's requests, history growing like Claude Code's own."""

    session: str | None = SESSION
    messages: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    answers: int = 0

    def start(self, prompt: str, *, fresh_process: bool = True) -> Claude:
        """A prompt: a new process sends its start reminders and environment first."""
        content = [*START_REMINDERS, {"type": "text", "text": prompt}] if fresh_process \
            else [{"type": "text", "text": prompt}]
        self.messages.append({"role": "user", "content": content})
        if fresh_process and len(self.messages) == 1:
            self.messages.append(environment())
        return self

    def body(self, **kw: Any) -> dict[str, Any]:
        return request_body(json.loads(json.dumps(self.messages)), session=self.session, **kw)

    def answer(self, blocks: list[dict[str, Any]], **stream_args: Any) -> Claude:
        self.answers += 1
        stream_args.setdefault("mid", f"msg_{self.answers}")
        self.exchanges.append(exchange(self.body(), frames=stream(blocks, **stream_args)))
        self.messages.append({"role": "assistant", "content": [echoed(b) for b in blocks]})
        return self

    def reply(self, frames: list[bytes], status: int = 200) -> Claude:
        self.exchanges.append(exchange(self.body(), status=status, frames=frames))
        return self

    def http_error(self, status: int, etype: str = "api_error") -> Claude:
        self.exchanges.append(exchange(self.body(), status=status,
                                       reply=error_body(etype, f"{etype} happened")))
        return self

    def results(self, *blocks: dict[str, Any], after: str | None = None) -> Claude:
        content = list(blocks) + ([{"type": "text", "text": after}] if after else [])
        self.messages.append({"role": "user", "content": content})
        return self

    def say(self, value: str) -> Claude:
        self.messages.append({"role": "user", "content": [{"type": "text", "text": value}]})
        return self

    def side(self, ex: Exchange) -> Claude:
        self.exchanges.append(ex)
        return self


# ==================================================================================== helpers

DATA = Path(__file__).parent / "data" / "anthropic"
BAD = Path(__file__).parent / "data" / "bad_cassettes"
READ_IN_STRICT = frozenset({
    "http_4xx.messages",
    "http_5xx.messages",
    "sse_cut_mid_event.messages",
    "sse_data_not_json.messages",
    "sse_event_without_data.messages",
})
"""Samples the anthropic lane reads in strict mode (an HTTP error, a cut or foreign stream
is a failed turn or an unknown item, the payload kept); every other sample is refused."""
REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"


def normalize_file(path: Path, *, lenient: bool = False,
                   context: RunContext | None = None) -> list[dict[str, Any]]:
    return lanekit.normalize_file(LANE, path, lenient=lenient, context=context)


def run(tmp_path: Path, exchanges: list[Exchange], **kw: Any) -> list[dict[str, Any]]:
    return lanekit.run(LANE, tmp_path, exchanges, **kw)


def _types_of(union: Any) -> dict[str, Any]:
    """`type` literal -> SDK class, for an SDK discriminated union."""
    members = get_args(get_args(union)[0]) if get_args(union) else ()
    return {get_args(cls.model_fields["type"].annotation)[0]: cls for cls in members}


# ==================================================================================== the tests
# ------------------------------------------------------------------------------ contract tables


def test_lane_is_registered_and_truthful() -> None:
    spec = get_lane("anthropic")
    assert spec is LANE
    assert spec.provider == "anthropic" and spec.input_kind == "http-cassette"
    assert spec.native_file == "claude.http.yaml"
    assert "approvals" not in spec.capabilities, "HTTP traffic shows denials, not decisions"
    assert "sandbox_context" not in spec.capabilities, "the API traffic never names a sandbox"
    assert "ToolSearch" in spec.noise_tools


def test_stop_reason_table_is_exhaustive() -> None:
    assert set(la.STOP_REASONS) == set(get_args(BetaStopReason))


def test_error_type_table_is_exhaustive() -> None:
    assert set(la.ERROR_TYPE_KINDS) == set(get_args(ErrorType))


def test_event_block_and_delta_tables_name_real_sdk_types() -> None:
    """Every handled event maps to the SDK class whose `type` literal it is; every block and
    delta type the lane acts on is one the SDK's beta unions know."""
    events = _types_of(BetaRawMessageStreamEvent)
    assert events == la.HANDLED_EVENTS
    blocks = set(_types_of(BetaContentBlock))
    assert la.STREAMED_BLOCKS | la.CALL_BLOCKS | la.RESULT_BLOCKS | {"redacted_thinking"} <= blocks
    deltas = set(_types_of(BetaRawContentBlockDelta))
    assert la.HANDLED_DELTAS.issubset(deltas)


def _sample_call(name: str, tid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call of tool `name` and a successful tool_result for it, in Claude Code's shapes."""
    samples: dict[str, tuple[dict[str, Any], Any]] = {
        "Bash": ({"command": "ls -a", "description": "list"}, "a.txt"),
        "Write": ({"file_path": f"{CWD}/a.txt", "content": "hi\n"},
                  f"File created successfully at: {CWD}/a.txt"),
        "Edit": ({"file_path": f"{CWD}/a.txt", "old_string": "a", "new_string": "b"},
                 f"The file {CWD}/a.txt has been updated successfully."),
        "MultiEdit": ({"file_path": f"{CWD}/a.txt", "edits": []},
                      f"Applied 0 edits to {CWD}/a.txt"),
        "NotebookEdit": ({"notebook_path": f"{CWD}/n.ipynb", "new_source": "x"},
                         "Updated cell"),
        "TodoWrite": ({"todos": [{"content": "look", "status": "completed",
                                  "activeForm": "Looking"}]},
                      "Todos have been modified successfully."),
        "WebSearch": ({"query": "zürich"}, "Web search results for query: \"zürich\""),
        "ToolSearch": ({"query": "select:WebSearch"},
                       [{"type": "tool_reference", "tool_name": "WebSearch"}]),
    }
    args, result = samples[name]
    return tool_use(tid, name, args), tool_result(tid, result)


@pytest.mark.parametrize("name", sorted({*claude_family.TOOL_KINDS, "ToolSearch"}))
def test_tool_table_every_key_maps_to_its_kind(tmp_path: Path, name: str) -> None:
    """TOOL_KINDS coverage (Claude Code's table, `lanes.claude_family`): a call of each listed
    tool, finished by its tool_result in the next request, completes as the item kind the table
    names; ToolSearch, unlisted, as a plain tool_call."""
    call, result = _sample_call(name, "toolu_1")
    claude = Claude().start("go").answer([call]).results(result).answer([text("ok")])
    items = completed(run(tmp_path, claude.exchanges))
    kind = claude_family.TOOL_KINDS.get(name, "tool_call")
    assert [i["kind"] for i in items] == [kind, "assistant_message"]
    assert items[0]["status"] == "completed" and items[0]["native_id"] == "toolu_1"


def test_tool_table_default_and_mcp_rules() -> None:
    assert claude_family.tool_kind("Read") == claude_family.tool_kind("ToolSearch") == "tool_call"
    assert claude_family.tool_kind("mcp__files__read_file") == "mcp_tool_call"
    assert claude_family.mcp_names("mcp__files__read_file") == ("files", "read_file")
    assert claude_family.mcp_names("mcp__my_srv__do__it") == ("my_srv", "do__it")


def test_lane_reads_claude_code_rules_from_the_family_module() -> None:
    """One copy of Claude Code's tool rules: this lane and the claude-code lane share them."""
    assert la.NOISE_TOOLS is claude_family.NOISE_TOOLS
    assert LANE.noise_tools >= claude_family.NOISE_TOOLS


def test_http_status_table() -> None:
    """HTTP statuses go through the core's one table (`HTTP_STATUS_KINDS`)."""
    cases = {400: "provider", 401: "auth", 403: "auth", 404: "provider", 408: "network",
             429: "rate_limit", 500: "provider", 529: "provider", 503: "provider",
             599: "provider", 413: "unknown"}
    assert {s: la.http_error(s, "x").kind for s in cases} == cases
    assert la.http_error(529, "x").retryable and not la.http_error(401, "x").retryable


def test_error_types_agree_with_their_http_statuses() -> None:
    """`invalid_request_error` (HTTP 400) and `not_found_error` (404) are the provider
    refusing the call, as the status table says of their statuses."""
    assert la.ERROR_TYPE_KINDS["invalid_request_error"] == "provider"
    assert la.ERROR_TYPE_KINDS["not_found_error"] == "provider"
    assert la.typed_error("invalid_request_error", "x").kind == "provider"


def test_a_lost_connection_is_network_and_an_unknown_error_type_is_the_provider() -> None:
    """No answer at all (connection lost, timeout) is a retryable `network` failure, not the
    provider refusing; an `error` the API did send, of a type this lane does not know yet, is
    still the provider's answer (`provider`, retryable), not `unknown`."""
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    lost = la.api_error(APIConnectionError(request=request))
    assert (lost.kind, lost.retryable) == ("network", True)
    assert la.api_error(APITimeoutError(request=request)).kind == "network"
    assert la.typed_error("brand_new_error", "x").kind == "provider"
    assert la.typed_error(None, "x").kind == "provider"


# ------------------------------------------------------------------------------ parsers


def test_bash_result_parsing() -> None:
    """Claude Code's Bash tool_result: success is the bare output (exit 0); failure is
    `Exit code N` then the output, with is_error; a refusal has no exit code."""
    assert la.parse_bash_result("hi\n", False) == (0, "hi\n")
    assert la.parse_bash_result("Exit code 3\nhi", True) == (3, "hi")
    assert la.parse_bash_result("Exit code 1", True) == (1, "")
    denial = "touch in '/w/y' needs approval."
    assert la.parse_bash_result(denial, True) == (None, denial)


def test_session_id_from_both_metadata_forms() -> None:
    assert la.session_id_of({"metadata": {"user_id": user_id("s-1")}}) == "s-1"
    legacy = "user_abc_account_0f0f_session_6b1c-22aa"
    assert la.session_id_of({"metadata": {"user_id": legacy}}) == "6b1c-22aa"
    assert la.session_id_of({"metadata": {"user_id": 7}}) is None
    assert la.session_id_of({}) is None


# ------------------------------------------------------------------------------ mappings


def test_text_thinking_and_session_fields(tmp_path: Path) -> None:
    """text_delta -> assistant_message updates then the full text; thinking_delta ->
    reasoning; a request's model, session id and working directory fill session.started."""
    claude = Claude().start("hi").answer([thinking("denke ✓"), text("héllo wörld ✓")])
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "reasoning:completed",
                             "assistant_message:completed", "turn.completed"]
    reasoning, message = completed(events)
    assert (reasoning["text"], reasoning["encrypted"]) == ("denke ✓", False)
    assert message["text"] == "héllo wörld ✓" and message["native_id"] == "msg_1/1"
    deltas = [e["delta"]["text"] for e in events if e["type"] == "item.updated"
              and e["item"]["kind"] == "assistant_message"]
    assert "".join(deltas) == "héllo wörld ✓"
    session = events[0]
    assert (session["provider"], session["runtime"]["name"], session["model"],
            session["thread_id"], session["cwd"]) == ("anthropic", "anthropic", MODEL, SESSION,
                                                      CWD)
    assert events[-1]["stop_reason"] == "end_turn"


def test_redacted_and_signature_only_thinking_are_encrypted(tmp_path: Path) -> None:
    """Quirk: the model has no signature field. redacted_thinking -> reasoning encrypted; a
    thinking block with only a signature (display omitted) is opaque too."""
    claude = Claude().start("hi").answer([redacted(), thinking(""), text("ok")])
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["kind"], i.get("encrypted"), i.get("text")) for i in items] == [
        ("reasoning", True, ""), ("reasoning", True, ""), ("assistant_message", None, "ok")]


def test_citations_arrive_as_citation_deltas(tmp_path: Path) -> None:
    """Each citations_delta is an item.updated with a `citations` delta holding the citation
    JSON, the text itself unchanged; the completed message carries every citation as
    {url, title, cited_text} in order (a document location names its document title)."""
    cite = {"type": "web_search_result_location", "url": "https://example.invalid/w",
            "title": "W", "encrypted_index": "e1", "cited_text": "sunny"}
    doc = {"type": "char_location", "cited_text": "warm", "document_index": 0,
           "document_title": "Report", "start_char_index": 0, "end_char_index": 4}
    claude = Claude().start("hi").answer([text("It is sunny.", citations=[cite, doc])])
    events = run(tmp_path, claude.exchanges)
    cites = [json.loads(e["delta"]["text"]) for e in events
             if e["type"] == "item.updated" and e["delta"]["field"] == "citations"]
    assert cites == [cite, doc]
    message = completed(events)[0]
    assert message["text"] == "It is sunny."
    assert message["citations"] == [
        {"url": "https://example.invalid/w", "title": "W", "cited_text": "sunny"},
        {"url": None, "title": "Report", "cited_text": "warm"}]


def test_tool_execution_rebuilt_across_two_requests(tmp_path: Path) -> None:
    """A tool_use streams its input as input_json_delta in one answer (item.started, in
    progress); its tool_result arrives in the NEXT request (item.completed with exit code and
    output). Usage sums the turn's calls; input counts cache reads and writes."""
    claude = (Claude().start("run")
              .answer([text("running"), bash("toolu_1", "echo hi; exit 3")])
              .results(tool_result("toolu_1", "Exit code 3\nhi", is_error=True))
              .answer([text("done")]))
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "command_execution:failed", "assistant_message:completed",
                             "turn.completed"]
    started = next(e["item"] for e in events if e["type"] == "item.started"
                   and e["item"]["kind"] == "command_execution")
    assert (started["status"], started["exit_code"], started["command"]) == (
        "in_progress", None, "echo hi; exit 3")
    cmd = completed(events)[1]
    assert (cmd["exit_code"], cmd["output"], cmd["native_id"]) == (3, "hi", "toolu_1")
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 30,
                                   "cached_input_tokens": 6,
                                   "cache_write_input_tokens": 4, "output_tokens": 10,
                                   "reasoning_tokens": 2}


def test_file_changes_plan_and_other_tools(tmp_path: Path) -> None:
    """Write -> file_change `add` when Claude Code says it created the file (else update);
    Edit -> update; TodoWrite -> plan entries; Read -> tool_call with the result."""
    todos = {"todos": [{"content": "read", "status": "completed", "activeForm": "Reading"},
                       {"content": "write", "status": "in_progress", "activeForm": "Writing"}]}
    claude = (Claude().start("go")
              .answer([tool_use("t1", "Write", {"file_path": f"{CWD}/new.txt", "content": "x"}),
                       tool_use("t2", "Write", {"file_path": f"{CWD}/old.txt", "content": "y"}),
                       tool_use("t3", "Edit", {"file_path": f"{CWD}/e.txt", "old_string": "a",
                                               "new_string": "b"}),
                       tool_use("t4", "TodoWrite", todos),
                       tool_use("t5", "Read", {"file_path": f"{CWD}/e.txt"})])
              .results(tool_result("t1", f"File created successfully at: {CWD}/new.txt"),
                       tool_result("t2", f"The file {CWD}/old.txt has been updated."),
                       tool_result("t3", f"The file {CWD}/e.txt has been updated successfully."),
                       tool_result("t4", "Todos have been modified successfully."),
                       tool_result("t5", "     1\tb\n"))
              .answer([text("ok")]))
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["kind"], i["status"]) for i in items] == [
        ("file_change", "completed"), ("file_change", "completed"), ("file_change", "completed"),
        ("plan", "completed"), ("tool_call", "completed"), ("assistant_message", "completed")]
    assert [i["changes"][0]["kind"] for i in items[:3]] == ["add", "update", "update"]
    assert [(e["text"], e["status"]) for e in items[3]["entries"]] == [
        ("read", "completed"), ("write", "in_progress")]
    assert (items[4]["name"], items[4]["result"]) == ("Read", "     1\tb\n")


def test_permission_denial_is_declined(tmp_path: Path) -> None:
    """Headless `--permission-mode default`: Claude Code answers the model with an is_error
    tool_result ("... but you haven't granted it yet." / "... needs approval.") -> declined,
    no exit code, the denial text as `error` (as the claude-code lane keeps it); a tool that
    ran and failed stays `failed` (a command with no error, a file change with the result
    text)."""
    claude = (Claude().start("go")
              .answer([tool_use("t1", "Write", {"file_path": "/outside/x.txt", "content": "x"}),
                       bash("t2", "touch y"), bash("t3", "false"),
                       tool_use("t4", "Read", {"file_path": "/nope"})])
              .results(tool_result("t1", "Claude requested permissions to write to "
                                         "/outside/x.txt, but you haven't granted it yet.", True),
                       tool_result("t2", "touch in '/work/space/y' needs approval. The path is "
                                         "inside the working directories.", True),
                       tool_result("t3", "Exit code 1", True),
                       tool_result("t4", "File does not exist.", True))
              .answer([text("could not")]))
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["kind"], i["status"]) for i in items[:4]] == [
        ("file_change", "declined"), ("command_execution", "declined"),
        ("command_execution", "failed"), ("tool_call", "failed")]
    assert (items[1]["exit_code"], items[2]["exit_code"]) == (None, 1)
    assert items[3]["error"] == "File does not exist."
    assert [i["error"] for i in items[:3]] == [
        "Claude requested permissions to write to /outside/x.txt, but you haven't granted it "
        "yet.", "touch in '/work/space/y' needs approval. The path is inside the working "
        "directories.", None]


def test_mcp_client_and_server_side_calls(tmp_path: Path) -> None:
    """`mcp__<server>__<tool>` client calls -> mcp_tool_call completed by the next request's
    tool_result (is_error -> failed); API-side mcp_tool_use/mcp_tool_result complete inside
    the same answer."""
    claude = (Claude().start("go")
              .answer([tool_use("t1", "mcp__files__read_file", {"path": "a"}),
                       tool_use("t2", "mcp__files__stat", {"path": "b"})])
              .results(tool_result("t1", [{"type": "text", "text": "content"}]),
                       tool_result("t2", "MCP error -32602: no such file", True))
              .answer([mcp_use("mcptoolu_1", "remote", "lookup", {"q": "x"}),
                       mcp_result("mcptoolu_1", "found"),
                       mcp_use("mcptoolu_2", "remote", "lookup", {"q": "y"}),
                       mcp_result("mcptoolu_2", "boom", is_error=True), text("ok")]))
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["kind"], i["status"], i.get("server"), i.get("tool")) for i in items[:4]] == [
        ("mcp_tool_call", "completed", "files", "read_file"),
        ("mcp_tool_call", "failed", "files", "stat"),
        ("mcp_tool_call", "completed", "remote", "lookup"),
        ("mcp_tool_call", "failed", "remote", "lookup")]
    assert items[0]["result"] == [{"type": "text", "text": "content"}]
    assert items[1]["error"] == "MCP error -32602: no such file"
    assert (items[2]["arguments"], items[3]["error"]) == ({"q": "x"}, "boom")


RESULT_BLOCKS = [{"type": "text", "text": "first"},
                 {"type": "tool_reference", "tool_name": "mcp__files__stat"},
                 {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                              "data": "iVBORw0KGgo="}},
                 {"type": "text", "text": "second"}]
"""A tool_result content of several blocks: two texts around blocks that have no text."""


def test_result_text_joins_text_blocks_with_newlines(tmp_path: Path) -> None:
    """Claude Code's rule for a tool_result's text (`claude_family.result_text`, the same rule
    the claude-code lane pins): text blocks joined with a newline, other blocks add nothing,
    content that is neither a string nor a list is no text."""
    assert claude_family.result_text(RESULT_BLOCKS) == "first\nsecond"
    assert claude_family.result_text({"type": "text", "text": "x"}) == ""
    assert claude_family.result_text(None) == ""
    claude = (Claude().start("go")
              .answer([tool_use("t1", "mcp__files__stat", {"path": "b"}),
                       tool_use("t2", "mcp__files__stat", {"path": "c"})])
              .results(tool_result("t1", RESULT_BLOCKS, True),
                       tool_result("t2", {"unexpected": "shape"}, True))
              .answer([text("ok")]))
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["status"], i["error"]) for i in items[:2]] == [
        ("failed", "first\nsecond"), ("failed", "tool failed")]


def test_a_file_tool_without_a_string_path_names_no_file(tmp_path: Path) -> None:
    """Claude Code's file tools take `file_path` (NotebookEdit `notebook_path`) as a string;
    anything else names no file (the same rule in the claude-code lane)."""
    claude = (Claude().start("go")
              .answer([tool_use("t1", "Write", {"file_path": 7, "content": "x"}),
                       tool_use("t2", "NotebookEdit", {"notebook_path": f"{CWD}/n.ipynb"})])
              .results(tool_result("t1", "File created successfully at: 7"),
                       tool_result("t2", "Updated cell"))
              .answer([text("ok")]))
    items = completed(run(tmp_path, claude.exchanges))
    assert [i["changes"] for i in items[:2]] == [
        [], [{"path": f"{CWD}/n.ipynb", "kind": "update", "move_path": None}]]


def test_server_web_search_and_its_result(tmp_path: Path) -> None:
    """server_tool_use `web_search` -> web_search item (query from the streamed input), completed
    by web_search_tool_result; an error result object -> failed. Other server tools are
    tool_calls under their own name."""
    claude = Claude().start("weather?").answer([
        server_tool_use("srvtoolu_1", "web_search", {"query": "weather in Zürich"}),
        search_result("srvtoolu_1"),
        server_tool_use("srvtoolu_2", "web_search", {"query": "again"}),
        search_result("srvtoolu_2", error="max_uses_exceeded"),
        server_tool_use("srvtoolu_3", "web_fetch", {"url": "https://example.invalid"}),
        {"type": "web_fetch_tool_result", "tool_use_id": "srvtoolu_3",
         "content": {"type": "web_fetch_result", "url": "https://example.invalid"}},
        text("sunny")])
    items = completed(run(tmp_path, claude.exchanges))
    assert [(i["kind"], i["status"], i.get("query") or i.get("name")) for i in items[:3]] == [
        ("web_search", "completed", "weather in Zürich"), ("web_search", "failed", "again"),
        ("tool_call", "completed", "web_fetch")]
    assert [i.get("results") for i in items[:2]] == [
        [{"url": "https://example.invalid/w", "title": "Zürich weather"}], []]
    assert (items[2]["arguments"], items[2]["result"], items[2]["error"]) == (
        {"url": "https://example.invalid"},
        {"type": "web_fetch_result", "url": "https://example.invalid"}, None)


def _executions() -> list[dict[str, Any]]:
    """One of each code execution server tool, with the result block types the API sends."""
    return [
        server_tool_use("srvtoolu_b", "bash_code_execution", {"command": "ls /nope; echo hi"}),
        {"type": "bash_code_execution_tool_result", "tool_use_id": "srvtoolu_b", "content": {
            "type": "bash_code_execution_result", "stdout": "hi\n",
            "stderr": "ls: cannot access '/nope'\n", "return_code": 2, "content": []}},
        server_tool_use("srvtoolu_c", "bash_code_execution", {"command": "true"}),
        {"type": "bash_code_execution_tool_result", "tool_use_id": "srvtoolu_c", "content": {
            "type": "bash_code_execution_tool_result_error", "error_code": "unavailable"}},
        server_tool_use("srvtoolu_p", "code_execution", {"code": "print(3 * 4)"}),
        {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_p", "content": {
            "type": "code_execution_result", "stdout": "12\n", "stderr": "", "return_code": 0,
            "content": []}},
        server_tool_use("srvtoolu_q", "code_execution", {"code": "1/0"}),
        {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_q", "content": {
            "type": "code_execution_result", "stdout": "", "stderr": "ZeroDivisionError",
            "return_code": 1, "content": []}},
        server_tool_use("srvtoolu_e", "text_editor_code_execution",
                        {"command": "view", "path": "/tmp/a.txt"}),
        {"type": "text_editor_code_execution_tool_result", "tool_use_id": "srvtoolu_e",
         "content": {"type": "text_editor_code_execution_tool_result_error",
                     "error_code": "unavailable", "error_message": "parse error"}},
        text("done")]


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "whole"])
def test_code_execution_server_tools(tmp_path: Path, streamed: bool) -> None:
    """bash_code_execution -> command_execution (exit code, stdout then stderr; non-zero exit or
    an error object fails it, the error code kept); code_execution (Python) and
    text_editor_code_execution -> tool_calls keeping the result object whole (a non-zero return
    code or an error object fails them). Streamed and whole answers read alike."""
    body = plain_body([{"role": "user", "content": "run"}], stream_on=streamed,
                      tools=[{"type": "code_execution_20250825", "name": "code_execution"}])
    items = completed(run(tmp_path, [plain(body, _executions())]))
    bash_ok, bash_err, py_ok, py_err, edit = items[:5]
    assert (bash_ok["kind"], bash_ok["status"], bash_ok["command"], bash_ok["exit_code"],
            bash_ok["output"]) == ("command_execution", "failed", "ls /nope; echo hi", 2,
                                   "hi\nls: cannot access '/nope'\n")
    assert (bash_err["kind"], bash_err["status"], bash_err["exit_code"], bash_err["error"]) == (
        "command_execution", "failed", None, "unavailable")
    assert (py_ok["kind"], py_ok["status"], py_ok["name"], py_ok["arguments"],
            py_ok["result"]["stdout"], py_ok["error"]) == (
        "tool_call", "completed", "code_execution", {"code": "print(3 * 4)"}, "12\n", None)
    assert (py_err["status"], py_err["error"]) == ("failed", "return code 1")
    assert (edit["kind"], edit["status"], edit["name"], edit["error"]) == (
        "tool_call", "failed", "text_editor_code_execution", "unavailable: parse error")
    assert items[5]["text"] == "done"


def test_pause_turn_continuation_completes_the_paused_server_call(tmp_path: Path) -> None:
    """`pause_turn` after a server_tool_use whose result has not come: the client re-sends
    with the paused answer last; the continuation opens with that call's result. One turn, the
    call completed with its hits, usage summed over both calls, the final stop reason kept."""
    asked = [{"role": "user", "content": "news?"}]
    paused = [text("Searching."), server_tool_use("srvtoolu_1", "web_search", {"query": "news"})]
    again = [*asked, {"role": "assistant", "content": [echoed(b) for b in paused]}]
    tools = [{"type": "web_search_20250305", "name": "web_search"}]
    calls = [plain(plain_body(asked, tools=tools), paused, stop="pause_turn"),
             plain(plain_body(again, tools=tools), [search_result("srvtoolu_1"), text("Here.")])]
    events = run(tmp_path, calls)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "web_search:completed", "assistant_message:completed",
                             "turn.completed"]
    search = completed(events)[1]
    assert (search["query"], search["results"]) == (
        "news", [{"url": "https://example.invalid/w", "title": "Zürich weather"}])
    assert (events[-1]["stop_reason"], events[-1]["usage"]["input_tokens"]) == ("end_turn", 30)


def test_pause_turn_never_continued_is_truncated(tmp_path: Path) -> None:
    """A paused answer the recording never continues is not a finished turn."""
    calls = [plain(plain_body([{"role": "user", "content": "news?"}]),
                   [server_tool_use("srvtoolu_1", "web_search", {"query": "news"})],
                   stop="pause_turn")]
    assert shape(run(tmp_path, calls))[-2:] == ["web_search:failed",
                                                "turn.failed:stream_truncated"]


def test_plain_client_mcp_connector(tmp_path: Path) -> None:
    """MCP connector blocks from any client: mcp_tool_use + mcp_tool_result -> mcp_tool_call
    with server, tool, arguments and result."""
    body = plain_body([{"role": "user", "content": "go"}], stream_on=False)
    body["mcp_servers"] = [{"type": "url", "url": "https://mcp.example.invalid", "name": "docs"}]
    items = completed(run(tmp_path, [plain(body, [mcp_use("mcptoolu_1", "docs", "find", {"q": 1}),
                                                  mcp_result("mcptoolu_1", "hit"),
                                                  text("ok")])]))
    assert (items[0]["kind"], items[0]["server"], items[0]["tool"], items[0]["arguments"],
            items[0]["result"], items[0]["status"]) == (
        "mcp_tool_call", "docs", "find", {"q": 1}, [{"type": "text", "text": "hit"}], "completed")


def test_websearch_tool_and_its_nested_search_call(tmp_path: Path) -> None:
    """Claude Code's WebSearch tool runs its own model call offering only the server
    `web_search` tool. That call is the search itself: no side call, no turn; the WebSearch
    item completes from the tool_result in the next conversation request."""
    nested = request_body([{"role": "user", "content": "Perform a web search for the query: "
                                                       "zürich"}],
                          tools=[{"type": "web_search_20250305", "name": "web_search"}])
    claude = Claude().start("search").answer([tool_use("t1", "WebSearch", {"query": "zürich"})])
    claude.side(exchange(nested, frames=stream([
        server_tool_use("srvtoolu_1", "web_search", {"query": "zürich"}),
        search_result("srvtoolu_1"), text("results")], mid="msg_search")))
    claude.results(tool_result("t1", "Web search results for query: \"zürich\"")).answer(
        [text("found")])
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "web_search:completed",
                             "assistant_message:completed", "turn.completed"]
    assert completed(events)[0]["query"] == "zürich"
    assert completed(events)[0]["results"] == [
        {"url": "https://example.invalid/w", "title": "Zürich weather"}]
    assert events[-1]["usage"]["input_tokens"] == 30, "the nested call is not turn usage"


# ------------------------------------------------------------------------------ turns and runs


def test_tool_search_result_with_trailing_text_continues_the_turn(tmp_path: Path) -> None:
    """Quirk: Claude Code appends "Tool loaded." after a ToolSearch tool_result, so the request
    does not END in a tool_result; it still continues the turn. ToolSearch is a noise tool."""
    claude = (Claude().start("go")
              .answer([tool_use("t1", "ToolSearch", {"query": "select:WebSearch"})])
              .results(tool_result("t1", [{"type": "tool_reference", "tool_name": "WebSearch"}]),
                       after="Tool loaded.")
              .answer([text("ok")]))
    events = run(tmp_path, claude.exchanges)
    assert shape(events).count("turn.started") == 1
    assert completed(events)[0]["name"] == "ToolSearch" and "ToolSearch" in LANE.noise_tools


def test_system_role_messages_are_not_prompts(tmp_path: Path) -> None:
    """Quirk: Claude Code injects `role: "system"` messages mid-conversation (environment,
    nudges); a request whose last message is one continues the turn."""
    claude = Claude().start("go").answer([bash("t1", "ls")]).results(tool_result("t1", "a"))
    claude.messages.append({"role": "system", "content": "The user hasn't heard from you."})
    claude.answer([text("ok")])
    assert shape(run(tmp_path, claude.exchanges)).count("turn.started") == 1


def test_max_tokens_continued_by_claude_code_is_one_turn(tmp_path: Path) -> None:
    """After a `max_tokens` stop Claude Code sends its own "Output token limit hit." prompt:
    the turn goes on (turns end lazily, at the next real prompt or end of input)."""
    claude = (Claude().start("go").answer([text("half")], stop="max_tokens")
              .say("Output token limit hit. Resume directly, no apology.")
              .answer([text("rest")]))
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "assistant_message:completed", "turn.completed"]
    assert events[-1]["stop_reason"] == "end_turn"


def test_pause_turn_refusal_and_max_tokens_stop_reasons(tmp_path: Path) -> None:
    """pause_turn: the client re-sends with the partial answer last -> same turn. refusal and
    max_tokens end the turn completed, the raw stop reason kept."""
    paused = Claude(session="s-1").start("a").answer([text("part")], stop="pause_turn")
    paused.answer([text("whole")])
    refused = Claude(session="s-2").start("b").answer([text("no")], stop="refusal")
    capped = Claude(session="s-3").start("c").answer([text("cut")], stop="max_tokens")
    events = run(tmp_path, paused.exchanges + refused.exchanges + capped.exchanges)
    assert shape(events).count("turn.started") == 3
    assert [e["stop_reason"] for e in events if e["type"] == "turn.completed"] == [
        "end_turn", "refusal", "max_tokens"]


def test_tool_results_continue_and_every_prompt_starts_a_run(tmp_path: Path) -> None:
    """Tool results continue a turn; the next prompt is a new run even on the same session id
    (`claude -p` answers one prompt per process; over HTTP a resumed and a continued process
    look alike), resumed from that session since it carries the history."""
    claude = (Claude().start("one").answer([bash("t1", "ls")])
              .results(tool_result("t1", "a.txt")).answer([text("a")])
              .start("two", fresh_process=False).answer([text("b")]))
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:completed",
                             "assistant_message:completed", "turn.completed", "session.started",
                             "turn.started", "assistant_message:completed", "turn.completed"]
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]


def test_non_streaming_fallback_after_a_failed_stream(tmp_path: Path) -> None:
    """Quirk: after an `error` event Claude Code re-sends the same messages without streaming.
    That request is a retry of the conversation call, not a side call: the stream's error is a
    notice, and the fallback's answer (or its own error) decides the turn."""
    failing = Claude().start("go").reply(stream([], error={"type": "api_error",
                                                           "message": "crashed"}))
    body = failing.body(stream_on=False)
    answer = {"id": "msg_fb", "type": "message", "role": "assistant", "model": MODEL,
              "content": [{"type": "text", "text": "fallback ✓"},
                          {"type": "tool_use", "id": "t1", "name": "Bash",
                           "input": {"command": "ls"}}],
              "stop_reason": "tool_use", "stop_sequence": None, "usage": usage()}
    ok = [*failing.exchanges, exchange(body, reply=json.dumps(answer).encode())]
    failing.messages.append({"role": "assistant", "content": answer["content"]})
    failing.results(tool_result("t1", "a")).answer([text("done")])
    events = run(tmp_path, ok + failing.exchanges[1:])
    assert shape(events) == ["session.started", "turn.started", "error:completed",
                             "assistant_message:completed", "command_execution:completed",
                             "assistant_message:completed", "turn.completed"]
    assert completed(events)[1]["text"] == "fallback ✓"
    failed = [failing.exchanges[0], exchange(body, status=500, reply=error_body("api_error",
                                                                                 "crashed"))]
    assert shape(run(tmp_path, failed))[-2:] == ["error:completed", "turn.failed:provider"]


def test_resume_starts_a_new_run(tmp_path: Path) -> None:
    """`claude -p --resume <id>`: same session id, the request carries the first run's history
    and the new process's start reminders -> new session.started, resumed_from = the session."""
    claude = Claude().start("one").answer([text("a")]).start("two").answer([text("b")])
    events = run(tmp_path, claude.exchanges)
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [(SESSION, None),
                                                                       (SESSION, SESSION)]
    assert shape(events).count("turn.completed") == 2


def test_resumed_run_alone_names_its_session(tmp_path: Path) -> None:
    """A cassette holding only the resumed run: its history already has an answer, so the
    single session is resumed from its own session id."""
    first = Claude().start("one").answer([text("a")])
    first.exchanges.clear()
    first.start("two").answer([text("b")])
    [session] = [e for e in run(tmp_path, first.exchanges) if e["type"] == "session.started"]
    assert session["resumed_from"] == SESSION


def test_run_after_runs_that_failed_at_once_is_resumed(tmp_path: Path) -> None:
    """Quirk (silent resume, found by the failure-step round trip): runs that all fail at their
    first call (HTTP 429) leave only prompts in the history, no answer, yet the next run on the
    same session id is resumed from that session."""
    claude = (Claude().start("one").http_error(429, "rate_limit_error")
              .start("two").http_error(429, "rate_limit_error"))
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "turn.failed:rate_limit"] * 2
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [(SESSION, None),
                                                                       (SESSION, SESSION)]


def test_prompt_merged_after_a_failed_turns_results_starts_a_run(tmp_path: Path) -> None:
    """Quirk (prompt after results, found by the failure-step round trip): run 0 fails at the
    call carrying its Bash result; Claude Code merges run 1's prompt into that tool_result
    message (adjacent user messages merge). The turn those results belong to has ended, so the
    text after them is a new prompt: a new, resumed run, not the failed turn going on."""
    claude = (Claude().start("one").answer([bash("t1", "true")])
              .results(tool_result("t1", "ok")).http_error(429, "rate_limit_error"))
    claude.messages[-1]["content"].append({"type": "text", "text": "two"})
    claude.http_error(429, "rate_limit_error")
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:completed",
                             "turn.failed:rate_limit", "session.started", "turn.started",
                             "turn.failed:rate_limit"]
    assert [e["resumed_from"] for e in events if e["type"] == "session.started"] == [
        None, SESSION]


def test_other_session_is_a_new_unresumed_run(tmp_path: Path) -> None:
    a = Claude(session="s-a").start("one").answer([text("a")])
    b = Claude(session="s-b").start("two").answer([text("b")])
    sessions = [e for e in run(tmp_path, a.exchanges + b.exchanges)
                if e["type"] == "session.started"]
    assert [(s["thread_id"], s["resumed_from"]) for s in sessions] == [("s-a", None),
                                                                       ("s-b", None)]


def test_context_fields_come_from_run_context_first(tmp_path: Path) -> None:
    ctx = RunContext(cwd="{workspace}", sandbox="workspace-write", approval_policy="never",
                     auth_mode="api_key", runtime_version="2.1.328")
    path = write(tmp_path / "c.yaml", Claude().start("hi").answer([text("x")]).exchanges)
    session = normalize_file(path, context=ctx)[0]
    assert (session["cwd"], session["sandbox"], session["approval_policy"],
            session["auth_mode"], session["runtime"]["version"]) == (
        "{workspace}", "workspace-write", "never", "api_key", "2.1.328")


def test_a_run_the_context_says_was_resumed_names_that_session(tmp_path: Path) -> None:
    """A cassette of a resumed run alone cannot always show it was resumed: the recorder's
    `resumed_from` names the earlier session on the log's first session.started only."""
    claude = Claude().start("one").answer([text("a")])
    claude.exchanges.extend(Claude(session="s-b").start("two").answer([text("b")]).exchanges)
    path = write(tmp_path / "c.yaml", claude.exchanges)
    events = normalize_file(path, context=RunContext(resumed_from="earlier-session"))
    assert [e["resumed_from"] for e in events if e["type"] == "session.started"] == [
        "earlier-session", None]


def test_the_empty_output_placeholder_rule_clears_only_the_placeholder() -> None:
    """`claude.empty-output-placeholder`: Claude Code's stand-in for a silent command is no
    output; a command that printed those words among others did print them, and clearing
    that output would hide a changed output from the comparison."""
    [(name, rule)] = LANE.output_rules
    assert name == "claude.empty-output-placeholder"
    assert rule(la.EMPTY_BASH_OUTPUT + "\n") == ""
    printed = f"echo {la.EMPTY_BASH_OUTPUT}\n{la.EMPTY_BASH_OUTPUT}\n"
    assert rule(printed) == printed


# ------------------------------------------------------------------------------ side calls


def _side_query(*, stream_on: bool = False, model: str = "claude-haiku-4-5",
                system: str = "Answer in three words.") -> Exchange:
    """A Claude Code side query: its markers, other messages, no tools; the prompt words name no
    title or summary (the lane must not need them)."""
    body = request_body([{"role": "user", "content": "go"}], model=model, stream_on=stream_on,
                        tools=[])
    body["system"] = [body["system"][0], {"type": "text", "text": system}]
    if stream_on:
        return exchange(body, frames=stream([text("no")], model=model, mid="msg_h"))
    return exchange(body, reply=whole([text("Listing files")], model=model, mid="msg_t"))


def test_side_calls_are_kept_apart(tmp_path: Path) -> None:
    """count_tokens, a non-streaming Claude Code side query and a streaming one offering no
    tools on another model never form turns: each is one completed `side_call.<kind>`
    tool_call (a noise tool) with its answer, and none counts toward turn usage. One made
    before the first turn is held into it."""
    count = exchange(request_body([{"role": "user", "content": "go"}]),
                     path="/v1/messages/count_tokens", reply=b'{"input_tokens": 42}')
    claude = Claude().side(count).start("go").answer([bash("t1", "ls")])
    claude.side(_side_query()).side(_side_query(stream_on=True, model="claude-opus-4-1"))
    claude.results(tool_result("t1", "a")).answer([text("ok")])
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "tool_call:completed",
                             "tool_call:completed", "tool_call:completed",
                             "command_execution:completed", "assistant_message:completed",
                             "turn.completed"]
    sides = completed(events)[:3]
    assert [(s["name"], s["result"]) for s in sides] == [
        ("side_call.count_tokens", {"input_tokens": 42}), ("side_call.side_query", "Listing files"),
        ("side_call.side_query", "no")]
    assert all(s["name"] in LANE.noise_tools for s in sides)
    assert events[-1]["usage"]["input_tokens"] == 30


@pytest.mark.parametrize("system", ["Generate a concise title for this session.",
                                    "Summarize this conversation.", "Is this a new topic?"])
def test_side_query_words_do_not_decide(tmp_path: Path, system: str) -> None:
    """The words that used to name side queries (title, summar, topic) neither make a side call
    nor name its kind: the same structure gives the same `side_query`."""
    claude = Claude().start("go").answer([bash("t1", "ls")]).side(_side_query(system=system))
    events = run(tmp_path, claude.results(tool_result("t1", "a")).answer([text("ok")]).exchanges)
    assert [i["name"] for i in completed(events) if i["kind"] == "tool_call"] == [
        "side_call.side_query"]


def test_claude_code_streaming_call_with_tools_on_another_model_is_conversation(
        tmp_path: Path) -> None:
    """A model name never makes a side call: a Claude Code streaming request on another (even a
    haiku) model that offers its tools is a conversation call (here a new prompt: a new run)."""
    first = Claude().start("go").answer([text("one")])
    other = Claude(session="s-2").start("again")
    other.exchanges.append(exchange(other.body(model="claude-haiku-4-5"),
                                    frames=stream([text("two")], model="claude-haiku-4-5")))
    events = run(tmp_path, first.exchanges + other.exchanges)
    assert shape(events).count("session.started") == 2
    assert [i["text"] for i in completed(events)] == ["one", "two"]
    assert events[-1]["type"] == "turn.completed"


def test_unrecognised_and_trailing_side_calls_are_unknown_items(tmp_path: Path) -> None:
    """A request on another path is kept whole as an `unknown` side_call; a recognised side
    call with no turn after it ends as an `unknown` item (items live inside turns)."""
    other = exchange(b"{}", path="/v1/models", reply=b'{"data": []}', query="")
    events = run(tmp_path, [other, _side_query()])
    assert [(i["kind"], i["native_type"]) for i in completed(events)] == [
        ("unknown", "side_call"), ("unknown", "side_call")]
    assert completed(events)[0]["payload"]["path"] == "/v1/models"
    assert completed(events)[1]["payload"]["name"] == "side_call.side_query"


# ------------------------------------------------------------------------------ any client

MARKED: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "x-app header": ({"x-app": "cli"}, {}),
    "user agent": ({"user-agent": "claude-cli/2.1.328 (external, sdk-cli)"}, {}),
    "beta header": ({"anthropic-beta": "oauth-2025-04-20,claude-code-20250219"}, {}),
    "session header": ({"x-claude-code-session-id": SESSION}, {}),
    "billing header": ({}, {"system": [{"type": "text", "text": "x-anthropic-billing-header: "
                                                                "cc_version=2.1.328.b7f;"}]}),
    "identity line": ({}, {"system": "You are Claude Code, Anthropic's official CLI for Claude."}),
    "agent sdk identity": ({}, {"system": [{"type": "text", "text": "You are a Claude agent, "
                                            "built on Anthropic's Claude Agent SDK."}]}),
    "user_id object": ({}, {"metadata": {"user_id": user_id(SESSION)}}),
    "user_id string": ({}, {"metadata": {
        "user_id": f"user_{'a' * 64}_account__session_{SESSION}"}}),
}
UNMARKED: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "plain sdk": ({"user-agent": "Anthropic/Python 0.69.0", "x-stainless-lang": "python"}, {}),
    "other beta": ({"anthropic-beta": "prompt-caching-2024-07-31,web-fetch-2025-09-10"}, {}),
    "haiku and title words": ({}, {"model": "claude-haiku-4-5", "system": "Generate a title; "
                                   "summarize the topic. Claude Code wrote this prompt."}),
    "identity quoted later": ({}, {"system": "Pretend: You are Claude Code, Anthropic's "
                                             "official CLI for Claude."}),
    "free user_id": ({}, {"metadata": {"user_id": "user-123"}}),
    "user_id object without device": ({}, {"metadata": {"user_id": '{"session_id": "s"}'}}),
}


def _sent(headers: dict[str, str], extra: dict[str, Any]) -> tuple[Interaction, dict[str, Any]]:
    """A plain request plus one header or body change, as the lane reads it."""
    body = {**plain_body([{"role": "user", "content": "hi"}]), **extra}
    request = HttpRequest("POST", "http://127.0.0.1:8080/v1/messages",
                          {"content-type": "application/json", **headers},
                          json.dumps(body).encode())
    return Interaction(request, HttpResponse(200, {}, b"")), body


@pytest.mark.parametrize("name", sorted(MARKED))
def test_claude_code_is_told_by_its_own_markers(name: str) -> None:
    """Each marker alone says Claude Code sent the request."""
    assert la.claude_code_sent(*_sent(*MARKED[name]))


@pytest.mark.parametrize("name", sorted(UNMARKED))
def test_model_names_and_prompt_words_are_no_marker(name: str) -> None:
    """A model name, words anywhere in a prompt, another beta, a free-form user id: none says
    Claude Code sent the request."""
    assert not la.claude_code_sent(*_sent(*UNMARKED[name]))


def test_catalog_requests_all_carry_markers() -> None:
    """Every request of the catalog's Claude Code recordings says it is Claude Code's (so its
    runtime readings keep applying there)."""
    recorded = sorted(CASSETTES.glob("*/claude.http.yaml"))
    assert recorded
    for path in recorded:
        for interaction in read_http_cassette(path):
            body = json.loads(interaction.request.body) if interaction.request.body else None
            assert la.claude_code_sent(interaction, body), (path, interaction.line)


def test_plain_client_calls_are_conversation_whatever_the_model_or_words(
        tmp_path: Path) -> None:
    """A plain SDK client's non-streaming call with title/summary words on a haiku model, then
    a streaming call on another model with no tools: both are the conversation (turns with
    their answers and usage), not side calls."""
    first = [{"role": "user", "content": "Summarize: the sky is blue."}]
    second = [*first, {"role": "assistant", "content": "Sky: blue."},
              {"role": "user", "content": "Now a title for it."}]
    calls = [plain(plain_body(first, stream_on=False, system="Generate a title."),
                   [text("Sky: blue.")]),
             plain(plain_body(second, model=MODEL), [text("Blue Sky")])]
    events = run(tmp_path, calls)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "turn.completed", "turn.started", "assistant_message:completed",
                             "turn.completed"]
    assert [i["text"] for i in completed(events)] == ["Sky: blue.", "Blue Sky"]
    assert all(e["usage"]["input_tokens"] == 15 for e in events if e["type"] == "turn.completed")


def test_plain_client_conversation_runs_and_context(tmp_path: Path) -> None:
    """A plain client: a prompt carrying earlier answers is the next turn of the same run; one
    without history starts a new run. No Claude Code readings: no thread from user_id, no cwd
    from prompt words, no resume."""
    first = [{"role": "user", "content": "Primary working directory: /home/x\nhello"}]
    second = [*first, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "more"}]
    body = plain_body(first)
    body["metadata"] = {"user_id": "user-123"}
    calls = [plain(body, [text("hi")]), plain(plain_body(second), [text("more!")]),
             plain(plain_body([{"role": "user", "content": "fresh"}]), [text("new")])]
    events = run(tmp_path, calls)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "turn.completed", "turn.started", "assistant_message:completed",
                             "turn.completed", "session.started", "turn.started",
                             "assistant_message:completed", "turn.completed"]
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(e["thread_id"], e["cwd"], e["resumed_from"]) for e in sessions] == [
        (None, None, None), (None, None, None)]


def test_plain_client_tools_are_tool_calls(tmp_path: Path) -> None:
    """Claude Code's tool table, MCP naming and refusal words are Claude Code's: a plain
    client's `Bash`, `Write` and `mcp__a__b` tools are tool_calls with their own arguments and
    results; an error result fails the call (never `declined`)."""
    tools = [{"name": n, "input_schema": {"type": "object"}}
             for n in ("Bash", "Write", "mcp__a__b")]
    uses = [bash("t1", "ls"), tool_use("t2", "Write", {"file_path": "/x", "content": ""}),
            tool_use("t3", "mcp__a__b", {"q": 1})]
    asked = [{"role": "user", "content": "go"}]
    answered = [*asked, {"role": "assistant", "content": [echoed(u) for u in uses]},
                {"role": "user", "content": [
                    tool_result("t1", "Exit code 3\nboom", is_error=True),
                    tool_result("t2", "you haven't granted it yet.", is_error=True),
                    tool_result("t3", [{"type": "text", "text": "ok"}])]}]
    calls = [plain(plain_body(asked, tools=tools), uses),
             plain(plain_body(answered, tools=tools), [text("done")])]
    items = completed(run(tmp_path, calls))
    assert [(i["kind"], i["status"], i["name"], i["arguments"], i["result"], i["error"])
            for i in items[:3]] == [
        ("tool_call", "failed", "Bash", {"command": "ls", "description": "run it"},
         "Exit code 3\nboom", "Exit code 3\nboom"),
        ("tool_call", "failed", "Write", {"file_path": "/x", "content": ""},
         "you haven't granted it yet.", "you haven't granted it yet."),
        ("tool_call", "completed", "mcp__a__b", {"q": 1}, [{"type": "text", "text": "ok"}], None)]


def test_plain_client_output_limit_words_are_a_prompt(tmp_path: Path) -> None:
    """Claude Code's continuation prompt ("Output token limit hit.") continues its turn; the
    same words from another client are a new prompt (a new turn)."""
    asked = [{"role": "user", "content": "go"}]
    again = [*asked, {"role": "assistant", "content": "cut"},
             {"role": "user", "content": "Output token limit hit. Resume."}]
    calls = [plain(plain_body(asked), [text("cut")], stop="max_tokens"),
             plain(plain_body(again), [text("rest")])]
    assert shape(run(tmp_path, calls)).count("turn.started") == 2


def test_non_streamed_answers_are_read_fully(tmp_path: Path) -> None:
    """A whole JSON message (`stream` false) gives what its stream would: thinking, redacted
    thinking, cited text, a tool call completed by the next request, the stop reason and every
    usage count (cache writes included)."""
    cite = {"type": "web_search_result_location", "url": "https://example.invalid/a",
            "title": "A", "encrypted_index": "e", "cited_text": "a fact"}
    use = usage(inp=7, out=3, read=2, write=5, thinking_tokens=None)
    asked = [{"role": "user", "content": "go"}]
    blocks = [thinking("hm"), redacted(), text("A fact.", citations=[cite]),
              tool_use("t1", "lookup", {"k": "v"})]
    answered = [*asked, {"role": "assistant", "content": [echoed(b) for b in blocks]},
                {"role": "user", "content": [tool_result("t1", "42")]}]
    calls = [plain(plain_body(asked, stream_on=False), blocks, use=use),
             plain(plain_body(answered, stream_on=False), [text("42.")], use=use)]
    events = run(tmp_path, calls)
    items = completed(events)
    assert [(i["kind"], i.get("text"), i.get("encrypted")) for i in items] == [
        ("reasoning", "hm", False), ("reasoning", "", True), ("assistant_message", "A fact.", None),
        ("tool_call", None, None), ("assistant_message", "42.", None)]
    assert items[2]["citations"] == [
        {"url": "https://example.invalid/a", "title": "A", "cited_text": "a fact"}]
    assert (items[3]["name"], items[3]["arguments"], items[3]["result"]) == (
        "lookup", {"k": "v"}, "42")
    assert events[-1]["stop_reason"] == "end_turn"
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 28, "cached_input_tokens": 4,
                                   "cache_write_input_tokens": 10, "output_tokens": 6,
                                   "reasoning_tokens": None}


def test_cache_writes_unreported_stay_null(tmp_path: Path) -> None:
    """A call that reports no `cache_creation_input_tokens` reports no cache writes (null)."""
    use = {"input_tokens": 4, "output_tokens": 2}
    calls = [plain(plain_body([{"role": "user", "content": "hi"}]), [text("x")], use=use)]
    usage_of = run(tmp_path, calls)[-1]["usage"]
    assert (usage_of["input_tokens"], usage_of["cache_write_input_tokens"]) == (4, None)


# ------------------------------------------------------------------------------ failures


@pytest.mark.parametrize(("status", "kind", "retryable"), [
    (429, "rate_limit", True), (401, "auth", False), (403, "auth", False),
    (500, "provider", True), (529, "provider", True), (400, "provider", True),
    (404, "provider", True), (408, "network", True), (418, "unknown", False)])
def test_http_error_status_fails_the_turn(tmp_path: Path, status: int, kind: str,
                                          retryable: bool) -> None:
    """The SDK raises APIStatusError; the lane maps status_code through the core's one table
    (`harness.contract.model.HTTP_STATUS_KINDS`)."""
    events = run(tmp_path, Claude().start("go").http_error(status, "overloaded_error").exchanges)
    assert shape(events) == ["session.started", "turn.started", f"turn.failed:{kind}"]
    assert events[-1]["error"]["retryable"] is retryable
    assert events[-1]["error"]["message"] == f"HTTP {status}: overloaded_error happened"


@pytest.mark.parametrize(("etype", "kind"), [("overloaded_error", "provider"),
                                             ("rate_limit_error", "rate_limit"),
                                             ("authentication_error", "auth")])
def test_error_event_mid_stream(tmp_path: Path, etype: str, kind: str) -> None:
    """Quirk: the SDK turns an `error` SSE event into APIStatusError with the stream's HTTP
    status (200); the kind comes from `error.type`. Text streamed before it ends failed."""
    cut = stream([text("partial")])[:4]  # message_start, ping, block start, first delta
    claude = Claude().start("go").reply([*cut, frame("error", error={"type": etype,
                                                                     "message": "busy"})])
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:failed",
                             f"turn.failed:{kind}"]
    assert completed(events)[0]["text"] == "partial"[:3]
    assert events[-1]["error"]["message"] == "busy"


def test_retried_call_continues_the_turn(tmp_path: Path) -> None:
    """Claude Code retries a failed call with the same messages: the failure is a non-fatal
    `error` notice and the turn goes on with the retried answer."""
    claude = Claude().start("go").http_error(529, "overloaded_error").answer([text("ok")])
    events = run(tmp_path, claude.exchanges)
    assert shape(events) == ["session.started", "turn.started", "error:completed",
                             "assistant_message:completed", "turn.completed"]


def test_stream_cut_truncates_the_turn(tmp_path: Path) -> None:
    events = run(tmp_path, Claude().start("go").reply(stream([text("half")])[:4]).exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:failed",
                             "turn.failed:stream_truncated"]


def test_call_without_result_fails_at_turn_end(tmp_path: Path) -> None:
    """The recording stops after an answer with a tool_use: the result never arrives, so the
    call stays in progress and the builder fails it when the truncated turn closes."""
    events = run(tmp_path, Claude().start("go").answer([bash("t1", "sleep 9")]).exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:failed",
                             "turn.failed:stream_truncated"]


# ------------------------------------------------------------------------------ unknowns/errors


def test_unknown_event_block_and_delta_are_kept(tmp_path: Path) -> None:
    """Quirk: the SDK builds unknown events, blocks and deltas leniently as *some* known class
    carrying the foreign `type`; the lane dispatches on the type string, so each becomes an
    `unknown` item with its whole payload."""
    frames = stream([text("hi")])
    odd = [frame("brand_new", detail={"x": 1}),
           frame("content_block_start", index=5, content_block={"type": "hologram", "beam": 1}),
           frame("content_block_delta", index=5, delta={"type": "beam_delta", "q": 2}),
           frame("content_block_stop", index=5)]
    events = run(tmp_path, Claude().start("go").reply([*frames[:2], *odd, *frames[2:]]).exchanges)
    unknown = [(i["native_type"], i["payload"]) for i in completed(events)
               if i["kind"] == "unknown"]
    assert unknown == [("brand_new", {"type": "brand_new", "detail": {"x": 1}}),
                       ("hologram", {"type": "hologram", "beam": 1,
                                     "deltas": [{"type": "beam_delta", "q": 2}]})]


def test_data_only_frames_are_dropped_by_the_sdk(tmp_path: Path) -> None:
    """Quirk: the SDK skips an SSE frame without an `event:` line before the lane sees it;
    the message still completes from the framed events."""
    frames = stream([text("hi")])
    bare = b'data: {"type": "content_block_delta", "index": 0, ' \
           b'"delta": {"type": "text_delta", "text": "LOST"}}\n\n'
    events = run(tmp_path, Claude().start("go").reply([*frames[:4], bare, *frames[4:]]).exchanges)
    assert completed(events)[0]["text"] == "hi"


def test_request_body_not_json(tmp_path: Path) -> None:
    """Strict: a FrameError naming the file and the interaction index (as `line`). Lenient: an
    `error` item, and later interactions still replay in their recorded order."""
    good = Claude().start("go").answer([text("ok")]).exchanges
    path = write(tmp_path / "c.yaml", [exchange(b"not json", frames=stream([])), *good])
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert info.value.source == str(path) and info.value.line == 2
    events = normalize_file(path, lenient=True)
    assert_well_formed(events)
    assert shape(events) == ["error:completed", "unknown:completed", "session.started",
                             "turn.started", "assistant_message:completed", "turn.completed"]


DEEP = b"[" * 3000 + b"]" * 3000
"""SSE data nested deeper than Python's JSON reader goes (RecursionError, not ValueError)."""


@pytest.mark.parametrize("data", [b"{oops", DEEP], ids=["not_json", "nested_3000_deep"])
def test_sse_data_the_sdk_cannot_parse(tmp_path: Path, data: bytes) -> None:
    """Data that is not JSON, or too deep to read, is a malformed frame of its interaction."""
    frames = [*stream([text("ok")])[:3], b"event: content_block_delta\ndata: " + data + b"\n\n"]
    path = write(tmp_path / "c.yaml", Claude().start("go").reply(frames).exchanges)
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert info.value.line == 2 and "SSE" in info.value.reason
    lenient = normalize_file(path, lenient=True)
    assert_well_formed(lenient)
    assert shape(lenient)[-3:] == ["error:completed", "unknown:completed",
                                   "turn.failed:stream_truncated"]


@pytest.mark.parametrize("sample", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_cassettes_strict_and_lenient(sample: Path) -> None:
    """The shared bad-cassette corpus, each sample's outcome pinned: strict either reads it
    into a well-formed log (`READ_IN_STRICT`) or raises an InputError naming the file; lenient
    never raises and gives a well-formed log. A sample moving from one outcome to the other
    fails here, so neither direction can change unnoticed."""
    if sample.stem in READ_IN_STRICT:
        assert_well_formed(normalize_file(sample))
    else:
        with pytest.raises(InputError) as info:
            normalize_file(sample)
        assert str(sample) in str(info.value)
    assert_well_formed(normalize_file(sample, lenient=True))


def test_stream_only_input_is_copied_for_replay(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", Claude().start("go").answer([text("ok")]).exchanges)
    events = list(LANE.normalize(LaneInput(stream=io.BytesIO(path.read_bytes()), name="mem"),
                                 RunContext()))
    assert [e.type for e in events][-1] == "turn.completed"


def test_foreign_vcrpy_cassettes_json_and_gzip(tmp_path: Path) -> None:
    """Cassettes recorded by other tools: vcrpy's JSON serializer, gzip-encoded bodies, no
    Claude Code metadata. They normalize like ours (thread unknown, one run)."""
    body = request_body([{"role": "user", "content": "hi"}], session=None, tools=[])
    sse = b"".join(stream([text("hello ✓")]))
    doc = {"version": 1, "interactions": [{
        "request": {"method": "POST", "uri": "https://api.example.invalid/v1/messages",
                    "body": json.dumps(body), "headers": {"content-type": ["application/json"]}},
        "response": {"status": {"code": 200, "message": "OK"},
                     "headers": {"content-type": ["text/event-stream"],
                                 "content-encoding": ["gzip"]},
                     "body": {"string": gzip.compress(sse).decode("latin-1")}}}]}
    as_json = tmp_path / "foreign.json"
    as_json.write_text(json.dumps(doc))
    yaml_doc = json.loads(json.dumps(doc))
    yaml_doc["interactions"][0]["response"]["body"]["string"] = gzip.compress(sse)
    as_yaml = tmp_path / "foreign.yaml"
    as_yaml.write_text(yaml.dump(yaml_doc))
    for path in (as_yaml,):
        events = normalize_file(path)
        assert_well_formed(events)
        assert completed(events)[0]["text"] == "hello ✓"
        assert events[0]["thread_id"] is None
    assert normalize_file(as_json, lenient=True)[0]["type"] in {"item.completed",
                                                               "session.started"}


def test_sdk_resends_the_recorded_body_unchanged() -> None:
    """Claude Code's keys the SDK has no parameter for go as extra_body, and `system`-role
    messages pass untouched, so the SDK sends the recorded request, byte-for-meaning."""
    body = Claude().start("go").body()
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, headers=SSE, content=b"".join(stream([text("x")])))

    client = Anthropic(base_url="http://replay.invalid", api_key="replay", max_retries=0,
                       http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    list(client.beta.messages.create(**sdk_kwargs(body, la._CREATE_PARAMS, stream=True)))
    assert json.loads(sent[0].content) == body
    assert sent[0].url.path == "/v1/messages"


# ------------------------------------------------------------------------------ re-chunking


def _chunked_client(chunks_for: list[list[bytes]]) -> la.ClientFor:
    """An SDK client whose n-th request is answered by the n-th chunk list, streamed."""
    answers = iter(chunks_for)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=SSE, content=iter(next(answers)))

    def client_for(_: Any) -> Anthropic:
        return Anthropic(base_url="http://replay.invalid", api_key="replay", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))

    return client_for


_RECHUNK = (Claude().start("go")
            .answer([thinking("denke über Größe nach ✓"), bash("t1", "echo ünï")])
            .results(tool_result("t1", "ünï"))
            .answer([text("fertig: 日本語 ✓ — ok")]))
_RECHUNK_PATH = Path(tempfile.mkdtemp(prefix="anthropic-rechunk-")) / "c.yaml"
write(_RECHUNK_PATH, _RECHUNK.exchanges)
_RECHUNK_INTERACTIONS = read_http_cassette(_RECHUNK_PATH)


def _normalize_chunks(chunks_for: list[list[bytes]]) -> list[dict[str, Any]]:
    events = la.normalize_interactions(_RECHUNK_INTERACTIONS, RunContext(), source="mem",
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
    assert via_vcr == _normalize_chunks([[i.response.body] for i in _RECHUNK_INTERACTIONS])


# ------------------------------------------------------------------------------ checked-in data


def _reference_cassettes() -> dict[str, list[Exchange]]:
    """The reviewable cassettes under tests/data/anthropic/ (regenerate: run this module)."""
    tools = (Claude().start("run it")
             .answer([thinking("plan the work"), bash("toolu_1", "echo hi; exit 3")])
             .results(tool_result("toolu_1", "Exit code 3\nhi", is_error=True))
             .answer([tool_use("toolu_2", "Write", {"file_path": f"{CWD}/a.txt",
                                                    "content": "hi\n"})])
             .results(tool_result("toolu_2", f"File created successfully at: {CWD}/a.txt"))
             .answer([text("done ✓")]))
    resume = Claude().start("first").answer([text("one")]).start("second").answer([text("two")])
    denied = (Claude().start("go")
              .answer([tool_use("toolu_1", "Write", {"file_path": "/outside/x", "content": ""})])
              .results(tool_result("toolu_1", "Claude requested permissions to write to "
                                              "/outside/x, but you haven't granted it yet.",
                                   is_error=True))
              .answer([text("I was not allowed.")]))
    failure = Claude().start("go").http_error(529, "overloaded_error")
    return {"tool_rebuild": tools.exchanges, "resume": resume.exchanges,
            "permission_denied": denied.exchanges, "http_529": failure.exchanges}


REFERENCE_SHAPES = {
    "tool_rebuild": ["session.started", "turn.started", "reasoning:completed",
                     "command_execution:failed", "file_change:completed",
                     "assistant_message:completed", "turn.completed"],
    "resume": ["session.started", "turn.started", "assistant_message:completed",
               "turn.completed", "session.started", "turn.started",
               "assistant_message:completed", "turn.completed"],
    "permission_denied": ["session.started", "turn.started", "file_change:declined",
                          "assistant_message:completed", "turn.completed"],
    "http_529": ["session.started", "turn.started", "turn.failed:provider"],
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
    """Every recorded Claude Code cassette normalizes strictly, is well formed, and matches the
    scenario's outline for this lane (expect.lanes['anthropic'] or expect.turns; the lane's
    plumbing tools left out). With no recordings yet this checks nothing."""
    problems = lanekit.recording_problems(LANE)
    assert problems == {}, json.dumps(problems, indent=2)


if __name__ == "__main__":  # regenerate the reference cassettes
    DATA.mkdir(parents=True, exist_ok=True)
    for cassette_name, cassette_exchanges in _reference_cassettes().items():
        write(DATA / f"{cassette_name}.http.yaml", cassette_exchanges)
