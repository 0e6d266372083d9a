"""Record more plain `openai` Python SDK sessions against a scripted Responses API stub on
127.0.0.1: the `sdk_more_*` / `azure_*` fixtures here (requests as the SDK sends them; answers
scripted by this file in the wire format the openai-python types document).

- `sdk_more_output_function_unanswered_stream`: the client forces a function as its output
  (`tool_choice` naming it) and stops at the call: it never sends a `function_call_output`.
- `sdk_more_reasoning_refusal_stream`: a reasoning item with two summary parts streamed
  (`response.reasoning_summary_part.added` / `..._text.delta`), then a message whose content is
  a `refusal` part streamed as `response.refusal.delta` / `.done`.
- `sdk_more_custom_tool_round_trip_stream`: a custom (freeform) tool: `custom_tool_call` with
  its input streamed as `response.custom_tool_call_input.delta`, answered by the client's
  `custom_tool_call_output`.
- `sdk_more_call_id_is_item_id_stream`: the client re-sends the function call and its output
  with the call item's `id` as `call_id` (the API accepts it).
- `sdk_more_background_polled_nonstream`: background mode: `background: true` answered
  `queued`, then `GET /v1/responses/{id}` polls (`in_progress`, then `completed` with the output).
- `azure_v1_reasoning_nonstream`: the Azure OpenAI v1 surface (`/openai/v1/responses`, the
  `api-key` header), a whole response carrying Azure's `content_filters`.

Run: `python tests/data/shapes/codex-adapter/record_sdk_more.py` (from the repo root).
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
USAGE = {"input_tokens": 52, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 31,
         "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 83}
ANSWER_TOOL = {"type": "function", "name": "final_answer", "strict": True,
               "description": "The structured answer.",
               "parameters": {"type": "object",
                              "properties": {"city": {"type": "string"},
                                             "country": {"type": "string"}},
                              "required": ["city", "country"], "additionalProperties": False}}
SQL_TOOL = {"type": "custom", "name": "run_sql", "description": "Run one SQL query."}
SAFE = {"filtered": False, "severity": "safe"}


def content_filters(source: str, end: int) -> dict[str, Any]:
    """Azure's per-response content filter results (shape as Azure returns them)."""
    return {"source_type": source, "content_filter_raw": [],
            "content_filter_offsets": {"start_offset": 0, "end_offset": end, "check_offset": 0},
            "content_filter_results": {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE,
                                       "violence": SAFE}}


class Scripted:
    """Answers the n-th request with the n-th scripted output list, streamed when asked."""

    def __init__(self, outputs: list[list[dict[str, Any]]], extra: dict[str, Any] | None = None
                 ) -> None:
        self.outputs = outputs
        self.extra = extra or {}
        self.count = 0

    def respond(self, request: StubRequest) -> StubReply:
        body = json.loads(request.body)
        output = self.outputs[self.count]
        self.count += 1
        response = whole(f"resp_more{self.count:02d}", body, output) | self.extra
        if body.get("stream") is True:
            return StubReply(200, {"content-type": "text/event-stream; charset=utf-8"},
                             list(sse(response)))
        return StubReply(200, {"content-type": "application/json"},
                         [json.dumps(response, ensure_ascii=False).encode()])


class Background:
    """Background mode: the POST answers `queued` with no output; each `GET /responses/{id}`
    poll answers the next status (`in_progress`, then `completed` with the output)."""

    def __init__(self, output: list[dict[str, Any]]) -> None:
        self.output = output
        self.body: dict[str, Any] = {}
        self.polls = 0

    def respond(self, request: StubRequest) -> StubReply:
        if request.method == "POST":
            self.body = json.loads(request.body)
            response = whole("resp_bg01", self.body, []) | {
                "status": "queued", "background": True, "usage": None}
        else:
            self.polls += 1
            done = self.polls > 1
            response = whole("resp_bg01", self.body, self.output if done else []) | {
                "status": "completed" if done else "in_progress", "background": True,
                "usage": USAGE if done else None}
        return StubReply(200, {"content-type": "application/json"},
                         [json.dumps(response, ensure_ascii=False).encode()])


def whole(rid: str, body: dict[str, Any], output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 1764806400, "status": "completed",
            "background": False, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "model": f"{MODEL}-2025-08-07",
            "output": output, "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": "low", "summary": "auto"}, "store": True,
            "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools", []),
            "top_p": 1.0, "truncation": "disabled", "usage": USAGE, "user": None,
            "metadata": {}}


def sse(response: dict[str, Any]) -> Iterator[bytes]:
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


