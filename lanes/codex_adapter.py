"""codex-adapter lane: OpenAI Responses API traffic (Codex CLI's, or any client's), read by the SDK.

Input is an HTTP cassette (`codex.http.yaml`): each interaction is a `POST /v1/responses`
request and its answer, an SSE stream or (a request without `stream: true`) one JSON `response`
object. Every recorded request is re-issued through `openai.OpenAI().responses.create(...)`
inside a vcrpy replay, so the answer is read by the SDK's typed models, never by a parser of
ours; a non-streamed `Response` becomes the `output_item.done` events and terminal event that
would have carried it, so both forms are read by one code path. Keys: a streamed item's
`item_id`/`output_item.id` within one response; a tool execution's `call_id` across requests.

Any client: messages (with url/file citations), reasoning, function and custom tool calls, web
search (query and sources), and the hosted tools as items with their facts: `mcp_call` (an MCP
call), `mcp_list_tools`, `file_search_call`, `code_interpreter_call`, `image_generation_call`
(tool calls), `mcp_approval_request` (an MCP call waiting on `approval.requested`, resolved by
the client's `mcp_approval_response`, decided by the user), and the client-run `computer_call`,
`local_shell_call`, `shell_call`, `apply_patch_call` with their `*_output` in a later request.
Codex's own readings (its tool names and output texts, side calls, run markers, `<cwd>`, the
approval-policy sentence) apply only when the traffic says Codex sent the request: its
`originator`/`user-agent` headers or `x-codex-*` keys in `client_metadata` (`sent_by_codex`).

How a log is rebuilt from model calls (the decisions this lane makes; each has a test):

- A *tool execution* is a call in one response (`function_call`, `custom_tool_call`,
  `tool_search_call`, and the client-run calls above) plus its `*_output` item in a later request
  with the same `call_id`. The item starts `in_progress` when the call is streamed and completes
  when the output arrives (an output naming the call item's own id instead of its `call_id`
  completes it too). A call whose output never arrives stays open; the builder fails it when the
  turn is cut. Except: a client other than Codex may stop at a finished response that asks for a
  call (a function used as structured output): the turn completed, the call ends `failed` with
  "no result recorded" (`api_shell.close_unanswered`). A hosted tool's item completes in the
  response that holds it (a `shell_call` in the API's container may come without output: it ends
  with its response, as its status says). An MCP approval request waits like a call, for the
  client's answer (a recording that ends there is a cut turn).
- A *turn* spans every model call from a user prompt to the final answer: a request whose last
  input item is a user message starts a turn, one ending in tool outputs continues it; a completed
  response that leaves no call waiting for output ends it. A background response (`background:
  true`, answered `queued`) is read from the `GET /responses/{id}` poll that finishes it; polls
  still `queued` / `in_progress` add nothing, and a recording that ends before it finished is a
  cut turn. Requests under any API base are replayed at their recorded path (`/v1`, Azure's
  `/openai/v1`, a gateway's prefix).
- A *run* (session.started) is one Codex process (for any other client: the cassette, or one
  `conversation` id; a new id starts a new run). A later user prompt on the same thread starts a
  new run (a `codex exec resume`) when its turn metadata (`client_metadata
  ["x-codex-turn-metadata"]`) says `turn_trigger: "exec"` with a `turn_id` other than the current
  turn's: `codex exec` runs exactly one user turn per process, so every exec turn is its own run.
  This is the only marker that tells a third run from the second: Codex 0.169 sends
  `history_initialization: cold_resume` on every resume and re-sends no context (the resumed
  request is the stored history plus the new prompt; cassettes/resume_twice). Requests without
  `turn_trigger` (older Codex) or from a multi-turn client keep the older markers: a change of
  `history_initialization` (`new` then `cold_resume`), or a fresh `<environment_context>` message
  after the earlier history (older Codex injected it at process start). Otherwise a prompt is a
  new turn of the same run.
  The thread is `client_metadata.thread_id`, else `prompt_cache_key` (Codex sets it to the thread
  id); a resumed run gets `resumed_from` = that thread. A run is resumed when its request carries
  earlier model output or the log already holds a run of the same thread (runs that all failed
  before any answer leave only their prompts in the history, yet the next run resumes them).
- *Side calls* (not conversation: Codex's auto-review, compaction, anything whose turn metadata
  `request_kind` is not `turn`, or a request on another path) never form turns: each becomes one
  completed `tool_call` named `side_call.<kind>` (arguments: the request's last user text,
  result: the answer's text), or an `unknown` item when the kind is not recognised.
- Usage: summed over the conversation calls of a turn (`scope: turn`); side calls are excluded.

Quirk worth knowing: the SDK builds stream events leniently, so an event or output item whose
`type` it does not know still comes back as *some* model class (e.g. an unknown event arrives as a
`ResponseAudioDeltaEvent` carrying the foreign `type`). This lane therefore dispatches on the
`type` string and keeps anything unlisted as an `unknown` item with its raw payload.
"""

from __future__ import annotations

import json
import re
import shlex
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs

import openai._models as openai_models
import pydantic
from openai import APIConnectionError, APIError, APIStatusError, DefaultHttpxClient, OpenAI
from openai.resources.responses import Responses
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseCustomToolCall,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseIncompleteEvent,
    ResponseOutputItem,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseRefusalDeltaEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseToolSearchCall,
    ResponseUsage,
)

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
    ItemKind,
    ItemStatus,
    McpToolCall,
    Plan,
    PlanEntry,
    PlanStatus,
    Reasoning,
    Runtime,
    Sandbox,
    SearchResult,
    ToolCall,
    TurnError,
    WebSearch,
    status_kind,
)
from harness.record.cassette import Interaction
from harness.record.replay import base_url_of, consume_raw, replay_ssl
from lanes.api_shell import (
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
    sdk_kwargs,
    sdk_params,
    side_error,
    streamed_delta,
    with_text,
    write_lines,
)

LANE_ID = "codex-adapter"

# ------------------------------------------------------------------------------------- tables

TOOL_KINDS: dict[str, ItemKind] = {
    "exec_command": "command_execution",
    "shell": "command_execution",
    "container.exec": "command_execution",
    "local_shell": "command_execution",
    "apply_patch": "file_change",
    "update_plan": "plan",
    "tool_search": "tool_call",
}
"""Codex tool name -> normalized item kind. MCP tools go by name/namespace (`MCP_PREFIX`);
any other tool (`write_stdin`, `view_image`, ...) is a plain `tool_call`."""

MCP_PREFIX = "mcp__"

STREAM_ERROR_KINDS: dict[str, ErrorKind] = {
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "rate_limit",
    "server_error": "provider",
    "server_is_overloaded": "provider",
    "invalid_api_key": "auth",
    "context_length_exceeded": "provider",
}
"""`error.code` of an `error` event or a `response.failed` -> error kind (default `provider`)."""

SANDBOX_MODES: dict[str, Sandbox] = {
    "read-only": "read-only",
    "workspace-write": "workspace-write",
    "danger-full-access": "full-access",
}

SIDE_CALL_PATHS: dict[str, str] = {"/responses/compact": "compaction"}
"""Request path suffix -> side-call kind, for model calls that are not the conversation."""

SIDE_CALL_KINDS: dict[str, str] = {
    "compact": "compaction",
    "compaction": "compaction",
    "title": "title",
}
"""Codex turn-metadata `request_kind` -> side-call kind (`turn` is the conversation)."""

SUBAGENT_KINDS: dict[str, str] = {
    "guardian": "auto_review",
    "compact": "compaction",
}
"""Turn-metadata `subagent_kind` (or `client_metadata["x-openai-subagent"]`) -> side-call kind;
any other sub-agent is `sub_agent`. `--approve-for-me` reviews run as the `guardian` sub-agent."""

AUTO_REVIEW_MARKERS = ("You are judging one planned coding-agent action",)
"""Text of Codex's reviewer prompt, to spot a review when the request has no turn metadata."""

HANDLED_EVENTS: dict[str, type[Any]] = {
    "response.output_item.added": ResponseOutputItemAddedEvent,
    "response.output_item.done": ResponseOutputItemDoneEvent,
    "response.output_text.delta": ResponseTextDeltaEvent,
    "response.refusal.delta": ResponseRefusalDeltaEvent,
    "response.reasoning_summary_text.delta": ResponseReasoningSummaryTextDeltaEvent,
    "response.reasoning_text.delta": ResponseReasoningTextDeltaEvent,
    "response.completed": ResponseCompletedEvent,
    "response.failed": ResponseFailedEvent,
    "response.incomplete": ResponseIncompleteEvent,
    "error": ResponseErrorEvent,
}
"""SSE event type -> the SDK class it must arrive as; the lane acts on these."""

