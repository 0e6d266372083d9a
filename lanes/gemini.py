"""gemini lane: any client's Gemini API traffic, read by the official google-genai SDK.

Input is an HTTP cassette of Gemini API traffic (`gemini.http.yaml` in the catalog: a Gemini
CLI run; any other client's too): each interaction is one `POST /<version>/models/<model>:<method>`
(on Vertex AI `/<version>/projects/<p>/locations/<l>/publishers/<pub>/models/<model>:<method>`)
and its answer. Every recorded request is *re-issued* through
`genai.Client(...).models.generate_content_stream` (`generate_content` for a non-streamed call,
`count_tokens`) inside a vcrpy replay, on the SDK's httpx2 transport, so SSE framing, JSON and the
typed `GenerateContentResponse` all come from the SDK, never from a parser of ours. One framing
the SDK does not speak: a stream asked for without `alt=sse` answers one JSON array of the same
objects (`[{...}\r\n,\r\n{...}\r\n]`); that answer is fetched whole through the SDK and its
elements handed to the SDK's stream one by one (`array_elements`), so it reads exactly like its
SSE twin, and an array cut off mid-element is a malformed frame after its whole elements. Re-issuing
works because the SDK takes the recorded body back whole: `contents` validated by the SDK's own
`types.Content`, every other key (`systemInstruction`, `tools`, `generationConfig`, ...) as
`http_options.extra_body`; the request the SDK sends equals the recorded one (a test checks).
The SDK's `_from_response` drops JSON fields it does not know (forward compatibility), so the lane
also keeps the JSON of each chunk exactly as the SDK read it (observed on the SDK's own
`request_streamed`), only to keep unknown parts whole as `unknown` items.

Key: Gemini parts carry no ids. An item is a *run of consecutive parts of one kind* (text, or
`thought: true`) of candidate 0 within one response; a tool execution's key across requests is
the `functionCall.id` when the API gives one, else its name in call order (Gemini CLI answers the
calls of one response in order, each `functionResponse` carrying the CLI's own call id, which
becomes the item's `native_id`).

How a log is rebuilt from model calls (the decisions this lane makes; each has a test):

- A *tool execution* is a `functionCall` part in one response plus the `functionResponse` part
  in the next request. It starts `in_progress` when streamed and completes when its response
  arrives; a call whose response never arrives is failed by the builder when the turn is cut
  (except after a finished answer from any client but Gemini CLI, e.g. `toolConfig` mode `ANY`
  naming an output function: the turn completed, the call `failed` with "no result recorded",
  `api_shell.close_unanswered`). Its kind,
  parameters and result texts are Gemini CLI's tool rules (`lanes.gemini_family`, shared with the
  gemini-cli lane).
- A *turn* spans every model call from a user prompt to the final answer: a request whose
  trailing user content holds text starts a turn, one holding `functionResponse` parts continues
  it; a response that finishes with no call waiting ends it. Except: when the turn those
  responses belong to has already ended (it failed), a text content after them is the next run's
  prompt (a resumed run's request keeps the failed call's responses before its prompt).
- A *run* (session.started) is one Gemini CLI process, and headless Gemini CLI (`gemini -p`,
  what this lane reads) answers one prompt per process: every later prompt starts a new run.
  The traffic cannot tell a resumed process from an interactive one going on (a rebuilt
  text-only history is byte-identical to the live one), so an interactive session shows as one
  resumed run per prompt. The Gemini API carries no session id, so the thread is named by a
  fingerprint of the conversation's first user prompt (`prompt-<sha256>`), stable across
  `gemini --resume`; a run whose request carries earlier model turns, or whose thread is the one
  of the log's earlier run (runs that all failed before any answer leave only prompts behind),
  gets `resumed_from` = that thread.
- *Side calls* (not conversation: Gemini CLI's non-streaming `:generateContent` routing call,
  next-speaker and loop checks, the web-search and web-fetch helpers, `:countTokens`) never form
  turns: each becomes one completed `tool_call` named `side_call.<kind>` inside the turn it
  serves (a routing call made before its turn is emitted right after that turn starts), or an
  `unknown` item when the call is on a path the lane does not know.
- *Whose traffic*: Gemini CLI's readings (its tool kinds and result texts from
  `lanes.gemini_family`, its side calls, one prompt per run, its session context for the cwd
  and thread) apply only when the traffic says Gemini CLI sent it (`sent_by_gemini_cli`: its
  User-Agent, its side-call schemas, its `<session_context>` envelope), never from model names
  or prompt words. Any other client is read by the Gemini API's documented meaning: every
  function is a `tool_call` whose result is the functionResponse's `output` (or the whole
  response; with its multimodal `parts`, `{output, parts}`), failed by an `error` key; a
  non-streamed `:generateContent` is a conversation call; a session is one conversation (a new
  first prompt starts another).
- Built-in tools: `executableCode` + `codeExecutionResult` are one `code_execution` tool_call
  (arguments {language, code}, result {outcome, output}; any outcome but OUTCOME_OK fails it),
  thought-marked or not; `groundingMetadata` gives one completed `web_search` per
  `webSearchQueries` entry (results: the web grounding chunks) and the answer text's
  `citations` (each grounding support's text, once per source; `citationMetadata` sources too);
  `urlContextMetadata` gives one `url_context` tool_call per retrieved URL.
- Reasoning comes only from `thought: true` parts: consecutive thought text is one reasoning
  item, closed by a `thoughtSignature` (the signature ends the thought it signs); a thought part
  with a signature but no text is one opaque reasoning item (`encrypted: true`). A signature
  riding on a text or functionCall part shows no reasoning and adds no item.
- Usage: per response the last chunk's `usageMetadata` (Gemini repeats running totals), summed
  over the conversation calls of a turn (`scope: turn`); `input_tokens` is `promptTokenCount`
  plus `toolUsePromptTokenCount` (what built-in tools fed the model), `output_tokens` is
  `candidatesTokenCount` (thoughts are `reasoning_tokens`, as Gemini counts them apart).

An HTTP error status (or an error chunk's `error.code`) goes through the core's one table
(`harness.contract.model.status_kind`), then the Google RPC `error.status` (`STATUS_ERROR_KINDS`);
an `ErrorInfo` reason that names the cause comes first (`ERROR_REASON_KINDS`: a wrong API key
is HTTP 400). A non-streamed answer is whole without a `finishReason`; a stream is not.

Quirks worth knowing: the SDK drops `finishMessage` (read from the chunk JSON); an unknown
`finishReason` reaches the lane as a pseudo member of the SDK's
`FinishReason` enum (with a warning, silenced here) and is kept raw as `stop_reason`; a part made
only of fields the SDK does not know arrives as an empty `Part()`; a resumed Gemini CLI
re-sends each earlier `functionResponse` twice, so only the trailing user content is read for
tool results.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from harness.contract.builder import SessionInfo
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, cassette_recognizer
from harness.contract.model import (
    AssistantMessage,
    Citation,
    CommandExecution,
    ErrorKind,
    Event,
    FileChange,
    FileChangeEntry,
    Item,
    ItemStatus,
    McpToolCall,
    Plan,
    Reasoning,
    Runtime,
    SearchResult,
    ToolCall,
    TurnError,
    WebSearch,
    status_kind,
)
from harness.record.cassette import Interaction, iter_http_cassette
from harness.record.replay import consume_raw, replay_ssl
from lanes.api_shell import (
    JSON_ERRORS,
    ExchangeTranslator,
    TurnUsage,
    call_sdk,
    client_per_key,
    close_unanswered,
    json_or_none,
    json_or_text,
    normalize_cassette,
    parse_body,
    replay_each,
    replay_file,
    side_error,
    streamed_delta,
    with_text,
    write_lines,
)
from lanes.gemini_family import (
    DECLINED_ERRORS,
    FILE_CHANGE_KINDS,
    WRITE_CREATED,
    file_path,
    mcp_names,
    parse_shell_output,
    plan_entries,
    shell_cwd,
    tool_kind,
    unwrap,
)

LANE_ID = "gemini"

# ------------------------------------------------------------------------------------- tables

FINISH_REASONS: dict[str, ErrorKind | None] = {
    "FINISH_REASON_UNSPECIFIED": None,
    "STOP": None,
    "MAX_TOKENS": None,
    "CONTINUATION": None,
    "SAFETY": "provider",
    "RECITATION": "provider",
    "LANGUAGE": "provider",
    "OTHER": "provider",
    "BLOCKLIST": "provider",
    "PROHIBITED_CONTENT": "provider",
    "SPII": "provider",
    "MALFORMED_FUNCTION_CALL": "provider",
    "IMAGE_SAFETY": "provider",
    "IMAGE_PROHIBITED_CONTENT": "provider",
    "IMAGE_OTHER": "provider",
    "NO_IMAGE": "provider",
    "IMAGE_RECITATION": "provider",
    "UNEXPECTED_TOOL_CALL": "provider",
    "TOO_MANY_TOOL_CALLS": "provider",
    "MISSING_THOUGHT_SIGNATURE": "provider",
    "MALFORMED_RESPONSE": "provider",
    "ESCALATION": "provider",
    "PUP_LIMITED_DISABLED": "provider",
    "MODEL_ARMOR": "provider",
}
"""`finishReason` (every `types.FinishReason` value; a test checks) -> None when the answer ended
normally (the raw value becomes `stop_reason`), else the error kind that fails the turn (the
provider blocked or broke the answer). A value the SDK does not know ends normally, kept raw."""

STATUS_ERROR_KINDS: dict[str, ErrorKind] = {
    "INVALID_ARGUMENT": "provider",
    "FAILED_PRECONDITION": "provider",
    "NOT_FOUND": "provider",
    "UNAUTHENTICATED": "auth",
    "PERMISSION_DENIED": "auth",
    "RESOURCE_EXHAUSTED": "rate_limit",
    "INTERNAL": "provider",
    "UNAVAILABLE": "provider",
    "DEADLINE_EXCEEDED": "network",
    "CANCELLED": "cancelled",
}
"""Google RPC `error.status` of an error body -> error kind, when the HTTP status says nothing
(`harness.contract.model.status_kind` gives `unknown`)."""

ERROR_REASON_KINDS: dict[str, ErrorKind] = {
    "API_KEY_INVALID": "auth",
}
"""`google.rpc.ErrorInfo.reason` in an error body's `details` -> error kind, ahead of the HTTP
status: the Gemini API answers a wrong API key with HTTP 400 `INVALID_ARGUMENT`, whose own
reading would be the provider refusing the request."""

ERROR_INFO = "google.rpc.ErrorInfo"

CODE_EXECUTION = "code_execution"
"""The `tool_call` name of the API's code execution tool (`executableCode` run server-side,
answered by `codeExecutionResult` in the same answer)."""

CODE_OK = "OUTCOME_OK"

URL_CONTEXT = "url_context"
"""The `tool_call` name of the API's URL context tool: one per `urlContextMetadata.urlMetadata`
entry (arguments {url}, result {status}); any status but `URL_OK` fails it."""

URL_OK = "URL_RETRIEVAL_STATUS_SUCCESS"

GEMINI_CLI_AGENT = re.compile(r"GeminiCLI[-/]")
"""Gemini CLI's `User-Agent` (`GeminiCLI/<version>/<model> (<platform>; <arch>; <surface>)`,
`GeminiCLI-<client>/...` when embedded)."""

SIDE_CALL_METHODS: dict[str, str] = {
    "generateContent": "generate",
    "countTokens": "count_tokens",
}
"""Non-streaming API method -> side-call kind (refined for generateContent below)."""

SIDE_CALL_SCHEMA_KEYS: dict[str, str] = {
    "complexity_score": "routing",
    "model_choice": "routing",
    "next_speaker": "next_speaker_check",
    "unproductive_state_confidence": "loop_detection",
}
"""A property of a side call's `generationConfig.responseJsonSchema` -> what the call is for."""

