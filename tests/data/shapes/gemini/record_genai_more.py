"""Record more plain `google-genai` sessions against the project's stub (127.0.0.1 only): the
`genai_more_*` fixtures beside this file (`python tests/data/shapes/gemini/record_genai_more.py`
from the repo root). Requests are what google-genai 3.6.1 sends; the answers are scripted here,
chunk by chunk, in the GenerateContentResponse wire form the Gemini API reference documents.

- `genai_more_vertex_generate`: the Vertex AI surface (`vertexai=True`, project and location):
  `POST /v1beta1/projects/<p>/locations/<l>/publishers/google/models/<m>:generateContent`,
  answered with Vertex's extra fields (`createTime`, `responseId`, `trafficType`).
- `genai_more_output_call_unanswered_stream`: `tool_config` mode ANY naming the client's output
  function; the client takes the call's arguments as its answer and never sends a
  functionResponse.
- `genai_more_thoughts_stream`: `include_thoughts`: `thought: true` text in two chunks, then the
  answer, `thoughtsTokenCount` and `cachedContentTokenCount` in the usage.
- `genai_more_function_response_parts_stream`: a Gemini 3 multimodal function response: the
  client's `functionResponse` carries `parts` (inline image data) beside its `response`.

The answers' `usageMetadata` are fixed numbers, not derived from the text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from harness.record.cassette import _ReviewableDumper, render_http_cassette
from harness.record.stub import Exchange, StubReply, StubRequest, StubServer

HERE = Path(__file__).resolve().parent
MODEL = "gemini-2.5-flash"
CLIENT_HEADERS = ("user-agent", "x-goog-api-client")
SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json; charset=UTF-8"}
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n-dummy-image-bytes").decode()


def usage(prompt: int, out: int, *, thoughts: int = 0, cached: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": out,
                            "totalTokenCount": prompt + out + thoughts,
                            "promptTokensDetails": [{"modality": "TEXT",
                                                     "tokenCount": prompt}]}
    if thoughts:
        body["thoughtsTokenCount"] = thoughts
    if cached:
        body["cachedContentTokenCount"] = cached
    return body


def candidate(parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        out["finishReason"] = finish
    return out


Answer = list[dict[str, Any]]
"""The chunks of one answer (one JSON object when not streamed: the last chunk's fields)."""


class Scripted:
    """Answers the n-th request with the n-th scripted answer."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = iter(answers)

    def respond(self, request: StubRequest) -> StubReply:
        chunks = next(self.answers)
        if request.path.endswith(":generateContent"):
            return StubReply(200, dict(JSON), [json.dumps(chunks[-1]).encode()])
        return StubReply(200, dict(SSE),
                         [b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks])


def chunk(parts: list[dict[str, Any]], finish: str | None = None,
          use: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"candidates": [candidate(parts, finish)],
                           "modelVersion": MODEL, "responseId": "dummyResponse01", **extra}
    if use is not None:
        out["usageMetadata"] = use
    return out


# ------------------------------------------------------------------------------------ sessions

ANSWER_FN = types.FunctionDeclaration(
    name="final_result", description="The final answer.",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"},
                                                             "country": {"type": "string"}},
                            "required": ["city", "country"]})
PHOTO_FN = types.FunctionDeclaration(
    name="take_photo", description="A photo of a place.",
    parameters_json_schema={"type": "object", "properties": {"place": {"type": "string"}},
                            "required": ["place"]})


def vertex_generate(client: genai.Client) -> None:
    client.models.generate_content(model=MODEL, contents="What is the capital of France?")


def output_call_unanswered(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[ANSWER_FN])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
            mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["final_result"])))
    for _ in client.models.generate_content_stream(
            model=MODEL, contents="Where is the Eiffel Tower?", config=config):
        pass


def thoughts_stream(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True))
    for _ in client.models.generate_content_stream(model=MODEL, contents="What is 17 * 23?",
                                                   config=config):
        pass


def function_response_parts(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[PHOTO_FN])])
    contents = [types.Content(role="user", parts=[types.Part(text="Show me the Louvre.")])]
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=contents,
                                                         config=config))
    parts = [p for c in chunks for p in (c.candidates[0].content.parts or [])
             if c.candidates and c.candidates[0].content]
    call = next(p.function_call for p in parts if p.function_call)
    contents.append(types.Content(role="model", parts=parts))
    contents.append(types.Content(role="user", parts=[types.Part(
        function_response=types.FunctionResponse(
            id=call.id, name=call.name, response={"output": "photo taken"},
            parts=[types.FunctionResponsePart(inline_data=types.FunctionResponseBlob(
                mime_type="image/png", data=base64.b64decode(PIXEL)))]))]))
    for _ in client.models.generate_content_stream(model=MODEL, contents=contents,
                                                   config=config):
        pass


VERTEX_EXTRA = {"createTime": "2026-11-30T10:00:00.000000Z"}
SESSIONS: dict[str, tuple[Callable[[genai.Client], None], list[Answer], bool]] = {
    "genai_more_vertex_generate": (vertex_generate, [[
        chunk([{"text": "The capital of France is Paris."}], "STOP",
              usage(8, 8) | {"trafficType": "ON_DEMAND"}, **VERTEX_EXTRA)]], True),
    "genai_more_output_call_unanswered_stream": (output_call_unanswered, [[
        chunk([{"functionCall": {"name": "final_result",
                                 "args": {"city": "Paris", "country": "France"}}}], "STOP",
              usage(40, 12))]], False),
    "genai_more_thoughts_stream": (thoughts_stream, [[
        chunk([{"text": "**Multiplying**\n\n17 * 20 = 340, ", "thought": True}]),
        chunk([{"text": "17 * 3 = 51, total 391.", "thought": True}]),
        chunk([{"text": "17 * 23 = 391."}], "STOP", usage(12, 9, thoughts=88, cached=4))]],
        False),
    "genai_more_function_response_parts_stream": (function_response_parts, [
        [chunk([{"functionCall": {"id": "call_photo_1", "name": "take_photo",
                                  "args": {"place": "Louvre"}}}], "STOP", usage(30, 10))],
        [chunk([{"text": "Here is the Louvre, "}]),
         chunk([{"text": "glass pyramid in front."}], "STOP", usage(300, 12))]], False),
}


def record(name: str, conversation: Callable[[genai.Client], None], answers: list[Answer],
           vertex: bool) -> None:
    with StubServer(Scripted(answers)) as stub:
        options = types.HttpOptions(base_url=stub.base_url,
                                    retry_options=types.HttpRetryOptions(attempts=1))
        if vertex:
            client = genai.Client(vertexai=True, project="demo-project", location="us-central1",
                                  credentials=Credentials(token="dummy-token"),  # type: ignore[no-untyped-call]
                                  http_options=options)
        else:
            client = genai.Client(api_key="dummy-key", http_options=options)
        conversation(client)
        exchanges = list(stub.log.exchanges)
        assert not stub.log.problems, stub.log.problems
    (HERE / f"{name}.http.yaml").write_text(_with_client_headers(exchanges), encoding="utf-8")
    print(f"{name}: {len(exchanges)} exchanges")


def _with_client_headers(exchanges: list[Exchange]) -> str:
    data = yaml.safe_load(render_http_cassette(exchanges))
    for entry, exchange in zip(data["interactions"], exchanges, strict=True):
        for header in CLIENT_HEADERS:
            if header in exchange.request.headers:
                entry["request"]["headers"][header] = [exchange.request.headers[header]]
    return yaml.dump(data, Dumper=_ReviewableDumper, sort_keys=False, allow_unicode=True,
                     width=100)


if __name__ == "__main__":
    for session_name, (session, scripted, on_vertex) in SESSIONS.items():
        record(session_name, session, scripted, on_vertex)