IGNORED_EVENTS = frozenset({
    "response.created",
    "response.in_progress",
    "response.queued",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.done",
    "response.output_text.annotation.added",
    "response.refusal.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.done",
    "response.reasoning_text.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.custom_tool_call_input.delta",
    "response.custom_tool_call_input.done",
    "response.web_search_call.in_progress",
    "response.web_search_call.searching",
    "response.web_search_call.completed",
    "response.mcp_call.in_progress",
    "response.mcp_call.completed",
    "response.mcp_call.failed",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.mcp_list_tools.in_progress",
    "response.mcp_list_tools.completed",
    "response.mcp_list_tools.failed",
    "response.file_search_call.in_progress",
    "response.file_search_call.searching",
    "response.file_search_call.completed",
    "response.code_interpreter_call.in_progress",
    "response.code_interpreter_call.interpreting",
    "response.code_interpreter_call.completed",
    "response.code_interpreter_call_code.delta",
    "response.code_interpreter_call_code.done",
    "response.image_generation_call.in_progress",
    "response.image_generation_call.generating",
    "response.image_generation_call.partial_image",
    "response.image_generation_call.completed",
    "response.shell_call_command.added",
    "response.shell_call_command.delta",
    "response.shell_call_command.done",
    "response.shell_call_output_content.delta",
    "response.shell_call_output_content.done",
})
"""Known events that add nothing: their content arrives again in `output_item.done` (hosted
tools' progress events, argument and code deltas, partial images: the done item holds the whole
arguments, code, outputs and final image)."""

MESSAGE_DELTAS = (ResponseTextDeltaEvent, ResponseRefusalDeltaEvent)
REASONING_DELTAS = (ResponseReasoningSummaryTextDeltaEvent, ResponseReasoningTextDeltaEvent)
TEXT_DELTAS = MESSAGE_DELTAS + REASONING_DELTAS
"""Streamed text events: their `delta` is appended to the item named by `item_id`."""
TERMINAL_EVENTS = (ResponseCompletedEvent, ResponseFailedEvent, ResponseIncompleteEvent)
"""Events that end a response; each carries the final `response` object."""

CALL_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output",
                               "tool_search_output", "computer_call_output",
                               "local_shell_call_output", "shell_call_output",
                               "apply_patch_call_output"})

_EXIT_CODE = re.compile(r"^(?:Process exited with code|Exit code:)\s*(-?\d+)\s*$", re.MULTILINE)
_PATCH_LINE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+?)\s*$|^\*\*\* Move to: (.+?)\s*$",
                         re.MULTILINE)
_OUTPUT_HEADER = re.compile(r"^Output:\n?", re.MULTILINE)
_DECLINED = re.compile(r"\bRejected\(|rejected (?:by|due to)|declined|not approved",
                       re.IGNORECASE)
_PLAN_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending", "in_progress": "in_progress", "completed": "completed",
}
_CREATE_PARAMS = sdk_params(Responses.create)

HOSTED_TOOLS: dict[str, str] = {
    "mcp_list_tools": "mcp_list_tools",
    "file_search_call": "file_search",
    "code_interpreter_call": "code_interpreter",
    "image_generation_call": "image_generation",
}
"""Output items of tools the API runs itself -> the `tool_call` name they become (complete in
the response that holds them; `mcp_call` is an `mcp_tool_call`, `web_search_call` a
`web_search`)."""

CLIENT_RUN_CALLS = frozenset({"computer_call", "local_shell_call", "shell_call",
                              "apply_patch_call"})
"""Output items the client runs: they wait for their `*_output` in a later request, like a
`function_call` (`computer_call` -> tool_call `computer`, `local_shell_call` and `shell_call`
-> command_execution, `apply_patch_call` -> file_change). A `shell_call` run in a hosted
container gets its `shell_call_output` in the same response."""

PATCH_OPERATIONS: dict[str, Any] = {"create_file": "add", "update_file": "update",
                                    "delete_file": "delete"}
"""`apply_patch_call` operation type -> file change kind."""

MODEL_OUTPUT_TYPES = frozenset({"reasoning", "function_call", "custom_tool_call",
                                "tool_search_call", "web_search_call", "mcp_call",
                                "mcp_approval_request", "mcp_approval_response"}) \
    | CALL_OUTPUT_TYPES | HOSTED_TOOLS.keys() | CLIENT_RUN_CALLS
"""Input item types that can only be earlier model output (or the client's answer to it)."""

CODEX_HEADERS = ("originator", "user-agent")
"""Request headers in which Codex names itself (`originator: codex_cli_rs` / `codex_exec`,
`user-agent: codex_cli_rs/...`)."""
CODEX_METADATA_PREFIX = "x-codex-"
"""`client_metadata` keys only Codex sends (`x-codex-turn-metadata`, `x-codex-window-id`)."""

UNFINISHED_STATUSES = frozenset({"queued", "in_progress"})
"""A whole answer's `status` while a background response runs (`background: true`)."""

TERMINAL_FOR_STATUS: dict[str, type[Any]] = {
    "completed": ResponseCompletedEvent,
    "failed": ResponseFailedEvent,
    "cancelled": ResponseFailedEvent,
    "incomplete": ResponseIncompleteEvent,
}
"""A non-streamed `response.status` -> the terminal stream event it amounts to (`queued` and
`in_progress`, a background response not finished yet, have none: the turn stays unfinished)."""


# ------------------------------------------------------------------------------------- replay


@dataclass
class Replayed:
    """One interaction after replay: the request body and what the SDK made of the answer."""

    index: int
    interaction: Interaction
    body: dict[str, Any] | None = None
    body_error: str | None = None
    events: list[ResponseStreamEvent] = field(default_factory=list)
    error: APIError | None = None
    stream_error: str | None = None
    status: str | None = None
    """A whole (non-streamed) answer's `status`: `queued` / `in_progress` mean a background
    response not finished yet (polled with `GET /responses/{id}` until it is)."""
    response_id: str | None = None

    @property
    def is_responses_post(self) -> bool:
        req = self.interaction.request
        return req.method.upper() == "POST" and req.path.rstrip("/").endswith("/responses")

    @property
    def retrieved_id(self) -> str | None:
        """The response id of a `GET /responses/{id}` (background mode's poll), else None."""
        req = self.interaction.request
        head, _, rest = req.path.rstrip("/").rpartition("/responses/")
        if req.method.upper() != "GET" or not head or not rest or "/" in rest:
            return None
        return None if rest in {"compact"} else rest

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED_STATUSES


ClientFor = Callable[[Interaction], OpenAI]


def api_base(interaction: Interaction) -> str:
    """The API base the request was sent under: its URL up to `/responses` (`/v1` on OpenAI,
    `/openai/v1` on Azure, `/api/v1` behind OpenRouter and other gateways), so the SDK posts to
    the recorded path (replay matches on the path)."""
    head, found, _ = interaction.request.path.rstrip("/").rpartition("/responses")
    return base_url_of(interaction) + (head if found else "/v1")


def _new_client(interaction: Interaction) -> OpenAI:
    return OpenAI(base_url=api_base(interaction), api_key="replay", max_retries=0,
                  http_client=DefaultHttpxClient(verify=replay_ssl()))


def default_clients() -> ClientFor:
    """One SDK client per recorded API base, for one replay."""
    return client_per_key(_new_client, api_base)


def _create_kwargs(body: dict[str, Any], *, streamed: bool) -> dict[str, Any]:
    """SDK keyword arguments for a recorded body (Codex's `client_metadata` goes as
    `extra_body`); `stream` as the recorded answer was sent (see `answer_is_streamed`)."""
    return sdk_kwargs(body, _CREATE_PARAMS, stream=streamed)


def answer_is_streamed(interaction: Interaction, body: dict[str, Any]) -> bool:
    """Whether the recorded answer is an event stream: its content type says so (a JSON
    answer is one `response` object, whatever the request asked); without one, the request's
    `stream` flag."""
    ctype = interaction.response.headers.get("content-type", "").lower()
    if "event-stream" in ctype:
        return True
    if "json" in ctype:
        return False
    return body.get("stream") is True


