"""Record the plain official `anthropic` Python SDK (any client, not Claude Code) calling the
Messages API of a scripted stub on 127.0.0.1: the `sdk_*.http.yaml` fixtures under
`tests/data/shapes/anthropic/`.

The requests are exactly what the SDK sends (`client.messages.create(...)` streamed and not,
`client.messages.stream(...)`, the beta surface for code execution, web fetch and the MCP
connector; the documented tool loop that re-sends the answer's content and a `tool_result`; the
documented `pause_turn` continuation that re-sends the paused answer as the last message; the
SDK's own retry of a 529). The answers are scripted here in the documented wire format, shaped
as the API's real answers are in public recordings (pydantic-ai's cassettes): a server tool's
input streamed as `input_json_delta` after an empty first piece, result blocks arriving whole in
`content_block_start`, a cited text block opening with `"citations": []` and its
`citations_delta` events before its text, `message_delta.usage` repeating the input counts and
the server tool request counts.

Run: `python tests/data/shapes/record_sdk_anthropic.py` (from the repo root).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anthropic import Anthropic, APIStatusError

from harness.record.cassette import write_http_cassette
from harness.record.stub import StubReply, StubRequest, StubServer, sse_event

HERE = Path(__file__).resolve().parent / "anthropic"
MODEL = "claude-sonnet-4-6"
SSE = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
JSON = {"content-type": "application/json"}
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather", "description": "Current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]}}


# ====================================================================================== answers


@dataclass
class Answer:
    """One scripted model answer: final content blocks, stop reason, usage."""

    blocks: list[dict[str, Any]]
    stop: str = "end_turn"
    usage: dict[str, Any] = field(default_factory=lambda: usage(40, 12))
    container: dict[str, Any] | None = None


@dataclass
class Failure:
    """An HTTP error status with Anthropic's error body, or (status 200) an `error` event after
    the stream has started."""

    status: int
    error_type: str
    message: str


Reply = Answer | Failure


def usage(inp: int, out: int, *, read: int = 0, write: int = 0,
          searches: int | None = None, fetches: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"input_tokens": inp, "cache_creation_input_tokens": write,
                            "cache_read_input_tokens": read, "output_tokens": out,
                            "service_tier": "standard"}
    if searches is not None or fetches is not None:
        body["server_tool_use"] = {"web_search_requests": searches or 0,
                                   "web_fetch_requests": fetches or 0}
    return body


class Scripted:
    """Answers the n-th request with the n-th reply, streamed when the request asks."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = iter(replies)
        self.count = 0

    def respond(self, request: StubRequest) -> StubReply:
        body = json.loads(request.body)
        reply = next(self.replies)
        self.count += 1
        mid = f"msg_sdk{self.count:02d}"
        model = str(body.get("model"))
        if isinstance(reply, Failure):
            return failure(reply, mid, model)
        if body.get("stream") is True:
            return StubReply(200, dict(SSE), list(frames(reply, mid, model)))
        return StubReply(200, dict(JSON), [json.dumps(message(reply, mid, model),
                                                      ensure_ascii=False).encode()])


def message(answer: Answer, mid: str, model: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": mid, "type": "message", "role": "assistant", "model": model,
                           "content": answer.blocks, "stop_reason": answer.stop,
                           "stop_sequence": None, "usage": answer.usage}
    if answer.container is not None:
        out["container"] = answer.container
    return out


def failure(reply: Failure, mid: str, model: str) -> StubReply:
    error = json.dumps({"type": "error", "error": {"type": reply.error_type,
                                                   "message": reply.message}}).encode()
    if reply.status != 200:
        return StubReply(reply.status, {**JSON, "retry-after": "0"}, [error])
    opening = message(Answer([], usage=usage(40, 1)), mid, model)
    return StubReply(200, dict(SSE), [
        event("message_start", message={**opening, "stop_reason": None}),
        event("ping"), sse_event("error", error)])