SIDE_CALL_TOOLS: dict[str, str] = {
    "googleSearch": "web_search",
    "urlContext": "web_fetch",
}
"""A built-in tool a side call enables -> what it is for (Gemini CLI's web tools' helpers)."""

STREAM_METHOD = "streamGenerateContent"
INT_ENUMS = "enum-encoding=int"
"""A query asking for enums as numbers (the Vertex AI REST client, e.g. langchain-google-vertexai's
`finishReason: 1`): the SDK cannot read them, so such an answer is a frame problem naming why."""
SESSION_CONTEXT = "<session_context>"

_ROUTE = re.compile(
    r"^(?P<prefix>.*?)/(?P<version>v\d\w*(?:/projects/[^/]+/locations/[^/]+/publishers/[^/]+)?)"
    r"/models/(?P<model>[^/:]+):(?P<method>\w+)$")
_WORKSPACE_DIR = re.compile(r"Workspace Directories:\*{0,2}\s*\n\s*-\s*(\S[^\n]*)")
_WORKING_DIR = re.compile(r"I'm currently working in the directory:\s*(\S[^\n]*)")


# ------------------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class Route:
    """Where a recorded request went: `<prefix>/<version>/models/<model>:<method>`. On Vertex AI
    the version carries the resource path (`v1/projects/P/locations/L/publishers/google`): the
    SDK then posts to the recorded path (replay matches on it)."""

    base_url: str
    api_version: str
    model: str
    method: str


def route_of(interaction: Interaction) -> Route | None:
    """The API route of a recorded request, or None for a path that is no model method."""
    parts = urlsplit(interaction.request.uri)
    match = _ROUTE.match(parts.path)
    if match is None:
        return None
    return Route(f"{parts.scheme}://{parts.netloc}{match['prefix']}", match["version"],
                 match["model"], match["method"])


@dataclass
class Replayed:
    """One interaction after replay: the request body and what the SDK made of the answer."""

    index: int
    interaction: Interaction
    route: Route | None
    body: dict[str, Any] | None = None
    contents: list[types.Content] = field(default_factory=list)
    body_error: str | None = None
    responses: list[types.GenerateContentResponse] = field(default_factory=list)
    raw_chunks: list[Any] = field(default_factory=list)
    count: types.CountTokensResponse | None = None
    error: genai_errors.APIError | None = None
    stream_error: str | None = None
    json_array: bool = False
    cli_traffic: bool | None = None
    """`sent_by_gemini_cli` of the whole input, when decided before replay."""

    @property
    def streamed(self) -> bool:
        return self.route is not None and self.route.method == STREAM_METHOD


