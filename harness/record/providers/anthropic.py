"""Anthropic Messages API: wire encoder (scenario step -> SSE) and the stub responder for it.

The encoder turns a scenario step into what a Claude model would stream over
`POST /v1/messages` (`stream: true`): `message_start`, `ping`, per content block
`content_block_start` / `content_block_delta` (`text_delta`, `thinking_delta` + `signature_delta`,
`input_json_delta`) / `content_block_stop`, then `message_delta` (stop_reason, usage) and
`message_stop`. Failures are HTTP statuses with Anthropic's error body, or an `error` event after
the stream has started.

Scenario blocks become Claude Code's own tools: shell -> `Bash`, patch -> `Write` (add) / `Edit`
(update) / `Bash rm` (delete), plan -> `TodoWrite`, MCP -> `mcp__<server>__<tool>`, web search ->
`WebSearch`. Claude Code (2.1.328, 2.1.332) defers some tools (MCP tools, TodoWrite, WebSearch):
their schemas are only sent after the model loads them with `ToolSearch` (`select:<name>`), and
`Edit` refuses a file that was not `Read` first. So one scenario step may expand into two model
messages: a *preparation* message (ToolSearch and Read calls) and the step's own message.

The responder picks the answer from request content only (never call order, so retries and side
calls cannot shift the script): the run is the one whose prompt is in the latest user text
(`harness.scenario.find_run`), the message within the run is found by how many `tool_result`
blocks follow that prompt. Requests that are not conversation (count_tokens, non-streaming side
calls, WebSearch's nested server-side search) get plausible answers that do not advance the
script. Each conversation request is checked (key in `x-api-key`, every tool_use answered by a
tool_result, earlier runs' prompts present after a resume); a mismatch raises `RequestMismatch`,
which the stub records as a problem of the recording.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.record.stub import StubReply, StubRequest, sse_event
from harness.scenario import (
    Block,
    FailStep,
    FailureSpec,
    McpBlock,
    PatchBlock,
    PlanBlock,
    ReasoningBlock,
    Scenario,
    ShellBlock,
    Step,
    TextBlock,
    WebSearchBlock,
    find_run,
)

DUMMY_API_KEY = "dummy-key-for-stub"
"""The key drivers hand Claude Code; never a real-looking one."""

SSE_HEADERS: dict[str, str] = {"content-type": "text/event-stream", "cache-control": "no-cache"}
JSON_HEADERS: dict[str, str] = {"content-type": "application/json"}

HTTP_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
"""HTTP status -> Anthropic `error.type` (any other status is `api_error`)."""

STREAM_ERROR_TYPES: dict[str, str] = {
    "server_error": "api_error",
    "api_error": "api_error",
    "overloaded": "overloaded_error",
    "overloaded_error": "overloaded_error",
    "rate_limit_exceeded": "rate_limit_error",
    "rate_limit_error": "rate_limit_error",
}
"""Scenario `stream_error` code -> `error.type` of the mid-stream `error` event."""

TODO_STATUS_VERB = "Working on"
DEFERRED_TOOLS = frozenset({"TodoWrite", "WebSearch"})
"""Built-in tools Claude Code (2.1.328, 2.1.332) offers only after a ToolSearch (MCP tools too)."""

MCP_PREFIX = "mcp__"
_CWD = re.compile(r'Primary working directory: ([^\s"\\]+)')


class RequestMismatch(Exception):  # noqa: N818 -- reads as what it reports
    """A request the runtime sent does not carry what the script requires (readable diff)."""


# ====================================================================================== encoder


@dataclass(frozen=True)
class WireMessage:
    """One model answer: final content blocks (tool inputs as objects) and its stop reason."""

    message_id: str
    blocks: tuple[dict[str, Any], ...]

    @property
    def tool_use_ids(self) -> tuple[str, ...]:
        return tuple(b["id"] for b in self.blocks if b["type"] == "tool_use")

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tool_use_ids else "end_turn"


@dataclass(frozen=True)
class WireFailure:
    """The model call fails (HTTP status or mid-stream error event)."""

    message_id: str
    failure: FailureSpec


WireAnswer = WireMessage | WireFailure


@dataclass
class _Expansion:
    """Blocks of one step split into the preparation message and the step's own message."""

    prefix: str
    loads: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)
    split: bool = False

    def tool_use(self, name: str, payload: dict[str, Any]) -> None:
        tool_id = f"toolu_{self.prefix}_{len(self.blocks)}"
        self.blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": payload})

    def content(self, block: dict[str, Any]) -> None:
        """Text and thinking; after a WebSearch they belong to the answer to its result."""
        (self.after if self.split else self.blocks).append(block)