def halves(text: str) -> list[str]:
    return [text[: len(text) // 2], text[len(text) // 2:]]


def item_events(event: Callable[..., bytes], n: int, item: dict[str, Any]) -> Iterator[bytes]:
    iid, itype = item["id"], item["type"]
    if itype == "message":
        yield event("response.output_item.added", output_index=n,
                    item={**item, "status": "in_progress", "content": []})
        for c, part in enumerate(item["content"]):
            yield from part_events(event, n, iid, c, part)
    elif itype == "reasoning":
        yield event("response.output_item.added", output_index=n, item={**item, "summary": []})
        for s, part in enumerate(item["summary"]):
            text = part["text"]
            yield event("response.reasoning_summary_part.added", item_id=iid, output_index=n,
                        summary_index=s, part={"type": "summary_text", "text": ""})
            for piece in halves(text):
                yield event("response.reasoning_summary_text.delta", item_id=iid,
                            output_index=n, summary_index=s, delta=piece)
            yield event("response.reasoning_summary_text.done", item_id=iid, output_index=n,
                        summary_index=s, text=text)
            yield event("response.reasoning_summary_part.done", item_id=iid, output_index=n,
                        summary_index=s, part={"type": "summary_text", "text": text})
    elif itype == "custom_tool_call":
        yield event("response.output_item.added", output_index=n, item={**item, "input": ""})
        for piece in halves(item["input"]):
            yield event("response.custom_tool_call_input.delta", item_id=iid, output_index=n,
                        delta=piece)
        yield event("response.custom_tool_call_input.done", item_id=iid, output_index=n,
                    input=item["input"])
    else:  # function_call
        yield event("response.output_item.added", output_index=n,
                    item={**item, "status": "in_progress", "arguments": ""})
        for piece in halves(item["arguments"]):
            yield event("response.function_call_arguments.delta", item_id=iid, output_index=n,
                        delta=piece)
        yield event("response.function_call_arguments.done", item_id=iid, output_index=n,
                    arguments=item["arguments"])
    yield event("response.output_item.done", output_index=n, item=item)


def part_events(event: Callable[..., bytes], n: int, iid: str, c: int, part: dict[str, Any]
                ) -> Iterator[bytes]:
    if part["type"] == "refusal":
        yield event("response.content_part.added", item_id=iid, output_index=n,
                    content_index=c, part={"type": "refusal", "refusal": ""})
        for piece in halves(part["refusal"]):
            yield event("response.refusal.delta", item_id=iid, output_index=n,
                        content_index=c, delta=piece)
        yield event("response.refusal.done", item_id=iid, output_index=n, content_index=c,
                    refusal=part["refusal"])
        yield event("response.content_part.done", item_id=iid, output_index=n,
                    content_index=c, part=part)
        return
    text = part["text"]
    yield event("response.content_part.added", item_id=iid, output_index=n, content_index=c,
                part={**part, "text": ""})
    for piece in halves(text):
        yield event("response.output_text.delta", item_id=iid, output_index=n,
                    content_index=c, delta=piece, logprobs=[])
    yield event("response.output_text.done", item_id=iid, output_index=n, content_index=c,
                text=text, logprobs=[])
    yield event("response.content_part.done", item_id=iid, output_index=n, content_index=c,
                part=part)


def message(mid: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "id": mid, "status": "completed", "role": "assistant",
            "content": list(parts)}


def text(value: str) -> dict[str, Any]:
    return {"type": "output_text", "text": value, "annotations": [], "logprobs": []}


def reasoning(rid: str, *summaries: str) -> dict[str, Any]:
    return {"type": "reasoning", "id": rid, "encrypted_content": "gAAAAB-dummy-encrypted",
            "summary": [{"type": "summary_text", "text": s} for s in summaries]}


# ------------------------------------------------------------------------------------ sessions


def drain(client: OpenAI, **kwargs: Any) -> list[Any]:
    with client.responses.stream(model=MODEL, **kwargs) as events:
        for _ in events:
            pass
        return list(events.get_final_response().output)


def output_function_unanswered(client: OpenAI) -> None:
    """The call's arguments are the client's result: no function_call_output is ever sent."""
    drain(client, input="Where is the Eiffel Tower? Answer with the tool.",
          tools=[ANSWER_TOOL], tool_choice={"type": "function", "name": "final_answer"})


def reasoning_refusal(client: OpenAI) -> None:
    drain(client, input="Explain how to pick my neighbour's lock.")


def custom_tool_round_trip(client: OpenAI) -> None:
    history: list[Any] = [{"role": "user", "content": "How many users signed up today?"}]
    first = drain(client, input=history, tools=[SQL_TOOL])
    history += [item.model_dump(exclude_none=True) for item in first]
    call = next(item for item in first if item.type == "custom_tool_call")
    history.append({"type": "custom_tool_call_output", "call_id": call.call_id,
                    "output": "count\n42"})
    drain(client, input=history, tools=[SQL_TOOL])


def call_id_is_item_id(client: OpenAI) -> None:
    """The client re-sends the call and its output under the call item's `id` (fc_...) as
    `call_id`, not the `call_id` the response gave."""
    tool = {**ANSWER_TOOL, "name": "get_capital",
            "parameters": {"type": "object", "properties": {"country": {"type": "string"}},
                           "required": ["country"], "additionalProperties": False}}
    history: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]
    first = drain(client, input=history, tools=[tool])
    call = next(item for item in first if item.type == "function_call")
    history += [{"type": "function_call", "call_id": call.id, "name": call.name,
                 "arguments": call.arguments},
                {"type": "function_call_output", "call_id": call.id, "output": "Paris"}]
    drain(client, input=history, tools=[tool])


def background_polled(client: OpenAI) -> None:
    """The documented background-mode loop: create with `background=True`, then retrieve the
    response by id until it leaves `queued` / `in_progress`."""
    response = client.responses.create(model=MODEL, input="Write a haiku about tides.",
                                       background=True)
    while response.status in {"queued", "in_progress"}:
        response = client.responses.retrieve(response.id)


def azure_reasoning(client: OpenAI) -> None:
    client.responses.create(model=MODEL, input="What is the capital of France? One word.")


FUNCTION_CALL = {"type": "function_call", "id": "fc_more01", "call_id": "call_answer_1",
                 "name": "final_answer", "arguments": '{"city":"Paris","country":"France"}',
                 "status": "completed"}
CUSTOM_CALL = {"type": "custom_tool_call", "id": "ctc_more01", "call_id": "call_sql_1",
               "name": "run_sql", "input": "SELECT count(*) FROM users WHERE day = today()",
               "status": "completed"}
REFUSAL = "I can't help with getting into someone else's home."

SESSIONS: dict[str, tuple[Callable[[OpenAI], None], list[list[dict[str, Any]]], str,
                          dict[str, Any]]] = {
    "sdk_more_output_function_unanswered_stream": (output_function_unanswered, [
        [reasoning("rs_more01", "The user wants a structured answer: Paris, France."),
         FUNCTION_CALL]], "/v1", {}),
    "sdk_more_reasoning_refusal_stream": (reasoning_refusal, [
        [reasoning("rs_more02", "This asks for breaking into a home.",
                   "Decline and offer a locksmith instead."),
         message("msg_more02", {"type": "refusal", "refusal": REFUSAL})]], "/v1", {}),
    "sdk_more_custom_tool_round_trip_stream": (custom_tool_round_trip, [
        [CUSTOM_CALL],
        [message("msg_more03", text("42 users signed up today."))]], "/v1", {}),
    "sdk_more_call_id_is_item_id_stream": (call_id_is_item_id, [
        [{"type": "function_call", "id": "fc_more04", "call_id": "call_capital_1",
          "name": "get_capital", "arguments": '{"country":"France"}', "status": "completed"}],
        [message("msg_more04", text("The capital of France is Paris."))]], "/v1", {}),
    "azure_v1_reasoning_nonstream": (azure_reasoning, [
        [{"type": "reasoning", "id": "rs_azure01", "summary": [],
          "encrypted_content": "gAAAAB-dummy-encrypted"},
         message("msg_azure01", text("Paris"))]], "/openai/v1",
        {"content_filters": [content_filters("prompt", 40), content_filters("completion", 5)]}),
}


HAIKU = "Moon pulls the water\nout and back, out and back, and\nthe shore keeps its count."


def main() -> None:
    with StubServer(Background([message("msg_bg01", text(HAIKU))])) as stub:
        background_polled(OpenAI(base_url=f"{stub.base_url}/v1", api_key="sk-dummy",
                                 max_retries=0))
    write_http_cassette(HERE / "sdk_more_background_polled_nonstream.http.yaml",
                        stub.log.exchanges)
    for name, (session, outputs, prefix, extra) in SESSIONS.items():
        with StubServer(Scripted(outputs, extra)) as stub:
            if prefix == "/openai/v1":  # Azure's v1 surface: the key goes as `api-key`
                client = OpenAI(base_url=f"{stub.base_url}{prefix}", api_key="sk-dummy",
                                default_headers={"api-key": "sk-dummy"}, max_retries=0)
            else:
                client = OpenAI(base_url=f"{stub.base_url}{prefix}", api_key="sk-dummy",
                                max_retries=0)
            session(client)
        write_http_cassette(HERE / f"{name}.http.yaml", stub.log.exchanges)
        print(f"{name}: {len(stub.log.exchanges)} exchanges")


if __name__ == "__main__":
    main()