def events_of(response: Any) -> tuple[list[ResponseStreamEvent], str | None]:
    """A non-streamed `response` object as the stream events that would have carried it: one
    `output_item.done` per output item, then the terminal event its `status` names. Returns a
    problem instead when the answer is not a response object at all."""
    output = getattr(response, "output", None)
    status = getattr(response, "status", None)
    if not isinstance(response, Response) or not isinstance(output, list):
        return [], "answer is not a Responses `response` object with an `output` list"
    events: list[ResponseStreamEvent] = [
        ResponseOutputItemDoneEvent.construct(type="response.output_item.done", item=item,
                                              output_index=n, sequence_number=n)
        for n, item in enumerate(output)]
    terminal = TERMINAL_FOR_STATUS.get(str(status))
    if terminal is None and status not in UNFINISHED_STATUSES:
        return events, f"response status {status!r} is none the API documents"
    if terminal is not None:
        event_type = "response.failed" if status == "cancelled" else f"response.{status}"
        events.append(terminal.construct(type=event_type, response=response,
                                         sequence_number=len(events)))
    return events, None


_EVENT_UNION: Any = typing.get_args(ResponseStreamEvent)[0]
"""The union of stream event classes inside `ResponseStreamEvent` (Annotated with the SDK's own
discriminator note, which pydantic does not read)."""


def _event_adapter() -> pydantic.TypeAdapter[Any] | None:
    """The same union, validated by its `type` tag: the SDK validates each stream event against
    the untagged union, trying all ~60 classes (~130 µs an event, most of a replay's time).
    None when the classes do not have one distinct literal `type` each (then the tag would not
    pick the class the SDK picks, and the SDK's own validation stays)."""
    try:
        return pydantic.TypeAdapter(
            typing.Annotated[_EVENT_UNION, pydantic.Field(discriminator="type")])
    except pydantic.PydanticUserError:
        return None


def _tagged_event_validation() -> None:
    """Validate stream events by their tag inside the SDK (once per process). Same classes,
    same instances, same fallback: the SDK's union accepts an event only in the one class its
    literal `type` names, and on failure the SDK builds that class leniently either way
    (`tests/test_codex_adapter_lane.py` checks both validators agree on every recorded event)."""
    sdk_validate = openai_models._validate_non_model_type
    if getattr(sdk_validate, "tagged_events", False):
        return
    adapter = _event_adapter()
    if adapter is None:
        return

    def validate(*, type_: Any, value: object) -> Any:
        if type_ is _EVENT_UNION:
            return adapter.validate_python(value)
        return sdk_validate(type_=type_, value=value)

    validate.tagged_events = True  # type: ignore[attr-defined]
    openai_models._validate_non_model_type = validate


def replay_one(index: int, interaction: Interaction, client_for: ClientFor) -> Replayed:
    """Re-issue one recorded request through the SDK and collect its typed stream events (a
    non-streamed answer, read by the SDK as one `Response`, becomes the events that would have
    carried it, so both forms are read by the same code)."""
    rep = Replayed(index, interaction)
    if rep.retrieved_id is not None:
        return _replay_retrieve(rep, client_for(interaction))
    if not rep.is_responses_post:
        return rep  # side traffic: read from the cassette as recorded, no SDK model for it
    _tagged_event_validation()
    rep.body, rep.body_error = parse_body(interaction.request.body)
    if rep.body is None:
        consume_raw(interaction)
        return rep
    body, client = rep.body, client_for(interaction)
    streamed = answer_is_streamed(interaction, body)
    problem: list[str] = []

    def call() -> None:  # API errors: HTTP statuses, and stream payloads with an `error` object
        if streamed:
            rep.events.extend(client.responses.create(**_create_kwargs(body, streamed=True)))
            return
        whole = client.responses.create(**_create_kwargs(body, streamed=False))
        events, why = events_of(whole)
        rep.events.extend(events)
        problem.extend([why] if why else [])
        _note_whole(rep, whole)

    rep.error, rep.stream_error = call_sdk(index, call, APIError, line=interaction.line)
    if problem and rep.stream_error is None:
        rep.stream_error = problem[0]
    return rep


def _note_whole(rep: Replayed, whole: Any) -> None:
    """Keep a whole answer's status and id (a background response is polled by its id)."""
    if isinstance(whole, Response):
        rep.status, rep.response_id = str(whole.status), whole.id


def _replay_retrieve(rep: Replayed, client: OpenAI) -> Replayed:
    """A background response's poll (`GET /responses/{id}`), read by the SDK as a whole
    response (or, with `stream=true`, as the resumed stream of its events)."""
    response_id = rep.retrieved_id
    assert response_id is not None
    query = parse_qs(rep.interaction.request.query)
    streamed = query.get("stream", ["false"])[-1] == "true"
    problem: list[str] = []

    def call() -> None:
        if streamed:
            after = query.get("starting_after", [""])[-1]
            if after.isdigit():
                rep.events.extend(client.responses.retrieve(response_id, stream=True,
                                                            starting_after=int(after)))
            else:
                rep.events.extend(client.responses.retrieve(response_id, stream=True))
            return
        whole = client.responses.retrieve(response_id)
        events, why = events_of(whole)
        rep.events.extend(events)
        problem.extend([why] if why else [])
        _note_whole(rep, whole)

    rep.error, rep.stream_error = call_sdk(rep.index, call, APIError,
                                           line=rep.interaction.line)
    if problem and rep.stream_error is None:
        rep.stream_error = problem[0]
    return rep


def replay_cassette(path: Path) -> Iterator[Replayed]:
    """Every interaction of the cassette at `path` through the SDK under vcrpy (network
    impossible; the cassette reader has already refused wrong-typed fields)."""
    clients = default_clients()
    return replay_file(path, lambda n, i: replay_one(n, i, clients))


# ------------------------------------------------------------------------------------- parsing


def _turn_meta(body: dict[str, Any]) -> dict[str, Any]:
    """Codex's per-request turn metadata (a JSON string inside `client_metadata`)."""
    meta = body.get("client_metadata")
    if not isinstance(meta, dict):
        return {}
    raw = meta.get("x-codex-turn-metadata")
    parsed = json_or_none(raw) if isinstance(raw, str) else raw
    return parsed if isinstance(parsed, dict) else {}


def _turn_id(body: dict[str, Any], meta: dict[str, Any]) -> str | None:
    """Codex's id of the user turn a request belongs to (turn metadata, else client_metadata)."""
    client = body.get("client_metadata")
    value = meta.get("turn_id") or (client.get("turn_id") if isinstance(client, dict) else None)
    return value if isinstance(value, str) and value else None


def _thread_of(body: dict[str, Any]) -> str | None:
    meta = body.get("client_metadata")
    if isinstance(meta, dict) and isinstance(meta.get("thread_id"), str):
        return str(meta["thread_id"])
    key = body.get("prompt_cache_key")
    return key if isinstance(key, str) else None


def sent_by_codex(interaction: Interaction, body: dict[str, Any]) -> bool:
    """Whether the traffic itself says Codex sent this request: Codex names itself in its
    `originator` / `user-agent` headers and puts `x-codex-*` keys in `client_metadata`. Codex's
    own readings (tool names, output texts, side calls, run markers) apply only then; nothing
    is inferred from model names or prompt words."""
    headers = interaction.request.headers
    if any("codex" in headers.get(name, "").lower() for name in CODEX_HEADERS):
        return True
    meta = body.get("client_metadata")
    return isinstance(meta, dict) and any(str(k).startswith(CODEX_METADATA_PREFIX) for k in meta)


def _conversation_of(body: dict[str, Any]) -> str | None:
    """Any client's thread: the Conversations API id (`conversation`: an id or `{id}`)."""
    value = body.get("conversation")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    if not isinstance(raw, list):
        return []
    return [i for i in raw if isinstance(i, dict)]


def _message_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))


def _is_message(item: dict[str, Any], role: str) -> bool:
    return item.get("type", "message") == "message" and item.get("role") == role


def _type_of(item: dict[str, Any]) -> str | None:
    """An input item's `type` when it is a string: a recorded body may hold anything there,
    and a list would not even hash for a set lookup."""
    value = item.get("type")
    return value if isinstance(value, str) else None


def _is_model_output(item: dict[str, Any]) -> bool:
    return _type_of(item) in MODEL_OUTPUT_TYPES or _is_message(item, "assistant")