ClientFor = Callable[[Interaction, Route], genai.Client]


def _new_client(interaction: Interaction, route: Route) -> genai.Client:
    """An SDK client aimed at the recorded host, on httpx2 (vcrpy patches it), no retries; its
    sync, async and websocket transports share the replay TLS context (the SDK otherwise loads
    the CA store twice a client, ~0.2 s)."""
    ssl_context = replay_ssl()
    options = types.HttpOptions(base_url=route.base_url, api_version=route.api_version,
                                retry_options=types.HttpRetryOptions(attempts=1),
                                httpx_client=httpx2.Client(verify=ssl_context),
                                httpx_async_client=httpx2.AsyncClient(verify=ssl_context),
                                async_client_args={"ssl": ssl_context})
    return genai.Client(vertexai=False, api_key="replay", http_options=options)


def _parse_body(raw: bytes) -> tuple[dict[str, Any] | None, list[types.Content], str | None]:
    """The request body and its `contents` as the SDK's own `types.Content`."""
    body, problem = parse_body(raw)
    if body is None:
        return None, [], problem
    contents: list[types.Content] = []
    for n, content in enumerate(body.get("contents") or []):
        try:
            contents.append(types.Content.model_validate(content))
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("contents", n, *first["loc"]))
            return None, [], f"request contents the SDK cannot read ({where}: {first['msg']})"
    return body, contents, None


def _config(body: dict[str, Any]) -> types.GenerateContentConfig:
    """Everything but `contents` goes back as extra_body, so the SDK re-sends the body whole."""
    extra = {k: v for k, v in body.items() if k != "contents"}
    return types.GenerateContentConfig(http_options=types.HttpOptions(extra_body=extra or None),
                                       automatic_continuation=False)


_HOOK = "_gemini_lane_stream_hook"


@dataclass
class _StreamHook:
    """What the SDK's stream reader handed on for the current call (see module docstring):
    each chunk's JSON, and whether the answer is one JSON array to be split here."""

    chunks: list[Any] = field(default_factory=list)
    json_array: bool = False


class _CutArrayError(ValueError):
    """A JSON-array answer that stops being one (cut off, or not JSON)."""


def _stream_hook(client: genai.Client) -> _StreamHook:
    """The client's hook on `request_streamed`, installed once per client, reset per call.

    SSE answers pass through the SDK's own reader; a JSON-array answer (a stream asked for
    without `alt=sse`) is fetched whole through the SDK's `request` and handed on one element
    at a time, each as the SDK's reader hands on one SSE chunk (`_array_chunks`)."""
    api = client._api_client
    hook: _StreamHook | None = getattr(api, _HOOK, None)
    if hook is None:
        hook = _StreamHook()
        original, whole = api.request_streamed, api.request
        bound = hook

        def request_streamed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            if bound.json_array:
                yield from _array_chunks(whole(*args, **kwargs), bound.chunks)
                return
            for chunk in original(*args, **kwargs):
                bound.chunks.append(json_or_none(chunk.body) if chunk.body else {})
                yield chunk

        setattr(api, "request_streamed", request_streamed)  # noqa: B010 -- an instance hook
        setattr(api, _HOOK, hook)
    hook.chunks = []
    hook.json_array = False
    return hook


_JSON_SPACE = re.compile(r"[ \t\r\n]*")


def array_elements(text: str) -> Iterator[Any]:
    """The elements of a JSON array in written order (`[{...}\\r\\n,\\r\\n{...}\\r\\n]` is
    how the API frames a stream without `alt=sse`), each as soon as it is whole; then
    `_CutArrayError` where the text stops being a JSON array."""
    decoder = json.JSONDecoder()
    pos = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if text[pos:pos + 1] != "[":
        raise _CutArrayError("the answer is not a JSON array")
    pos = _JSON_SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    closed = text[pos:pos + 1] == "]"
    while not closed:
        try:
            element, pos = decoder.raw_decode(text, pos)
        except JSON_ERRORS:
            raise _CutArrayError(f"element at offset {pos} is cut off or not JSON") from None
        yield element
        pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
        mark = text[pos:pos + 1]
        if mark == ",":
            pos = _JSON_SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif mark == "]":
            closed = True
        else:
            raise _CutArrayError("the array ends before its closing bracket" if not mark
                                 else f"unexpected {mark!r} at offset {pos}")
    if text[pos + 1:].strip(" \t\r\n"):
        raise _CutArrayError(f"text after the array at offset {pos + 1}")


def _array_chunks(answer: types.HttpResponse, sink: list[Any]) -> Iterator[types.HttpResponse]:
    """A whole JSON-array answer as the chunks an SSE stream would have given the SDK: an
    element holding `error` raises the SDK's own APIError, as an SSE error chunk does."""
    body = answer.body if isinstance(answer.body, str) else ""
    for element in array_elements(body):
        if isinstance(element, dict) and "error" in element:
            error = element["error"]
            code = error.get("code") if isinstance(error, dict) else None
            genai_errors.APIError.raise_error(code if isinstance(code, int) else 500, element,
                                              None)
        sink.append(element)
        yield types.HttpResponse(headers=answer.headers, body=json.dumps(element))


def _api_of(_: Interaction, route: Route) -> tuple[str, str]:
    return route.base_url, route.api_version


def cached(client_for: ClientFor) -> ClientFor:
    """One SDK client per API base and version (building one costs ~0.2 s of SSL setup)."""
    return client_per_key(client_for, _api_of)


def replay_one(index: int, interaction: Interaction, client_for: ClientFor) -> Replayed:
    """Re-issue one recorded request through the SDK and collect its typed answer."""
    rep = Replayed(index, interaction, route_of(interaction))
    if rep.route is None or rep.route.method not in {STREAM_METHOD, *SIDE_CALL_METHODS}:
        consume_raw(interaction)
        return rep
    rep.body, rep.contents, rep.body_error = _parse_body(interaction.request.body)
    if rep.body is None:
        consume_raw(interaction)
        return rep
    if INT_ENUMS in unquote(interaction.request.query):
        consume_raw(interaction)
        rep.stream_error = ("answer with integer enums (`$alt=json;enum-encoding=int`, the "
                            "Vertex AI REST client's encoding): google-genai reads enum names")
        return rep
    route, client = rep.route, client_for(interaction, rep.route)
    rep.json_array = rep.streamed and interaction.response.body.lstrip()[:1] == b"["

    def call() -> None:  # API errors: HTTP statuses, and error chunks inside the stream
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unknown enum values, kept raw
            try:
                _call_sdk(rep, route, client)
            except _CutArrayError as exc:
                rep.stream_error = f"JSON array answer: {exc}"

    rep.error, stream_error = call_sdk(index, call, genai_errors.APIError,
                                       line=interaction.line)
    rep.stream_error = stream_error or rep.stream_error
    return rep


