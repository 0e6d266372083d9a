"""OpenAI Responses API: the wire encoder (scenario step -> SSE) and the stub's responder.

Encoder: one scenario step becomes one streamed response, the way the Responses API streams it
(`response.created`, per output item `output_item.added` / deltas / `output_item.done`, then
`response.completed` with usage or `response.failed`); a failure step with an HTTP status becomes
an error reply with a JSON error body. Blocks map to output items:

    text        message (output_text deltas)       shell       function_call exec_command {"cmd"}
    reasoning   reasoning (summary deltas +         patch       custom_tool_call apply_patch
                encrypted_content)                              (input: apply_patch grammar)
    plan        function_call update_plan           web_search  web_search_call
    mcp         tool_search_call first (Codex defers MCP tools), then a function_call in the
                namespace the runtime's tool_search_output offered

Responder: picks the step from the request *content*, never from call order. The run is the one
whose prompt is in the latest user message (`find_run`); the step is how many of that run's steps
already have their tool outputs in the request. Call ids carry their position
(`call_r<run>s<step>b<block>`, `call_r<run>s<step>search`), so that count is exact even when side
calls (auto-review, titles, compaction) interleave; side calls are answered plausibly and never
advance the script. Every request is checked (key in `Authorization`, each earlier call answered
by its `*_output`, earlier runs' turns carried after a resume); a mismatch becomes a readable
problem in the `StubLog`, and the recording fails.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.record.stub import StubLog, StubReply, StubRequest, sse_event
from harness.scenario import (
    Block,
    FailStep,
    McpBlock,
    PatchBlock,
    PatchSpec,
    PlanBlock,
    ReasoningBlock,
    Scenario,
    ShellBlock,
    TextBlock,
    WebSearchBlock,
    find_run,
)

MODEL = "gpt-5.5"
SSE_HEADERS = {"content-type": "text/event-stream"}
JSON_HEADERS = {"content-type": "application/json"}

OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output",
                          "tool_search_output"})
CALL_TYPES = frozenset({"function_call", "custom_tool_call", "tool_search_call"})
_CALL_ID = re.compile(r"^call_r(\d+)s(\d+)(b\d+|search)$")

HTTP_ERROR_TYPES: dict[int, str] = {400: "invalid_request_error", 401: "invalid_request_error",
                                    403: "permission_error", 404: "not_found_error",
                                    429: "rate_limit_exceeded"}
"""HTTP status -> `error.type` of the JSON error body (any other status: `server_error`)."""

REVIEW_MARKERS = ("You are judging one planned coding-agent action",)
"""Text of Codex's auto-review (guardian) prompt: such a request is a review, not the script."""

SIDE_REQUEST_KINDS = frozenset({"compact", "compaction", "title"})
"""Turn-metadata `request_kind` values that are side calls (`turn` is the conversation)."""


# ------------------------------------------------------------------------------------ encoder


@dataclass(frozen=True)
class Position:
    """Where a response sits in the script; every id in it derives from this (deterministic)."""

    run: int
    step: int

    def call_id(self, block: int | str) -> str:
        suffix = block if isinstance(block, str) else f"b{block}"
        return f"call_r{self.run}s{self.step}{suffix}"

    def item_id(self, prefix: str, block: int) -> str:
        return f"{prefix}_r{self.run}s{self.step}b{block}"

    @property
    def response_id(self) -> str:
        return f"resp_r{self.run}s{self.step}"


