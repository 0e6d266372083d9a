"""Record the plain official `openai` Python SDK (any client, not Codex) calling the Responses API
of a scripted stub on 127.0.0.1: the `sdk_*.http.yaml` fixtures here. The requests are exactly
what the SDK sends (`client.responses.create(...)`, streamed and not, a function tool round trip
that re-sends the model's output items and a `function_call_output`); the answers are scripted
by this file in the documented wire format (a `response` object, or its SSE events).

Run: `python tests/data/shapes/codex-adapter/record_sdk.py` (from the repo root).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from openai import OpenAI

from harness.record.cassette import write_http_cassette
from harness.record.stub import StubReply, StubRequest, StubServer, sse_event

HERE = Path(__file__).resolve().parent
MODEL = "gpt-5-mini"
WEATHER_TOOL = {"type": "function", "name": "get_weather", "strict": True,
                "description": "Current weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"], "additionalProperties": False}}
USAGE = {"input_tokens": 41, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 23,
         "output_tokens_details": {"reasoning_tokens": 8}, "total_tokens": 64}


class ScriptedResponses:
    """Answers each request from its content: a tool output present -> the final answer; tools
    offered -> reasoning plus a function call; else a greeting. Streamed when asked."""

    def __init__(self) -> None:
        self.count = 0

    def respond(self, request: StubRequest) -> StubReply:
        body = json.loads(request.body)
        self.count += 1
        rid = f"resp_sdk{self.count:02d}"
        inputs = body["input"] if isinstance(body["input"], list) else []
        if any(item.get("type") == "function_call_output" for item in inputs):
            output = [message(f"msg_sdk{self.count:02d}", "It is 18 °C and sunny in Paris.")]
        elif body.get("tools"):
            output = [reasoning(f"rs_sdk{self.count:02d}"),
                      {"type": "function_call", "id": f"fc_sdk{self.count:02d}",
                       "call_id": "call_weather_1", "name": "get_weather",
                       "arguments": '{"city":"Paris"}', "status": "completed"}]
        else:
            output = [message(f"msg_sdk{self.count:02d}", "Hello! How can I help today?")]
        response = whole(rid, body, output)
        if body.get("stream") is True:
            return StubReply(200, {"content-type": "text/event-stream; charset=utf-8"},
                             list(sse(response)))
        return StubReply(200, {"content-type": "application/json"},
                         [json.dumps(response, ensure_ascii=False).encode()])


def message(mid: str, text: str) -> dict[str, Any]:
    return {"type": "message", "id": mid, "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [],
                         "logprobs": []}]}


def reasoning(rid: str) -> dict[str, Any]:
    return {"type": "reasoning", "id": rid, "encrypted_content": "gAAAAB-dummy-encrypted",
            "summary": [{"type": "summary_text", "text": "The user wants the weather: call "
                                                         "get_weather for Paris."}]}


def whole(rid: str, body: dict[str, Any], output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 1764806400, "status": "completed",
            "background": False, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "model": f"{MODEL}-2025-08-07",
            "output": output, "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": "low", "summary": "auto"}, "store": True,
            "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto", "tools": body.get("tools", []), "top_p": 1.0,
            "truncation": "disabled", "usage": USAGE, "user": None, "metadata": {}}


def sse(response: dict[str, Any]) -> Iterator[bytes]:
    """The SSE events that stream `response` (created, per item added/deltas/done, completed)."""
    seq = iter(range(10_000))

    def event(etype: str, **fields: Any) -> bytes:
        payload = {"type": etype, "sequence_number": next(seq), **fields}
        return sse_event(etype, json.dumps(payload, ensure_ascii=False).encode())

    opening = {**response, "status": "in_progress", "output": [], "usage": None}
    yield event("response.created", response=opening)
    yield event("response.in_progress", response=opening)
    for n, item in enumerate(response["output"]):
        yield from item_events(event, n, item)
    yield event("response.completed", response=response)


def item_events(event: Callable[..., bytes], n: int, item: dict[str, Any]) -> Iterator[bytes]:
    iid = item["id"]
    if item["type"] == "message":
        text = item["content"][0]["text"]
        yield event("response.output_item.added", output_index=n,
                    item={**item, "status": "in_progress", "content": []})
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        yield event("response.content_part.added", item_id=iid, output_index=n,
                    content_index=0, part=part)
        for piece in (text[: len(text) // 2], text[len(text) // 2:]):
            yield event("response.output_text.delta", item_id=iid, output_index=n,
                        content_index=0, delta=piece, logprobs=[])
        yield event("response.output_text.done", item_id=iid, output_index=n, content_index=0,
                    text=text, logprobs=[])
        yield event("response.content_part.done", item_id=iid, output_index=n, content_index=0,
                    part={**part, "text": text})
    elif item["type"] == "reasoning":
        yield event("response.output_item.added", output_index=n,
                    item={**item, "summary": []})
        summary = item["summary"][0]["text"]
        yield event("response.reasoning_summary_part.added", item_id=iid, output_index=n,
                    summary_index=0, part={"type": "summary_text", "text": ""})
        yield event("response.reasoning_summary_text.delta", item_id=iid, output_index=n,
                    summary_index=0, delta=summary)
        yield event("response.reasoning_summary_text.done", item_id=iid, output_index=n,
                    summary_index=0, text=summary)
        yield event("response.reasoning_summary_part.done", item_id=iid, output_index=n,
                    summary_index=0, part={"type": "summary_text", "text": summary})
    else:
        yield event("response.output_item.added", output_index=n,
                    item={**item, "status": "in_progress", "arguments": ""})
        yield event("response.function_call_arguments.delta", item_id=iid, output_index=n,
                    delta=item["arguments"])
        yield event("response.function_call_arguments.done", item_id=iid, output_index=n,
                    arguments=item["arguments"])
    yield event("response.output_item.done", output_index=n, item=item)


# ------------------------------------------------------------------------------------ sessions


def text_once(client: OpenAI, stream: bool) -> None:
    if stream:
        for _ in client.responses.create(model=MODEL, instructions="Answer briefly.",
                                         input="Say hello.", stream=True):
            pass
        return
    client.responses.create(model=MODEL, instructions="Answer briefly.", input="Say hello.")


def weather_round_trip(client: OpenAI, stream: bool) -> None:
    """The documented function-calling loop: the model's output items go back as input, with
    the tool's result as a `function_call_output`."""
    history: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = ask(client, history, stream)
    history += [item.model_dump(exclude_none=True) for item in first]
    call = next(item for item in first if item.type == "function_call")
    history.append({"type": "function_call_output", "call_id": call.call_id,  # type: ignore[union-attr]
                    "output": json.dumps({"temperature_c": 18, "sky": "sunny"})})
    ask(client, history, stream)