def _path(cwd: str | None, rel: str) -> str:
    """Claude Code's file tools take absolute paths; scenario paths are relative to cwd."""
    if rel.startswith("/") or cwd is None:
        return rel
    return f"{cwd.rstrip('/')}/{rel}"


def _signature(text: str) -> str:
    """A stable opaque signature (Claude Code echoes it back, never checks it)."""
    return "sig_" + "".join(f"{ord(c) % 251:02x}" for c in text[:24]) + f"_{len(text)}"


def _add_block(exp: _Expansion, block: Block, cwd: str | None) -> None:
    if isinstance(block, TextBlock):
        exp.content({"type": "text", "text": block.text})
    elif isinstance(block, ReasoningBlock):
        spec = block.reasoning
        if spec.encrypted:
            exp.content({"type": "redacted_thinking", "data": "redacted_" + _signature(spec.text)})
        else:
            exp.content({"type": "thinking", "thinking": spec.text,
                         "signature": _signature(spec.text)})
    elif isinstance(block, ShellBlock):
        payload: dict[str, Any] = {"command": block.shell.command,
                                   "description": f"Run {block.shell.command[:40]}"}
        if block.shell.timeout_ms is not None:
            payload["timeout"] = block.shell.timeout_ms
        exp.tool_use("Bash", payload)
    elif isinstance(block, PatchBlock):
        _add_patch(exp, block, cwd)
    elif isinstance(block, McpBlock):
        name = f"{MCP_PREFIX}{block.mcp.server}__{block.mcp.tool}"
        exp.loads.append(name)
        exp.tool_use(name, dict(block.mcp.arguments))
    elif isinstance(block, PlanBlock):
        exp.loads.append("TodoWrite")
        todos = [{"content": e.text, "status": e.status,
                  "activeForm": f"{TODO_STATUS_VERB} {e.text[:1].lower()}{e.text[1:]}"}
                 for e in block.plan]
        exp.tool_use("TodoWrite", {"todos": todos})
    elif isinstance(block, WebSearchBlock):
        exp.loads.append("WebSearch")
        exp.tool_use("WebSearch", {"query": block.web_search.query})
        exp.split = True


def _add_patch(exp: _Expansion, block: PatchBlock, cwd: str | None) -> None:
    for add in block.patch.add:
        exp.tool_use("Write", {"file_path": _path(cwd, add.path), "content": add.content})
    for upd in block.patch.update:
        exp.reads.append(_path(cwd, upd.path))
        exp.tool_use("Edit", {"file_path": _path(cwd, upd.path), "old_string": upd.old,
                              "new_string": upd.new, "replace_all": False})
    for rel in block.patch.delete:
        exp.tool_use("Bash", {"command": f"rm -- {shlex.quote(rel)}",
                              "description": f"Delete {rel}"})


def expand_step(step: Step, run: int, index: int, cwd: str | None) -> list[WireAnswer]:
    """The model answers one scenario step takes on Claude Code's wire (see module docstring)."""
    prefix = f"r{run}s{index}"
    if isinstance(step, FailStep):
        return [WireFailure(f"msg_{prefix}", step.fail)]
    exp = _Expansion(prefix)
    for block in step:
        _add_block(exp, block, cwd)
    answers: list[WireAnswer] = []
    if exp.loads or exp.reads:
        prep: list[dict[str, Any]] = []
        if exp.loads:
            query = "select:" + ",".join(dict.fromkeys(exp.loads))
            prep.append({"type": "tool_use", "id": f"toolu_{prefix}_load", "name": "ToolSearch",
                         "input": {"query": query, "max_results": len(set(exp.loads))}})
        prep += [{"type": "tool_use", "id": f"toolu_{prefix}_read{n}", "name": "Read",
                  "input": {"file_path": path}} for n, path in enumerate(exp.reads)]
        answers.append(WireMessage(f"msg_{prefix}_prep", tuple(prep)))
    answers.append(WireMessage(f"msg_{prefix}", tuple(exp.blocks)))
    if exp.after:
        answers.append(WireMessage(f"msg_{prefix}_after", tuple(exp.after)))
    return answers


def expand_run(scenario: Scenario, run: int, cwd: str | None) -> list[WireAnswer]:
    """Every model answer of one run, in order."""
    out: list[WireAnswer] = []
    for index, step in enumerate(scenario.runs[run].steps):
        out += expand_step(step, run, index, cwd)
    return out