def event(etype: str, **fields: Any) -> bytes:
    return sse_event(etype, json.dumps({"type": etype, **fields}, ensure_ascii=False).encode())


def pieces(text: str, size: int = 18) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def frames(answer: Answer, mid: str, model: str) -> Iterator[bytes]:
    """The SSE stream of one answer, in the order the API sends it."""
    opening = message(answer, mid, model)
    start_usage = {**answer.usage, "output_tokens": 1}
    start_usage.pop("server_tool_use", None)
    yield event("message_start", message={**opening, "content": [], "stop_reason": None,
                                          "usage": start_usage})
    for index, block in enumerate(answer.blocks):
        yield from block_frames(index, block)
        if index == 0:
            yield event("ping")
    yield event("message_delta", delta={"stop_reason": answer.stop, "stop_sequence": None},
                usage={k: v for k, v in answer.usage.items() if k != "service_tier"})
    yield event("message_stop")


def block_frames(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    btype = block["type"]
    if btype == "text":
        head: dict[str, Any] = {"type": "text", "text": ""}
        if "citations" in block:
            head = {"citations": [], **head}
        yield event("content_block_start", index=index, content_block=head)
        for citation in block.get("citations") or []:
            yield event("content_block_delta", index=index,
                        delta={"type": "citations_delta", "citation": citation})
        for piece in pieces(block["text"]):
            yield event("content_block_delta", index=index,
                        delta={"type": "text_delta", "text": piece})
    elif btype == "thinking":
        yield event("content_block_start", index=index,
                    content_block={"type": "thinking", "thinking": "", "signature": ""})
        for piece in pieces(block["thinking"]):
            yield event("content_block_delta", index=index,
                        delta={"type": "thinking_delta", "thinking": piece})
        yield event("content_block_delta", index=index,
                    delta={"type": "signature_delta", "signature": block["signature"]})
    elif btype in {"tool_use", "server_tool_use", "mcp_tool_use"}:
        yield event("content_block_start", index=index, content_block={**block, "input": {}})
        for piece in ["", *pieces(json.dumps(block["input"], ensure_ascii=False), 12)]:
            yield event("content_block_delta", index=index,
                        delta={"type": "input_json_delta", "partial_json": piece})
    else:  # redacted thinking and every result block arrive whole
        yield event("content_block_start", index=index, content_block=block)
    yield event("content_block_stop", index=index)


# ====================================================================================== content


def text(value: str, citations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": value}
    if citations is not None:
        block["citations"] = citations
    return block


def thinking(value: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": "EqQBCkYIBxgCKkDdummy"}


def server_use(tid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "server_tool_use", "id": tid, "name": name, "input": args}


def hit(title: str, url: str) -> dict[str, Any]:
    return {"type": "web_search_result", "title": title, "url": url,
            "encrypted_content": "EpYCdummy", "page_age": None}


def cited(text_: str, title: str, url: str) -> dict[str, Any]:
    return {"type": "web_search_result_location", "cited_text": text_, "url": url,
            "title": title, "encrypted_index": "EpABdummy"}


PY_HITS = [hit("Python Release Python 3.14.2", "https://www.python.org/downloads/release/"
               "python-3142/"),
           hit("Status of Python versions", "https://devguide.python.org/versions/")]
PEP_HITS = [hit("PEP 790 \u2013 Python 3.15 Release Schedule",
                "https://peps.python.org/pep-0790/")]


# ====================================================================================== sessions


def text_stream(client: Anthropic) -> None:
    """A streamed greeting; the answer reports a prompt-cache write."""
    with client.messages.stream(model=MODEL, max_tokens=256, system="Answer briefly.",
                                messages=[{"role": "user", "content": "Say hello."}]) as stream:
        stream.until_done()


def title_words_nonstream(client: Anthropic) -> None:
    """A non-streamed call on a haiku model whose system prompt asks for a title and a summary:
    the words and the model Claude Code's side queries once were recognized by."""
    client.messages.create(
        model="claude-haiku-4-5", max_tokens=64,
        system="Write a short title for the text, then summarize its topic in one line.",
        messages=[{"role": "user", "content": "The sky over Lisbon was clear all week."}])


def tool_round_trip(client: Anthropic, *, stream: bool) -> None:
    """The documented client tool loop: the answer's content goes back as the assistant
    message, the tool's result as a `tool_result` (non-streamed: the tool failed)."""
    history: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 2048, "tools": [WEATHER_TOOL],
                              "thinking": {"type": "enabled", "budget_tokens": 1024}}
    if stream:
        with client.messages.stream(messages=history, **kwargs) as events:
            first = events.get_final_message()
    else:
        first = client.messages.create(messages=history, **kwargs)
    history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                                     for b in first.content]})
    call = next(b for b in first.content if b.type == "tool_use")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.id}
    if stream:
        result["content"] = json.dumps({"temperature_c": 18, "sky": "sunny"})
    else:
        result.update(content="weather service unavailable (HTTP 503)", is_error=True)
    history.append({"role": "user", "content": [result]})
    if stream:
        with client.messages.stream(messages=history, **kwargs) as events:
            events.until_done()
    else:
        client.messages.create(messages=history, **kwargs)


