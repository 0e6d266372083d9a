"""gemini lane: Gemini CLI's model traffic (Gemini API), read by the official google-genai SDK.

Input is the HTTP cassette of a Gemini CLI run (`gemini.http.yaml`): each interaction is one
`POST /v1beta/models/<model>:<method>` and its answer. Every recorded request is *re-issued*
through `genai.Client(...).models.generate_content_stream` (side calls: `generate_content`,
`count_tokens`) inside a vcrpy replay, on the SDK's httpx2 transport, so SSE framing, JSON and the
typed `GenerateContentResponse` all come from the SDK, never from a parser of ours. Re-issuing
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
  arrives; a call whose response never arrives is failed by the builder at turn end. Its kind,
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
- Reasoning comes only from `thought: true` parts: consecutive thought text is one reasoning
  item, closed by a `thoughtSignature` (the signature ends the thought it signs); a thought part
  with a signature but no text is one opaque reasoning item (`encrypted: true`). A signature
  riding on a text or functionCall part shows no reasoning and adds no item.
- Usage: per response the last chunk's `usageMetadata` (Gemini repeats running totals), summed
  over the conversation calls of a turn (`scope: turn`); `output_tokens` is
  `candidatesTokenCount` (thoughts are `reasoning_tokens`, as Gemini counts them apart).

An HTTP error status (or an error chunk's `error.code`) goes through the core's one table
(`harness.contract.model.status_kind`), then the Google RPC `error.status` (`STATUS_ERROR_KINDS`).

Quirks worth knowing: an unknown `finishReason` reaches the lane as a pseudo member of the SDK's
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from harness.contract.builder import SessionInfo
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, cassette_recognizer
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    Delta,
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
    ToolCall,
    TurnError,
    WebSearch,
    status_kind,
)
from harness.record.cassette import Interaction
from harness.record.replay import consume_raw
from lanes.api_shell import (
    ExchangeTranslator,
    TurnUsage,
    call_sdk,
    client_per_key,
    json_or_none,
    json_or_text,
    normalize_cassette,
    parse_body,
    replay_each,
    replay_file,
    side_error,
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
SESSION_CONTEXT = "<session_context>"

_ROUTE = re.compile(
    r"^(?P<prefix>.*?)/(?P<version>v\d\w*)/models/(?P<model>[^/:]+):(?P<method>\w+)$")
_WORKSPACE_DIR = re.compile(r"Workspace Directories:\*{0,2}\s*\n\s*-\s*(\S[^\n]*)")
_WORKING_DIR = re.compile(r"I'm currently working in the directory:\s*(\S[^\n]*)")


# ------------------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class Route:
    """Where a recorded request went: `<prefix>/<version>/models/<model>:<method>`."""

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

    @property
    def is_conversation(self) -> bool:
        return self.route is not None and self.route.method == STREAM_METHOD


ClientFor = Callable[[Interaction, Route], genai.Client]


def _new_client(interaction: Interaction, route: Route) -> genai.Client:
    """An SDK client aimed at the recorded host, on httpx2 (vcrpy patches it), no retries."""
    options = types.HttpOptions(base_url=route.base_url, api_version=route.api_version,
                                retry_options=types.HttpRetryOptions(attempts=1),
                                httpx_client=httpx2.Client())
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


_SINK = "_gemini_lane_chunk_sink"


def _observe_chunks(client: genai.Client) -> list[Any]:
    """A list that receives each chunk's JSON as the SDK's SSE reader hands it on (see module
    docstring); the hook is installed once per client, the list is fresh per call."""
    api = client._api_client
    holder: list[list[Any]] | None = getattr(api, _SINK, None)
    if holder is None:
        holder = [[]]
        original = api.request_streamed

        def request_streamed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for chunk in original(*args, **kwargs):
                holder[0].append(json_or_none(chunk.body) if chunk.body else {})
                yield chunk

        setattr(api, "request_streamed", request_streamed)  # noqa: B010 -- an instance hook
        setattr(api, _SINK, holder)
    holder[0] = []
    return holder[0]


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
    route, client = rep.route, client_for(interaction, rep.route)

    def call() -> None:  # API errors: HTTP statuses, and error chunks inside the stream
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unknown enum values, kept raw
            _call_sdk(rep, route, client)

    rep.error, rep.stream_error = call_sdk(index, call, genai_errors.APIError,
                                           line=interaction.line)
    return rep


def _call_sdk(rep: Replayed, route: Route, client: genai.Client) -> None:
    assert rep.body is not None
    if route.method == STREAM_METHOD:
        rep.raw_chunks = _observe_chunks(client)
        stream = client.models.generate_content_stream(
            model=route.model, contents=cast(Any, rep.contents), config=_config(rep.body))
        for response in stream:
            rep.responses.append(response)
    elif route.method == "generateContent":
        rep.responses.append(client.models.generate_content(
            model=route.model, contents=cast(Any, rep.contents), config=_config(rep.body)))
    else:
        extra = {k: v for k, v in rep.body.items() if k != "contents"}
        config = types.CountTokensConfig(http_options=types.HttpOptions(extra_body=extra or None))
        rep.count = client.models.count_tokens(model=route.model,
                                               contents=cast(Any, rep.contents), config=config)


def replay_cassette(path: Path) -> list[Replayed]:
    """Every interaction of the cassette at `path` through the SDK under vcrpy (network
    impossible), one client per API base and version."""
    clients = cached(_new_client)
    return replay_file(path, lambda n, i: replay_one(n, i, clients))


# ------------------------------------------------------------------------------------- parsing


def _fingerprint(contents: Sequence[types.Content]) -> str | None:
    """The thread name: a hash of the first user prompt (session context left out)."""
    for content in contents:
        if content.role != "user":
            continue
        texts = [p.text for p in content.parts or []
                 if p.text and not p.text.lstrip().startswith(SESSION_CONTEXT)]
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


def http_error(code: int | None, status: str | None, message: str) -> TurnError:
    """The turn error for an API error (HTTP status or error chunk)."""
    by_status: ErrorKind = STATUS_ERROR_KINDS.get(status.upper(), "unknown") if status \
        else "unknown"
    if code is None:
        return TurnError.of(by_status, f"API error: {message}")
    return TurnError.of(status_kind(code, otherwise=by_status), f"HTTP {code}: {message}")


def _api_error(exc: genai_errors.APIError) -> TurnError:
    return http_error(exc.code, exc.status, str(exc.message or exc.status or exc))


def _finish_value(reason: types.FinishReason | None) -> str | None:
    return None if reason is None else str(reason.value)


def _part_payload(part: types.Part, raw: Any) -> Any:
    return raw if raw is not None else part.model_dump(mode="json", exclude_none=True,
                                                       by_alias=True, warnings=False)


def _raw_parts(raw_chunk: Any, candidate: int) -> list[Any]:
    """The JSON parts of one candidate in a chunk as the SDK read it ([] when unavailable)."""
    try:
        parts = raw_chunk["candidates"][candidate]["content"]["parts"]
    except (KeyError, IndexError, TypeError):
        return []
    return parts if isinstance(parts, list) else []


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


def _add_usage(total: TurnUsage,
               usage: types.GenerateContentResponseUsageMetadata | None) -> None:
    """One response's `usageMetadata` into the turn's sum (thoughts are `reasoning_tokens`)."""
    if usage is None:
        return
    total.add(usage.prompt_token_count or 0, usage.cached_content_token_count or 0,
              usage.candidates_token_count or 0, usage.thoughts_token_count or 0)


@dataclass
class _Answer:
    """What one model call's chunks said about how it ended."""

    finish: str | None = None
    finish_message: str | None = None
    usage: types.GenerateContentResponseUsageMetadata | None = None
    blocked: str | None = None