def usage_for(message: WireMessage, position: int) -> dict[str, Any]:
    """Deterministic, plausible token counts: from the script only, never from temp paths in
    tool inputs (re-recording, even in another folder, gives no diff)."""
    text = sum(len(str(b.get("text") or b.get("thinking") or "")) for b in message.blocks)
    return {"input_tokens": 1200 + 40 * position, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": 8 + text // 4 + 20 * len(message.tool_use_ids)}


def _frame(etype: str, **fields: Any) -> bytes:
    return sse_event(etype, json.dumps({"type": etype, **fields}, ensure_ascii=False).encode())


def _chunks(text: str, size: int = 24) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def json_pieces(value: Any) -> list[str]:
    """Tool input JSON in streamed pieces, one object member each: values (paths) stay whole,
    so templating a recording never meets a path cut across two deltas."""
    if not isinstance(value, dict) or not value:
        return [json.dumps(value, ensure_ascii=False)]
    members = [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
               for k, v in value.items()]
    pieces = ["{" + members[0]] + [", " + m for m in members[1:]]
    pieces[-1] += "}"
    return pieces


def _block_frames(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    """content_block_start, its deltas, content_block_stop for one final block."""
    btype = block["type"]
    if btype == "text":
        yield _frame("content_block_start", index=index, content_block={"type": "text",
                                                                        "text": ""})
        for piece in _chunks(block["text"]):
            yield _frame("content_block_delta", index=index,
                         delta={"type": "text_delta", "text": piece})
    elif btype == "thinking":
        yield _frame("content_block_start", index=index,
                     content_block={"type": "thinking", "thinking": "", "signature": ""})
        for piece in _chunks(block["thinking"]):
            yield _frame("content_block_delta", index=index,
                         delta={"type": "thinking_delta", "thinking": piece})
        yield _frame("content_block_delta", index=index,
                     delta={"type": "signature_delta", "signature": block["signature"]})
    elif btype == "redacted_thinking":
        yield _frame("content_block_start", index=index, content_block=block)
    elif btype == "tool_use":
        yield _frame("content_block_start", index=index,
                     content_block={"type": "tool_use", "id": block["id"], "name": block["name"],
                                    "input": {}})
        for piece in json_pieces(block["input"]):
            yield _frame("content_block_delta", index=index,
                         delta={"type": "input_json_delta", "partial_json": piece})
    else:  # server_tool_use / web_search_tool_result arrive whole
        yield _frame("content_block_start", index=index, content_block=block)
    yield _frame("content_block_stop", index=index)


def encode_message(message: WireMessage, model: str, usage: Mapping[str, Any]) -> list[bytes]:
    """The full SSE stream of one successful model answer."""
    start_usage = {**usage, "output_tokens": 1}
    frames = [_frame("message_start", message={
        "id": message.message_id, "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}),
        _frame("ping")]
    for index, block in enumerate(message.blocks):
        frames += list(_block_frames(index, block))
    frames.append(_frame("message_delta", delta={"stop_reason": message.stop_reason,
                                                 "stop_sequence": None},
                         usage={"output_tokens": usage["output_tokens"]}))
    frames.append(_frame("message_stop"))
    return frames


def encode_whole(message: WireMessage, model: str, usage: Mapping[str, Any]) -> bytes:
    """A non-streaming Messages answer."""
    return json.dumps({"id": message.message_id, "type": "message", "role": "assistant",
                       "model": model, "content": list(message.blocks),
                       "stop_reason": message.stop_reason, "stop_sequence": None,
                       "usage": dict(usage)}, ensure_ascii=False).encode()


def encode_failure_whole(failure: WireFailure) -> StubReply:
    """A failure answered to a non-streaming request: always an HTTP error status (a stream
    error has no stream to break, so it becomes the status its error type stands for)."""
    spec = failure.failure
    if spec.http_status is not None:
        return encode_failure(failure, "")
    error_type = STREAM_ERROR_TYPES.get(spec.stream_error or "", "api_error")
    status = next((s for s, t in HTTP_ERROR_TYPES.items() if t == error_type), 500)
    headers = {**JSON_HEADERS, "request-id": f"req_{failure.message_id}"}
    return StubReply(status, headers, [error_body(error_type, spec.message)])


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}},
                      ensure_ascii=False).encode()


def encode_failure(failure: WireFailure, model: str) -> StubReply:
    """An HTTP error reply, or a stream that starts and then carries an `error` event."""
    spec = failure.failure
    if spec.http_status is not None:
        error_type = HTTP_ERROR_TYPES.get(spec.http_status, "api_error")
        headers = {**JSON_HEADERS, "request-id": f"req_{failure.message_id}"}
        if spec.http_status in {429, 529}:
            headers["retry-after"] = "0"
        return StubReply(spec.http_status, headers, [error_body(error_type, spec.message)])
    error_type = STREAM_ERROR_TYPES.get(spec.stream_error or "", "api_error")
    frames = [_frame("message_start", message={
        "id": failure.message_id, "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1200, "output_tokens": 1}}),
        _frame("ping"),
        _frame("error", error={"type": error_type, "message": spec.message})]
    return StubReply(200, dict(SSE_HEADERS), frames)


# ====================================================================================== requests


def _blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _user_text(message: Mapping[str, Any]) -> str:
    return "\n".join(str(b.get("text", "")) for b in _blocks(message) if b.get("type") == "text")


@dataclass(frozen=True)
class Conversation:
    """What a Messages request says about the script: which run, how far into it."""

    run: int
    prompt_at: int
    tool_results: tuple[str, ...]
    tool_uses: tuple[str, ...]


def read_conversation(scenario: Scenario, messages: list[dict[str, Any]]) -> Conversation | None:
    """The run whose prompt is in the latest matching user message, and what follows it."""
    users = [(n, _user_text(m)) for n, m in enumerate(messages) if m.get("role") == "user"]
    run = find_run(scenario, [text for _, text in users])
    if run is None:
        return None
    prompt = scenario.runs[run].prompt
    at = max(n for n, text in users if prompt in text)
    results: list[str] = []
    uses: list[str] = []
    for message in messages[at + 1:]:
        for block in _blocks(message):
            if block.get("type") == "tool_result":
                results.append(str(block.get("tool_use_id")))
            elif block.get("type") == "tool_use":
                uses.append(str(block.get("id")))
    return Conversation(run, at, tuple(results), tuple(uses))


def pick_answer(answers: list[WireAnswer], tool_results: int) -> tuple[int, WireAnswer] | None:
    """The answer due after `tool_results` results: each answer's tool uses come back first."""
    seen = 0
    for position, answer in enumerate(answers):
        if seen == tool_results:
            return position, answer
        if isinstance(answer, WireMessage):
            seen += len(answer.tool_use_ids)
    return None


def working_directory(body: Mapping[str, Any]) -> str | None:
    """Claude Code states its cwd in the environment section of the prompt."""
    match = _CWD.search(json.dumps(body, ensure_ascii=False))
    return match.group(1) if match else None


SEARCH_PROMPT = "Perform a web search for the query: "


def searched_query(body: Mapping[str, Any]) -> str:
    """The query WebSearch's nested request asks for, read from its prompt as Claude Code words
    it; a substring guess over the body picked a wrong scripted query when one query was a part
    of another or of the request's own text (`''`, `'0'` in `web_search_20250305`)."""
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else {}
    content = last.get("content") if isinstance(last, dict) else None
    parts = [content] if isinstance(content, str) else [
        str(p.get("text", "")) for p in content or [] if isinstance(p, dict)]
    return next((p.removeprefix(SEARCH_PROMPT) for p in parts if p.startswith(SEARCH_PROMPT)),
                "")


def is_web_search_call(body: Mapping[str, Any]) -> bool:
    """WebSearch runs a nested request offering only the server-side `web_search` tool."""
    tools = body.get("tools")
    return isinstance(tools, list) and any(
        isinstance(t, dict) and str(t.get("type", "")).startswith("web_search_") for t in tools)


# ====================================================================================== responder


class AnthropicResponder:
    """Stub brain for `/v1/messages` (see module docstring)."""

    def __init__(self, scenario: Scenario, api_key: str = DUMMY_API_KEY,
                 key_header: str = "x-api-key") -> None:
        self.scenario = scenario
        self.api_key = api_key
        self.key_header = key_header

    def respond(self, request: StubRequest) -> StubReply:
        if request.path.rstrip("/").endswith("/count_tokens"):
            return self._count_tokens(request)
        if not request.path.rstrip("/").endswith("/messages"):
            return StubReply(404, dict(JSON_HEADERS),
                             [error_body("not_found_error", f"no route {request.path}")])
        body = json.loads(request.body) if request.body else {}
        if not isinstance(body, dict):
            raise RequestMismatch("request body is not a JSON object")
        self._check_key(request)
        model = str(body.get("model") or "claude")
        if is_web_search_call(body):
            return self._web_search(body, model)
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        conversation = read_conversation(self.scenario, messages)
        if conversation is None:
            return self._side_call(body, model)
        return self._answer(conversation, body, model, stream=bool(body.get("stream")))

    # ---------------------------------------------------------------- conversation

    def _answer(self, conv: Conversation, body: dict[str, Any], model: str, *,
                stream: bool) -> StubReply:
        """The scripted answer; a non-streaming request (Claude Code's fallback after a broken
        stream) gets the same answer whole, and a stream failure becomes an HTTP error."""
        self._check_history(conv, body)
        answers = expand_run(self.scenario, conv.run, working_directory(body))
        picked = pick_answer(answers, len(conv.tool_results))
        if picked is None:
            raise RequestMismatch(
                f"run {conv.run}: {len(conv.tool_results)} tool results follow the prompt, "
                f"which matches no scripted answer (script has {len(answers)} answers)")
        position, answer = picked
        self._check_results(answers[:position], conv)
        if isinstance(answer, WireFailure):
            return encode_failure(answer, model) if stream else encode_failure_whole(answer)
        usage = usage_for(answer, position)
        if not stream:
            return StubReply(200, dict(JSON_HEADERS), [encode_whole(answer, model, usage)])
        return StubReply(200, dict(SSE_HEADERS), encode_message(answer, model, usage))

    def _check_key(self, request: StubRequest) -> None:
        """An API key arrives as `x-api-key`; an auth token as `Authorization: Bearer`."""
        got = request.headers.get(self.key_header)
        want = self.api_key if self.key_header == "x-api-key" else f"Bearer {self.api_key}"
        if got != want:
            shown = "nothing" if got is None else "a different value"
            raise RequestMismatch(f"{self.key_header}: expected the run's key, got {shown}")

    def _check_history(self, conv: Conversation, body: dict[str, Any]) -> None:
        """After a resume the request must carry the earlier runs' prompts."""
        texts = [_user_text(m) for m in body.get("messages") or [] if isinstance(m, dict)
                 and m.get("role") == "user"]
        for earlier in self.scenario.runs[:conv.run]:
            if not any(earlier.prompt in t for t in texts):
                raise RequestMismatch(f"run {conv.run}: history lacks the earlier prompt "
                                      f"{earlier.prompt!r} (resume lost the thread)")

    @staticmethod
    def _check_results(sent: list[WireAnswer], conv: Conversation) -> None:
        """Every tool_use we streamed must come back, in the history and as a tool_result."""
        expected = [i for a in sent if isinstance(a, WireMessage) for i in a.tool_use_ids]
        if list(conv.tool_results) != expected or list(conv.tool_uses) != expected:
            raise RequestMismatch(
                f"run {conv.run}: tool history mismatch\n  expected ids: {expected}\n"
                f"  tool_use ids:  {list(conv.tool_uses)}\n"
                f"  tool_result ids: {list(conv.tool_results)}")

    # ---------------------------------------------------------------- side traffic

    @staticmethod
    def _count_tokens(request: StubRequest) -> StubReply:
        return StubReply(200, dict(JSON_HEADERS),
                         [json.dumps({"input_tokens": max(1, len(request.body) // 4)}).encode()])

    @staticmethod
    def _side_call(body: dict[str, Any], model: str) -> StubReply:
        """Titles, summaries, quota probes: a short answer that does not advance the script."""
        message = WireMessage("msg_side", ({"type": "text", "text": "Scripted session"},))
        usage = {"input_tokens": 50, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": 3}
        if body.get("stream"):
            return StubReply(200, dict(SSE_HEADERS), encode_message(message, model, usage))
        return StubReply(200, dict(JSON_HEADERS), [encode_whole(message, model, usage)])

    def _web_search(self, body: dict[str, Any], model: str) -> StubReply:
        """The nested search WebSearch makes: a server tool use, its results, a summary."""
        query = searched_query(body)
        blocks = (
            {"type": "server_tool_use", "id": "srvtoolu_search_0", "name": "web_search",
             "input": {"query": query}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_search_0",
             "content": [{"type": "web_search_result", "title": f"Results for {query}",
                          "url": "https://example.invalid/search", "encrypted_content": "stub",
                          "page_age": None}]},
            {"type": "text", "text": f"Search results for {query!r}: see example.invalid."},
        )
        message = WireMessage("msg_search", blocks)
        usage = {"input_tokens": 300, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": 20,
                 "server_tool_use": {"web_search_requests": 1}}
        return StubReply(200, dict(SSE_HEADERS), encode_message(message, model, usage))