def data(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Stream:
    """Accumulates the SSE frames of one response with contiguous sequence numbers."""

    def __init__(self, position: Position) -> None:
        self.position = position
        self.frames: list[bytes] = []
        self.output: list[dict[str, Any]] = []
        self.event("response.created", response=self.response("in_progress"))

    def event(self, etype: str, **fields: Any) -> None:
        payload = {"type": etype, "sequence_number": len(self.frames), **fields}
        self.frames.append(sse_event(etype, data(payload)))

    def response(self, status: str, **extra: Any) -> dict[str, Any]:
        return {"id": self.position.response_id, "object": "response", "created_at": 0,
                "model": MODEL, "status": status, "output": list(self.output), **extra}

    def item(self, item: dict[str, Any], skeleton: dict[str, Any],
             deltas: Sequence[tuple[str, dict[str, Any]]] = ()) -> None:
        index = len(self.output)
        self.event("response.output_item.added", output_index=index, item=skeleton)
        for etype, fields in deltas:
            self.event(etype, output_index=index, **fields)
        self.event("response.output_item.done", output_index=index, item=item)
        self.output.append(item)


def _halves(text: str) -> list[str]:
    """Two deltas (a real stream sends several; two prove the runtime joins them)."""
    cut = len(text) // 2
    return [part for part in (text[:cut], text[cut:]) if part]


def _text(stream: _Stream, block: TextBlock, index: int) -> None:
    mid = stream.position.item_id("msg", index)
    done = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": block.text, "annotations": []}]}
    skeleton = {**done, "status": "in_progress", "content": []}
    deltas = [("response.output_text.delta",
               {"item_id": mid, "content_index": 0, "delta": part, "logprobs": []})
              for part in _halves(block.text)]
    stream.item(done, skeleton, deltas)


def _reasoning(stream: _Stream, block: ReasoningBlock, index: int) -> None:
    rid = stream.position.item_id("rs", index)
    opaque = base64.b64encode(f"stub-reasoning:{rid}:{block.reasoning.text}".encode()).decode()
    summary = [] if block.reasoning.encrypted else [
        {"type": "summary_text", "text": block.reasoning.text}]
    done = {"type": "reasoning", "id": rid, "summary": summary, "encrypted_content": opaque}
    skeleton = {**done, "summary": []}
    deltas = [("response.reasoning_summary_text.delta",
               {"item_id": rid, "summary_index": 0, "delta": part})
              for part in ([] if block.reasoning.encrypted else _halves(block.reasoning.text))]
    stream.item(done, skeleton, deltas)


def _function_call(stream: _Stream, index: int | str, name: str, arguments: dict[str, Any],
                   namespace: str | None = None) -> None:
    call_id = stream.position.call_id(index)
    done: dict[str, Any] = {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id,
                            "name": name, "arguments": json.dumps(arguments, ensure_ascii=False),
                            "status": "completed"}
    if namespace is not None:
        done["namespace"] = namespace
    stream.item(done, {**done, "arguments": "", "status": "in_progress"})


def _shell(stream: _Stream, block: ShellBlock, index: int) -> None:
    args: dict[str, Any] = {"cmd": block.shell.command}
    if block.shell.timeout_ms is not None:
        args["yield_time_ms"] = block.shell.timeout_ms
    if block.shell.escalate:
        args["sandbox_permissions"] = "require_escalated"
        args["justification"] = "The user asked for this file outside the workspace."
    _function_call(stream, index, "exec_command", args)


def patch_text(spec: PatchSpec) -> str:
    """The patch in Codex's apply_patch grammar (`*** Begin Patch` ... `*** End Patch`)."""
    lines = ["*** Begin Patch"]
    for add in spec.add:
        lines.append(f"*** Add File: {add.path}")
        lines += [f"+{line}" for line in add.content.splitlines()]
    for update in spec.update:
        lines += [f"*** Update File: {update.path}", "@@"]
        lines += [f"-{line}" for line in update.old.splitlines()]
        lines += [f"+{line}" for line in update.new.splitlines()]
    lines += [f"*** Delete File: {path}" for path in spec.delete]
    lines.append("*** End Patch")
    return "\n".join(lines) + "\n"


def _patch(stream: _Stream, block: PatchBlock, index: int) -> None:
    call_id = stream.position.call_id(index)
    done = {"type": "custom_tool_call", "id": f"ctc_{call_id}", "call_id": call_id,
            "name": "apply_patch", "input": patch_text(block.patch), "status": "completed"}
    stream.item(done, {**done, "input": "", "status": "in_progress"})


def _plan(stream: _Stream, block: PlanBlock, index: int) -> None:
    steps = [{"step": entry.text, "status": entry.status} for entry in block.plan]
    _function_call(stream, index, "update_plan", {"plan": steps})


def _web_search(stream: _Stream, block: WebSearchBlock, index: int) -> None:
    wid = stream.position.item_id("ws", index)
    done = {"type": "web_search_call", "id": wid, "status": "completed",
            "action": {"type": "search", "query": block.web_search.query}}
    stream.item(done, {"type": "web_search_call", "id": wid, "status": "in_progress"})


def tool_search(position: Position, servers: Sequence[str]) -> list[bytes]:
    """The response that loads deferred MCP tools: one client-side `tool_search_call`."""
    stream = _Stream(position)
    call_id = position.call_id("search")
    done = {"type": "tool_search_call", "id": f"ts_{call_id}", "call_id": call_id,
            "execution": "client", "status": "completed",
            "arguments": {"query": " ".join(servers), "limit": 8}}
    stream.item(done, {**done, "status": "in_progress"})
    return _complete(stream, 0)


@dataclass(frozen=True)
class McpName:
    """How the runtime offered an MCP tool: a function inside a namespace."""

    namespace: str | None
    name: str


def _mcp(stream: _Stream, block: McpBlock, index: int, names: Mapping[tuple[str, str], McpName]
         ) -> None:
    spec = block.mcp
    offered = names.get((spec.server, spec.tool),
                        McpName(f"mcp__{spec.server}__", spec.tool))
    _function_call(stream, index, offered.name, dict(spec.arguments), offered.namespace)


def _complete(stream: _Stream, input_items: int) -> list[bytes]:
    """End the response; usage is a pure function of the request size (deterministic)."""
    usage = {"input_tokens": 100 + 10 * input_items, "output_tokens": 10 * len(stream.output),
             "total_tokens": 100 + 10 * input_items + 10 * len(stream.output),
             "input_tokens_details": {"cached_tokens": 0},
             "output_tokens_details": {"reasoning_tokens": 0}}
    stream.event("response.completed", response=stream.response("completed", usage=usage))
    return stream.frames


def encode_step(blocks: Sequence[Block], position: Position, *, input_items: int = 0,
                mcp_names: Mapping[tuple[str, str], McpName] | None = None) -> list[bytes]:
    """One scripted model answer as the SSE frames of a completed response."""
    stream = _Stream(position)
    for index, block in enumerate(blocks):
        if isinstance(block, TextBlock):
            _text(stream, block, index)
        elif isinstance(block, ReasoningBlock):
            _reasoning(stream, block, index)
        elif isinstance(block, ShellBlock):
            _shell(stream, block, index)
        elif isinstance(block, PatchBlock):
            _patch(stream, block, index)
        elif isinstance(block, PlanBlock):
            _plan(stream, block, index)
        elif isinstance(block, WebSearchBlock):
            _web_search(stream, block, index)
        else:
            _mcp(stream, block, index, mcp_names or {})
    return _complete(stream, input_items)


def encode_failure(step: FailStep, position: Position) -> StubReply:
    """A failure step: an HTTP error status with a JSON body, or a `response.failed` stream."""
    spec = step.fail
    if spec.http_status is not None:
        error = {"message": spec.message,
                 "type": HTTP_ERROR_TYPES.get(spec.http_status, "server_error"),
                 "param": None, "code": None}
        return StubReply(spec.http_status, dict(JSON_HEADERS), [data({"error": error})])
    stream = _Stream(position)
    stream.event("response.in_progress", response=stream.response("in_progress"))
    error = {"code": spec.stream_error, "message": spec.message}
    stream.event("response.failed", response=stream.response("failed", error=error))
    return StubReply(200, dict(SSE_HEADERS), stream.frames)


def message_reply(text: str, position: Position, input_items: int = 0) -> StubReply:
    frames = encode_step([TextBlock(text=text)], position, input_items=input_items)
    return StubReply(200, dict(SSE_HEADERS), frames)


# ------------------------------------------------------------------------------------ requests


def _inputs(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    return [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []


def message_text(item: Mapping[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))


def _is_message(item: Mapping[str, Any], role: str) -> bool:
    return item.get("type", "message") == "message" and item.get("role") == role


def _turn_meta(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = body.get("client_metadata")
    raw = meta.get("x-codex-turn-metadata") if isinstance(meta, dict) else None
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def side_kind(body: Mapping[str, Any]) -> str | None:
    """None for the conversation; else what kind of side call this request is."""
    meta = _turn_meta(body)
    client = body.get("client_metadata")
    client = client if isinstance(client, dict) else {}
    texts = [message_text(i) for i in _inputs(body)] + [str(body.get("instructions") or "")]
    subagent = meta.get("subagent_kind") or client.get("x-openai-subagent")
    if (subagent == "guardian" or str(body.get("prompt_cache_key") or "").startswith("guardian:")
            or any(marker in text for marker in REVIEW_MARKERS for text in texts)):
        return "review"
    kind = meta.get("request_kind")
    if isinstance(kind, str) and kind in SIDE_REQUEST_KINDS:
        return kind
    if isinstance(subagent, str) and subagent:
        return f"subagent:{subagent}"
    if isinstance(kind, str) and kind != "turn":
        return kind
    return None


def offered_mcp_names(inputs: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], McpName]:
    """(server, tool) -> how the runtime's `tool_search_output` offered it (namespace + name)."""
    names: dict[tuple[str, str], McpName] = {}
    for item in inputs:
        if item.get("type") != "tool_search_output":
            continue
        for tool in item.get("tools") or []:
            if not isinstance(tool, dict):
                continue
            namespace = str(tool.get("name", ""))
            server = namespace.removeprefix("mcp__").strip("_")
            for fn in tool.get("tools") or []:
                if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                    short = fn["name"].removeprefix(namespace).strip("_")
                    names[(server, short)] = McpName(namespace, fn["name"])
    return names


_TOOLS_BLOCK = re.compile(r"<tools>\n(?P<head>[^\n]*)\n(?P<body>.*?)</tools>", re.DOTALL)
"""A `<tools>` block of a developer message: Codex lists the deferred tool namespaces in the
first turn (`Deferred tool namespaces:`) and only the changes in later turns of a resumed thread
(`Removed deferred tool namespaces:` after a plugin was removed)."""
_DEFERRED_NAMESPACE = re.compile(r"^- mcp__(?P<server>[\w-]+)", re.MULTILINE)


def deferred_servers(inputs: Sequence[Mapping[str, Any]]) -> set[str]:
    """MCP servers offered as deferred namespaces once every `<tools>` block is applied in
    order: a full list replaces, a `Removed ...` list subtracts, any other list adds."""
    servers: set[str] = set()
    for item in inputs:
        if item.get("role") != "developer":
            continue
        for block in _TOOLS_BLOCK.finditer(message_text(item)):
            names = {m.group("server") for m in _DEFERRED_NAMESPACE.finditer(block["body"])}
            head = block["head"].lower()
            if head.startswith("deferred tool namespaces"):
                servers = names
            elif head.startswith("removed"):
                servers -= names
            else:
                servers |= names
    return servers


def offered_servers(body: Mapping[str, Any], inputs: Sequence[Mapping[str, Any]],
                    prompt_index: int) -> set[str]:
    """MCP servers the request offers the model: namespaces in `tools`, the deferred namespaces
    as of the run's prompt, and tool_search outputs after it (earlier runs' outputs stay in a
    resumed history, so they do not count)."""
    servers = {str(t["name"]).removeprefix("mcp__").strip("_") for t in body.get("tools") or []
               if isinstance(t, dict) and str(t.get("name", "")).startswith("mcp__")}
    servers |= deferred_servers(inputs[:prompt_index + 1])
    servers.update(server for server, _ in offered_mcp_names(inputs[prompt_index + 1:]))
    return servers


@dataclass(frozen=True)
class Progress:
    """What a conversation request tells about the script: which run, how far, what is owed."""

    run: int
    prompt_index: int
    steps_done: int
    searched: frozenset[int]
    unanswered: list[str]


def progress_of(scenario: Scenario, inputs: Sequence[Mapping[str, Any]]) -> Progress | None:
    """Read the script position from the request (None: no run's prompt is in it)."""
    user_texts = [message_text(i) for i in inputs if _is_message(i, "user")]
    run = find_run(scenario, user_texts)
    if run is None:
        return None
    prompt = scenario.runs[run].prompt
    prompt_index = max(n for n, i in enumerate(inputs)
                       if _is_message(i, "user") and prompt in message_text(i))
    after = inputs[prompt_index + 1:]
    answered = {str(i.get("call_id")) for i in after if i.get("type") in OUTPUT_TYPES}
    called = [str(i.get("call_id")) for i in after if i.get("type") in CALL_TYPES]
    steps_done, searched = 0, set()
    for call_id in answered:
        match = _CALL_ID.match(call_id)
        if match is None or int(match.group(1)) != run:
            continue
        step = int(match.group(2))
        if match.group(3) == "search":
            searched.add(step)
        else:
            steps_done = max(steps_done, step + 1)
    unanswered = [c for c in called if c not in answered]
    return Progress(run, prompt_index, steps_done, frozenset(searched), unanswered)


def check_offers(scenario: Scenario, progress: Progress, body: Mapping[str, Any],
                 inputs: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """The run's `offers`: servers that must be offered are, servers that must not be are not."""
    offers = scenario.runs[progress.run].offers
    if offers is None:
        return
    seen = offered_servers(body, inputs, progress.prompt_index)
    where = f"run {progress.run} step {progress.steps_done}"
    for server in offers.present:
        if server not in seen:
            yield f"{where}: MCP server {server!r} is not offered (offered: {sorted(seen)})"
    for server in offers.absent:
        if server in seen:
            yield f"{where}: MCP server {server!r} is offered but must not be"


# ------------------------------------------------------------------------------------ responder


class ResponsesResponder:
    """The stub's brain for `POST /v1/responses` (see the module docstring)."""

    def __init__(self, scenario: Scenario, log: StubLog | None = None,
                 expected_key: str | None = None) -> None:
        self.scenario = scenario
        self.log = log or StubLog()
        self.expected_key = expected_key

    def bind(self, log: StubLog) -> None:
        """Report problems into the server's log (the server is created after the responder)."""
        self.log = log

    def respond(self, request: StubRequest) -> StubReply:
        if request.method != "POST" or not request.path.rstrip("/").endswith("/responses"):
            return StubReply(404, dict(JSON_HEADERS), [data(
                {"error": {"message": f"stub has no {request.method} {request.path}",
                           "type": "not_found_error", "code": None}})])
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            self.log.problem("request body is not JSON")
            return StubReply(400, dict(JSON_HEADERS), [b'{"error":{"message":"bad json"}}'])
        if not self._key_ok(request):
            return StubReply(401, dict(JSON_HEADERS), [data({"error": {
                "message": "You didn't provide an API key.", "type": "invalid_request_error",
                "param": None, "code": "missing_api_key"}})])
        inputs = _inputs(body)
        kind = side_kind(body)
        if kind is not None:
            return self._side(kind, body, inputs)
        return self._conversation(body, inputs)

    def _key_ok(self, request: StubRequest) -> bool:
        """Like the real API: no bearer token is a 401 (the run shows it); a *different* token
        is also a problem of the recording (a key from somewhere it should not come from)."""
        if self.expected_key is None:
            return True
        got = request.headers.get("authorization")
        if got == f"Bearer {self.expected_key}":
            return True
        if got is not None:
            shown = "another bearer token" if got.startswith("Bearer ") else "a non-bearer value"
            self.log.problem(f"Authorization: expected 'Bearer <the scenario key>', got {shown}")
        return False

    def _conversation(self, body: Mapping[str, Any], inputs: list[dict[str, Any]]) -> StubReply:
        progress = progress_of(self.scenario, inputs)
        if progress is None:
            self.log.problem("request holds no run's prompt; user texts: "
                             + repr([message_text(i)[:80] for i in inputs
                                     if _is_message(i, "user")][-3:]))
            return message_reply("(stub: no scripted answer)", Position(99, 0), len(inputs))
        for problem in self._check_history(progress, inputs):
            self.log.problem(problem)
        for problem in check_offers(self.scenario, progress, body, inputs):
            self.log.problem(problem)
        run = self.scenario.runs[progress.run]
        if progress.steps_done >= len(run.steps):
            self.log.problem(f"run {progress.run}: model called again after its last step "
                             f"({len(run.steps)} steps)")
            return message_reply("(stub: script finished)", Position(progress.run, 98),
                                 len(inputs))
        position = Position(progress.run, progress.steps_done)
        step = run.steps[progress.steps_done]
        if isinstance(step, FailStep):
            return encode_failure(step, position)
        servers = sorted({b.mcp.server for b in step if isinstance(b, McpBlock)})
        if servers and position.step not in progress.searched:
            return StubReply(200, dict(SSE_HEADERS), tool_search(position, servers))
        names = offered_mcp_names(inputs[progress.prompt_index + 1:])
        for block in step:
            if isinstance(block, McpBlock) and (block.mcp.server, block.mcp.tool) not in names:
                self.log.problem(f"run {progress.run} step {position.step}: MCP tool "
                                 f"{block.mcp.server}/{block.mcp.tool} was not offered by "
                                 "tool_search_output")
        frames = encode_step(step, position, input_items=len(inputs), mcp_names=names)
        return StubReply(200, dict(SSE_HEADERS), frames)

    def _check_history(self, progress: Progress, inputs: list[dict[str, Any]]) -> Iterator[str]:
        """Every earlier call answered; after a resume, the earlier runs' turns are carried."""
        where = f"run {progress.run} step {progress.steps_done}"
        for call_id in progress.unanswered:
            yield f"{where}: call {call_id} has no matching *_output in the request"
        before = inputs[:progress.prompt_index]
        for earlier in range(progress.run):
            prompt = self.scenario.runs[earlier].prompt
            if not any(_is_message(i, "user") and prompt in message_text(i) for i in before):
                yield f"{where}: resumed request lacks run {earlier}'s prompt {prompt!r}"
            last = self.scenario.runs[earlier].steps[-1]
            texts = [] if isinstance(last, FailStep) else [
                b.text for b in last if isinstance(b, TextBlock)]
            for text in texts:
                if not any(_is_message(i, "assistant") and text in message_text(i)
                           for i in before):
                    yield f"{where}: resumed request lacks run {earlier}'s answer {text!r}"

    def _side(self, kind: str, body: Mapping[str, Any], inputs: list[dict[str, Any]]
              ) -> StubReply:
        position = Position(90, len(inputs))
        if kind == "review":
            return message_reply(json.dumps(self._review(body)), position, len(inputs))
        if kind == "title":
            return message_reply("Scripted scenario", position, len(inputs))
        return message_reply("Summary: the conversation so far followed the script.", position,
                             len(inputs))

    def _review(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The reviewer's verdict, shaped by the JSON schema the review request asks for."""
        decision = self.scenario.settings.reviewer
        if decision is None:
            self.log.problem("the runtime asked a reviewer, but the scenario sets no reviewer")
            decision = "deny"
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        schema = fmt.get("schema") if isinstance(fmt, dict) else None
        props = schema.get("properties") if isinstance(schema, dict) else None
        return review_answer(props if isinstance(props, dict) else {}, decision)


_VERDICT_WORDS: dict[str, tuple[str, ...]] = {
    "approve": ("allow", "approve", "approved", "accept", "low", "safe", "yes"),
    "deny": ("deny", "denied", "reject", "block", "high", "unsafe", "no"),
}
"""Enum values that mean each decision (a schema's enum is matched against these, in order)."""


def review_answer(properties: Mapping[str, Any], decision: str) -> dict[str, Any]:
    """Fill a review schema's properties: enums by decision words, numbers by risk, text."""
    words = _VERDICT_WORDS[decision]
    answer: dict[str, Any] = {"outcome": "allow" if decision == "approve" else "deny"}
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            continue
        options = spec.get("enum")
        kind = spec.get("type")
        if isinstance(options, list) and options:
            lowered = [str(o).lower() for o in options]
            pick = next((options[lowered.index(w)] for w in words if w in lowered), options[0])
            answer[name] = pick
        elif kind in {"integer", "number"}:
            answer[name] = 10 if decision == "approve" else 90
        elif kind == "boolean":
            answer[name] = decision == "approve"
        elif kind == "string":
            answer[name] = ("The action is what the user asked for." if decision == "approve"
                            else "Writing outside the workspace is not allowed here.")
    return answer