def _call_sdk(rep: Replayed, route: Route, client: genai.Client) -> None:
    assert rep.body is not None
    if route.method == STREAM_METHOD:
        hook = _stream_hook(client)
        hook.json_array = rep.json_array
        rep.raw_chunks = hook.chunks
        stream = client.models.generate_content_stream(
            model=route.model, contents=cast(Any, rep.contents), config=_config(rep.body))
        for response in stream:
            rep.responses.append(response)
    elif route.method == "generateContent":
        rep.responses.append(client.models.generate_content(
            model=route.model, contents=cast(Any, rep.contents), config=_config(rep.body)))
        rep.raw_chunks = [json_or_none(rep.interaction.response.body)]
    else:
        extra = {k: v for k, v in rep.body.items() if k != "contents"}
        config = types.CountTokensConfig(http_options=types.HttpOptions(extra_body=extra or None))
        rep.count = client.models.count_tokens(model=route.model,
                                               contents=cast(Any, rep.contents), config=config)


def replay_cassette(path: Path) -> Iterator[Replayed]:
    """Every interaction of the cassette at `path` through the SDK under vcrpy (network
    impossible), one client per API base and version, each carrying whether Gemini CLI sent
    the traffic: decided first from the requests alone (what `sent_by_gemini_cli` reads is
    known before the SDK runs), so the replay streams instead of being held whole."""
    cli = any(_cli_mark(_unreplayed(index, interaction))
              for index, (interaction, _) in enumerate(iter_http_cassette(path)))
    clients = cached(_new_client)

    def one(index: int, interaction: Interaction) -> Replayed:
        rep = replay_one(index, interaction, clients)
        rep.cli_traffic = cli
        return rep

    yield from replay_file(path, one)


def _unreplayed(index: int, interaction: Interaction) -> Replayed:
    """An interaction with what `replay_one` reads of its request before the SDK runs."""
    rep = Replayed(index, interaction, route_of(interaction))
    if rep.route is not None and rep.route.method in {STREAM_METHOD, *SIDE_CALL_METHODS}:
        rep.body, rep.contents, rep.body_error = _parse_body(interaction.request.body)
    return rep


# ------------------------------------------------------------------------------------- parsing


def _fingerprint(contents: Sequence[types.Content], *, cli: bool) -> str | None:
    """The thread name: a hash of the first user prompt (Gemini CLI's session context left
    out: it changes when a session is resumed)."""
    for content in contents:
        if content.role != "user":
            continue
        texts = [p.text for p in content.parts or []
                 if p.text and not (cli and p.text.lstrip().startswith(SESSION_CONTEXT))]
        if texts:
            digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
            return f"prompt-{digest[:16]}"
    return None


def _cwd_from(contents: Sequence[types.Content]) -> str | None:
    for content in contents[:2]:
        for part in content.parts or []:
            text = part.text or ""
            match = _WORKSPACE_DIR.search(text) or _WORKING_DIR.search(text)
            if match:
                return match.group(1).strip().rstrip(".")
    return None


def _trailing_user(contents: Sequence[types.Content]) -> list[types.Content]:
    """The user contents after the last model content: what this request newly says."""
    tail: list[types.Content] = []
    for content in reversed(contents):
        if content.role == "model":
            break
        tail.append(content)
    return tail[::-1]


def _function_responses(contents: Sequence[types.Content]) -> list[types.FunctionResponse]:
    return [p.function_response for c in contents for p in c.parts or []
            if p.function_response is not None]


def _has_prompt(contents: Sequence[types.Content]) -> bool:
    return any(p.text for c in contents for p in c.parts or [])


def http_error(code: int | None, status: str | None, message: str,
               reason: str | None = None) -> TurnError:
    """The turn error for an API error (HTTP status or error chunk): the `ErrorInfo` reason
    when it names the cause (`ERROR_REASON_KINDS`), else the HTTP status through the one
    table, else the Google RPC status name."""
    by_status: ErrorKind = STATUS_ERROR_KINDS.get(status.upper(), "unknown") if status \
        else "unknown"
    by_reason = ERROR_REASON_KINDS.get(reason) if reason else None
    if code is None:
        return TurnError.of(by_reason or by_status, f"API error: {message}")
    kind = by_reason or status_kind(code, otherwise=by_status)
    return TurnError.of(kind, f"HTTP {code}: {message}")


def error_reason(body: Any) -> str | None:
    """The `reason` of the first `google.rpc.ErrorInfo` among an error body's `details`."""
    error = body.get("error", body) if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(ERROR_INFO) \
                and isinstance(detail.get("reason"), str):
            return str(detail["reason"])
    return None


def _api_error(exc: genai_errors.APIError) -> TurnError:
    return http_error(exc.code, exc.status, str(exc.message or exc.status or exc),
                      error_reason(exc.details))


def _finish_value(reason: types.FinishReason | None) -> str | None:
    return None if reason is None else str(reason.value)


def _part_payload(part: types.Part, raw: Any) -> Any:
    return raw if raw is not None else part.model_dump(mode="json", exclude_none=True,
                                                       by_alias=True, warnings=False)


