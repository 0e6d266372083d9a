"""Gemini API: the wire encoder (scenario step -> `streamGenerateContent?alt=sse`) and the stub.

Encoder: one scenario step becomes one streamed answer, SSE frames `data: <JSON>` + CRLF CRLF
holding `GenerateContentResponse`s the way the Gemini API streams them: one chunk per part (text in
two chunks so clients see deltas), the last chunk carrying `finishReason` and `usageMetadata`.
A failure step with an HTTP status becomes a Google error body (`{"error": {code, message,
status}}`); one with a `stream_error` streams its first chunk, then an `error` object, and
ends without `finishReason`.
Blocks map to parts (Gemini CLI's own tool names, as offered in its requests):

    text        text parts                         shell       functionCall run_shell_command
    reasoning   `thought: true` part (encrypted:   patch       functionCall write_file (add),
                only a `thoughtSignature`)                     replace (update), run_shell_command
    plan        functionCall write_todos                       `rm` (delete: the CLI has no tool)
    web_search  functionCall google_web_search     mcp         functionCall mcp_<server>_<tool>

Gemini CLI runs `google_web_search` itself (a client tool), so blocks that follow a web search in
one scripted step are answered in the next model call (`gemini_steps`).

Responder: picks the step from the request *content*, never from call order. The run is the one
whose prompt is in the latest user content (`find_run`); the step is how many model contents
follow that prompt. Non-streaming `:generateContent` side calls (the CLI's routing classifier, its
next-speaker check, the web search it runs on a flash model) are answered plausibly without
advancing the script: an answer to a request with a response schema is an instance of that schema.
Every request is checked (key in `x-goog-api-key`, each functionCall answered by a
functionResponse with the same id, earlier runs carried after `--resume`); a mismatch becomes a
readable problem in the `StubLog`.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.record.stub import StubLog, StubReply, StubRequest
from harness.scenario import (
    Block,
    FailStep,
    PatchBlock,
    PlanBlock,
    ReasoningBlock,
    Run,
    Scenario,
    ShellBlock,
    Step,
    TextBlock,
    WebSearchBlock,
    find_run,
)

MODEL = "gemini-2.5-pro"
"""Model the stub reports; a non-preview 2.x model, so Gemini CLI offers `write_todos`."""
SSE_HEADERS = {"content-type": "text/event-stream"}
JSON_HEADERS = {"content-type": "application/json; charset=UTF-8"}

TOOL_NAMES: dict[str, str] = {
    "shell": "run_shell_command",
    "add": "write_file",
    "update": "replace",
    "delete": "run_shell_command",
    "plan": "write_todos",
    "web_search": "google_web_search",
}
"""Block (or patch change) -> the Gemini CLI tool that does it. MCP tools: `mcp_<server>_<tool>`."""

HTTP_STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""HTTP status -> google.rpc status name in the error body (any other status: `UNKNOWN`)."""

STREAM_ENDPOINT = ":streamGenerateContent"
SIDE_ENDPOINT = ":generateContent"


# ------------------------------------------------------------------------------------ encoder


@dataclass(frozen=True)
class Position:
    """Where an answer sits in the script; every id in it derives from this (deterministic)."""

    run: int
    step: int

    def call_id(self, block: int, change: int = 0) -> str:
        return f"r{self.run}s{self.step}b{block}c{change}"

    @property
    def response_id(self) -> str:
        return f"resp_r{self.run}s{self.step}"


def gemini_steps(run: Run) -> list[Step]:
    """The run's steps as Gemini answers them: a step is cut after a web search that more blocks
    follow, because Gemini CLI runs the search itself and asks the model again."""
    steps: list[Step] = []
    for step in run.steps:
        if isinstance(step, FailStep):
            steps.append(step)
            continue
        current: list[Block] = []
        for block in step:
            current.append(block)
            if isinstance(block, WebSearchBlock):
                steps.append(current)
                current = []
        if current or not step:
            steps.append(current)
    return steps


def function_call(name: str, args: Mapping[str, Any], call_id: str) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": dict(args), "id": call_id}}


def mcp_tool_name(server: str, tool: str) -> str:
    """Gemini CLI's name for an MCP tool (seen in its requests: `mcp_demo_echo`)."""
    return f"mcp_{server}_{tool}"


def signature(text: str) -> str:
    """A deterministic opaque thought signature for a reasoning block."""
    return base64.b64encode(f"sig:{text}".encode()).decode()


