"""Record the plain official `google-genai` client against the project's stub (127.0.0.1 only).

Regenerates the `genai_*.http.yaml` fixtures beside this file:
`python -m tests.data.shapes.gemini.record_genai`. The stub server is `harness.record.stub`,
the answers are built with the Gemini wire encoder of `harness.record.providers.gemini`
(`chunk`, `function_call`, `sse_data`, `usage_metadata`), and the cassettes are written by
`harness.record.cassette` (scrubbed), plus the two request headers that say which client sent
the traffic (`user-agent`, `x-goog-api-client`), which the catalog writer does not keep.

The scripted model answers by request content: a request whose last content holds a
functionResponse gets the final text; one that declares tools gets a `get_weather` call; any
other gets a greeting. A non-streamed request gets the same parts in one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from google import genai
from google.genai import types

from harness.record.cassette import _ReviewableDumper, render_http_cassette
from harness.record.providers.gemini import (
    JSON_HEADERS,
    SSE_HEADERS,
    Position,
    chunk,
    function_call,
    sse_data,
    usage_metadata,
)
from harness.record.stub import Exchange, StubReply, StubRequest, StubServer

HERE = Path(__file__).resolve().parent
MODEL = "gemini-2.5-flash"
CLIENT_HEADERS = ("user-agent", "x-goog-api-client")
WEATHER = "sunny, 21 C"


class ScriptedModel:
    """The stub's responder for these recordings (see module docstring)."""

    def respond(self, request: StubRequest) -> StubReply:
        body = json.loads(request.body or b"{}")
        contents = body.get("contents") or []
        models = sum(1 for c in contents if c.get("role") == "model")
        position = Position(run=0, step=models)
        last = contents[-1].get("parts", []) if contents else []
        if any("functionResponse" in p for p in last):
            parts: list[dict[str, Any]] = [{"text": "It is sunny in Paris, 21 degrees."}]
        elif body.get("tools"):
            parts = [function_call("get_weather", {"city": "Paris"}, position.call_id(0))]
        else:
            parts = [{"text": "Hello! How can I help you today?"}]
        use = usage_metadata(parts, position)
        if request.path.endswith(":generateContent"):
            answer = chunk(parts, position, finish="STOP", usage=use)
            return StubReply(200, dict(JSON_HEADERS), [json.dumps(answer).encode()])
        pieces = _pieces(parts)
        frames = [sse_data(chunk([p], position)) for p in pieces[:-1]]
        frames.append(sse_data(chunk([pieces[-1]], position, finish="STOP", usage=use)))
        return StubReply(200, dict(SSE_HEADERS), frames)


def _pieces(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text in two chunks (clients see deltas), any other part whole."""
    out: list[dict[str, Any]] = []
    for part in parts:
        text = part.get("text")
        cut = text.find(" ") if isinstance(text, str) else -1
        if isinstance(text, str) and cut > 0:
            out += [{"text": text[: cut + 1]}, {"text": text[cut + 1:]}]
        else:
            out.append(part)
    return out


def get_weather(city: str) -> str:
    """The weather in a city (the function the SDK calls by itself)."""
    return WEATHER if city else ""


def record(name: str, conversation: Any) -> None:
    """Run `conversation(client)` against a fresh stub; write `genai_<name>.http.yaml`."""
    with StubServer(ScriptedModel()) as stub:
        options = types.HttpOptions(base_url=stub.base_url,
                                    retry_options=types.HttpRetryOptions(attempts=1))
        client = genai.Client(api_key="dummy-key", http_options=options)
        conversation(client)
        exchanges = list(stub.log.exchanges)
        assert not stub.log.problems, stub.log.problems
    (HERE / f"genai_{name}.http.yaml").write_text(_with_client_headers(exchanges),
                                                  encoding="utf-8")


def _with_client_headers(exchanges: list[Exchange]) -> str:
    data = yaml.safe_load(render_http_cassette(exchanges))
    for entry, exchange in zip(data["interactions"], exchanges, strict=True):
        for header in CLIENT_HEADERS:
            if header in exchange.request.headers:
                entry["request"]["headers"][header] = [exchange.request.headers[header]]
    return render_yaml(data)


def render_yaml(data: Any) -> str:
    """Same layout as the catalog writer (its dumper: literal blocks for multi-line text)."""
    return yaml.dump(data, Dumper=_ReviewableDumper, sort_keys=False, allow_unicode=True,
                     width=100)


def stream_text(client: genai.Client) -> None:
    for _ in client.models.generate_content_stream(model=MODEL, contents="Say hello."):
        pass


def generate_text(client: genai.Client) -> None:
    client.models.generate_content(model=MODEL, contents="Say hello.")


def stream_function_call(client: genai.Client) -> None:
    """A manual round trip: the call streamed, answered by a functionResponse, the answer."""
    declaration = types.FunctionDeclaration(
        name="get_weather", description="The weather in a city.",
        parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}},
                                "required": ["city"]})
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])])
    contents = [types.Content(role="user",
                              parts=[types.Part(text="What is the weather in Paris?")])]
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=contents,
                                                         config=config))
    parts = [p for c in chunks for p in (c.candidates[0].content.parts or [])
             if c.candidates and c.candidates[0].content]
    call = next(p.function_call for p in parts if p.function_call)
    contents.append(types.Content(role="model", parts=parts))
    contents.append(types.Content(role="user", parts=[types.Part(
        function_response=types.FunctionResponse(id=call.id, name=call.name,
                                                 response={"output": WEATHER}))]))
    for _ in client.models.generate_content_stream(model=MODEL, contents=contents,
                                                   config=config):
        pass


def generate_function_call(client: genai.Client) -> None:
    """The SDK's automatic function calling: it calls `get_weather` itself and asks again."""
    config = types.GenerateContentConfig(tools=[get_weather])
    client.models.generate_content(model=MODEL, contents="What is the weather in Paris?",
                                   config=config)


if __name__ == "__main__":
    record("stream_text", stream_text)
    record("generate_text", generate_text)
    record("stream_function_call", stream_function_call)
    record("generate_function_call", generate_function_call)