def _raw_candidate(raw_chunk: Any, candidate: int) -> dict[str, Any]:
    """One candidate of a chunk as the SDK read it ({} when unavailable)."""
    try:
        found = raw_chunk["candidates"][candidate]
    except (KeyError, IndexError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


def _raw_parts(raw_chunk: Any, candidate: int) -> list[Any]:
    """The JSON parts of one candidate in a chunk as the SDK read it ([] when unavailable)."""
    try:
        parts = raw_chunk["candidates"][candidate]["content"]["parts"]
    except (KeyError, IndexError, TypeError):
        return []
    return parts if isinstance(parts, list) else []


def sent_by_gemini_cli(replayed: Sequence[Replayed]) -> bool:
    """Whether the traffic itself says Gemini CLI sent it, so its runtime readings apply
    (tool kinds and result texts, side calls, one prompt per run, the session context):
    a request with Gemini CLI's `User-Agent`, a side call asking for one of its side-call
    schemas (`SIDE_CALL_SCHEMA_KEYS`), or a conversation opening with its
    `<session_context>` envelope. Never model names or words of a prompt: any other client's
    traffic is read by the Gemini API's own meaning alone."""
    return any(_cli_mark(rep) for rep in replayed)


def _cli_mark(rep: Replayed) -> bool:
    if GEMINI_CLI_AGENT.match(rep.interaction.request.headers.get("user-agent", "")):
        return True
    if rep.body is None:
        return False
    if _schema_kind(rep.body) is not None:
        return True
    first = next((c for c in rep.contents if c.role == "user"), None)
    parts = first.parts or [] if first is not None else []
    return bool(parts) and (parts[0].text or "").lstrip().startswith(SESSION_CONTEXT)


# ------------------------------------------------------------------------------------- translate


@dataclass
class _Pending:
    """A functionCall waiting for its functionResponse in a later request."""

    item: Item
    name: str
    call_id: str | None
    arguments: Any


@dataclass
class _Streaming:
    """The open run of text or thought parts in the current response."""

    item: AssistantMessage | Reasoning
    text: str = ""
    citations: list[Citation] = field(default_factory=list)


def _add_usage(total: TurnUsage,
               usage: types.GenerateContentResponseUsageMetadata | None) -> None:
    """One response's `usageMetadata` into the turn's sum (thoughts are `reasoning_tokens`)."""
    if usage is None:
        return
    prompt = (usage.prompt_token_count or 0) + (usage.tool_use_prompt_token_count or 0)
    total.add(prompt, usage.cached_content_token_count or 0,
              usage.candidates_token_count or 0, usage.thoughts_token_count or 0)


@dataclass
class _Answer:
    """What one model call's chunks said about how it ended."""

    finish: str | None = None
    finish_message: str | None = None
    usage: types.GenerateContentResponseUsageMetadata | None = None
    blocked: str | None = None
    grounding: types.GroundingMetadata | None = None
    recitations: list[Citation] = field(default_factory=list)
    fetched: list[types.UrlMetadata] = field(default_factory=list)


class Translator(ExchangeTranslator[Replayed]):
    """Replayed interactions -> normalized events (pure; see the module docstring for rules)."""

    def __init__(self, context: RunContext, source: str) -> None:
        super().__init__(LANE_ID, context, source)
        self.pending: list[_Pending] = []
        self.answer_done = False
        self.retrying = False
        self.streaming: _Streaming | None = None
        self.queued: list[Replayed] = []
        self.usage = TurnUsage()
        self.stop_reason: str | None = None
        self.code_runs: list[ToolCall] = []
        self.cli = False

    # ---------------------------------------------------------------- driver

    def prepare(self, replayed: Iterable[Replayed]) -> Iterable[Replayed]:
        """Decide once whether Gemini CLI sent this traffic (`sent_by_gemini_cli`): a decision
        over every exchange. A replayed cassette carries it on each exchange (`cli_traffic`,
        decided by a read of the cassette before replay), so the replay streams; exchanges
        without it are all read here first."""
        exchanges = iter(replayed)
        first = next(exchanges, None)
        if first is None:
            return []
        if first.cli_traffic is not None:
            self.cli = first.cli_traffic
            return chain([first], exchanges)
        every = [first, *exchanges]
        self.cli = sent_by_gemini_cli(every)
        return every

    def _conversational(self, rep: Replayed) -> bool:
        """A model call of the conversation: every stream; a non-streamed `generateContent`
        too, except from Gemini CLI, whose conversation always streams (its non-streamed
        calls are side calls)."""
        if rep.route is None:
            return False
        return rep.streamed or (rep.route.method == "generateContent" and not self.cli)

    def finish(self) -> list[Event]:
        out: list[Event] = []
        if self.b.in_turn:
            out += self._end_turn() if not self.pending else self._end_waiting()
        for rep in self.queued:  # side calls no turn followed: kept, outside any turn
            out.append(self.b.unknown(f"side_call.{self._side_kind(rep)}",
                                     self._side_payload(rep)))
        self.queued.clear()
        return out

    def exchange(self, rep: Replayed, following: Replayed | None) -> Iterable[Event]:
        if rep.body is None and rep.body_error is not None:
            return self.frame_problem(rep, rep.body_error)
        if rep.route is None or (not rep.streamed
                                 and rep.route.method not in SIDE_CALL_METHODS):
            return [self.b.unknown("side_call", self._side_payload(rep))]
        if rep.body is None:
            return self.frame_problem(rep, "request body unusable")
        if not self._conversational(rep):
            if self.b.in_turn:
                return self._side_call(rep)
            self.queued.append(rep)
            return []
        return chain(self._request(rep), self._response(rep, following))

    # ---------------------------------------------------------------- requests

    def _request(self, rep: Replayed) -> list[Event]:
        trailing = _trailing_user(rep.contents)
        out = self._collect_responses(_function_responses(trailing))
        new_prompt = self._is_new_prompt(trailing) and not self.retrying
        self.retrying = False
        if new_prompt and self.b.in_turn:
            out += self._end_turn() if not self.pending else self._end_waiting()
        if self._starts_run(rep, new_prompt):
            out += self._new_run(rep)
        if new_prompt or not self.b.in_turn:
            out += self._start_turn()
        return out

    def _is_new_prompt(self, trailing: list[types.Content]) -> bool:
        """Trailing text starts a turn; functionResponses continue one, unless their turn has
        already ended (it failed) and a prompt content follows them: the next run's prompt."""
        if not _function_responses(trailing):
            return _has_prompt(trailing)
        last = trailing[-1:]
        return not self.b.in_turn and _has_prompt(last) and not _function_responses(last)

    def _starts_run(self, rep: Replayed, new_prompt: bool) -> bool:
        """Gemini CLI: every prompt is a new process (module docstring). Any other client: a
        session is one conversation, so a prompt starts a new run only when it opens another
        conversation (another first prompt)."""
        if not self.b.has_session:
            return True
        if self.cli:
            return new_prompt
        return new_prompt and _fingerprint(rep.contents, cli=False) != self.b.thread_id

    def _new_run(self, rep: Replayed) -> list[Event]:
        thread = _fingerprint(rep.contents, cli=self.cli)
        carries_history = any(c.role == "model" for c in rep.contents[:-1])
        same_thread = self.b.has_session and thread == self.b.thread_id
        resumed = self.context.resumed_from if not self.b.has_session else None
        if resumed is None and (carries_history or same_thread):
            resumed = thread
        return self.b.session_started(thread, self._session_info(rep, resumed))

    def _session_info(self, rep: Replayed, resumed: str | None) -> SessionInfo:
        ctx = self.context
        model = rep.route.model if rep.route is not None else ctx.model
        return SessionInfo(
            provider="google",
            runtime=Runtime(name=LANE_ID, version=ctx.runtime_version),
            model=model,
            auth_mode=ctx.auth_mode,
            cwd=ctx.cwd or (_cwd_from(rep.contents) if self.cli else None),
            sandbox=ctx.sandbox,
            approval_policy=ctx.approval_policy,
            resumed_from=resumed,
        )

    def _start_turn(self) -> list[Event]:
        self.usage = TurnUsage()
        self.stop_reason = None
        out = self.b.turn_started()
        for rep in self.queued:
            out += self._side_call(rep)
        self.queued.clear()
        return out

    def _end_turn(self) -> list[Event]:
        self.pending.clear()
        return self.b.turn_completed(self.usage.model(), self.stop_reason)

    def _truncate(self) -> list[Event]:
        """The turn stopped before it ended; its waiting calls are failed by the builder."""
        self.pending.clear()
        return self.b.close_turn_truncated()

    def _end_waiting(self) -> list[Event]:
        """The client moved on (or its recording ended) while function calls wait for
        responses: after a finished answer from any client but Gemini CLI the turn completed
        and the calls were never answered (`close_unanswered`); otherwise the turn was cut."""
        if not self.answer_done or self.cli:
            return self._truncate()
        out = close_unanswered(self.b, [p.item for p in self.pending])
        return out + self._end_turn()

    def _collect_responses(self, responses: list[types.FunctionResponse]) -> list[Event]:
        out: list[Event] = []
        for response in responses:
            pending = self._match(response)
            if pending is not None:
                self.pending.remove(pending)
                done = _complete(pending, response) if self.cli \
                    else _complete_plain(pending, response)
                out.append(self.b.item("completed", done))
        return out

    def _match(self, response: types.FunctionResponse) -> _Pending | None:
        """The waiting call a functionResponse answers: same API id, else the first of that
        name whose id cannot tell (the call had none, or the response carries none: the SDK's
        automatic function calling answers without the call's id)."""
        by_id = [p for p in self.pending if p.call_id is not None and p.call_id == response.id]
        if by_id:
            return by_id[0]
        return next((p for p in self.pending if p.name == response.name
                     and (p.call_id is None or response.id is None)), None)

    # ---------------------------------------------------------------- responses

    def _response(self, rep: Replayed, following: Replayed | None) -> Iterator[Event]:
        """The answer's events as they are made: a long streamed answer is hundreds of chunks,
        each `item.updated` carrying the text so far, so a list of them grew as the square of
        the answer's length."""
        self.streaming = None
        self.code_runs = []
        self.answer_done = False
        answer = _Answer()
        raws = rep.raw_chunks if len(rep.raw_chunks) == len(rep.responses) else \
            [None] * len(rep.responses)
        for response, raw in zip(rep.responses, raws, strict=True):
            for candidate in response.candidates or []:
                yield from self._candidate(candidate, raw)
                if (candidate.index or 0) == 0:
                    _note_candidate(answer, candidate, raw)
            answer.usage = response.usage_metadata or answer.usage
            feedback = response.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                answer.blocked = str(feedback.block_reason.value) + (
                    f": {feedback.block_reason_message}" if feedback.block_reason_message
                    else "")
        yield from self._unanswered_code()
        yield from self._grounding(answer)
        yield from self._outcome(rep, following, answer)

    def _outcome(self, rep: Replayed, following: Replayed | None, answer: _Answer) -> list[Event]:
        """How one model call ended: API error, blocked prompt, cut stream, or a finishReason
        (a non-streamed answer is whole even without one)."""
        if rep.error is not None:
            return self._close_streaming("failed") + self._fail(_api_error(rep.error))
        if answer.blocked is not None:
            error = TurnError(kind="provider", message=f"prompt blocked: {answer.blocked}",
                              retryable=False)
            return self._close_streaming("failed") + self._fail(error)
        if rep.stream_error is not None or (answer.finish is None and rep.streamed):
            out = self._close_streaming("failed")
            if rep.stream_error is not None:
                out += self.frame_problem(rep, rep.stream_error)
            if following is not None and self._is_retry(rep, following):
                self.retrying = True  # a client re-sends a cut stream's request
                return out
            return out + (self._truncate() if self.b.in_turn else [])
        out = self._close_streaming("completed")
        self.answer_done = True
        _add_usage(self.usage, answer.usage)
        self.stop_reason = answer.finish
        kind = FINISH_REASONS.get(answer.finish) if answer.finish is not None else None
        if kind is not None:
            detail = f": {answer.finish_message}" if answer.finish_message else ""
            return out + self._fail(TurnError.of(kind, f"finishReason {answer.finish}{detail}"))
        if not self.pending and self.b.in_turn:
            out += self._end_turn()
        return out

    def _is_retry(self, rep: Replayed, following: Replayed) -> bool:
        """A client re-sends the same contents after a stream that ended without
        finishReason (Gemini CLI does; so do SDK retries)."""
        return self._conversational(following) and following.body is not None \
            and rep.body is not None and following.body.get("contents") == rep.body.get("contents")

    def _fail(self, error: TurnError) -> list[Event]:
        self.streaming = None
        if not self.b.in_turn:
            return [self.b.notice(error.message)]
        self.pending.clear()
        return self.b.turn_failed(error)

    def _candidate(self, candidate: types.Candidate, raw_chunk: Any) -> list[Event]:
        index = candidate.index or 0
        if index != 0:  # one candidate is the answer; others are kept, not mapped
            payload = candidate.model_dump(mode="json", exclude_none=True, by_alias=True,
                                           warnings=False)
            return [self.b.unknown("candidate", payload)]
        parts = candidate.content.parts if candidate.content is not None else None
        raw_parts = _raw_parts(raw_chunk, 0)
        out: list[Event] = []
        for n, part in enumerate(parts or []):
            out += self._part(part, raw_parts[n] if n < len(raw_parts) else None)
        return out

    def _part(self, part: types.Part, raw: Any) -> list[Event]:
        """One part: a call, code run or its result (whether or not marked `thought`: each
        happened), thought or answer text; a bare signature shows nothing; anything else is
        kept whole."""
        if part.function_call is not None:
            return self._close_streaming("completed") + self._call(part.function_call)
        if part.executable_code is not None:
            return self._close_streaming("completed") + self._code(part.executable_code)
        if part.code_execution_result is not None:
            return self._close_streaming("completed") + \
                self._code_result(part.code_execution_result)
        if part.text:
            return self._thought(part) if part.thought else \
                self._stream_text("assistant_message", part.text)
        payload = _part_payload(part, raw)
        if isinstance(payload, dict) and set(payload) <= {"text", "thought", "thoughtSignature"}:
            return self._thought(part) if part.thought else []
        if not payload:
            return []
        native_type = "part." + (next(iter(payload)) if isinstance(payload, dict) else "?")
        return [*self._close_streaming("completed"), self.b.unknown(native_type, payload)]

    def _thought(self, part: types.Part) -> list[Event]:
        """Thought text streams into the open reasoning item; a signature closes the thought it
        signs; a signature-only thought part is one opaque (`encrypted`) reasoning item."""
        if part.text:
            out = self._stream_text("reasoning", part.text)
            return out + (self._close_streaming("completed") if part.thought_signature else [])
        if part.thought_signature is None:
            return []
        opaque = Reasoning(id=self.b.fresh_id(), status="completed", text="", encrypted=True)
        return [*self._close_streaming("completed"), self.b.item("completed", opaque)]

    def _stream_text(self, kind: Literal["assistant_message", "reasoning"],
                     text: str) -> list[Event]:
        out: list[Event] = []
        entry = self.streaming
        if entry is None or entry.item.kind != kind:
            out += self._close_streaming("completed")
            item: AssistantMessage | Reasoning = (
                AssistantMessage(id=self.b.fresh_id(), status="in_progress", text="")
                if kind == "assistant_message"
                else Reasoning(id=self.b.fresh_id(), status="in_progress", text=""))
            entry = self.streaming = _Streaming(item)
            out.append(self.b.item("started", item))
        if text:
            entry.text += text
            entry.item = with_text(entry.item, entry.text)
            out.append(self.b.item("updated", entry.item, streamed_delta("text", text)))
        return out

    def _close_streaming(self, status: ItemStatus) -> list[Event]:
        """Complete the open text/thought run (`failed` when its stream was cut)."""
        entry, self.streaming = self.streaming, None
        if entry is None:
            return []
        update: dict[str, Any] = {"status": status, "text": entry.text}
        if isinstance(entry.item, AssistantMessage) and entry.citations:
            update["citations"] = entry.citations
        return [self.b.item("completed", entry.item.model_copy(update=update))]

    def _call(self, call: types.FunctionCall) -> list[Event]:
        name = call.name or ""
        arguments: Any = call.args if call.args is not None else {}
        item_id = self.b.fresh_id()
        kind = tool_kind(name) if self.cli else "tool_call"
        item: Item
        if kind == "command_execution":
            command = str(arguments.get("command", "")) if isinstance(arguments, dict) else ""
            item = CommandExecution(id=item_id, status="in_progress", command=command,
                                    cwd=shell_cwd(arguments), native_id=call.id)
        elif kind == "file_change":
            change = FileChangeEntry(path=file_path(arguments), kind=FILE_CHANGE_KINDS[name])
            item = FileChange(id=item_id, status="in_progress", native_id=call.id,
                              changes=[change])
        elif kind == "plan":
            item = Plan(id=item_id, status="in_progress", entries=plan_entries(arguments),
                        native_id=call.id)
        elif kind == "web_search":
            query = arguments.get("query", "") if isinstance(arguments, dict) else ""
            item = WebSearch(id=item_id, status="in_progress", query=str(query),
                             native_id=call.id)
        elif kind == "mcp_tool_call":
            server, tool = mcp_names(name)
            item = McpToolCall(id=item_id, status="in_progress", server=server, tool=tool,
                               arguments=arguments, native_id=call.id)
        else:
            item = ToolCall(id=item_id, status="in_progress", name=name, arguments=arguments,
                            native_id=call.id)
        self.pending.append(_Pending(item, name, call.id, arguments))
        return [self.b.item("started", item)]

    # ---------------------------------------------------------------- code execution, grounding

    def _code(self, code: types.ExecutableCode) -> list[Event]:
        """The API ran code server-side: a tool_call waiting for its codeExecutionResult."""
        language = code.language.value if code.language is not None else None
        item = ToolCall(id=self.b.fresh_id(), status="in_progress", name=CODE_EXECUTION,
                        arguments={"language": language, "code": code.code or ""},
                        native_id=code.id)
        self.code_runs.append(item)
        return [self.b.item("started", item)]

    def _code_result(self, result: types.CodeExecutionResult) -> list[Event]:
        """The result of the code run it answers (same id, else the oldest waiting one):
        `OUTCOME_OK` completes it, any other outcome fails it; a result with no code before
        it is kept as a completed call without arguments."""
        outcome = result.outcome.value if result.outcome is not None else None
        waiting = next((c for c in self.code_runs if result.id and c.native_id == result.id),
                       self.code_runs[0] if self.code_runs else None)
        if waiting is None:
            waiting = ToolCall(id=self.b.fresh_id(), status="in_progress", name=CODE_EXECUTION,
                               native_id=result.id)
        else:
            self.code_runs.remove(waiting)
        ok = outcome == CODE_OK
        done = waiting.model_copy(update={
            "status": "completed" if ok else "failed",
            "result": {"outcome": outcome, "output": result.output},
            "error": None if ok else (outcome or "no outcome")})
        return [self.b.item("completed", done)]

    def _unanswered_code(self) -> list[Event]:
        """Code runs the answer never gave a result for: failed."""
        runs, self.code_runs = self.code_runs, []
        return [self.b.item("completed", run.model_copy(update={
            "status": "failed", "error": "no codeExecutionResult in the answer"}))
            for run in runs]

    def _grounding(self, answer: _Answer) -> list[Event]:
        """URL context fetches first (`URL_CONTEXT`); then Google Search grounding: one
        completed web_search per `webSearchQueries` entry, listing every web source of the
        answer (the API does not say which query found which); grounding supports and
        recitation citations become the open answer text's `citations`, or are kept whole
        when no answer text is open."""
        meta = answer.grounding
        out = [self.b.item("completed", _fetched(self.b.fresh_id(), url))
               for url in answer.fetched]
        citations = list(answer.recitations)
        if meta is not None:
            results = [SearchResult(url=c.web.uri, title=c.web.title)
                       for c in meta.grounding_chunks or [] if c.web is not None and c.web.uri]
            for query in meta.web_search_queries or []:
                search = WebSearch(id=self.b.fresh_id(), status="completed", query=query,
                                   results=results)
                out.append(self.b.item("completed", search))
            citations = _support_citations(meta) + citations
        if not citations:
            return out
        entry = self.streaming
        if entry is not None and isinstance(entry.item, AssistantMessage):
            entry.citations = citations
            return out
        payload = [c.model_dump(mode="json") for c in citations]
        return [*out, self.b.unknown("citations", payload)]

    # ---------------------------------------------------------------- side calls and problems

    @staticmethod
    def _side_kind(rep: Replayed) -> str:
        return side_call_kind(rep.route.method if rep.route else "", rep.body or {})

    def _side_call(self, rep: Replayed) -> list[Event]:
        error = _side_error(rep)
        answer: Any
        if rep.count is not None:
            answer = {"total_tokens": rep.count.total_tokens}
        else:
            answer = _structured("".join(_texts(rep.responses))) or None
        prompt = "".join(p.text or "" for c in rep.contents[-1:] for p in c.parts or [])
        item = ToolCall(id=self.b.fresh_id(), status="failed" if error else "completed",
                        name=f"side_call.{self._side_kind(rep)}",
                        arguments={"model": rep.route.model if rep.route else None,
                                   "prompt_chars": len(prompt)},
                        result=answer, error=error)
        return [self.b.item("completed", item)]

    @staticmethod
    def _side_payload(rep: Replayed) -> dict[str, Any]:
        req = rep.interaction.request
        return {"method": req.method, "path": req.path,
                "status": rep.interaction.response.status,
                "answer": rep.interaction.response.body[:2000].decode("utf-8", "replace")}


def side_call_kind(method: str, body: dict[str, Any]) -> str:
    """What a non-streaming call is for: by method, then by the JSON schema it asks the answer
    to follow (routing, next speaker, loop detection), then by the built-in tool it enables."""
    kind = SIDE_CALL_METHODS.get(method, "unknown")
    if method != "generateContent":
        return kind
    by_schema = _schema_kind(body)
    if by_schema is not None:
        return by_schema
    for tool in body.get("tools") or []:
        for key in tool if isinstance(tool, dict) else {}:
            if key in SIDE_CALL_TOOLS:
                return SIDE_CALL_TOOLS[key]
    return kind


def _schema_kind(body: dict[str, Any]) -> str | None:
    """The Gemini CLI side call a request's response schema belongs to (routing, next
    speaker, loop detection: `SIDE_CALL_SCHEMA_KEYS`), or None."""
    config = body.get("generationConfig")
    schema = config.get("responseJsonSchema") or config.get("responseSchema") \
        if isinstance(config, dict) else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    for key in props if isinstance(props, dict) else {}:
        if key in SIDE_CALL_SCHEMA_KEYS:
            return SIDE_CALL_SCHEMA_KEYS[key]
    return None


def _note_candidate(answer: _Answer, candidate: types.Candidate, raw_chunk: Any) -> None:
    """What candidate 0 of one chunk says about the whole answer: its finishReason (the last
    one counts: a code-running answer may finish mid-stream and go on), its grounding (the
    last non-empty one: streams repeat it, empty until the last chunk) and its recitation
    citations. The SDK drops the Gemini API's `finishMessage`: it is read from the chunk JSON."""
    if candidate.finish_reason is not None:
        answer.finish = _finish_value(candidate.finish_reason)
        raw = _raw_candidate(raw_chunk, 0).get("finishMessage")
        answer.finish_message = candidate.finish_message or (raw if isinstance(raw, str)
                                                             else None)
    meta = candidate.grounding_metadata
    if meta is not None and (meta.web_search_queries or meta.grounding_chunks
                             or meta.grounding_supports):
        answer.grounding = meta
    fetched = candidate.url_context_metadata
    if fetched is not None and fetched.url_metadata:
        answer.fetched = list(fetched.url_metadata)
    cited = candidate.citation_metadata
    for source in cited.citations or [] if cited is not None else []:
        citation = Citation(url=source.uri, title=source.title)
        if citation not in answer.recitations:
            answer.recitations.append(citation)


def _fetched(item_id: str, url: types.UrlMetadata) -> ToolCall:
    """One URL the URL context tool retrieved (or failed to)."""
    status = url.url_retrieval_status.value if url.url_retrieval_status is not None else None
    ok = status == URL_OK
    return ToolCall(id=item_id, status="completed" if ok else "failed", name=URL_CONTEXT,
                    arguments={"url": url.retrieved_url}, result={"status": status},
                    error=None if ok else (status or "no retrieval status"))


def _support_citations(meta: types.GroundingMetadata) -> list[Citation]:
    """Each grounding support's text, once per source it cites, in order."""
    chunks = meta.grounding_chunks or []
    out: list[Citation] = []
    for support in meta.grounding_supports or []:
        text = support.segment.text if support.segment is not None else None
        for index in support.grounding_chunk_indices or []:
            chunk = chunks[index] if 0 <= index < len(chunks) else None
            source = None if chunk is None else (chunk.web or chunk.retrieved_context
                                                 or chunk.maps)
            out.append(Citation(url=getattr(source, "uri", None),
                                title=getattr(source, "title", None), cited_text=text))
    return out


def _texts(responses: Sequence[types.GenerateContentResponse]) -> list[str]:
    return [p.text for r in responses for c in r.candidates or [] if c.content is not None
            for p in c.content.parts or [] if p.text and not p.thought]


def _side_error(rep: Replayed) -> str | None:
    error = None if rep.error is None else _api_error(rep.error).message
    return side_error(error, rep.stream_error, rep.interaction.response.status)


def _structured(text: str) -> Any:
    return json_or_text(text)


def _response_text(response: types.FunctionResponse) -> tuple[str, str | None]:
    """(output text, error text) of a functionResponse as Gemini CLI writes it:
    `{"output": ...}` on success, `{"error": ...}` on failure (e.g. tool_not_registered)."""
    body = response.response or {}
    error = body.get("error")
    output = body.get("output", body.get("result", body.get("content")))
    if output is None and error is None and body:
        output = body
    text = output if isinstance(output, str) else ("" if output is None else json.dumps(output))
    return text, (error if isinstance(error, str) or error is None else json.dumps(error))


def _complete_plain(pending: _Pending, response: types.FunctionResponse) -> Item:
    """A waiting call finished by its functionResponse as the Gemini API documents it: the
    `output` key is the result and the `error` key the failure; with neither, the whole
    `response` is the result. A multimodal response's `parts` (Gemini 3: images, files the
    function returned beside its `response`) are part of the result: `{output, parts}`."""
    body: Any = response.response if response.response is not None else {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(body, dict) and ("output" in body or "error" in body):
        result = body.get("output")
    else:
        result = body
    if response.parts:
        result = {"output": result, "parts": [
            part.model_dump(mode="json", by_alias=True, exclude_none=True)
            for part in response.parts]}
    failed = error is not None
    return pending.item.model_copy(update={
        "native_id": pending.item.native_id or response.id,
        "status": "failed" if failed else "completed",
        "result": result,
        "error": (error if isinstance(error, str) else json.dumps(error)) if failed else None})


def _complete(pending: _Pending, response: types.FunctionResponse) -> Item:
    """A waiting call's item, finished with what its functionResponse says."""
    item = pending.item
    text, error = _response_text(response)
    refused: ItemStatus = "declined" if error and DECLINED_ERRORS.match(error) else "failed"
    update: dict[str, Any] = {"native_id": item.native_id or response.id,
                              "status": "completed" if error is None else refused}
    if isinstance(item, CommandExecution):
        code, output, ran = parse_shell_output(text) if error is None else (None, "", False)
        update["exit_code"] = code
        update["output"] = output if ran or error else text
        update["error"] = error  # the call never ran: why, as the runtime told the model
        if error is None and code != 0:
            update["status"] = "failed"
    elif isinstance(item, FileChange) and error is not None:
        update["error"] = error
    elif isinstance(item, FileChange):
        if WRITE_CREATED in text:
            update["changes"] = [c.model_copy(update={"kind": "add"}) for c in item.changes]
        elif item.changes and item.changes[0].kind == "add":
            update["changes"] = [c.model_copy(update={"kind": "update"}) for c in item.changes]
    elif isinstance(item, McpToolCall | ToolCall):
        update["result"] = _structured(unwrap(text)) if text else None
        update["error"] = error
    return item.model_copy(update=update)


# ------------------------------------------------------------------------------------- entry


def normalize_interactions(interactions: Sequence[Interaction], context: RunContext, *,
                           source: str, client_for: ClientFor) -> Iterator[Event]:
    """Translate interactions whose answers come from `client_for`'s HTTP client (no vcrpy):
    tests use it to feed the SDK through an `httpx2.MockTransport`."""
    chooser = cached(client_for)
    replayed = replay_each(interactions, lambda n, i: replay_one(n, i, chooser))
    return Translator(context, source).run(replayed)


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Read the cassette, replay every model call through the SDK, emit the normalized log
    (strict and lenient handling of an unreadable cassette: `lanes.api_shell`)."""
    return normalize_cassette(source, context, lane=LANE_ID, replay=replay_cassette,
                              translate=lambda replayed, name: Translator(context, name)
                              .run(replayed))


def normalize_lines(source: LaneInput, context: RunContext) -> Iterator[bytes]:
    """`normalize`'s log as written lines, each growing text escaped once (`write_lines`)."""
    return write_lines(normalize(source, context))


SIDE_CALL_KINDS = frozenset({*SIDE_CALL_METHODS.values(), *SIDE_CALL_SCHEMA_KEYS.values(),
                             *SIDE_CALL_TOOLS.values()})

LANE = LaneSpec(
    id=LANE_ID,
    provider="google",
    input_kind="http-cassette",
    description="Any client's Gemini API traffic (streamGenerateContent as SSE or a JSON "
                "array, generateContent), re-issued through the official google-genai SDK; "
                "tool executions rebuilt from functionCall + the next request's "
                "functionResponse; Gemini CLI's readings only on traffic it marks as its own.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "resume", "cwd_context", "mcp", "reasoning", "usage", "web_search", "plan",
        "file_change",
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="gemini.http.yaml",
    recognizes=cassette_recognizer((":streamGenerateContent", ":generateContent")),
    noise_tools=frozenset(f"side_call.{k}" for k in SIDE_CALL_KINDS),
)