def web_search_pause_turn(client: Anthropic) -> None:
    """Server web search with `pause_turn`: the paused answer is re-sent as the last message
    (no new user message) and the API continues the same turn."""
    tools: list[Any] = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    history: list[Any] = [{"role": "user", "content": "Which Python version is current, and "
                                                      "when is 3.15 due?"}]
    for _ in range(2):
        with client.messages.stream(model=MODEL, max_tokens=2048, tools=tools,
                                    messages=history) as events:
            answer = events.get_final_message()
        if answer.stop_reason != "pause_turn":
            return
        history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                                         for b in answer.content]})


def web_fetch_nonstream(client: Anthropic) -> None:
    """Beta web fetch with citations, whole answers: thinking, a redacted thinking block, a
    fetched document, a fetch the API refused, cited text."""
    client.beta.messages.create(
        model=MODEL, max_tokens=2048, betas=["web-fetch-2025-09-10"],
        thinking={"type": "enabled", "budget_tokens": 1024},
        tools=[{"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 2,
                "citations": {"enabled": True}}],
        messages=[{"role": "user", "content": "What does https://example.com/ say? Also try "
                                              "https://example.com/private."}])


def code_execution_stream(client: Anthropic) -> None:
    """Beta code execution (bash and the text editor in the sandbox), streamed."""
    with client.beta.messages.stream(
            model=MODEL, max_tokens=2048, betas=["code-execution-2025-08-25"],
            tools=[{"type": "code_execution_20250825", "name": "code_execution"}],
            messages=[{"role": "user", "content": "Write hello.txt, show it, then list /nope."}],
    ) as events:
        events.until_done()


def code_execution_python_nonstream(client: Anthropic) -> None:
    """The older code execution tool (Python source), a whole answer."""
    client.beta.messages.create(
        model=MODEL, max_tokens=1024, betas=["code-execution-2025-05-22"],
        tools=[{"type": "code_execution_20250522", "name": "code_execution"}],
        messages=[{"role": "user", "content": "How much is 3 * 12390? Use code."}])


def mcp_connector_stream(client: Anthropic) -> None:
    """Beta MCP connector: the API calls a remote MCP server itself (mcp_tool_use/result)."""
    with client.beta.messages.stream(
            model=MODEL, max_tokens=1024, betas=["mcp-client-2025-04-04"],
            mcp_servers=[{"type": "url", "url": "https://mcp.example.com/sse",
                          "name": "docs"}],
            messages=[{"role": "user", "content": "Look up 'retry' and 'missing' in the docs."}],
    ) as events:
        events.until_done()


def overloaded_then_ok(client: Anthropic) -> None:
    """HTTP 529 `overloaded_error`: the SDK retries the same request by itself (max_retries 1)."""
    client.with_options(max_retries=1).messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Say hi."}])