def _output_text(output: Any) -> str:
    """A tool output as text: Codex sends a string, or a list of content parts."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    return "" if output is None else json.dumps(output)


def parse_exec_output(text: str) -> tuple[int | None, str]:
    """Exit code and output from Codex's tool output text.

    Current Codex (`exec_command`): header lines (`Chunk ID`, `Wall time`, `Process exited with
    code N`, `Original token count`) then `Output:` and the output. Older Codex (`shell`): a JSON
    object `{"output": ..., "metadata": {"exit_code": N}}`. Anything else (a sandbox or
    approval refusal) has no exit code; its whole text is the output.
    """
    parsed = json_or_none(text)
    if isinstance(parsed, dict) and isinstance(parsed.get("metadata"), dict):
        code = parsed["metadata"].get("exit_code")
        return (code if isinstance(code, int) else None), str(parsed.get("output", ""))
    match = _EXIT_CODE.search(text)
    if match is None:
        return None, text
    section = _OUTPUT_HEADER.search(text, match.end())
    return int(match.group(1)), text[section.end():] if section else ""


def parse_patch(text: str) -> list[FileChangeEntry]:
    """File changes named by an apply_patch text (`*** Add/Update/Delete File:`, `*** Move to:`)."""
    changes: list[FileChangeEntry] = []
    for match in _PATCH_LINE.finditer(text):
        verb, path, move_to = match.group(1), match.group(2), match.group(3)
        if move_to is not None:
            if changes and changes[-1].kind == "update":
                last = changes.pop()
                changes.append(FileChangeEntry(path=last.path, kind="move", move_path=move_to))
            continue
        kind = {"Add": "add", "Update": "update", "Delete": "delete"}[verb]
        changes.append(FileChangeEntry(path=path, kind=cast(Any, kind)))
    return changes


def parse_command(arguments: Any) -> str:
    """The command of an exec call: `cmd` (string or argv) or `command` (argv or string)."""
    if not isinstance(arguments, dict):
        return "" if arguments is None else str(arguments)
    value = arguments.get("cmd", arguments.get("command"))
    if isinstance(value, list):
        return shlex.join(str(v) for v in value)
    return "" if value is None else str(value)


def parse_plan(arguments: Any) -> tuple[list[PlanEntry], str | None]:
    if not isinstance(arguments, dict):
        return [], None
    entries: list[PlanEntry] = []
    for step in arguments.get("plan") or []:
        if isinstance(step, dict):
            status = _PLAN_STATUSES.get(str(step.get("status")), "pending")
            entries.append(PlanEntry(text=str(step.get("step", "")), status=status))
    explanation = arguments.get("explanation")
    return entries, explanation if isinstance(explanation, str) else None


def _json_arguments(raw: str) -> Any:
    return json_or_text(raw) if raw else {}


def tool_kind(name: str, namespace: str | None = None) -> ItemKind:
    """Normalized kind of a Codex tool call (see TOOL_KINDS and MCP_PREFIX)."""
    if (namespace or "").startswith(MCP_PREFIX) or name.startswith(MCP_PREFIX):
        return "mcp_tool_call"
    return TOOL_KINDS.get(name, "tool_call")


def mcp_names(name: str, namespace: str | None) -> tuple[str, str]:
    """(server, tool) from `mcp__server__tool`, or namespace `mcp__server` plus a tool name."""
    if namespace and namespace.startswith(MCP_PREFIX):
        server = namespace[len(MCP_PREFIX):].rstrip("_")
        tool = name[len(namespace):].lstrip("_") if name.startswith(namespace) else name
        return server, tool
    rest = name[len(MCP_PREFIX):]
    server, _, tool = rest.partition("__")
    return server, tool


def citations_of(content: Any) -> list[Citation]:
    """The sources an output message cites, in order: `url_citation` annotations (url,
    title) and file citations (the file name as title; no url). The API gives no quoted source
    text, so `cited_text` stays unset."""
    found: list[Citation] = []
    for part in content if isinstance(content, list) else []:
        notes = _raw(part).get("annotations") if isinstance(_raw(part), dict) else None
        for note in notes if isinstance(notes, list) else []:
            if not isinstance(note, dict):
                continue
            if note.get("type") == "url_citation":
                found.append(Citation(url=_str_or_none(note.get("url")),
                                      title=_str_or_none(note.get("title"))))
            elif note.get("type") in {"file_citation", "container_file_citation"}:
                found.append(Citation(title=_str_or_none(note.get("filename")
                                                         or note.get("file_id"))))
    return found


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def search_of(action: Any) -> tuple[str, list[SearchResult]]:
    """(query, results) of a web_search_call `action`: a search's `query` (or first of
    `queries`), the page of an `open_page`, the pattern of a `find_in_page`; `sources` (present
    when the client asked for `web_search_call.action.sources`) as results."""
    if not isinstance(action, dict):
        return "", []
    queries = action.get("queries")
    first = queries[0] if isinstance(queries, list) and queries else None
    query = action.get("query") or first or action.get("pattern") or action.get("url") or ""
    sources = action.get("sources")
    results = [SearchResult(url=src["url"], title=_str_or_none(src.get("title")))
               for src in (sources if isinstance(sources, list) else [])
               if isinstance(src, dict) and isinstance(src.get("url"), str)]
    return str(query), results


def _arguments(raw: Any) -> Any:
    """Tool arguments as sent: a JSON string parsed (empty: `{}`), an object as it is."""
    return _json_arguments(raw) if isinstance(raw, str) else raw


def hosted_facts(itype: str, data: dict[str, Any]) -> tuple[Any, Any]:
    """(arguments, result) of a hosted tool's output item, every fact the item holds kept:
    MCP tool listing (server -> tools), file search (queries -> results), code interpreter
    (code and container -> outputs: logs and images), image generation (options and revised
    prompt -> the image, base64)."""
    if itype == "mcp_list_tools":
        return {"server_label": data.get("server_label")}, data.get("tools")
    if itype == "file_search_call":
        return {"queries": data.get("queries")}, data.get("results")
    if itype == "code_interpreter_call":
        return ({"code": data.get("code"), "container_id": data.get("container_id")},
                data.get("outputs"))
    options = {k: v for k, v in data.items()
               if k not in {"id", "type", "status", "result", "error"} and v is not None}
    return options, data.get("result")


def error_text(error: Any) -> str | None:
    """A hosted tool's `error` as text: a string as given, an object by its `message`, an MCP
    execution error by its text content parts; anything else as its JSON."""
    if error is None or error == "":
        return None
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    content = error.get("content") if isinstance(error, dict) else None
    texts = [str(part["text"]) for part in content if isinstance(part, dict)
             and isinstance(part.get("text"), str)] if isinstance(content, list) else []
    if texts and len(texts) == len(content or []):
        return "\n".join(texts)
    return json.dumps(error, ensure_ascii=False, sort_keys=True)


def http_error(status: int, message: str) -> TurnError:
    """An HTTP error status as a turn error: the core's one status table
    (`harness.contract.model.status_kind`; retryable per kind: `RETRYABLE`)."""
    return TurnError.of(status_kind(status), f"HTTP {status}: {message}")


def stream_error(code: str | None, message: str) -> TurnError:
    return TurnError.of(STREAM_ERROR_KINDS.get(code or "", "provider"), message)


def _raw(model: Any) -> Any:
    """The payload as received (fields the SDK does not know included); a field of the wrong
    type is kept as it came, without pydantic's serializer warning on stderr."""
    to_dict = getattr(model, "to_dict", None)
    return to_dict(warnings=False) if callable(to_dict) else model


# ------------------------------------------------------------------------------------- translate


@dataclass
class _Pending:
    """A call waiting for its output in a later request (or an MCP approval request waiting
    for the client's `mcp_approval_response`). `codex`: the call came from Codex, so Codex's
    output texts are read."""

    item: Item
    name: str
    codex: bool = True
    approval: bool = False
    hosted: str | None = None


@dataclass
class _Streaming:
    """A message or reasoning item being streamed in the current response."""

    item: Item
    text: str = ""


def _add_usage(total: TurnUsage, usage: ResponseUsage | None) -> None:
    """One response's usage into the turn's sum (absent counts are 0: Responses reports all)."""
    if usage is None:
        return
    details, out_details = usage.input_tokens_details, usage.output_tokens_details
    total.add(usage.input_tokens or 0,
              (details.cached_tokens or 0) if details else 0,
              usage.output_tokens or 0,
              (out_details.reasoning_tokens or 0) if out_details else 0)


Outcome = Literal["completed", "failed", "truncated"]