def ask(client: OpenAI, history: list[Any], stream: bool) -> list[Any]:
    if not stream:
        return list(client.responses.create(model=MODEL, input=history,
                                            tools=[WEATHER_TOOL]).output)  # type: ignore[list-item]
    with client.responses.stream(model=MODEL, input=history,
                                 tools=[WEATHER_TOOL]) as events:  # type: ignore[list-item]
        for _ in events:
            pass
        return list(events.get_final_response().output)


SESSIONS: dict[str, Callable[[OpenAI], None]] = {
    "sdk_text_nonstream": lambda client: text_once(client, stream=False),
    "sdk_text_stream": lambda client: text_once(client, stream=True),
    "sdk_function_round_trip_nonstream": lambda client: weather_round_trip(client, stream=False),
    "sdk_function_round_trip_stream": lambda client: weather_round_trip(client, stream=True),
}


def main() -> None:
    for name, session in SESSIONS.items():
        with StubServer(ScriptedResponses()) as stub:
            client = OpenAI(base_url=f"{stub.base_url}/v1", api_key="sk-dummy", max_retries=0)
            session(client)
        write_http_cassette(HERE / f"{name}.http.yaml", stub.log.exchanges)
        print(f"{name}: {len(stub.log.exchanges)} exchanges")


if __name__ == "__main__":
    main()