class Translator(ExchangeTranslator[Replayed]):
    """Replayed interactions -> normalized events (pure; see the module docstring for rules)."""

    def __init__(self, context: RunContext, source: str) -> None:
        super().__init__(LANE_ID, context, source)
        self.pending: list[_Pending] = []
        self.retrying = False
        self.streaming: _Streaming | None = None
        self.queued: list[Replayed] = []
        self.usage = TurnUsage()
        self.stop_reason: str | None = None

    # ---------------------------------------------------------------- driver

    def finish(self) -> list[Event]:
        out: list[Event] = []
        if self.b.in_turn:
            out += self._end_turn() if not self.pending else self._truncate()
        for rep in self.queued:  # side calls no turn followed: kept, outside any turn
            out.append(self.b.unknown(f"side_call.{self._side_kind(rep)}",
                                     self._side_payload(rep)))
        self.queued.clear()
        return out

    def exchange(self, rep: Replayed, following: Replayed | None) -> list[Event]:
        if rep.body is None and rep.body_error is not None:
            return self.frame_problem(rep, rep.body_error)
        if rep.route is None or (not rep.is_conversation
                                 and rep.route.method not in SIDE_CALL_METHODS):
            return [self.b.unknown("side_call", self._side_payload(rep))]
        if rep.body is None:
            return self.frame_problem(rep, "request body unusable")
        if not rep.is_conversation:
            if self.b.in_turn:
                return self._side_call(rep)
            self.queued.append(rep)
            return []
        out = self._request(rep)
        out += self._response(rep, following)
        return out

    # ---------------------------------------------------------------- requests

    def _request(self, rep: Replayed) -> list[Event]:
        trailing = _trailing_user(rep.contents)
        out = self._collect_responses(_function_responses(trailing))
        new_prompt = self._is_new_prompt(trailing) and not self.retrying
        self.retrying = False
        if new_prompt and self.b.in_turn:
            out += self._end_turn() if not self.pending else self._truncate()
        if new_prompt or not self.b.has_session:
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

    def _new_run(self, rep: Replayed) -> list[Event]:
        thread = _fingerprint(rep.contents)
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
            cwd=ctx.cwd or _cwd_from(rep.contents),
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

    def _collect_responses(self, responses: list[types.FunctionResponse]) -> list[Event]:
        out: list[Event] = []
        for response in responses:
            pending = self._match(response)
            if pending is not None:
                self.pending.remove(pending)
                out.append(self.b.item("completed", _complete(pending, response)))
        return out

    def _match(self, response: types.FunctionResponse) -> _Pending | None:
        """The waiting call a functionResponse answers: same API id, else first of that name."""
        by_id = [p for p in self.pending if p.call_id is not None and p.call_id == response.id]
        if by_id:
            return by_id[0]
        return next((p for p in self.pending if p.call_id is None and p.name == response.name),
                    None)

    # ---------------------------------------------------------------- responses

    def _response(self, rep: Replayed, following: Replayed | None) -> list[Event]:
        out: list[Event] = []
        self.streaming = None
        answer = _Answer()
        raws = rep.raw_chunks if len(rep.raw_chunks) == len(rep.responses) else \
            [None] * len(rep.responses)
        for response, raw in zip(rep.responses, raws, strict=True):
            for candidate in response.candidates or []:
                out += self._candidate(candidate, raw)
                if (candidate.index or 0) == 0 and candidate.finish_reason is not None:
                    answer.finish = _finish_value(candidate.finish_reason)
                    answer.finish_message = candidate.finish_message
            answer.usage = response.usage_metadata or answer.usage
            feedback = response.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                answer.blocked = str(feedback.block_reason.value)
        return out + self._outcome(rep, following, answer)

    def _outcome(self, rep: Replayed, following: Replayed | None, answer: _Answer) -> list[Event]:
        """How one model call ended: API error, blocked prompt, cut stream, or a finishReason."""
        if rep.error is not None:
            return self._close_streaming("failed") + self._fail(_api_error(rep.error))
        if answer.blocked is not None:
            error = TurnError(kind="provider", message=f"prompt blocked: {answer.blocked}",
                              retryable=False)
            return self._close_streaming("failed") + self._fail(error)
        if answer.finish is None or rep.stream_error is not None:
            out = self._close_streaming("failed")
            if rep.stream_error is not None:
                out += self.frame_problem(rep, rep.stream_error)
            if following is not None and _is_retry(rep, following):
                self.retrying = True  # Gemini CLI re-sends a cut stream's request
                return out
            return out + (self._truncate() if self.b.in_turn else [])
        out = self._close_streaming("completed")
        _add_usage(self.usage, answer.usage)
        self.stop_reason = answer.finish
        kind = FINISH_REASONS.get(answer.finish)
        if kind is not None:
            detail = f": {answer.finish_message}" if answer.finish_message else ""
            return out + self._fail(TurnError.of(kind, f"finishReason {answer.finish}{detail}"))
        if not self.pending and self.b.in_turn:
            out += self._end_turn()
        return out

    def _fail(self, error: TurnError) -> list[Event]:
        self.streaming = None
        if not self.b.in_turn:
            return [self.b.notice(error.message)]
        self.pending.clear()
        return self.b.turn_failed(error)

    def _candidate(self, candidate: types.Candidate, raw_chunk: Any) -> list[Event]:
        index = candidate.index or 0
        if index != 0:  # Gemini CLI asks for one candidate; others are kept, not mapped
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
        if part.thought:
            return self._thought(part)
        if part.function_call is not None:
            return self._close_streaming("completed") + self._call(part.function_call)
        if part.text is not None:
            return self._stream_text("assistant_message", part.text) if part.text else []
        payload = _part_payload(part, raw)
        if part.thought_signature is not None and set(payload) <= {"thoughtSignature"}:
            return []  # a bare signature: no visible content (see module docstring)
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
            entry.item = entry.item.model_copy(update={"text": entry.text})
            out.append(self.b.item("updated", entry.item, Delta(field="text", text=text)))
        return out

    def _close_streaming(self, status: ItemStatus) -> list[Event]:
        """Complete the open text/thought run (`failed` when its stream was cut)."""
        entry, self.streaming = self.streaming, None
        if entry is None:
            return []
        done = entry.item.model_copy(update={"status": status, "text": entry.text})
        return [self.b.item("completed", done)]

    def _call(self, call: types.FunctionCall) -> list[Event]:
        name = call.name or ""
        arguments: Any = call.args if call.args is not None else {}
        item_id = self.b.fresh_id()
        kind = tool_kind(name)
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
    config = body.get("generationConfig")
    schema = config.get("responseJsonSchema") or config.get("responseSchema") \
        if isinstance(config, dict) else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    for key in props if isinstance(props, dict) else {}:
        if key in SIDE_CALL_SCHEMA_KEYS:
            return SIDE_CALL_SCHEMA_KEYS[key]
    for tool in body.get("tools") or []:
        for key in tool if isinstance(tool, dict) else {}:
            if key in SIDE_CALL_TOOLS:
                return SIDE_CALL_TOOLS[key]
    return kind