class Translator(ExchangeTranslator[Replayed]):
    """Replayed interactions -> normalized events (pure; see the module docstring for rules)."""

    def __init__(self, context: RunContext, source: str) -> None:
        super().__init__(LANE_ID, context, source)
        self.thread: str | None = None
        self.history_init: str | None = None
        self.turn_id: str | None = None
        self.prev_input_len = 0
        self.pending: dict[str, _Pending] = {}
        self.last_call = ""
        self.retrying = False
        self.answer_done = False
        self.awaiting: str | None = None
        self.denied: set[str] = set()
        self.streaming: dict[str, _Streaming] = {}
        self.unknown_added: dict[str, Any] = {}
        self.usage = TurnUsage()
        self.stop_reason: str | None = None
        self.codex = True
        self.approved: dict[str, Item] = {}
        self.shell_ids: dict[str, str] = {}

    # ---------------------------------------------------------------- driver

    def finish(self) -> list[Event]:
        if self.b.in_turn and not self.pending and self.awaiting is None:
            return self._end_turn()
        return self._end_waiting() if self.b.in_turn else []

    def exchange(self, rep: Replayed, following: Replayed | None) -> Iterable[Event]:
        if self.b.in_turn and self.awaiting is not None and rep.retrieved_id == self.awaiting:
            return self._poll(rep, following)
        if not rep.is_responses_post:
            path = rep.interaction.request.path
            kind = next((k for suffix, k in SIDE_CALL_PATHS.items() if path.endswith(suffix)),
                        None)
            return self._side_call(rep, kind, parse_body(rep.interaction.request.body)[0])
        if rep.body is None:
            return self.frame_problem(rep, rep.body_error or "request body unusable")
        self.codex = sent_by_codex(rep.interaction, rep.body)
        side = self._side_kind(rep.body)
        if side is not None:
            return self._side_call(rep, side or None, rep.body)
        return chain(self._request(rep.body), self._response(rep, following))

    # ---------------------------------------------------------------- classification

    def _side_kind(self, body: dict[str, Any]) -> str | None:
        """None for conversation; a side-call kind ("" if unrecognised) otherwise. Only Codex
        makes side calls on `/responses`: any other client's request is conversation."""
        return side_call_kind(body) if self.codex else None

    # ---------------------------------------------------------------- requests

    def _request(self, body: dict[str, Any]) -> list[Event]:
        inputs = _inputs(body)
        out = self._collect_outputs(inputs)
        new_prompt = bool(inputs) and _is_message(inputs[-1], "user") and not self.retrying
        self.retrying = False
        if new_prompt and self.b.in_turn:
            waiting = self.pending or self.awaiting is not None
            out += self._end_waiting() if waiting else self._end_turn()
        if new_prompt or not self.b.has_session:
            out += self._maybe_new_run(body, inputs)
        if new_prompt or not self.b.in_turn:
            out += self._start_turn()
        self.prev_input_len = len(inputs)
        return out

    def _maybe_new_run(self, body: dict[str, Any], inputs: list[dict[str, Any]]) -> list[Event]:
        """A new run at the first request, on another thread, or (Codex only) where Codex's
        markers say a new process resumed the thread."""
        thread = _thread_of(body) if self.codex else _conversation_of(body)
        meta = _turn_meta(body) if self.codex else {}
        history_init = meta.get("history_initialization")
        history_init = history_init if isinstance(history_init, str) else None
        turn_id, previous_turn = _turn_id(body, meta), self.turn_id
        self.turn_id = turn_id
        earlier = inputs[: self.prev_input_len] if self.b.has_session else []
        carries_history = any(_is_model_output(i) for i in inputs[:-1])
        if self.b.has_session and thread == self.thread:
            if not self.codex:
                return []
            exec_turn = meta.get("turn_trigger") == "exec" \
                and turn_id is not None and turn_id != previous_turn
            changed_init = history_init is not None and self.history_init is not None \
                and history_init != self.history_init
            fresh_context = any(_is_message(i, "user")
                                and _message_text(i).lstrip().startswith("<environment_context>")
                                for i in inputs[len(earlier):-1])
            if not (exec_turn or changed_init or fresh_context):
                return []
        same_thread = self.b.has_session and thread is not None and thread == self.thread
        resumed = self.context.resumed_from if not self.b.has_session else None
        if resumed is None and (carries_history or same_thread):
            resumed = thread
        self.thread, self.history_init = thread, history_init
        return self.b.session_started(thread, self._session_info(body, inputs, resumed))

    def _session_info(self, body: dict[str, Any], inputs: list[dict[str, Any]],
                      resumed: str | None) -> SessionInfo:
        ctx, meta = self.context, _turn_meta(body)
        sandbox = ctx.sandbox
        if sandbox == "unknown":
            sandbox = SANDBOX_MODES.get(str(meta.get("sandbox_mode")), "unknown")
        model = body.get("model")
        return SessionInfo(
            provider="openai",
            runtime=Runtime(name=LANE_ID, version=ctx.runtime_version),
            model=model if isinstance(model, str) else ctx.model,
            auth_mode=ctx.auth_mode,
            cwd=ctx.cwd or (_cwd_from(inputs) if self.codex else None),
            sandbox=sandbox,
            approval_policy=ctx.approval_policy if ctx.approval_policy != "unknown"
            else _approval_from(inputs) if self.codex else "unknown",
            resumed_from=resumed,
        )

    def _start_turn(self) -> list[Event]:
        self.usage = TurnUsage()
        self.stop_reason = None
        return self.b.turn_started()

    def _end_turn(self) -> list[Event]:
        self.pending.clear()
        return self.b.turn_completed(self.usage.model(), self.stop_reason)

    def _truncate(self) -> list[Event]:
        """The turn stopped before it ended; its waiting calls are failed by the builder."""
        self.pending.clear()
        self.awaiting = None
        return self.b.close_turn_truncated()

    def _poll(self, rep: Replayed, following: Replayed | None) -> Iterable[Event]:
        """A poll of the background response the turn waits for (`GET /responses/{id}`):
        still `queued` / `in_progress`, nothing happened yet; finished, its whole answer is
        read as the request's own answer would have been."""
        if rep.unfinished and rep.error is None and rep.stream_error is None:
            return []
        self.awaiting = None
        return self._response(rep, following)

    def _end_waiting(self) -> list[Event]:
        """The client moved on (or its recording ended) while calls wait for outputs: after a
        finished response from any client but Codex the turn completed and the calls were never
        answered (`close_unanswered`); otherwise the turn was cut, and so it was when an MCP
        approval request still waits on a person's answer."""
        waiting_on_user = any(p.approval for p in self.pending.values())
        if not self.answer_done or self.codex or waiting_on_user or self.awaiting is not None:
            return self._truncate()
        out = close_unanswered(self.b, [p.item for p in self.pending.values()])
        return out + self._end_turn()

    def _collect_outputs(self, inputs: list[dict[str, Any]]) -> list[Event]:
        """Complete the calls whose outputs (and resolve the MCP approvals whose answers) this
        request carries; a history re-sends them, so each counts once."""
        out: list[Event] = []
        for item in inputs:
            if _type_of(item) == "mcp_approval_response":
                out += self._approval_answer(item)
                continue
            if _type_of(item) not in CALL_OUTPUT_TYPES:
                continue
            call_id = str(item.get("call_id") or self.shell_ids.get(str(item.get("id")), ""))
            pending = self.pending.pop(self._pending_key(call_id), None)
            if pending is not None and not pending.approval:
                done = _complete(pending, item, denied=call_id in self.denied)
                out.append(self.b.item("completed", done))
        return out

    def _pending_key(self, call_id: str) -> str:
        """The waiting call an output names: by its `call_id`, else by the call item's own id
        (a client that echoed the item id as `call_id`, which the API accepts: pydantic-ai's
        early Responses recordings do)."""
        if call_id in self.pending:
            return call_id
        return next((key for key, p in self.pending.items()
                     if call_id and p.item.native_id == call_id), call_id)

    def _approval_answer(self, answer: dict[str, Any]) -> list[Event]:
        """The client's `mcp_approval_response`: the approval resolves (decided by the user); a
        refused call ends `declined`, an approved one waits for its `mcp_call`."""
        request_id = str(answer.get("approval_request_id"))
        pending = self.pending.get(request_id)
        if pending is None or not pending.approval:
            return []
        del self.pending[request_id]
        approve = answer.get("approve") is True
        reason = _str_or_none(answer.get("reason"))
        resolved = self.b.approval_resolved(request_id, "approved" if approve else "denied",
                                            "user")
        out: list[Event] = [resolved.model_copy(update={"reason": reason})]
        if approve:
            self.approved[request_id] = pending.item
        else:
            out.append(self.b.item("completed", pending.item.model_copy(
                update={"status": "declined", "error": reason})))
        return out

    # ---------------------------------------------------------------- responses

    def _response(self, rep: Replayed, following: Replayed | None) -> Iterator[Event]:
        """The answer's events as they are made: an answer streams hundreds of deltas, each
        `item.updated` carrying the text so far, so a list of them grew as the square of the
        answer's length."""
        if rep.unfinished and rep.error is None and rep.stream_error is None:
            self.awaiting = rep.response_id  # background mode: polled until it finishes
            return
        self.streaming.clear()
        self.unknown_added.clear()
        self.answer_done = False
        outcome: Outcome = "truncated"
        for event in rep.events:
            step, terminal = self._event(event)
            yield from step
            if terminal is not None:
                outcome = terminal
                break
        yield from self._flush_unknown_added()
        if outcome == "completed":
            self.answer_done = True
            yield from self._finish_hosted_shells()
            if not self.pending and self.b.in_turn:
                yield from self._end_turn()
            return
        if outcome == "failed":
            return
        yield from self._close_streaming()
        if rep.error is not None:
            yield from self._fail(_api_error(rep.error))
            return
        if rep.stream_error is not None:
            yield from self.frame_problem(rep, rep.stream_error)
        if following is not None and _is_retry(rep, following):
            self.retrying = True  # Codex re-sends a cut stream's request: the turn goes on
            return
        if self.b.in_turn:
            yield from self._truncate()

    def _fail(self, error: TurnError) -> list[Event]:
        self.streaming.clear()
        if not self.b.in_turn:
            return [self.b.notice(error.message)]
        self.pending.clear()
        return self.b.turn_failed(error)

    def _event(self, event: ResponseStreamEvent) -> tuple[list[Event], Outcome | None]:
        etype = str(getattr(event, "type", ""))
        expected = HANDLED_EVENTS.get(etype)
        if expected is None or not isinstance(event, expected) or _malformed(event):
            if etype in IGNORED_EVENTS:
                return [], None
            return [self.b.unknown(etype or "<no type>", _raw(event))], None
        if isinstance(event, ResponseOutputItemAddedEvent):
            return self._item_added(event.item), None
        if isinstance(event, ResponseOutputItemDoneEvent):
            return self._item_done(event.item), None
        if isinstance(event, MESSAGE_DELTAS):
            return self._delta(event.item_id, event.delta, "assistant_message"), None
        if isinstance(event, REASONING_DELTAS):
            return self._delta(event.item_id, event.delta, "reasoning"), None
        if isinstance(event, ResponseCompletedEvent):
            _add_usage(self.usage, event.response.usage)
            self.stop_reason = event.response.status or "completed"
            return [], "completed"
        if isinstance(event, ResponseFailedEvent):
            err = event.response.error
            error = stream_error(err.code if err else None,
                                 err.message if err else "response.failed")
            if event.response.status == "cancelled":
                error = TurnError.of("cancelled", err.message if err else "response cancelled")
            return self._close_streaming() + self._fail(error), "failed"
        if isinstance(event, ResponseIncompleteEvent):
            details = event.response.incomplete_details
            reason = details.reason if details else None
            error = TurnError(kind="provider", message=f"response incomplete: {reason}",
                              retryable=False)
            return self._close_streaming() + self._fail(error), "failed"
        assert isinstance(event, ResponseErrorEvent)
        return self._close_streaming() + self._fail(stream_error(event.code, event.message)), \
            "failed"

    # ---------------------------------------------------------------- output items

    def _item_added(self, item: ResponseOutputItem) -> list[Event]:
        itype = str(getattr(item, "type", ""))
        native = getattr(item, "id", None)
        if itype == "message" and isinstance(item, ResponseOutputMessage):
            return self._start_streaming(native, AssistantMessage(
                id=self.b.item_id(native), status="in_progress", text="", native_id=native))
        if itype == "reasoning" and isinstance(item, ResponseReasoningItem):
            return self._start_streaming(native, Reasoning(
                id=self.b.item_id(native), status="in_progress", text="", native_id=native))
        if itype == "web_search_call" and isinstance(item, ResponseFunctionWebSearch):
            return [self.b.item("started", self._web_search(item, "in_progress"))]
        if itype == "mcp_call" or itype in HOSTED_TOOLS:
            data = _raw(item)
            if not isinstance(data, dict) or self._approved_for(data) is not None:
                return []  # an approved call's item started with its approval request
            return [self.b.item("started", self._hosted(itype, data, self.b.item_id(native),
                                                        final=False))]
        if itype not in {"function_call", "custom_tool_call", "tool_search_call",
                         "mcp_approval_request", *CLIENT_RUN_CALLS}:
            self.unknown_added[str(native)] = item
        return []

    def _start_streaming(self, native: str | None, item: Item) -> list[Event]:
        self.streaming[str(native)] = _Streaming(item)
        return [self.b.item("started", item)]

    def _delta(self, native: str, text: str, kind: ItemKind) -> list[Event]:
        entry = self.streaming.get(native)
        out: list[Event] = []
        if entry is None:  # a delta without `output_item.added`: start the item here
            item: Item = (AssistantMessage if kind == "assistant_message" else Reasoning)(
                id=self.b.item_id(native), status="in_progress", text="", native_id=native)
            out += self._start_streaming(native, item)
            entry = self.streaming[native]
        entry.text += text
        entry.item = with_text(entry.item, entry.text)
        out.append(self.b.item("updated", entry.item, streamed_delta("text", text)))
        return out

    def _item_done(self, item: ResponseOutputItem) -> list[Event]:
        itype = str(getattr(item, "type", ""))
        native = getattr(item, "id", None)
        self.unknown_added.pop(str(native), None)
        if itype == "message" and isinstance(item, ResponseOutputMessage):
            text = "".join(str(getattr(p, "text", None) or getattr(p, "refusal", "") or "")
                           for p in item.content or [])
            return self._finish_streaming(native, AssistantMessage, text, item.status,
                                          citations=citations_of(item.content))
        if itype == "reasoning" and isinstance(item, ResponseReasoningItem):
            return self._reasoning_done(item)
        if itype == "web_search_call" and isinstance(item, ResponseFunctionWebSearch):
            status: ItemStatus = "failed" if item.status == "failed" else "completed"
            done = self._web_search(item, status)
            self.b.forget_native(item.id)
            return [self.b.item("completed", done)]
        if itype == "function_call" and isinstance(item, ResponseFunctionToolCall):
            return self._call(item.call_id, item.name, item.namespace, native=native,
                              arguments=_json_arguments(item.arguments), raw_text=item.arguments)
        if itype == "custom_tool_call" and isinstance(item, ResponseCustomToolCall):
            return self._call(item.call_id, item.name, item.namespace, native=native,
                              arguments=item.input, raw_text=item.input)
        if itype == "tool_search_call" and isinstance(item, ResponseToolSearchCall):
            return self._call(item.call_id or native or "", "tool_search", None, native=native,
                              arguments=item.arguments, raw_text="")
        data = _raw(item)
        if isinstance(data, dict) and (itype == "mcp_call" or itype in HOSTED_TOOLS):
            return self._hosted_done(itype, data, native)
        if isinstance(data, dict) and itype == "mcp_approval_request":
            return self._approval_request(data, native)
        if isinstance(data, dict) and itype in CLIENT_RUN_CALLS:
            return self._client_run_call(itype, data, native)
        if isinstance(data, dict) and itype == "shell_call_output":
            return self._collect_outputs([data])  # a hosted shell's output, same response
        return [self.b.unknown(itype or "<no type>", data, native)]

    # ---------------------------------------------------------------- hosted tools

    def _approved_for(self, data: dict[str, Any]) -> Item | None:
        """The item an approved MCP approval request started, for the `mcp_call` it allowed."""
        return self.approved.get(str(data.get("approval_request_id")))

    def _hosted_done(self, itype: str, data: dict[str, Any], native: str | None) -> list[Event]:
        """A tool the API ran (MCP call or list, file search, code interpreter, image
        generation): complete in this response, its item completes here."""
        approved = self._approved_for(data) if itype == "mcp_call" else None
        if approved is not None:
            del self.approved[str(data.get("approval_request_id"))]
        item_id = approved.id if approved is not None else self.b.item_id(native)
        if native is not None:
            self.b.forget_native(native)
        return [self.b.item("completed", self._hosted(itype, data, item_id, final=True))]

    def _hosted(self, itype: str, data: dict[str, Any], item_id: str, *, final: bool) -> Item:
        error = error_text(data.get("error"))
        status: ItemStatus = "in_progress"
        if final:
            failed = error is not None or data.get("status") in {"failed", "incomplete"}
            status = "failed" if failed else "completed"
        native = _str_or_none(data.get("id"))
        if itype == "mcp_call":
            return McpToolCall(id=item_id, status=status, native_id=native,
                               server=str(data.get("server_label") or ""),
                               tool=str(data.get("name") or ""),
                               arguments=_arguments(data.get("arguments")),
                               result=data.get("output"), error=error)
        arguments, result = hosted_facts(itype, data)
        return ToolCall(id=item_id, status=status, native_id=native, name=HOSTED_TOOLS[itype],
                        arguments=arguments, result=result, error=error)

    def _approval_request(self, data: dict[str, Any], native: str | None) -> list[Event]:
        """`mcp_approval_request`: the API asks the client before calling an MCP tool. The MCP
        call starts here; the approval stays open until the client's answer."""
        request_id = native or self.b.fresh_id()
        tool = str(data.get("name") or "")
        item = McpToolCall(id=self.b.fresh_id(), status="in_progress", native_id=native,
                           server=str(data.get("server_label") or ""), tool=tool,
                           arguments=_arguments(data.get("arguments")))
        self.pending[request_id] = _Pending(item, tool, codex=False, approval=True)
        return [self.b.item("started", item),
                self.b.approval_requested(request_id, item.id, tool)]

    def _client_run_call(self, itype: str, data: dict[str, Any],
                         native: str | None) -> list[Event]:
        """`computer_call` / `local_shell_call`: the client runs it and sends its output in a
        later request (`call_id`; a local shell output may name the call by its `id`)."""
        call_id = str(data.get("call_id") or native or "")
        item: Item
        hosted: str | None = None
        if itype == "local_shell_call":
            raw_action = data.get("action")
            action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
            argv = action.get("command")
            command = shlex.join(str(a) for a in argv) if isinstance(argv, list) else str(
                argv or "")
            item = CommandExecution(id=self.b.fresh_id(), status="in_progress", command=command,
                                    cwd=_str_or_none(action.get("working_directory")),
                                    native_id=native)
            if native is not None:
                self.shell_ids[native] = call_id
        elif itype == "shell_call":
            environment = data.get("environment")
            if isinstance(environment, dict) and environment.get("type") not in {None, "local"}:
                hosted = str(data.get("status") or "completed")
            raw_action = data.get("action")
            commands = raw_action.get("commands") if isinstance(raw_action, dict) else None
            item = CommandExecution(id=self.b.fresh_id(), status="in_progress",
                                    command="\n".join(str(c) for c in commands or []),
                                    native_id=native)
        elif itype == "apply_patch_call":
            operation = data.get("operation")
            changes = [FileChangeEntry(path=str(operation.get("path")),
                                       kind=PATCH_OPERATIONS[operation["type"]])
                       ] if isinstance(operation, dict) and operation.get(
                           "type") in PATCH_OPERATIONS else []
            item = FileChange(id=self.b.fresh_id(), status="in_progress", changes=changes,
                              native_id=native)
        else:
            item = ToolCall(id=self.b.fresh_id(), status="in_progress", name="computer",
                            arguments=data.get("action", data.get("actions")),
                            native_id=native)
        self.pending[call_id] = _Pending(item, itype, codex=self.codex, hosted=hosted)
        self.last_call = call_id
        return [self.b.item("started", item)]

    def _finish_hosted_shells(self) -> list[Event]:
        """Shell calls the API ran in its container end with their response: the API reports
        some without a `shell_call_output` (seen in real traffic); such a call ends as the
        call's own status says, with no exit code or output."""
        out: list[Event] = []
        for call_id, pending in list(self.pending.items()):
            if pending.hosted is not None:
                del self.pending[call_id]
                status: ItemStatus = "failed" if pending.hosted == "incomplete" else "completed"
                out.append(self.b.item("completed", pending.item.model_copy(
                    update={"status": status})))
        return out

    def _finish_streaming(self, native: str | None, cls: type[AssistantMessage] | type[Reasoning],
                          text: str, status: str | None, **extra: Any) -> list[Event]:
        entry = self.streaming.pop(str(native), None)
        item_id = entry.item.id if entry else self.b.item_id(native)
        if native is not None:
            self.b.forget_native(native)
        final: ItemStatus = "failed" if status == "incomplete" else "completed"
        return [self.b.item("completed", cls(id=item_id, status=final, text=text,
                                             native_id=native, **extra))]

    def _reasoning_done(self, item: ResponseReasoningItem) -> list[Event]:
        summary = "\n\n".join(s.text for s in item.summary or [] if s.text)
        content = "\n\n".join(c.text for c in item.content or [] if c.text)
        text = summary or content
        encrypted = not text and bool(item.encrypted_content)
        return self._finish_streaming(item.id, Reasoning, text, item.status, encrypted=encrypted)

    def _web_search(self, item: ResponseFunctionWebSearch, status: ItemStatus) -> WebSearch:
        action = _raw(item.action) if item.action is not None else {}
        query, results = search_of(action)
        return WebSearch(id=self.b.item_id(item.id), status=status, query=query,
                         results=results, native_id=item.id)

    def _call(self, call_id: str, name: str, namespace: str | None, *, native: str | None,
              arguments: Any, raw_text: str) -> list[Event]:
        item_id = self.b.fresh_id()
        kind = tool_kind(name, namespace) if self.codex else "tool_call"
        item: Item
        if kind == "command_execution":
            item = CommandExecution(id=item_id, status="in_progress",
                                    command=parse_command(arguments), native_id=native)
        elif kind == "file_change":
            patch = raw_text if isinstance(arguments, str) else str(
                arguments.get("input", "") if isinstance(arguments, dict) else "")
            item = FileChange(id=item_id, status="in_progress", changes=parse_patch(patch),
                              native_id=native)
        elif kind == "plan":
            entries, text = parse_plan(arguments)
            item = Plan(id=item_id, status="in_progress", entries=entries, text=text,
                        native_id=native)
        elif kind == "mcp_tool_call":
            server, tool = mcp_names(name, namespace)
            item = McpToolCall(id=item_id, status="in_progress", server=server, tool=tool,
                               arguments=arguments, native_id=native)
        else:
            full = f"{namespace}.{name}" if namespace else name
            item = ToolCall(id=item_id, status="in_progress", name=full, arguments=arguments,
                            native_id=native)
        self.pending[call_id] = _Pending(item, name, codex=self.codex)
        self.last_call = call_id
        return [self.b.item("started", item)]

    def _flush_unknown_added(self) -> list[Event]:
        out = [self.b.unknown(str(getattr(i, "type", "<no type>")), _raw(i), native)
               for native, i in self.unknown_added.items()]
        self.unknown_added.clear()
        return out

    def _close_streaming(self) -> list[Event]:
        """Items cut off mid-stream end failed, keeping the text that arrived."""
        out = [self.b.item("completed", e.item.model_copy(update={"status": "failed"}))
               for e in self.streaming.values()]
        for entry in self.streaming.values():
            if entry.item.native_id is not None:
                self.b.forget_native(entry.item.native_id)
        self.streaming.clear()
        return out

    # ---------------------------------------------------------------- side calls and problems

    def _side_call(self, rep: Replayed, kind: str | None,
                   body: dict[str, Any] | None) -> list[Event]:
        inputs = _inputs(body) if body else []
        prompt = next((_message_text(i) for i in reversed(inputs) if _is_message(i, "user")), "")
        if kind is None:
            req = rep.interaction.request
            payload = {"method": req.method, "path": req.path,
                       "status": rep.interaction.response.status,
                       "client_metadata": (body or {}).get("client_metadata"),
                       "prompt": prompt[:2000]}
            return [self.b.unknown("side_call", payload)]
        error = _side_error(rep)
        result = _structured(_answer_text(rep)) or None
        arguments: dict[str, Any] = {"prompt_chars": len(prompt)}
        if kind == "auto_review" and self.last_call in self.pending:
            arguments["reviewed_item"] = self.pending[self.last_call].item.id
            if isinstance(result, dict) and result.get("outcome") == "deny":
                self.denied.add(self.last_call)
        if not self.b.in_turn:  # e.g. after a failed turn: kept whole, items need a turn
            return [self.b.unknown(f"side_call.{kind}", {
                "arguments": arguments, "result": result, "error": error})]
        item = ToolCall(id=self.b.fresh_id(), status="failed" if error else "completed",
                        name=f"side_call.{kind}", arguments=arguments, result=result,
                        error=error)
        return [self.b.item("completed", item)]