def overloaded_failed(client: Anthropic) -> None:
    """HTTP 529 with no retry left, then (a new conversation) an `error` event mid-stream."""
    for ask in (lambda: client.messages.create(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi?"}]),
                lambda: list(client.messages.create(
                    model=MODEL, max_tokens=64, stream=True,
                    messages=[{"role": "user", "content": "Hi again?"}]))):
        with contextlib.suppress(APIStatusError):
            ask()


# ====================================================================================== scripts

SESSIONS: dict[str, tuple[Callable[[Anthropic], None], list[Reply]]] = {
    "sdk_text_stream": (text_stream, [
        Answer([text("Hello! How can I help today?")], usage=usage(24, 11, write=1536))]),
    "sdk_title_words_nonstream": (title_words_nonstream, [
        Answer([text("Clear Week in Lisbon\nThe weather: a cloudless week.")],
               usage=usage(38, 14))]),
    "sdk_tool_round_trip_stream": (lambda c: tool_round_trip(c, stream=True), [
        Answer([thinking("The user wants the weather in Paris; call get_weather."),
                text("Let me check."),
                {"type": "tool_use", "id": "toolu_01Weather", "name": "get_weather",
                 "input": {"city": "Paris"}}], stop="tool_use", usage=usage(412, 76)),
        Answer([text("It is 18 °C and sunny in Paris.")], usage=usage(530, 15, read=400))]),
    "sdk_tool_round_trip_nonstream": (lambda c: tool_round_trip(c, stream=False), [
        Answer([thinking("Call get_weather for Paris."),
                {"type": "tool_use", "id": "toolu_02Weather", "name": "get_weather",
                 "input": {"city": "Paris"}}], stop="tool_use", usage=usage(412, 60)),
        Answer([text("The weather service is down; please try again later.")],
               usage=usage(520, 13))]),
    "sdk_web_search_pause_turn": (web_search_pause_turn, [
        Answer([text("I'll look that up."),
                server_use("srvtoolu_01Search", "web_search", {"query": "current Python "
                                                                         "version"}),
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01Search",
                 "content": PY_HITS},
                server_use("srvtoolu_02Search", "web_search", {"query": "Python 3.15 release "
                                                                         "date"})],
               stop="pause_turn", usage=usage(2068, 95, searches=1)),
        Answer([{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_02Search",
                 "content": PEP_HITS},
                text("The current release is ", citations=None),
                text("Python 3.14.2", citations=[
                    cited("Python 3.14.2 is the second maintenance release of 3.14.",
                          PY_HITS[0]["title"], PY_HITS[0]["url"])]),
                text("; ", citations=None),
                text("3.15.0 is planned for October 2026", citations=[
                    cited("3.15.0 final: Thursday, 2026-10-01", PEP_HITS[0]["title"],
                          PEP_HITS[0]["url"])]),
                text(".")], usage=usage(4120, 64, searches=2))]),
    "sdk_web_fetch_nonstream": (web_fetch_nonstream, [
        Answer([thinking("Fetch both pages."),
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3dummyredacted"},
                server_use("srvtoolu_01Fetch", "web_fetch", {"url": "https://example.com/"}),
                {"type": "web_fetch_tool_result", "tool_use_id": "srvtoolu_01Fetch",
                 "content": {"type": "web_fetch_result", "url": "https://example.com/",
                             "retrieved_at": "2026-11-30T10:00:00Z",
                             "content": {"type": "document", "title": "Example Domain",
                                         "citations": {"enabled": True},
                                         "source": {"type": "text", "media_type": "text/plain",
                                                    "data": "Example Domain\nThis domain is "
                                                            "for use in documentation."}}}},
                server_use("srvtoolu_02Fetch", "web_fetch",
                           {"url": "https://example.com/private"}),
                {"type": "web_fetch_tool_result", "tool_use_id": "srvtoolu_02Fetch",
                 "content": {"type": "web_fetch_tool_result_error",
                             "error_code": "url_not_accessible"}},
                text("The page says it is for use in documentation.", citations=[
                    {"type": "char_location", "cited_text": "This domain is for use in "
                                                            "documentation.",
                     "document_index": 0, "document_title": "Example Domain",
                     "start_char_index": 15, "end_char_index": 56}]),
                text(" The private page could not be fetched.")],
               usage=usage(3050, 120, fetches=2))]),
    "sdk_code_execution_stream": (code_execution_stream, [
        Answer([server_use("srvtoolu_01Edit", "text_editor_code_execution",
                           {"command": "create", "path": "hello.txt",
                            "file_text": "hello\n"}),
                {"type": "text_editor_code_execution_tool_result",
                 "tool_use_id": "srvtoolu_01Edit",
                 "content": {"type": "text_editor_code_execution_create_result",
                             "is_file_update": False}},
                server_use("srvtoolu_02Bash", "bash_code_execution",
                           {"command": "cat hello.txt"}),
                {"type": "bash_code_execution_tool_result", "tool_use_id": "srvtoolu_02Bash",
                 "content": {"type": "bash_code_execution_result", "stdout": "hello\n",
                             "stderr": "", "return_code": 0, "content": []}},
                server_use("srvtoolu_03Bash", "bash_code_execution", {"command": "ls /nope"}),
                {"type": "bash_code_execution_tool_result", "tool_use_id": "srvtoolu_03Bash",
                 "content": {"type": "bash_code_execution_result", "stdout": "",
                             "stderr": "ls: cannot access '/nope': No such file or directory\n",
                             "return_code": 2, "content": []}},
                text("hello.txt holds `hello`; /nope does not exist.")],
               usage=usage(2210, 180),
               container={"id": "container_011dummy", "expires_at": "2026-12-01T00:00:00Z"})]),
    "sdk_code_execution_python_nonstream": (code_execution_python_nonstream, [
        Answer([server_use("srvtoolu_01Py", "code_execution",
                           {"code": "print(3 * 12390)"}),
                {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_01Py",
                 "content": {"type": "code_execution_result", "stdout": "37170\n",
                             "stderr": "", "return_code": 0, "content": []}},
                text("3 * 12390 = 37170")], usage=usage(1771, 90),
               container={"id": "container_012dummy", "expires_at": "2026-12-01T00:00:00Z"})]),
    "sdk_mcp_connector_stream": (mcp_connector_stream, [
        Answer([{"type": "mcp_tool_use", "id": "mcptoolu_01", "name": "search_docs",
                 "server_name": "docs", "input": {"query": "retry"}},
                {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_01", "is_error": False,
                 "content": [{"type": "text", "text": "Retries: the SDK retries 2 times."}]},
                {"type": "mcp_tool_use", "id": "mcptoolu_02", "name": "search_docs",
                 "server_name": "docs", "input": {"query": "missing"}},
                {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_02", "is_error": True,
                 "content": [{"type": "text", "text": "No page matches 'missing'."}]},
                text("The SDK retries twice; nothing matches 'missing'.")],
               usage=usage(900, 70))]),
    "sdk_overloaded_retried": (overloaded_then_ok, [
        Failure(529, "overloaded_error", "Overloaded"),
        Answer([text("Hi!")], usage=usage(12, 4))]),
    "sdk_overloaded_failed": (overloaded_failed, [
        Failure(529, "overloaded_error", "Overloaded"),
        Failure(200, "overloaded_error", "Overloaded")]),
}


def main() -> None:
    for name, (session, replies) in SESSIONS.items():
        with StubServer(Scripted(replies)) as stub:
            client = Anthropic(base_url=stub.base_url, api_key="sk-dummy", max_retries=0)
            session(client)
        write_http_cassette(HERE / f"{name}.http.yaml", stub.log.exchanges)
        print(f"{name}: {len(stub.log.exchanges)} exchanges, problems: {stub.log.problems}")


if __name__ == "__main__":
    main()