def block_parts(block: Block, position: Position, index: int) -> list[dict[str, Any]]:
    """The content parts one block becomes (see the table in the module docstring)."""
    if isinstance(block, TextBlock):
        return [{"text": block.text}]
    if isinstance(block, ReasoningBlock):
        if block.reasoning.encrypted:
            return [{"thought": True, "thoughtSignature": signature(block.reasoning.text)}]
        return [{"text": block.reasoning.text, "thought": True}]
    if isinstance(block, ShellBlock):
        args = {"command": block.shell.command}
        return [function_call(TOOL_NAMES["shell"], args, position.call_id(index))]
    if isinstance(block, PatchBlock):
        return _patch_parts(block, position, index)
    if isinstance(block, PlanBlock):
        todos = [{"description": e.text, "status": e.status} for e in block.plan]
        return [function_call(TOOL_NAMES["plan"], {"todos": todos}, position.call_id(index))]
    if isinstance(block, WebSearchBlock):
        args = {"query": block.web_search.query}
        return [function_call(TOOL_NAMES["web_search"], args, position.call_id(index))]
    name = mcp_tool_name(block.mcp.server, block.mcp.tool)
    return [function_call(name, block.mcp.arguments, position.call_id(index))]


def _patch_parts(block: PatchBlock, position: Position, index: int) -> list[dict[str, Any]]:
    """One call per file: Gemini CLI has no multi-file patch tool."""
    calls: list[tuple[str, dict[str, Any]]] = []
    calls += [(TOOL_NAMES["add"], {"file_path": a.path, "content": a.content})
              for a in block.patch.add]
    calls += [(TOOL_NAMES["update"], {"file_path": u.path, "old_string": u.old,
                                      "new_string": u.new,
                                      "instruction": f"Apply the scripted edit to {u.path}."})
              for u in block.patch.update]
    calls += [(TOOL_NAMES["delete"], {"command": f"rm -- {shlex.quote(path)}"})
              for path in block.patch.delete]
    return [function_call(name, args, position.call_id(index, n))
            for n, (name, args) in enumerate(calls)]


def _halves(text: str) -> list[str]:
    """Split text in two at a space near the middle (never inside a character)."""
    cut = text.rfind(" ", 0, len(text) // 2 + 1)
    return [text[: cut + 1], text[cut + 1:]] if cut > 0 else [text]


def usage_metadata(parts: Sequence[Mapping[str, Any]], position: Position) -> dict[str, int]:
    """Token counts derived from the script only, so re-recording gives the same numbers."""
    thoughts = sum(len(str(p.get("text", ""))) // 4 + 1 for p in parts if p.get("thought"))
    output = sum(len(json.dumps(p, ensure_ascii=False)) // 4 + 1 for p in parts
                 if not p.get("thought"))
    prompt = 1000 + 100 * position.step
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": output,
             "totalTokenCount": prompt + output + thoughts}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def chunk(parts: Sequence[Mapping[str, Any]], position: Position, *,
          finish: str | None = None, usage: Mapping[str, int] | None = None) -> dict[str, Any]:
    """One `GenerateContentResponse` of a stream."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        body["usageMetadata"] = dict(usage)
    body["modelVersion"] = MODEL
    body["responseId"] = position.response_id
    return body


def sse_data(payload: Mapping[str, Any]) -> bytes:
    """One SSE frame as the Gemini API writes it (CRLF line ends)."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\r\n\r\n"


def encode_chunks(blocks: Sequence[Block], position: Position) -> list[dict[str, Any]]:
    """A step's stream as response objects: one per part (texts in two), the last finishing."""
    parts = [p for n, b in enumerate(blocks) for p in block_parts(b, position, n)]
    pieces: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part and not part.get("thought"):
            pieces += [{**part, "text": t} for t in _halves(str(part["text"]))]
        else:
            pieces.append(part)
    usage = usage_metadata(parts, position)
    if not pieces:
        return [chunk([{"text": ""}], position, finish="STOP", usage=usage)]
    chunks = [chunk([p], position) for p in pieces[:-1]]
    chunks.append(chunk([pieces[-1]], position, finish="STOP", usage=usage))
    return chunks


def encode_step(blocks: Sequence[Block], position: Position) -> StubReply:
    frames = [sse_data(c) for c in encode_chunks(blocks, position)]
    return StubReply(200, dict(SSE_HEADERS), frames)


def error_body(status: int, message: str) -> dict[str, Any]:
    """A Google API error body (`google.rpc.Status` inside `error`)."""
    return {"error": {"code": status, "message": message,
                      "status": HTTP_STATUS_NAMES.get(status, "UNKNOWN")}}


def encode_failure(step: FailStep, position: Position) -> StubReply:
    """HTTP status: a JSON error body. Stream error: one text chunk, then an `error` object and
    the end of the stream, with no `finishReason` (how a Gemini stream breaks off)."""
    fail = step.fail
    if fail.http_status is not None:
        payload = json.dumps(error_body(fail.http_status, fail.message)).encode()
        return StubReply(fail.http_status, dict(JSON_HEADERS), [payload])
    first = chunk([{"text": "Let me "}], position)
    broken = {"error": {"code": 500, "message": fail.message, "status": "INTERNAL",
                        "details": [{"reason": fail.stream_error}]}}
    return StubReply(200, dict(SSE_HEADERS), [sse_data(first), sse_data(broken)])


# ------------------------------------------------------------------------------------ side calls


def schema_instance(schema: Any) -> Any:
    """A small value valid against a (Gemini-dialect, upper- or lower-case type) JSON schema:
    what a side call with `responseJsonSchema`/`responseSchema` must get back."""
    if not isinstance(schema, Mapping):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _property_value(k, v) for k, v in props.items()}
    if kind == "array":
        return []
    if kind in {"integer", "number"}:
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return "scripted"