def side_call_kind(body: dict[str, Any]) -> str | None:
    """None when `body` is the conversation; else the side-call kind ("" when unrecognised).

    Codex marks its own side requests in `client_metadata`: a `request_kind` other than `turn`,
    or a sub-agent (`subagent_kind`, `x-openai-subagent`, a parent thread). Without metadata,
    the reviewer prompt or a `guardian:` cache key still gives an auto-review away.
    """
    meta = _turn_meta(body)
    client = body.get("client_metadata")
    client = client if isinstance(client, dict) else {}
    request_kind = meta.get("request_kind")
    if isinstance(request_kind, str) and request_kind != "turn":
        return SIDE_CALL_KINDS.get(request_kind, "")
    subagent = meta.get("subagent_kind") or client.get("x-openai-subagent")
    if isinstance(subagent, str) and subagent:
        return SUBAGENT_KINDS.get(subagent, "sub_agent")
    if meta.get("parent_thread_id") or client.get("x-codex-parent-thread-id"):
        return "sub_agent"
    cache_key = str(body.get("prompt_cache_key") or "")
    texts = [_message_text(i) for i in _inputs(body)] + [str(body.get("instructions") or "")]
    if cache_key.startswith("guardian:") or any(m in t for m in AUTO_REVIEW_MARKERS
                                                 for t in texts):
        return "auto_review"
    return None