def _is_retry(rep: Replayed, following: Replayed) -> bool:
    """Gemini CLI re-sends the same contents after a stream that ended without finishReason."""
    return following.is_conversation and following.body is not None and rep.body is not None \
        and following.body.get("contents") == rep.body.get("contents")


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


def _complete(pending: _Pending, response: types.FunctionResponse) -> Item:
    """A waiting call's item, finished with what its functionResponse says."""
    item = pending.item
    text, error = _response_text(response)
    refused: ItemStatus = "declined" if error and DECLINED_ERRORS.match(error) else "failed"
    update: dict[str, Any] = {"native_id": item.native_id or response.id,
                              "status": "completed" if error is None else refused}
    if isinstance(item, CommandExecution):
        code, output, ran = parse_shell_output(text) if error is None else (None, error, False)
        update["exit_code"] = code
        update["output"] = output if ran or error else text
        if error is None and code != 0:
            update["status"] = "failed"
    elif isinstance(item, FileChange) and error is None:
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


SIDE_CALL_KINDS = frozenset({*SIDE_CALL_METHODS.values(), *SIDE_CALL_SCHEMA_KEYS.values(),
                             *SIDE_CALL_TOOLS.values()})

LANE = LaneSpec(
    id=LANE_ID,
    provider="google",
    input_kind="http-cassette",
    description="Gemini CLI's Gemini API traffic (streamGenerateContent), re-issued through the "
                "official google-genai SDK; tool executions rebuilt from functionCall + the next "
                "request's functionResponse.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "resume", "cwd_context", "mcp", "reasoning", "usage", "web_search", "plan",
        "file_change",
    ])),
    normalize=normalize,
    native_file="gemini.http.yaml",
    recognizes=cassette_recognizer((":streamGenerateContent", ":generateContent")),
    noise_tools=frozenset(f"side_call.{k}" for k in SIDE_CALL_KINDS),
)