SIDE_VALUES: dict[str, Any] = {
    "complexity_score": 10,
    "complexity_reasoning": "Scripted stub: a simple request.",
    "model_choice": "flash",
    "reasoning": "Scripted stub: the model has finished its turn.",
    "next_speaker": "user",
}
"""Values for properties of the CLI's known side-call schemas (routing, next-speaker check),
so the answers also make sense, not only validate."""


def _property_value(name: str, schema: Any) -> Any:
    value = SIDE_VALUES.get(name)
    if value is None:
        return schema_instance(schema)
    if isinstance(schema, Mapping) and schema.get("enum") and value not in schema["enum"]:
        return schema["enum"][0]
    return value


def side_answer(body: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to a non-streaming side call: a schema instance, a web search result, or text."""
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    tools = body.get("tools") or []
    if schema is not None:
        text = json.dumps(schema_instance(schema))
    elif any(isinstance(t, Mapping) and "googleSearch" in t for t in tools):
        query = last_user_text(body.get("contents") or [])
        text = f"Scripted search results for {query!r}: no live search in the stub."
    else:
        text = "Scripted stub answer."
    position = Position(-1, 0)
    usage = {"promptTokenCount": 100, "candidatesTokenCount": len(text) // 4 + 1,
             "totalTokenCount": 100 + len(text) // 4 + 1}
    return chunk([{"text": text}], position, finish="STOP", usage=usage)


# ------------------------------------------------------------------------------------ reading


def parts_of(content: Any) -> list[dict[str, Any]]:
    parts = content.get("parts") if isinstance(content, Mapping) else None
    return [p for p in parts or [] if isinstance(p, dict)]


def user_text(content: Any) -> str:
    """The plain text of a user content (function responses are not user text)."""
    if not isinstance(content, Mapping) or content.get("role", "user") != "user":
        return ""
    return "\n".join(str(p["text"]) for p in parts_of(content) if isinstance(p.get("text"), str))


def last_user_text(contents: Sequence[Any]) -> str:
    for content in reversed(contents):
        text = user_text(content)
        if text:
            return text
    return ""


@dataclass(frozen=True)
class Progress:
    """Which run a request belongs to and how many of its model answers it already carries."""

    run: int
    prompt_index: int
    steps_done: int


def progress_of(scenario: Scenario, contents: Sequence[Any]) -> Progress | None:
    texts = [user_text(c) for c in contents]
    run = find_run(scenario, texts)
    if run is None:
        return None
    prompt = scenario.runs[run].prompt
    index = max(i for i, t in enumerate(texts) if prompt in t)
    done = sum(1 for c in contents[index + 1:]
               if isinstance(c, Mapping) and c.get("role") == "model")
    return Progress(run, index, done)


def unanswered_calls(contents: Sequence[Any]) -> Iterator[str]:
    """Each functionCall not answered by a functionResponse (same id and name) right after it."""
    for index, content in enumerate(contents):
        calls = [p["functionCall"] for p in parts_of(content)
                 if isinstance(p.get("functionCall"), Mapping)]
        if not calls:
            continue
        following = contents[index + 1] if index + 1 < len(contents) else None
        answers = {(r.get("id"), r.get("name")) for p in parts_of(following)
                   if isinstance(r := p.get("functionResponse"), Mapping)}
        for call in calls:
            if (call.get("id"), call.get("name")) not in answers:
                yield (f"functionCall {call.get('name')} (id {call.get('id')}) has no "
                       "functionResponse in the next content")


# ------------------------------------------------------------------------------------ responder


def http_failure_first(run: Run) -> bool:
    """The run's first model call fails with an HTTP status (not a broken stream)."""
    first = run.steps[0] if run.steps else None
    return isinstance(first, FailStep) and first.fail.http_status is not None


class GeminiResponder:
    """The stub's brain for `POST /v1beta/models/<model>:(stream)generateContent`."""

    def __init__(self, scenario: Scenario, log: StubLog | None = None,
                 expected_key: str | None = None) -> None:
        self.scenario = scenario
        self.log = log or StubLog()
        self.expected_key = expected_key
        self.steps = [gemini_steps(run) for run in scenario.runs]

    def bind(self, log: StubLog) -> None:
        """Report problems into the server's log (the server is created after the responder)."""
        self.log = log

    def respond(self, request: StubRequest) -> StubReply:
        path = request.path
        if request.method != "POST" or not (path.endswith(STREAM_ENDPOINT)
                                              or path.endswith(SIDE_ENDPOINT)):
            return self._json(404, error_body(404, f"stub has no {request.method} {path}"))
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            self.log.problem(f"{path}: request body is not JSON")
            return self._json(400, error_body(400, "request body is not JSON"))
        if not isinstance(body, dict):
            self.log.problem(f"{path}: request body is not a JSON object")
            return self._json(400, error_body(400, "request body is not a JSON object"))
        self._check_key(request)
        if path.endswith(SIDE_ENDPOINT):
            return self._json(200, side_answer(body))
        return self._conversation(body)

    @staticmethod
    def _json(status: int, payload: Mapping[str, Any]) -> StubReply:
        return StubReply(status, dict(JSON_HEADERS), [json.dumps(payload).encode()])

    def _check_key(self, request: StubRequest) -> None:
        if self.expected_key is None:
            return
        got = request.headers.get("x-goog-api-key")
        if got != self.expected_key:
            shown = "nothing" if got is None else "a different key"
            self.log.problem(f"x-goog-api-key: expected the scenario key, got {shown}")

    def _conversation(self, body: Mapping[str, Any]) -> StubReply:
        contents = body.get("contents")
        contents = contents if isinstance(contents, list) else []
        progress = progress_of(self.scenario, contents)
        if progress is None:
            texts = [user_text(c)[-80:] for c in contents if user_text(c)]
            self.log.problem(f"request holds no run's prompt; user texts: {texts[-3:]!r}")
            return encode_step([TextBlock(text="(stub: no scripted answer)")], Position(99, 0))
        for problem in self._check_history(progress, contents):
            self.log.problem(problem)
        steps = self.steps[progress.run]
        position = Position(progress.run, progress.steps_done)
        if progress.steps_done >= len(steps):
            self.log.problem(f"run {progress.run}: model called again after its last step "
                             f"({len(steps)} steps)")
            return encode_step([TextBlock(text="(stub: script finished)")], position)
        step = steps[progress.steps_done]
        if isinstance(step, FailStep):
            return encode_failure(step, position)
        return encode_step(step, position)

    def _check_history(self, progress: Progress, contents: Sequence[Any]) -> Iterator[str]:
        """Every earlier call answered; after a resume, the earlier runs' prompts are carried,
        except a resumed run's whose first model call got an HTTP error: Gemini CLI 0.61 does
        not save that run to the session (seen live, tests/test_roundtrip_gemini_cli.py)."""
        for problem in unanswered_calls(contents):
            yield f"run {progress.run}: {problem}"
        earlier = "\n".join(user_text(c) for c in contents[: progress.prompt_index])
        for index in range(progress.run):
            if index > 0 and http_failure_first(self.scenario.runs[index]):
                continue
            if self.scenario.runs[index].prompt not in earlier:
                yield (f"run {progress.run}: history lacks run {index}'s prompt "
                       "(resume did not carry the thread)")