def _cwd_from(inputs: list[dict[str, Any]]) -> str | None:
    for item in inputs:
        match = re.search(r"<cwd>(.*?)</cwd>", _message_text(item))
        if match:
            return match.group(1)
    return None


def _approval_from(inputs: list[dict[str, Any]]) -> Any:
    for item in reversed(inputs):
        match = re.search(r"Approval policy is currently ([\w-]+)", _message_text(item))
        if match and match.group(1) in {"never", "on-request", "on-failure", "untrusted"}:
            return match.group(1)
    return "unknown"


def _api_error(exc: APIError) -> TurnError:
    if isinstance(exc, APIStatusError):
        return http_error(exc.status_code, exc.message)
    if isinstance(exc, APIConnectionError):
        return TurnError.of("network", str(exc))
    body = exc.body if isinstance(exc.body, dict) else {}
    return stream_error(body.get("code"), exc.message)


def _is_retry(rep: Replayed, following: Replayed) -> bool:
    """Codex re-sends the same request after a stream cut before `response.completed`."""
    return following.body is not None and rep.body is not None \
        and _inputs(following.body) == _inputs(rep.body)


def _side_error(rep: Replayed) -> str | None:
    error = side_error(None if rep.error is None else str(rep.error), rep.stream_error,
                       rep.interaction.response.status)
    if error is not None:
        return error
    for event in rep.events:
        if isinstance(event, ResponseFailedEvent | ResponseErrorEvent):
            return str(getattr(event, "message", None) or "response.failed")
    return None


