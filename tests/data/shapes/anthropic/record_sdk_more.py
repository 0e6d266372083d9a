"""Record more plain `anthropic` Python SDK sessions against the project's stub on 127.0.0.1:
the `sdk_more_*` fixtures beside this file. The stub, wire format and cassette writer are
`../record_sdk_anthropic.py`'s; only the sessions are new.

- `sdk_more_output_tool_unanswered_nonstream`: a client tool round trip, then the client forces
  its output tool (`tool_choice` naming it) and stops at that call: its arguments are the
  client's result, no `tool_result` is ever sent.
- `sdk_more_refusal_stream`: a streamed answer the API's classifiers stop: some text, then
  `stop_reason: "refusal"` (no refusal message added).
- `sdk_more_web_search_error_stream`: server web search whose result is a
  `web_search_tool_result_error` (`max_uses_exceeded`), then the model's text.
- `gateway_prefix_tool_round_trip_stream`: the SDK aimed at an AI gateway's base URL (the
  Cloudflare AI Gateway form `/v1/<account>/<gateway>/anthropic`), so every request goes to
  `<prefix>/v1/messages`; a streamed tool round trip.
- `sdk_more_thinking_tool_stream`: streamed thinking (`signature_delta`) followed by two client
  `tool_use` blocks in one answer, both answered in one later request, one with `is_error`.

Run: `python tests/data/shapes/anthropic/record_sdk_more.py` (from the repo root).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anthropic import Anthropic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import record_sdk_anthropic as base

from harness.record.cassette import write_http_cassette
from harness.record.stub import StubServer

HERE = Path(__file__).resolve().parent
MODEL = base.MODEL
Answer, text, thinking, server_use, usage = (base.Answer, base.text, base.thinking,
                                             base.server_use, base.usage)

COUNTRY_TOOL: dict[str, Any] = {
    "name": "get_user_country", "description": "The user's country.",
    "input_schema": {"type": "object", "properties": {}}}
OUTPUT_TOOL: dict[str, Any] = {
    "name": "final_result", "description": "The final response.",
    "input_schema": {"type": "object",
                     "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                     "required": ["city", "country"]}}
FILE_TOOL: dict[str, Any] = {
    "name": "read_file", "description": "Read a file.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                     "required": ["path"]}}


def tool_use(tid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": tid, "name": name, "input": args}


def output_tool_unanswered(client: Anthropic) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the capital of my country?"}]
    tools = [COUNTRY_TOOL, OUTPUT_TOOL]
    first = client.messages.create(model=MODEL, max_tokens=1024, messages=messages,
                                   tools=tools)
    call = next(b for b in first.content if b.type == "tool_use")
    messages += [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                               "content": "Mexico"}]}]
    client.messages.create(model=MODEL, max_tokens=1024, messages=messages, tools=tools,
                           tool_choice={"type": "tool", "name": "final_result"})


def refusal_stream(client: Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=512,
                                messages=[{"role": "user", "content": "Write the recipe."}]
                                ) as stream:
        stream.get_final_message()


def web_search_error_stream(client: Anthropic) -> None:
    with client.messages.stream(
            model=MODEL, max_tokens=1024,
            messages=[{"role": "user", "content": "Search the latest Python release."}],
            tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}]
    ) as stream:
        stream.get_final_message()


def thinking_tools_stream(client: Anthropic) -> None:
    messages: list[Any] = [{"role": "user", "content": "Compare a.txt and b.txt."}]
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 2048, "tools": [FILE_TOOL],
                              "thinking": {"type": "enabled", "budget_tokens": 1024}}
    with client.messages.stream(messages=messages, **kwargs) as stream:
        first = stream.get_final_message()
    calls = [b for b in first.content if b.type == "tool_use"]
    messages += [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                 {"role": "user", "content": [
                     {"type": "tool_result", "tool_use_id": calls[0].id, "content": "alpha"},
                     {"type": "tool_result", "tool_use_id": calls[1].id, "is_error": True,
                      "content": "b.txt: no such file"}]}]
    with client.messages.stream(messages=messages, **kwargs) as stream:
        stream.get_final_message()


SEARCH_ERROR = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01More",
                "content": {"type": "web_search_tool_result_error",
                            "error_code": "max_uses_exceeded"}}

SESSIONS: dict[str, tuple[Callable[[Anthropic], None], list[base.Reply]]] = {
    "gateway_prefix_tool_round_trip_stream": (lambda c: base.tool_round_trip(c, stream=True), [
        Answer([text("Let me look that up."),
                tool_use("toolu_01Gw", "get_weather", {"city": "Paris"})], stop="tool_use",
               usage=usage(410, 30)),
        Answer([text("It is 18 °C and sunny in Paris.")], usage=usage(480, 14))]),
    "sdk_more_output_tool_unanswered_nonstream": (output_tool_unanswered, [
        Answer([tool_use("toolu_01Country", "get_user_country", {})], stop="tool_use",
               usage=usage(354, 38)),
        Answer([tool_use("toolu_02Final", "final_result",
                         {"city": "Mexico City", "country": "Mexico"})], stop="tool_use",
               usage=usage(460, 56))]),
    "sdk_more_refusal_stream": (refusal_stream, [
        Answer([text("Here is the first st")], stop="refusal", usage=usage(30, 9))]),
    "sdk_more_web_search_error_stream": (web_search_error_stream, [
        Answer([server_use("srvtoolu_01More", "web_search", {"query": "latest Python release"}),
                SEARCH_ERROR,
                text("The search tool is not available right now.")],
               usage=usage(2100, 40, searches=0))]),
    "sdk_more_thinking_tool_stream": (thinking_tools_stream, [
        Answer([thinking("Read both files first."),
                tool_use("toolu_01ReadA", "read_file", {"path": "a.txt"}),
                tool_use("toolu_02ReadB", "read_file", {"path": "b.txt"})], stop="tool_use",
               usage=usage(500, 80, read=300)),
        Answer([text("a.txt says alpha; b.txt does not exist.")], usage=usage(620, 20,
                                                                              read=300))]),
}


PREFIXES = {"gateway_prefix_tool_round_trip_stream": "/v1/acct-dummy/gw-dummy/anthropic"}


def main() -> None:
    for name, (session, replies) in SESSIONS.items():
        with StubServer(base.Scripted(replies)) as stub:
            client = Anthropic(base_url=stub.base_url + PREFIXES.get(name, ""),
                               api_key="sk-dummy", max_retries=0)
            session(client)
        write_http_cassette(HERE / f"{name}.http.yaml", stub.log.exchanges)
        print(f"{name}: {len(stub.log.exchanges)} exchanges, problems: {stub.log.problems}")


if __name__ == "__main__":
    main()
