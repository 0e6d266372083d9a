"""The normalized event/log model, version 1: the contract every lane emits and every tool reads.

One event per JSONL line. Every event carries the same envelope (`schema_version`, `seq`, `type`,
`lane`, `thread_id`, `turn`); `type` discriminates the payload. Items (assistant text, commands,
file changes, ...) ride inside `item.*` events and are discriminated by `kind`.

The names here are a published contract (see `schemas/normalized-log.v1.schema.json`); fields may be
added, never renamed. This module names no provider: provider facts live in `lanes/`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION: Literal[1] = 1

AuthMode = Literal["api_key", "chatgpt", "oauth", "vertex", "unknown"]
Sandbox = Literal["read-only", "workspace-write", "full-access", "unknown"]
ApprovalPolicy = Literal["never", "on-request", "on-failure", "untrusted", "unknown"]
ItemStatus = Literal["in_progress", "completed", "failed", "declined"]
ErrorKind = Literal[
    "provider", "rate_limit", "auth", "network", "stream_truncated", "cancelled", "unknown"
]
ChangeKind = Literal["add", "delete", "update", "move"]
PlanStatus = Literal["pending", "in_progress", "completed"]
Decision = Literal["approved", "approved_for_session", "denied", "abort"]
DecidedBy = Literal["user", "policy", "reviewer"]
UsageScope = Literal["turn", "cumulative"]

RETRYABLE: dict[ErrorKind, bool] = {
    "provider": True,
    "rate_limit": True,
    "auth": False,
    "network": True,
    "stream_truncated": True,
    "cancelled": False,
    "unknown": False,
}
"""Whether retrying can help, per error kind: one policy for every lane (a test checks that
every ErrorKind is listed)."""


HTTP_STATUS_KINDS: dict[int, ErrorKind] = {
    400: "provider",
    401: "auth",
    403: "auth",
    404: "provider",
    408: "network",
    429: "rate_limit",
    529: "provider",
}
"""HTTP status -> error kind, the one table every lane reads a status through (`status_kind`).
HTTP statuses mean the same for every provider: 400 is the provider refusing an invalid request
and 404 one naming what it does not have (the provider's answer either way, as any 5xx is); 401
and 403 are credentials; 408 the connection timing out; 429 a rate limit; 529 an overload (listed
though the 5xx rule covers it: it is the status most often seen). A provider's own error *type*
names (`overloaded_error`, `RESOURCE_EXHAUSTED`, ...) live with its lanes, not here."""


def status_kind(status: int, table: Mapping[int, ErrorKind] = HTTP_STATUS_KINDS,
                otherwise: ErrorKind = "unknown") -> ErrorKind:
    """The error kind of an HTTP status: `HTTP_STATUS_KINDS`, then any other 5xx is the
    provider's fault; anything else is `otherwise` (`unknown` unless the lane knows more, e.g.
    an error body's own status name). `table` exists for test oracles that spell the rule out;
    lanes pass none."""
    if status in table:
        return table[status]
    return "provider" if 500 <= status <= 599 else otherwise


MAX_PAYLOAD_DEPTH = 200
"""Deepest nesting a free-form value (tool arguments and results, unknown payloads) keeps as
structure. Deeper values (real JSON parsers accept up to ~1024 levels) are kept whole as their
compact JSON text, because the JSON writers refuse them (orjson past 254 levels, pydantic past
~256) and a log line that cannot be written would lose the event."""


def _depth(value: Any) -> int:
    """Nesting depth of lists and dicts, without recursion (the value may be ~1024 deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _writable(value: Any) -> Any:
    """The value itself, or its compact JSON text when it is nested past MAX_PAYLOAD_DEPTH."""
    if _depth(value) <= MAX_PAYLOAD_DEPTH:
        return value
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # json's encoder recurses once per level
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    finally:
        sys.setrecursionlimit(limit)


FreeJson = Annotated[Any, AfterValidator(_writable)]
"""A free-form JSON value from the native input (see MAX_PAYLOAD_DEPTH)."""


class _Strict(BaseModel):
    """Base for every model: unknown fields are an error, so typos never pass silently.
    Validators are built on first use (`defer_build`): a run builds only the models it
    validates, which keeps them out of `harness normalize`'s start-up (issue 17)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True,
        defer_build=True,
    )


# ---------------------------------------------------------------------------------------- items


class _ItemBase(_Strict):
    id: str = Field(description="Unique within one log; stable across that item's events.")
    status: ItemStatus
    native_id: str | None = Field(
        default=None, description="The provider's own id for this item, when it has one."
    )


class Citation(_Strict):
    """A source the provider attached to a span of assistant text (e.g. a web search hit)."""

    url: str | None = None
    title: str | None = None
    cited_text: str | None = Field(default=None, description="The quoted source text, if given.")


class AssistantMessage(_ItemBase):
    kind: Literal["assistant_message"] = "assistant_message"
    text: str
    citations: list[Citation] = Field(
        default_factory=list, description="Sources the provider cited for this text, in order."
    )


class Reasoning(_ItemBase):
    kind: Literal["reasoning"] = "reasoning"
    text: str
    encrypted: bool = Field(
        default=False, description="True when the reasoning is opaque (encrypted or redacted)."
    )


class CommandExecution(_ItemBase):
    kind: Literal["command_execution"] = "command_execution"
    command: str
    cwd: str | None = None
    exit_code: int | None = Field(default=None, description="Null while running or unknown.")
    output: str = ""
    error: str | None = Field(
        default=None, description="Why it did not run, in the runtime's words (e.g. a denial)."
    )


class FileChangeEntry(_Strict):
    path: str
    kind: ChangeKind
    move_path: str | None = Field(default=None, description="Destination of a `move`.")


class FileChange(_ItemBase):
    kind: Literal["file_change"] = "file_change"
    changes: list[FileChangeEntry]
    error: str | None = Field(
        default=None, description="Why it was not applied, in the runtime's words (e.g. a denial)."
    )


class McpToolCall(_ItemBase):
    kind: Literal["mcp_tool_call"] = "mcp_tool_call"
    server: str
    tool: str
    arguments: FreeJson = None
    result: FreeJson = None
    error: str | None = None


class ToolCall(_ItemBase):
    kind: Literal["tool_call"] = "tool_call"
    name: str
    arguments: FreeJson = None
    result: FreeJson = None
    error: str | None = None


class SearchResult(_Strict):
    url: str
    title: str | None = None


class WebSearch(_ItemBase):
    kind: Literal["web_search"] = "web_search"
    query: str
    results: list[SearchResult] = Field(
        default_factory=list, description="Hits the provider returned, when the lane sees them."
    )


class PlanEntry(_Strict):
    text: str
    status: PlanStatus


class Plan(_ItemBase):
    kind: Literal["plan"] = "plan"
    entries: list[PlanEntry] = Field(default_factory=list)
    text: str | None = Field(default=None, description="Free-form plan text, when not a list.")


class ErrorNotice(_ItemBase):
    kind: Literal["error"] = "error"
    message: str


class UnknownItem(_ItemBase):
    """Anything a lane does not know yet: kept whole so no future event is silently lost."""

    kind: Literal["unknown"] = "unknown"
    native_type: str
    payload: FreeJson


Item: TypeAlias = Annotated[
    AssistantMessage
    | Reasoning
    | CommandExecution
    | FileChange
    | McpToolCall
    | ToolCall
    | WebSearch
    | Plan
    | ErrorNotice
    | UnknownItem,
    Field(discriminator="kind"),
]
ItemKind = Literal[
    "assistant_message",
    "reasoning",
    "command_execution",
    "file_change",
    "mcp_tool_call",
    "tool_call",
    "web_search",
    "plan",
    "error",
    "unknown",
]


# ------------------------------------------------------------------------------------- payloads


class Runtime(_Strict):
    name: str
    version: str | None = None


class Usage(_Strict):
    """Token counts; null means the source did not report that number."""

    scope: UsageScope = Field(description="Whether the numbers cover this turn or the thread.")
    input_tokens: int | None = Field(
        default=None, description="Every input token, cached ones included (OpenAI's meaning)."
    )
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = Field(
        default=None, description="Input tokens written to the provider's prompt cache."
    )
    output_tokens: int | None = None
    reasoning_tokens: int | None = None


class TurnError(_Strict):
    kind: ErrorKind
    message: str
    retryable: bool

    @classmethod
    def of(cls, kind: ErrorKind, message: str) -> TurnError:
        """A turn error whose `retryable` follows from its kind (`RETRYABLE`), the one policy
        every lane applies."""
        return cls(kind=kind, message=message, retryable=RETRYABLE[kind])


class Delta(_Strict):
    """A streamed fragment of one item field (`text`, `output`)."""

    field: str
    text: str


# --------------------------------------------------------------------------------------- events


class _EventBase(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    seq: int = Field(ge=0, description="0, 1, 2, ... contiguous within one log.")
    lane: str
    thread_id: str | None
    turn: int | None = Field(ge=0, description="0-based turn index in the log; null outside turns.")


class SessionStarted(_EventBase):
    type: Literal["session.started"] = "session.started"
    provider: str
    runtime: Runtime | None = None
    model: str | None = None
    auth_mode: AuthMode = "unknown"
    cwd: str | None = None
    sandbox: Sandbox = "unknown"
    approval_policy: ApprovalPolicy = "unknown"
    resumed_from: str | None = Field(default=None, description="Thread id this run resumes.")


McpServerStatus = Literal["ready", "starting", "failed", "disabled", "unknown"]
CAPABILITIES_VERSION: Literal[1] = 1


class SkillInfo(_Strict):
    """A skill the runtime offers the session (what a UI lists as invocable)."""

    name: str
    scope: str | None = Field(default=None, description="Where it comes from, as the runtime "
                              "says (e.g. system, user, repo).")
    enabled: bool | None = None
    description: str | None = None


class McpServerInfo(_Strict):
    """An MCP server the session is configured with, as the runtime reports its state."""

    name: str
    status: McpServerStatus
    tools: list[str] = Field(default_factory=list, description="Tool names it lists, sorted.")
    error: str | None = Field(default=None, description="Why it failed to start or list tools.")
    auth_status: str | None = Field(default=None, description="The runtime's word for the "
                                    "server's auth state (e.g. unsupported, logged_in).")


class SessionCapabilities(_EventBase):
    """What a capability-aware UI shows about a session, as the runtime's control plane reports
    it: skills, MCP servers with their tools and status, and the effective settings. Emitted
    right after `session.started` only by lanes that see a control plane (capability
    `control_plane`); a list is null when the lane did not see it. An additive part of the
    model, versioned on its own (`capabilities_version`): readers of v1 logs may ignore it."""

    type: Literal["session.capabilities"] = "session.capabilities"
    capabilities_version: Literal[1] = CAPABILITIES_VERSION
    skills: list[SkillInfo] | None = None
    mcp_servers: list[McpServerInfo] | None = None
    model: str | None = None
    auth_mode: AuthMode = "unknown"
    cwd: str | None = None
    sandbox: Sandbox = "unknown"
    approval_policy: ApprovalPolicy = "unknown"


class TurnStarted(_EventBase):
    type: Literal["turn.started"] = "turn.started"


class TurnCompleted(_EventBase):
    type: Literal["turn.completed"] = "turn.completed"
    usage: Usage | None = None
    stop_reason: str | None = Field(default=None, description="The provider's raw stop reason.")


class TurnFailed(_EventBase):
    type: Literal["turn.failed"] = "turn.failed"
    error: TurnError


class ItemStarted(_EventBase):
    type: Literal["item.started"] = "item.started"
    item: Item


class ItemUpdated(_EventBase):
    type: Literal["item.updated"] = "item.updated"
    item: Item
    delta: Delta | None = None


class ItemCompleted(_EventBase):
    type: Literal["item.completed"] = "item.completed"
    item: Item


class ApprovalRequested(_EventBase):
    type: Literal["approval.requested"] = "approval.requested"
    request_id: str
    item_id: str
    action: str = Field(description="What is asked, e.g. the command or the tool name.")
    reason: str | None = None


class ApprovalResolved(_EventBase):
    type: Literal["approval.resolved"] = "approval.resolved"
    request_id: str
    decision: Decision
    decided_by: DecidedBy
    reason: str | None = Field(
        default=None, description="The decider's words, e.g. the message sent with a denial."
    )


Event: TypeAlias = Annotated[
    SessionStarted
    | SessionCapabilities
    | TurnStarted
    | TurnCompleted
    | TurnFailed
    | ItemStarted
    | ItemUpdated
    | ItemCompleted
    | ApprovalRequested
    | ApprovalResolved,
    Field(discriminator="type"),
]
EventType = Literal[
    "session.started",
    "session.capabilities",
    "turn.started",
    "turn.completed",
    "turn.failed",
    "item.started",
    "item.updated",
    "item.completed",
    "approval.requested",
    "approval.resolved",
]

_ON_FIRST_USE = ConfigDict(defer_build=True)
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event, config=_ON_FIRST_USE)
ITEM_ADAPTER: TypeAdapter[Item] = TypeAdapter(Item, config=_ON_FIRST_USE)


_DUMP_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""orjson must not format what pydantic formats differently: such values reach
`model_field_dict`, which refuses them, and the event falls back to pydantic."""


def model_field_dict(value: object) -> dict[str, Any]:
    """orjson `default`: one of our models as its field dict (public for writers outside this
    module that write events as `dump_event` does, e.g. the API lanes' `write_lines`).
    `__dict__` holds exactly the fields, in declaration order (the order `model_dump_json`
    writes), since no model here renames, excludes or computes a field
    (tests/test_model_dump.py checks that)."""
    if isinstance(value, _Strict):
        return value.__dict__
    raise TypeError  # anything else (bytes, sets, foreign models, ...): pydantic decides


def dump_event(event: _EventBase) -> bytes:
    """Serialize one event as a compact JSON line body (no newline), fields in model order.

    Byte-identical to `event.model_dump_json().encode()` (goldens are compared byte for byte),
    but through orjson, ~3x faster; whatever orjson cannot write exactly as pydantic does (ints
    beyond 64 bits, lone surrogates, non-string keys, values that are not JSON) falls back to
    pydantic's own serializer, which returns bytes without the str round trip."""
    try:
        return orjson.dumps(event, default=model_field_dict, option=_DUMP_OPTIONS)
    except orjson.JSONEncodeError:
        return event.__pydantic_serializer__.to_json(event)


def dump_event_line(event: _EventBase) -> bytes:
    """`dump_event(event) + b"\\n"` without copying the event's bytes a second time."""
    try:
        return orjson.dumps(event, default=model_field_dict,
                            option=_DUMP_OPTIONS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return event.__pydantic_serializer__.to_json(event) + b"\n"


def load_event(line: bytes | str) -> Event:
    """Parse and validate one JSONL line into a typed event."""
    return EVENT_ADAPTER.validate_json(line)