def _answer_text(rep: Replayed) -> str:
    """The assistant text of a side call's answer (SDK events, or the raw body off-path)."""
    texts = [
        "".join(str(getattr(p, "text", "") or "") for p in event.item.content or [])
        for event in rep.events
        if isinstance(event, ResponseOutputItemDoneEvent)
        and isinstance(event.item, ResponseOutputMessage) and event.item.type == "message"
    ]
    if texts or rep.is_responses_post:
        return "".join(texts)
    return rep.interaction.response.body.decode("utf-8", "replace")[:2000]


def _complete(pending: _Pending, output_item: dict[str, Any], *, denied: bool = False) -> Item:
    """A pending call's item, finished with what its output says (`denied`: a review refused
    it, so a refusal without exit code is `declined`)."""
    kind = output_item.get("type")
    if kind == "shell_call_output" and isinstance(item := pending.item, CommandExecution):
        return _shell_outcome(item, output_item.get("output"))
    if kind == "apply_patch_call_output":
        ok = output_item.get("status") == "completed"
        error = None if ok else str(output_item.get("output") or "patch failed")
        return pending.item.model_copy(update={"status": "completed" if ok else "failed",
                                               "error": error})
    item, text = pending.item, _output_text(output_item.get("output"))
    if isinstance(item, CommandExecution) and not pending.codex:
        # another client's local shell: its output as sent, no exit code in it to read
        status: ItemStatus = "failed" if output_item.get("status") == "incomplete" \
            else "completed"
        return item.model_copy(update={"status": status, "output": text})
    if isinstance(item, CommandExecution):
        code, output = parse_exec_output(text)
        status = "completed" if code == 0 else "failed"
        if code is None and (denied or _DECLINED.search(text)):
            # refused, never ran: the refusal Codex sent the model is why, not output
            return item.model_copy(update={"status": "declined", "output": "", "error": output})
        return item.model_copy(update={"status": status, "exit_code": code, "output": output})
    if isinstance(item, FileChange):
        code, _ = parse_exec_output(text)
        ok = code == 0 or (code is None and text.lstrip().startswith("Success."))
        refused = code is None and (denied or _DECLINED.search(text) is not None)
        status = "completed" if ok else "declined" if refused else "failed"
        return item.model_copy(update={"status": status, "error": None if ok else text})
    if isinstance(item, Plan):
        return item.model_copy(update={"status": "completed"})
    if output_item.get("type") == "tool_search_output":
        tools = output_item.get("tools")
        return item.model_copy(update={"status": "completed", "result": tools})
    result = _structured(output_item.get("output"))
    failed = output_item.get("success") is False or (
        isinstance(result, dict) and bool(result.get("isError") or result.get("is_error")))
    update: dict[str, Any] = {"status": "failed" if failed else "completed", "result": result}
    if failed:
        update["error"] = text or "tool failed"
    return item.model_copy(update=update)


def _shell_outcome(item: CommandExecution, chunks: Any) -> CommandExecution:
    """A `shell_call` finished by its `shell_call_output`: stdout and stderr of every command
    in order, the last command's exit code; a timeout fails it with no exit code."""
    parts = [c for c in chunks if isinstance(c, dict)] if isinstance(chunks, list) else []
    output = "".join(str(c.get("stdout") or "") + str(c.get("stderr") or "") for c in parts)
    outcome = parts[-1].get("outcome") if parts else None
    outcome = outcome if isinstance(outcome, dict) else {}
    code = outcome.get("exit_code") if outcome.get("type") == "exit" else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    timed_out = outcome.get("type") == "timeout"
    return item.model_copy(update={
        "status": "completed" if code == 0 else "failed", "exit_code": code, "output": output,
        "error": "timed out" if timed_out else None})


def _structured(output: Any) -> Any:
    return json_or_text(output) if isinstance(output, str) else output


# ------------------------------------------------------------------------------------- entry


def normalize_interactions(interactions: Sequence[Interaction], context: RunContext, *,
                           source: str, client_for: ClientFor) -> Iterator[Event]:
    """Translate interactions whose answers come from `client_for`'s HTTP client (no vcrpy):
    tests use it to feed the SDK through an `httpx2.MockTransport`."""
    replayed = replay_each(interactions, lambda n, i: replay_one(n, i, client_for))
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



def _malformed(event: ResponseStreamEvent) -> bool:
    """An event the SDK built leniently (it does not validate) whose key field is missing or of
    the wrong type: a terminal event (completed/failed/incomplete) without its `response`
    object, or a text delta whose `delta` or `item_id` is not a string. It says nothing the
    lane can act on, so it is kept as `unknown`."""
    if isinstance(event, TERMINAL_EVENTS):
        return getattr(event, "response", None) is None
    if isinstance(event, TEXT_DELTAS):
        return not (isinstance(getattr(event, "delta", None), str)
                    and isinstance(getattr(event, "item_id", None), str))
    return False


TOOL_OUTPUT_HEADER = re.compile(r"\AWall time: [0-9.]+ seconds\nOutput:\n?")
"""The header Codex puts before a tool's output in what it sends the model."""


def _tool_output_header(text: str) -> str:
    return TOOL_OUTPUT_HEADER.sub("", text, count=1)


LANE = LaneSpec(
    id=LANE_ID,
    provider="openai",
    input_kind="http-cassette",
    description="OpenAI Responses API traffic (Codex CLI's adapter path, or any client's), "
                "streamed or not, replayed through the official openai SDK; tool executions "
                "rebuilt from call + next-request output, hosted tools read as items.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "resume", "sandbox_context", "cwd_context", "mcp", "reasoning", "usage",
        "web_search", "plan", "file_change",
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="codex.http.yaml",
    recognizes=cassette_recognizer(("/responses",)),
    noise_tools=frozenset({"tool_search", *(f"side_call.{k}" for k in (
        *SIDE_CALL_KINDS.values(), *SUBAGENT_KINDS.values(), "sub_agent"))}),
    output_rules=(("codex.tool-output-header", _tool_output_header),),
)
