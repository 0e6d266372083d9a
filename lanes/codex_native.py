"""codex-native lane: Codex CLI's own event stream, `codex exec --json` stdout (0.44-0.171).

Input is one JSON object per line (`codex-native.jsonl`): `thread.started`, `turn.*`, `item.*`,
`error`. The lane's key is the item `id` Codex prints (`item_N`), valid within one run (one Codex
process): Codex mints it per process, so it restarts at `item_0` after `codex exec resume`; the
builder mints log-unique ids from it and forgets the mapping at every new run. A run starts at
each `thread.started`; a repeated `thread.started` with an id seen before is a resumed run
(`resumed_from` = that id). Field names and statuses follow `codex-rs/exec/src/exec_events.rs`.

Quirks handled on purpose (each has a test whose docstring names it):

- `turn.completed.usage` is cumulative over the thread (`Usage(scope="cumulative")`);
  `reasoning_output_tokens` is kept as reasoning tokens, `cache_write_input_tokens` as cache
  writes (0.44 printed neither: they stay null).
- Item ids restart at `item_0` after a resume: normalized ids stay unique per log.
- A `web_search` item carries two `id` keys in one object (Codex's `item_N`, then the provider's
  `ws_...` search id from the flattened payload). The JSON parser keeps the last one, so the
  native id of a web search is the provider's search id: it is the same in `item.started` and
  `item.completed` of one search, and it is the id the codex-adapter lane reports, so the two
  lanes agree on it. An empty `query` (a search still running, an opened page) is filled from
  the item's `action` by Codex's own rule (`search_detail`).
- `command` is shell-wrapped (`/bin/bash -lc '...'`) and kept as printed; equivalence unwraps it.
  `exit_code` is null while running; `aggregated_output` becomes `output`.
- An `item.completed` whose native status is still `in_progress` (Codex's end-of-turn
  reconciliation of items that never finished) completes as `failed`, as the builder does for
  items the stream never closes.
- Items printed twice after a stream retry: the native id is forgotten when its item completes,
  so a second `item.completed` with the same id is a separate normalized item (fresh id, same
  `native_id`). The log keeps what the runtime printed; merging would have to guess which copy
  is true.
- A stream that ends inside a turn ends the log with `turn.failed` kind `stream_truncated`.
- Errors: a top-level `error` is a non-fatal notice (it may stand before `turn.started`); the
  `turn.failed` message is classified by `ERROR_PATTERNS` (Codex prints messages, not codes);
  where the message names the HTTP status (`unexpected status N ...`, `exceeded retry limit,
  last status: N ...`) or is the provider's JSON error event (`{"type":"error","status":N,...}`,
  passed through whole over the websocket transport), the status decides, through the core's
  one table (`harness.contract.model.status_kind`).
- `item.updated` carries a whole item (a `todo_list` as its steps change): an update of the
  plan. Every `ThreadItemDetails` type is mapped (`todo_list` and `plan` -> plan,
  `collab_tool_call` -> tool_call, `error` -> notice); `image_view` and the other app-server
  item types never reach `exec --json` and would arrive as `unknown`.

Older formats (tests/data/shapes/codex-native holds recordings of each): before 0.44
`codex exec --json` printed a config summary, a `{"prompt"}` line and then the protocol events
whole as `{"id", "msg": {"type", ...}}` lines; 0.42/0.43 `--experimental-json` printed
`session.created` and items typed by `item_type`. Strict mode refuses both at their first line,
by name; lenient mode reads a legacy stream into items (`LegacyReader`) and keeps each
experimental line whole.

Unknown item types and unknown top-level events become `unknown` items carrying the whole native
payload, in both modes. Malformed input (not JSON, not an object, no string `type`, invalid
UTF-8, a known item without its fields, frames out of order) raises a `LaneError` naming
file:line in strict mode; lenient mode emits an `error` notice naming the line (`line N:
reason`, never the file, so a log does not depend on where its input lives) and keeps the line
whole as an `unknown` item.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import shlex
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeAlias, TypeVar, Union, cast

import msgspec
import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.contract.builder import LogBuilder, Phase, SessionInfo
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.fastlog import (
    LINE_OPTIONS,
    NATIVE_STRUCT,
    UNFIT,
    Checked,
    UnfitError,
    encoded_lines,
    event_lines,
    free,
    string,
    struct_of,
    template,
    text,
)
from harness.contract.jsonl import Frame, iter_lines, parse_object
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, jsonl_recognizer
from harness.contract.model import (
    ApprovalPolicy,
    AssistantMessage,
    ChangeKind,
    CommandExecution,
    Delta,
    ErrorKind,
    ErrorNotice,
    Event,
    FileChange,
    FileChangeEntry,
    Item,
    ItemCompleted,
    ItemKind,
    ItemStarted,
    ItemStatus,
    ItemUpdated,
    McpToolCall,
    Plan,
    PlanEntry,
    PlanStatus,
    Reasoning,
    Runtime,
    Sandbox,
    ToolCall,
    TurnCompleted,
    TurnError,
    TurnStarted,
    UnknownItem,
    Usage,
    UsageScope,
    WebSearch,
    status_kind,
)

LANE_ID = "codex-native"
RUNTIME_NAME = "codex"
_T = TypeVar("_T")

# ------------------------------------------------------------------------------------- tables

NativeEventType = Literal[
    "thread.started",
    "turn.started",
    "turn.completed",
    "turn.failed",
    "item.started",
    "item.updated",
    "item.completed",
    "item.plan.delta",
    "request_user_input",
    "error",
]
"""Every top-level event type `ThreadEvent` defines."""

NativeItemType = Literal[
    "agent_message",
    "plan",
    "reasoning",
    "command_execution",
    "file_change",
    "mcp_tool_call",
    "collab_tool_call",
    "web_search",
    "todo_list",
    "error",
]
"""Every item type `ThreadItemDetails` defines."""

ITEM_KINDS: dict[NativeItemType, ItemKind] = {
    "agent_message": "assistant_message",
    "plan": "plan",
    "reasoning": "reasoning",
    "command_execution": "command_execution",
    "file_change": "file_change",
    "mcp_tool_call": "mcp_tool_call",
    "collab_tool_call": "tool_call",
    "web_search": "web_search",
    "todo_list": "plan",
    "error": "error",
}
"""Native item type -> normalized item kind; any other type is an `unknown` item."""

ITEM_PHASES: dict[str, Phase] = {
    "item.started": "started",
    "item.updated": "updated",
    "item.completed": "completed",
}

KEPT_WHOLE: frozenset[NativeEventType] = frozenset({"request_user_input"})
"""Known events the model has no shape for (a question to the user): kept as `unknown` items."""

NativeStatus = Literal["in_progress", "completed", "failed", "declined"]
STATUSES: dict[NativeStatus, ItemStatus] = {
    "in_progress": "in_progress",
    "completed": "completed",
    "failed": "failed",
    "declined": "declined",
}
"""Native item status (command, patch, MCP and collab statuses share these names)."""

NativeChangeKind = Literal["add", "delete", "update"]
CHANGE_KINDS: dict[NativeChangeKind, ChangeKind] = {
    "add": "add",
    "delete": "delete",
    "update": "update",
}

_ERROR_PATTERN_SOURCES: tuple[tuple[str, ErrorKind | None], ...] = (
    # CodexErr::Stream after the SSE stream, or the Responses websocket ("websocket closed by
    # server before response.completed"), closed without `response.completed`.
    (r"(?:stream|websocket) closed (?:by server )?before response\.completed",
     "stream_truncated"),
    # CodexErr::Stream for transport failures (idle timeout, broken body).
    (r"idle timeout waiting for SSE|error decoding response body", "network"),
    # CodexErr::ConnectionFailed / ResponseStreamFailed.
    (r"^Connection failed|Error while reading the server response", "network"),
    # Any other CodexErr::Stream carries a `response.failed` error from the provider.
    (r"^stream disconnected before completion", "provider"),
    # CodexErr::RetryLimit: "exceeded retry limit, last status: 429 Too Many Requests", and
    # CodexErr::UnexpectedStatus: "unexpected status 401 Unauthorized: ...", or its friendly
    # form for a 403 from Cloudflare ("Access blocked by Cloudflare. ... (status 403
    # Forbidden)"): the HTTP status decides, unless the status table does not know it (then the
    # wording below may).
    (r"exceeded retry limit, last status: (\d{3})|^unexpected status (\d{3})"
     r"|^Access blocked by Cloudflare\b.*?\(status (\d{3})", None),
    # CodexErr::ContextWindowExceeded: the provider refused an input over the model's window.
    (r"ran out of room in the model's context window", "provider"),
    # CodexErr::InternalServerError (HTTP 500 without retries).
    (r"currently experiencing high demand", "provider"),
    (r"Missing environment variable", "auth"),
    # CodexErr::RefreshTokenFailed ("Your access token could not be refreshed because ...";
    # Codex's own class: Unauthorized).
    (r"access token could not be refreshed", "auth"),
    # The provider's overload answer ("Selected model is at capacity. Please try a different
    # model.").
    (r"Selected model is at capacity", "provider"),
    # CodexErr::UsageNotIncluded ("To use Codex with your ChatGPT plan, upgrade to Plus"):
    # Codex classes it with the usage limits (UsageLimitExceeded).
    (r"To use Codex with your ChatGPT plan", "rate_limit"),
    (r"usage limit|Quota exceeded", "rate_limit"),
    (r"^turn aborted|^interrupted", "cancelled"),
)
ERROR_PATTERNS: tuple[tuple[re.Pattern[str], ErrorKind | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind) for pattern, kind in _ERROR_PATTERN_SOURCES
)
"""`turn.failed` message -> error kind, first match wins (messages from codex-rs/core error.rs);
a kind of None means the HTTP status the pattern captures decides
(`harness.contract.model.status_kind`), unless that is `unknown`: then the search goes on.
Anything else is `unknown`."""



CLASSIFIED_PREFIX = 4096
"""Characters of an error message the patterns look at: Codex puts the cause first, and scanning
a giant message (a 100 MB provider error body) twelve times would stall the stream."""


KEPT_DEPTH = 200
"""Deepest nesting a native value copied into the log may have: the log's JSON writer stops
near 255 levels, and a line may nest up to 1024 (the reader's limit). A deeper unknown line is
kept as its text (still whole); a known item holding one is refused like any bad line."""


def deeper_than(value: Any, limit: int = KEPT_DEPTH) -> bool:
    """Whether `value` nests more than `limit` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if type(current) is dict:
            children: Any = current.values()
        elif type(current) is list:
            children = current
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def kept(data: Any, raw: bytes) -> Any:
    """A native value to keep whole: itself, or its line's text when too deep to write."""
    return raw.decode("utf-8", "backslashreplace") if deeper_than(data) else data


ENVELOPE_LIMIT = 65536
"""Longest message read as a JSON error envelope (a provider's error event is small)."""


def envelope_status(message: str) -> int | None:
    """The HTTP `status` of a message that is a provider's JSON error event, which Codex passes
    through whole when the Responses websocket answers with one (0.152 and later print e.g.
    `{"type":"error","status":400,"error":{"type":"invalid_request_error",...}}`)."""
    if not message.startswith("{") or len(message) > ENVELOPE_LIMIT:
        return None
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if type(status) is int else None


def error_kind(message: str) -> ErrorKind:
    """Classify a Codex error message: a JSON error event by its `status`, else by
    `ERROR_PATTERNS` over its first `CLASSIFIED_PREFIX` characters. Statuses go through the
    core's one table (`status_kind`), never through the provider's wording."""
    status = envelope_status(message)
    if status is not None and (by_status := status_kind(status)) != "unknown":
        return by_status
    head = message[:CLASSIFIED_PREFIX]
    for pattern, kind in ERROR_PATTERNS:
        match = pattern.search(head)
        if match is None:
            continue
        found = kind or status_kind(int(next(group for group in match.groups() if group)))
        if found != "unknown":
            return found
    return "unknown"


def turn_error(message: str) -> TurnError:
    kind = error_kind(message)
    return TurnError.of(kind, message)


# ------------------------------------------------------------------------------ native models


class _Native(BaseModel):
    """A native payload: strict types (no coercion), fields Codex adds later are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, defer_build=True)


class NativeText(_Native):
    """`agent_message`, `reasoning`, `plan`: text only."""

    text: str


class NativeCommand(_Native):
    command: str
    aggregated_output: str = ""
    exit_code: int | None = None
    status: NativeStatus = "in_progress"


class NativeChange(_Native):
    path: str
    kind: NativeChangeKind


class NativeFileChange(_Native):
    changes: list[NativeChange]
    status: NativeStatus = "in_progress"


class NativeMcpError(_Native):
    message: str


class NativeMcpCall(_Native):
    server: str
    tool: str
    arguments: Any = None
    result: Any = None
    error: NativeMcpError | None = None
    status: NativeStatus = "in_progress"


class NativeCollabCall(_Native):
    tool: str
    sender_thread_id: str | None = None
    receiver_thread_ids: list[str] = []
    prompt: str | None = None
    agents_states: dict[str, Any] = {}
    status: NativeStatus = "in_progress"


class NativeWebSearch(_Native):
    query: str = ""
    action: Any = None


def search_detail(action: Any) -> str:
    """What a web search did, from its `action`, by Codex's own rule (core `web_search.rs`,
    `web_search_action_detail`): the query (or the first of `queries`, `...` when there are
    more), the page opened, or `'pattern' in url`; `other` says nothing."""
    if not isinstance(action, dict):
        return ""
    def text(key: str) -> str:
        value = action.get(key)
        return value if isinstance(value, str) else ""
    kind = action.get("type")
    if kind == "search":
        queries = [q for q in action.get("queries") or [] if isinstance(q, str) and q]
        first = queries[0] + (" ..." if len(queries) > 1 else "") if queries else ""
        return text("query") or first
    if kind == "open_page":
        return text("url")
    if kind == "find_in_page":
        pattern, url = text("pattern"), text("url")
        if pattern:
            return f"'{pattern}' in {url}" if url else f"'{pattern}'"
        return url
    return ""


class NativeTodo(_Native):
    text: str
    completed: bool


class NativeTodoList(_Native):
    items: list[NativeTodo]


class NativeErrorItem(_Native):
    message: str


class NativeUsage(_Native):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None


class NativeError(_Native):
    message: str


class NativePlanDelta(_Native):
    item_id: str
    delta: str


NativePayload: TypeAlias = (
    NativeText | NativeCommand | NativeFileChange | NativeMcpCall | NativeCollabCall
    | NativeWebSearch | NativeTodoList | NativeErrorItem
)

ITEM_MODELS: dict[NativeItemType, type[NativePayload]] = {
    "agent_message": NativeText,
    "plan": NativeText,
    "reasoning": NativeText,
    "command_execution": NativeCommand,
    "file_change": NativeFileChange,
    "mcp_tool_call": NativeMcpCall,
    "collab_tool_call": NativeCollabCall,
    "web_search": NativeWebSearch,
    "todo_list": NativeTodoList,
    "error": NativeErrorItem,
}
"""Native item type -> the model its payload must fit."""

FREE_FORM: frozenset[type[NativePayload]] = frozenset({NativeMcpCall, NativeCollabCall})
"""Models carrying values of any shape (arguments, results, agent states) into the log."""


# ------------------------------------------------------------------------------ item mapping


def _status(phase: Phase, native: NativeStatus | None) -> ItemStatus:
    """Status of one item event: the native one when Codex prints it, else from the phase; an item
    completed while still `in_progress` failed (see module docstring)."""
    if native is None:
        return "completed" if phase == "completed" else "in_progress"
    status = STATUSES[native]
    if phase == "completed" and status == "in_progress":
        return "failed"
    return status


RESUMED_USAGE_CARRIED = (0, 79, 0)
"""First release whose resumed run (`codex exec resume`) carries the thread's token totals on:
up to 0.77.0 a new Codex process counts from zero, so a resumed run's `turn.completed.usage`
is that one run's (one turn's) count, not the thread's (recorded here: 0.60.1-0.77.0 print the
second request's count alone, 0.79.0 and later the sum)."""


def resumed_usage_scope(runtime_version: str | None) -> UsageScope:
    """The scope of a resumed run's usage: `turn` for a release known to count from zero again
    (`RESUMED_USAGE_CARRIED`), else `cumulative` (the current format, also when the version is
    not known)."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", runtime_version or "")
    if match and tuple(int(part) for part in match.groups()) < RESUMED_USAGE_CARRIED:
        return "turn"
    return "cumulative"


def thread_usage(native: Any, scope: UsageScope = "cumulative") -> Usage:
    """`turn.completed.usage` (a `NativeUsage`, or the fast path's Struct of it)."""
    return Usage(scope=scope, input_tokens=native.input_tokens,
                 cached_input_tokens=native.cached_input_tokens,
                 cache_write_input_tokens=native.cache_write_input_tokens,
                 output_tokens=native.output_tokens,
                 reasoning_tokens=native.reasoning_output_tokens)


def build_item(item_type: NativeItemType, payload: NativePayload, *, item_id: str,
               native_id: str, phase: Phase) -> Item:
    """One normalized item from a validated native payload (dispatch on the exact model type:
    `isinstance` on a pydantic class goes through ABCMeta, slow once per native line)."""
    common: dict[str, Any] = {"id": item_id, "native_id": native_id}
    if type(payload) is NativeText:
        status = _status(phase, None)
        if item_type == "agent_message":
            return AssistantMessage(**common, status=status, text=payload.text)
        if item_type == "reasoning":
            return Reasoning(**common, status=status, text=payload.text)
        return Plan(**common, status=status, text=payload.text)
    if type(payload) is NativeCommand:
        return CommandExecution(**common, status=_status(phase, payload.status),
                                command=payload.command, exit_code=payload.exit_code,
                                output=payload.aggregated_output)
    if type(payload) is NativeFileChange:
        changes = [FileChangeEntry(path=c.path, kind=CHANGE_KINDS[c.kind])
                   for c in payload.changes]
        return FileChange(**common, status=_status(phase, payload.status), changes=changes)
    if type(payload) is NativeMcpCall:
        error = payload.error.message if payload.error is not None else None
        return McpToolCall(**common, status=_status(phase, payload.status),
                           server=payload.server, tool=payload.tool,
                           arguments=payload.arguments, result=payload.result, error=error)
    if type(payload) is NativeCollabCall:
        arguments = {"sender_thread_id": payload.sender_thread_id,
                     "receiver_thread_ids": payload.receiver_thread_ids,
                     "prompt": payload.prompt}
        result = {"agents_states": payload.agents_states} if payload.agents_states else None
        return ToolCall(**common, status=_status(phase, payload.status), name=payload.tool,
                        arguments=arguments, result=result)
    if type(payload) is NativeWebSearch:
        query = payload.query or search_detail(payload.action)
        return WebSearch(**common, status=_status(phase, None), query=query)
    if type(payload) is NativeTodoList:
        entries = [PlanEntry(text=t.text, status="completed" if t.completed else "pending")
                   for t in payload.items]
        return Plan(**common, status=_status(phase, None), entries=entries)
    assert isinstance(payload, NativeErrorItem)  # the last model left
    return ErrorNotice(**common, status="completed", message=payload.message)


# ------------------------------------------------------------------------------ legacy streams

LEGACY_REFUSAL = ("looks like a legacy (pre-0.44) Codex stream ({id, msg} lines); "
                  "`--lenient` reads its events, or record with Codex 0.44 or later")
EXPERIMENTAL_REFUSAL = ("looks like a pre-0.44 `codex exec --experimental-json` stream "
                        "(session.created, items typed by `item_type`); `--lenient` keeps "
                        "each line whole, or record with Codex 0.44 or later")
EXPERIMENTAL_EVENTS = frozenset({"session.created", "session.resumed"})
"""Top-level types only the 0.42/0.43 `--experimental-json` stream printed."""

LEGACY_SANDBOXES: dict[str, Sandbox] = {
    "read-only": "read-only",
    "workspace-write": "workspace-write",
    "danger-full-access": "full-access",
}
"""First word of a legacy config summary's `sandbox` entry -> normalized sandbox."""

LEGACY_APPROVALS: dict[str, ApprovalPolicy] = {
    "never": "never", "on-request": "on-request", "on-failure": "on-failure",
    "untrusted": "untrusted",
}


def is_legacy_event(data: dict[str, Any]) -> bool:
    """A pre-0.44 `{"id": ..., "msg": {"type": ...}}` line (the protocol `Event` printed whole)."""
    return "type" not in data and "id" in data and isinstance(data.get("msg"), dict)


def is_legacy_summary(data: dict[str, Any]) -> bool:
    """The config summary a pre-0.44 `codex exec --json` printed first (`workdir`, `model`,
    `provider`, `approval`, `sandbox`, reasoning settings; no `type`)."""
    return "type" not in data and "workdir" in data and "model" in data


def is_experimental(data: dict[str, Any]) -> bool:
    """A 0.42/0.43 `--experimental-json` line: `session.created`, or an item typed by
    `item_type` (0.44 renamed it `type`)."""
    if data.get("type") in EXPERIMENTAL_EVENTS:
        return True
    item = data.get("item")
    return isinstance(item, dict) and "item_type" in item and "type" not in item


class LegacyUsage(_Native):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None

    def usage(self) -> Usage:
        """A legacy run is one task (one turn) and its totals restart with each process (a
        resumed run counts from zero): the run's total is the turn's usage."""
        return Usage(scope="turn", input_tokens=self.input_tokens,
                     cached_input_tokens=self.cached_input_tokens,
                     output_tokens=self.output_tokens,
                     reasoning_tokens=self.reasoning_output_tokens)


class LegacyTokenInfo(_Native):
    total_token_usage: LegacyUsage


class LegacyTokenCount(LegacyUsage):
    """0.42: `info.total_token_usage` (the process's running total, or `info: null`); 0.25: the
    last request's counts flat on the message."""

    info: LegacyTokenInfo | None = None


class LegacyMessage(_Native):
    message: str


class LegacyText(_Native):
    text: str


class LegacyExecBegin(_Native):
    call_id: str
    command: list[str]
    cwd: str | None = None


class LegacyExecDelta(_Native):
    call_id: str
    chunk: str | list[int]
    """Base64 text (0.42) or a byte array (0.25)."""


class LegacyExecEnd(_Native):
    call_id: str
    exit_code: int
    aggregated_output: str | None = None
    stdout: str = ""
    stderr: str = ""


class LegacyPatchBegin(_Native):
    call_id: str
    changes: dict[str, dict[str, Any]]


class LegacyPatchEnd(_Native):
    call_id: str
    success: bool
    stderr: str = ""


class LegacyInvocation(_Native):
    server: str
    tool: str
    arguments: Any = None


class LegacyMcpBegin(_Native):
    call_id: str
    invocation: LegacyInvocation


class LegacyMcpEnd(LegacyMcpBegin):
    result: dict[str, Any]
    """Rust's `Result` as serde prints it: `{"Ok": CallToolResult}` or `{"Err": message}`."""


class LegacyWebBegin(_Native):
    call_id: str


class LegacyWebEnd(LegacyWebBegin):
    query: str = ""


class LegacyPlanStep(_Native):
    step: str
    status: PlanStatus


class LegacyPlan(_Native):
    explanation: str | None = None
    plan: list[LegacyPlanStep]


class LegacyAborted(_Native):
    reason: str = ""


LEGACY_FREE_FORM: frozenset[type[_Native]] = frozenset({LegacyMcpBegin, LegacyMcpEnd})
"""Legacy events carrying values of any shape into the log (MCP arguments and results)."""


def legacy_changes(changes: dict[str, dict[str, Any]]) -> list[FileChangeEntry]:
    """`{path: {"add": {...}} | {"delete": {...}} | {"update": {unified_diff, move_path}}}`."""
    out = []
    for path, change in changes.items():
        if "add" in change:
            out.append(FileChangeEntry(path=path, kind="add"))
        elif "delete" in change:
            out.append(FileChangeEntry(path=path, kind="delete"))
        else:
            update = change.get("update")
            target = update.get("move_path") if isinstance(update, dict) else None
            if isinstance(target, str):
                out.append(FileChangeEntry(path=path, kind="move", move_path=target))
            else:
                out.append(FileChangeEntry(path=path, kind="update"))
    return out


def legacy_mcp_outcome(result: dict[str, Any]) -> tuple[ItemStatus, Any, str | None]:
    """(status, result, error) of a legacy MCP end: `Ok` is the server's `CallToolResult`, kept
    in the current stream's shape (`content`, `structured_content`) and failed when `isError`;
    `Err` is Codex's own message."""
    if "Ok" in result and isinstance(result["Ok"], dict):
        ok = result["Ok"]
        kept = {"content": ok.get("content", []),
                "structured_content": ok.get("structuredContent")}
        return ("failed" if ok.get("isError") is True else "completed"), kept, None
    error = result.get("Err")
    return "failed", None, error if isinstance(error, str) else json.dumps(result)


def legacy_session(summary: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Session facts a legacy config summary states, where the run context does not."""
    def text(key: str) -> str:
        value = summary.get(key)
        return value if isinstance(value, str) else ""

    sandbox_words = text("sandbox").split()
    sandbox = LEGACY_SANDBOXES.get(sandbox_words[0] if sandbox_words else "", "unknown")
    approval = LEGACY_APPROVALS.get(text("approval").lower(), "unknown")
    return {
        "model": context.model or text("model") or None,
        "cwd": context.cwd or text("workdir") or None,
        "sandbox": context.sandbox if context.sandbox != "unknown" else sandbox,
        "approval_policy": (context.approval_policy if context.approval_policy != "unknown"
                            else approval),
    }


# ------------------------------------------------------------------------------ translation


class Translator:
    """One stream's state: `feed` one frame, `close` at end of input. A frame is fully validated
    before anything is emitted, so an error never leaves a half-emitted frame behind."""

    def __init__(self, context: RunContext, source: str) -> None:
        self.context = context
        self.source = source
        self.b = LogBuilder(LANE_ID)
        self.threads: set[str] = set()
        self.live: set[str] = set()
        """Native ids started or updated and not completed yet (the builder holds them open)."""
        self.plan_text: dict[str, str] = {}
        self.usage_scope: UsageScope = "cumulative"
        """The scope of this run's `turn.completed.usage` (see `resumed_usage_scope`)."""
        self.legacy: LegacyReader | None = None
        """Set once a legacy (pre-0.44) line was read (lenient mode only)."""

    # ---------------------------------------------------------------- entry points

    def feed(self, frame: Frame) -> list[Event]:
        etype = frame.data.get("type")
        if etype is None and self._is_legacy(frame.data):
            return self._legacy(frame)
        if not isinstance(etype, str):
            problem = "missing `type`" if etype is None else \
                f"`type` is not a string (got {type(etype).__name__})"
            raise self._error(FrameError, frame, problem)
        if etype == "thread.started":
            return self._thread_started(frame)
        if etype in EXPERIMENTAL_EVENTS:
            return self._experimental(frame)
        self._need_session(frame, etype)
        phase = ITEM_PHASES.get(etype)
        if phase is not None:
            return self._item(frame, phase)
        if etype == "turn.started":
            return self._turn_started(frame)
        if etype == "turn.completed":
            return self._turn_completed(frame)
        if etype == "turn.failed":
            return self._turn_failed(frame)
        if etype == "error":
            message = self._parse(NativeError, frame.data, frame, "error").message
            return [*self._ensure_session(), self.b.notice(message)]
        if etype == "item.plan.delta":
            return self._plan_delta(frame)
        return self.keep(etype, frame)

    def keep(self, native_type: str, frame: Frame) -> list[Event]:
        """A line the model has no shape for, kept whole as an `unknown` item."""
        return [*self._ensure_session(), self.b.unknown(native_type, kept(frame.data, frame.raw))]

    def problem(self, error: LaneError, payload: Any = None) -> list[Event]:
        """Lenient mode: a line the lane cannot read becomes an `error` notice saying where and
        why (`line N: reason`: the log never names the file, so it does not depend on where
        the input lives), then, when the line was given, the line kept whole as an `unknown`
        item (the JSON object, or the text of a line that is no JSON object)."""
        where = f"line {error.line}: " if error.line is not None else ""
        out = [*self._ensure_session(), self.b.notice(where + error.reason)]
        if payload is not None:
            native = payload.get("type") if isinstance(payload, dict) else None
            out.append(self.b.unknown(native if isinstance(native, str) else "unreadable",
                                      payload))
        return out

    def close(self, last_line: int = 0) -> list[Event]:
        """End of input: an open turn fails as `stream_truncated`; an input with no run at all
        (Codex printed nothing, e.g. on a fatal config error) is an error naming the line where
        `thread.started` was due (strict) or a session with a notice (lenient), never an empty
        log, which no consumer could tell from a lost file."""
        if not self.b.has_session:
            reason = "no `thread.started`: the input holds no Codex run"
            error = SequenceError(reason, lane=LANE_ID, source=self.source, line=last_line + 1)
            if not self.context.lenient:
                raise error
            return self.problem(error)
        out = self.legacy.finish() if self.legacy is not None else []
        self.live.clear()
        return out + self.b.close()

    # ---------------------------------------------------------------- older formats

    def _is_legacy(self, data: dict[str, Any]) -> bool:
        """A pre-0.44 line: `{id, msg}`, the config summary opening the stream (or the next
        run of a legacy stream), or (after a summary) the `{"prompt": ...}` line."""
        if is_legacy_event(data):
            return True
        if is_legacy_summary(data) and (not self.b.has_session or self.legacy is not None):
            return True
        return self.legacy is not None and data.keys() == {"prompt"}

    def _legacy(self, frame: Frame) -> list[Event]:
        """Strict mode refuses a legacy stream at its first line in one clear line; lenient
        mode reads it (`LegacyReader`)."""
        if not self.context.lenient:
            raise self._error(FrameError, frame, LEGACY_REFUSAL)
        if self.legacy is None:
            self.legacy = LegacyReader(self)
        if is_legacy_event(frame.data):
            return self.legacy.feed(frame)
        if is_legacy_summary(frame.data):
            return self.legacy.summary(frame)
        return self.keep("prompt", frame)

    def _experimental(self, frame: Frame) -> list[Event]:
        """A 0.42/0.43 `--experimental-json` line: strict refuses it in one clear line; lenient
        keeps it whole (that format has no turns to hold its items)."""
        if not self.context.lenient:
            raise self._error(FrameError, frame, EXPERIMENTAL_REFUSAL)
        return self.keep(str(frame.data["type"]), frame)

    # ---------------------------------------------------------------- runs and turns

    def _thread_started(self, frame: Frame) -> list[Event]:
        thread_id = frame.data.get("thread_id")
        if not isinstance(thread_id, str):
            raise self._error(FrameError, frame, "thread.started without a string `thread_id`")
        if thread_id in self.threads:
            resumed: str | None = thread_id
        else:
            resumed = self.context.resumed_from if not self.b.has_session else None
        self.threads.add(thread_id)
        self.live.clear()
        self.plan_text.clear()
        self.usage_scope = "cumulative" if resumed is None else \
            resumed_usage_scope(self.context.runtime_version)
        return self.b.session_started(thread_id, self._session_info(resumed))

    def _session_info(self, resumed_from: str | None) -> SessionInfo:
        ctx = self.context
        return SessionInfo(
            provider="openai", runtime=Runtime(name=RUNTIME_NAME, version=ctx.runtime_version),
            model=ctx.model, auth_mode=ctx.auth_mode, cwd=ctx.cwd, sandbox=ctx.sandbox,
            approval_policy=ctx.approval_policy, resumed_from=resumed_from,
        )

    def _need_session(self, frame: Frame, etype: str) -> None:
        if not self.b.has_session and not self.context.lenient:
            raise self._error(SequenceError, frame, f"{etype} before thread.started")

    def _ensure_session(self) -> list[Event]:
        """Lenient mode: a log always opens with a session, even when the input does not."""
        if self.b.has_session:
            return []
        return self.b.session_started(None, self._session_info(self.context.resumed_from))

    def _turn_started(self, frame: Frame) -> list[Event]:
        if self.b.in_turn and not self.context.lenient:
            raise self._error(SequenceError, frame, "turn.started inside an open turn")
        out = self._ensure_session()
        self._end_turn()  # lenient: the builder fails the open turn's items, forget their ids
        return out + self.b.turn_started()

    def _need_turn(self, frame: Frame, what: str) -> None:
        if not self.b.in_turn:
            raise self._error(SequenceError, frame, f"{what} outside a turn")

    def _turn_completed(self, frame: Frame) -> list[Event]:
        self._need_turn(frame, "turn.completed")
        raw = frame.data.get("usage")
        usage = None if raw is None else self._usage(frame, raw)
        self._end_turn()
        return self.b.turn_completed(usage)

    def _usage(self, frame: Frame, raw: Any) -> Usage:
        return thread_usage(self._parse(NativeUsage, raw, frame, "turn.completed usage"),
                            self.usage_scope)

    def _turn_failed(self, frame: Frame) -> list[Event]:
        self._need_turn(frame, "turn.failed")
        native = self._parse(NativeError, frame.data.get("error"), frame, "turn.failed error")
        self._end_turn()
        return self.b.turn_failed(turn_error(native.message))

    def _end_turn(self) -> None:
        """The builder completes every open item at a turn's end: their native ids are done."""
        for native in self.live:
            self.b.forget_native(native)
        self.live.clear()

    # ---------------------------------------------------------------- items

    def _item(self, frame: Frame, phase: Phase) -> list[Event]:
        raw = frame.data.get("item")
        if not isinstance(raw, dict):
            raise self._error(FrameError, frame, f"{frame.data['type']} without an `item` object")
        native_id, item_type = raw.get("id"), raw.get("type")
        if item_type is None and "item_type" in raw:
            return self._experimental(frame)
        if not isinstance(native_id, str) or not isinstance(item_type, str):
            raise self._error(FrameError, frame, "item without a string `id` and `type`")
        if phase == "started" and native_id in self.live:
            phase = self._restart(frame, native_id)
        model = ITEM_MODELS.get(item_type)  # type: ignore[call-overload]
        if model is None:
            out = self._ensure_session()
            return [*out, self._unknown_item(item_type, kept(raw, frame.raw), native_id, phase)]
        known = cast(NativeItemType, item_type)
        payload = self._parse(model, raw, frame, item_type, " item")
        if model in FREE_FORM and deeper_than(raw):
            raise self._error(FrameError, frame, f"{item_type} item: nested deeper than "
                              f"{KEPT_DEPTH} levels")
        if not self.b.in_turn and ITEM_KINDS[known] != "error":
            self._need_turn(frame, f"{frame.data['type']} {item_type}")
        out = self._ensure_session()  # validation is over: from here on nothing raises
        item = build_item(known, payload, item_id=self.b.item_id(native_id),
                          native_id=native_id, phase=phase)
        out.append(self._emit(phase, item, native_id))
        return out

    def _restart(self, frame: Frame, native_id: str) -> Phase:
        """`item.started` for an item already running: strict refuses it, lenient reads it as
        an update (the item's newer state), so one id never starts twice."""
        if not self.context.lenient:
            raise self._error(SequenceError, frame, f"item {native_id!r} started twice")
        return "updated"

    def _emit(self, phase: Phase, item: Item, native_id: str,
              delta: Delta | None = None) -> Event:
        if phase == "completed":
            self.b.forget_native(native_id)
            self.live.discard(native_id)
            self.plan_text.pop(native_id, None)
        else:
            self.live.add(native_id)
        return self.b.item(phase, item, delta)

    def _plan_delta(self, frame: Frame) -> list[Event]:
        """`item.plan.delta`: text streamed into a plan item, as `item.updated` with a delta."""
        native = self._parse(NativePlanDelta, frame.data, frame, "item.plan.delta")
        self._need_turn(frame, "item.plan.delta")
        text = self.plan_text.get(native.item_id, "") + native.delta
        self.plan_text[native.item_id] = text
        item = Plan(id=self.b.item_id(native.item_id), status="in_progress", text=text,
                    native_id=native.item_id)
        return [self._emit("updated", item, native.item_id, Delta(field="text", text=native.delta))]

    def _unknown_item(self, item_type: str, raw: Any, native_id: str,
                      phase: Phase) -> Event:
        item = UnknownItem(id=self.b.item_id(native_id), native_id=native_id,
                           status=_status(phase, None), native_type=item_type, payload=raw)
        return self._emit(phase, item, native_id)

    # ---------------------------------------------------------------- errors

    def _parse(self, model: type[Any], raw: Any, frame: Frame, what: str,
               what_suffix: str = "") -> Any:
        """Validate a native payload; `what` + `what_suffix` names it in the error (joined only
        when there is one: this runs once per native line)."""
        try:
            return model.__pydantic_validator__.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(whole)"
            reason = f"{what}{what_suffix}: {where}: {first['msg']}"
            raise self._error(FrameError, frame, reason) from None

    def _error(self, cls: type[LaneError], frame: Frame, reason: str) -> LaneError:
        return cls(reason, lane=LANE_ID, source=self.source, line=frame.line,
                   excerpt=frame.raw[:200].decode("utf-8", errors="replace"))


class LegacyReader:
    """A legacy stream's events, read in lenient mode (strict refuses them): one `codex exec`
    run is one task, `task_started` opens its turn; `*_begin` / `*_end` pairs sharing a
    `call_id` are one item; `error` ends the task (Codex printed it and stopped); `token_count`
    feeds the turn's usage. Each event type is mapped where the model has a place for it;
    every other line (`turn_diff`, `session_configured`, the prompt, ...) is kept whole as an
    `unknown` item."""

    def __init__(self, translator: Translator) -> None:
        self.t = translator
        self.b = translator.b
        self._reset()

    def _reset(self) -> None:
        """A new task starts with no calls running and no usage seen."""
        self.commands: dict[str, CommandExecution] = {}
        self.decoders: dict[str, codecs.IncrementalDecoder] = {}
        self.patches: dict[str, list[FileChangeEntry]] = {}
        self.answered = False
        """The last item was an `agent_message`: the final answer (see `finish`)."""
        self.total: Usage | None = None
        self.summed: dict[str, int] = {}

    def summary(self, frame: Frame) -> list[Event]:
        """The config summary opens a run with the facts it states (kept whole as well); a
        later one (runs saved one after another) first ends the run before it, as the end of
        input would."""
        out = self.finish()
        self.t._end_turn()
        self._reset()
        facts = legacy_session(frame.data, self.t.context)
        resumed = self.t.context.resumed_from if not self.b.has_session else None
        info = self.t._session_info(resumed).model_copy(update=facts)
        out += self.b.session_started(None, info)
        return [*out, self.b.unknown("config_summary", kept(frame.data, frame.raw))]

    def feed(self, frame: Frame) -> list[Event]:
        mtype = frame.data["msg"].get("type")
        if not isinstance(mtype, str):
            raise self.t._error(FrameError, frame, "legacy event without a string `msg.type`")
        handler = LEGACY_HANDLERS.get(mtype)
        if handler is None:
            return self.t.keep(mtype, frame)
        return handler(self, frame, frame.data["msg"])

    def _parse(self, model: type[_T], frame: Frame) -> _T:
        msg = frame.data["msg"]
        parsed: _T = self.t._parse(model, msg, frame, msg["type"])
        if model in LEGACY_FREE_FORM and deeper_than(msg):
            raise self.t._error(FrameError, frame, f"{msg['type']}: nested deeper than "
                                f"{KEPT_DEPTH} levels")
        return parsed

    def _turn(self) -> list[Event]:
        """Items need a turn: a stream cut before `task_started` gets one opened for them."""
        out = self.t._ensure_session()
        return out if self.b.in_turn else out + self.b.turn_started()

    def _item(self, phase: Phase, item: Item, native_id: str | None = None,
              delta: Delta | None = None) -> list[Event]:
        out = self._turn()
        self.answered = type(item) is AssistantMessage
        if native_id is None:
            return [*out, self.b.item(phase, item)]
        return [*out, self.t._emit(phase, item, native_id, delta)]

    # ---------------------------------------------------------------- turns

    def task_started(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        out = self.t._ensure_session()
        self.t._end_turn()
        self._reset()
        return out + self.b.turn_started()

    def task_complete(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        if not self.b.in_turn:
            return self.t.keep("task_complete", frame)
        return self._complete()

    def _complete(self) -> list[Event]:
        self.t._end_turn()
        usage = self.total
        if usage is None and self.summed:
            usage = Usage(scope="turn", input_tokens=self.summed.get("input_tokens"),
                          cached_input_tokens=self.summed.get("cached_input_tokens"),
                          output_tokens=self.summed.get("output_tokens"),
                          reasoning_tokens=self.summed.get("reasoning_output_tokens"))
        return self.b.turn_completed(usage)

    def finish(self) -> list[Event]:
        """End of input. Legacy `--json` never printed `task_complete` (0.25 and 0.42 returned
        before printing it), so a turn whose last item is the final answer, with nothing still
        running, completed; any other open turn was cut (`stream_truncated`)."""
        if self.b.in_turn and self.answered and not self.t.live:
            return self._complete()
        return []

    def error(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        """`error` ended the task in legacy Codex; `stream_error` was a retry notice."""
        message = self._parse(LegacyMessage, frame).message
        out = [*self.t._ensure_session(), self.b.notice(message)]
        if msg["type"] == "error" and self.b.in_turn:
            self.t._end_turn()
            out += self.b.turn_failed(turn_error(message))
        return out

    def turn_aborted(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        reason = self._parse(LegacyAborted, frame).reason
        if not self.b.in_turn:
            return self.t.keep("turn_aborted", frame)
        self.t._end_turn()
        return self.b.turn_failed(TurnError.of("cancelled", f"turn aborted: {reason}"))

    def token_count(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyTokenCount, frame)
        if native.info is not None:
            self.total = native.info.total_token_usage.usage()
        for name in ("input_tokens", "cached_input_tokens", "output_tokens",
                     "reasoning_output_tokens"):
            value = getattr(native, name)
            if value is not None:
                self.summed[name] = self.summed.get(name, 0) + value
        return []

    # ---------------------------------------------------------------- items

    def agent_message(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        text = self._parse(LegacyMessage, frame).message
        return self._item("completed", AssistantMessage(id=self.b.fresh_id(), status="completed",
                                                        text=text))

    def reasoning(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        text = self._parse(LegacyText, frame).text
        return self._item("completed", Reasoning(id=self.b.fresh_id(), status="completed",
                                                 text=text))

    def plan_update(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyPlan, frame)
        entries = [PlanEntry(text=step.step, status=step.status) for step in native.plan]
        return self._item("completed", Plan(id=self.b.fresh_id(), status="completed",
                                            entries=entries, text=native.explanation))

    def exec_begin(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyExecBegin, frame)
        item = CommandExecution(id=self.b.item_id(native.call_id), native_id=native.call_id,
                                status="in_progress", command=shlex.join(native.command),
                                cwd=native.cwd)
        self.commands[native.call_id] = item
        self.decoders[native.call_id] = codecs.getincrementaldecoder("utf-8")("replace")
        return self._item("started", item, native.call_id)

    def exec_delta(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        """Output as it came (base64 text or a byte array), one `output` delta per chunk."""
        native = self._parse(LegacyExecDelta, frame)
        running = self.commands.get(native.call_id)
        if running is None:
            return self.t.keep("exec_command_output_delta", frame)
        try:
            chunk = (base64.b64decode(native.chunk, validate=True)
                     if isinstance(native.chunk, str) else bytes(native.chunk))
        except (binascii.Error, ValueError):
            raise self.t._error(FrameError, frame, "exec_command_output_delta: chunk is not "
                                "base64 text or a byte array") from None
        text = self.decoders[native.call_id].decode(chunk)
        running = running.model_copy(update={"output": running.output + text})
        self.commands[native.call_id] = running
        return self._item("updated", running, native.call_id, Delta(field="output", text=text))

    def exec_end(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyExecEnd, frame)
        begun = self.commands.pop(native.call_id, None)
        self.decoders.pop(native.call_id, None)
        output = native.aggregated_output
        if output is None:
            output = native.stdout + native.stderr
        item = CommandExecution(
            id=self.b.item_id(native.call_id), native_id=native.call_id,
            status="completed" if native.exit_code == 0 else "failed",
            command=begun.command if begun else "", cwd=begun.cwd if begun else None,
            exit_code=native.exit_code, output=output)
        return self._item("completed", item, native.call_id)

    def patch_begin(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyPatchBegin, frame)
        changes = legacy_changes(native.changes)
        self.patches[native.call_id] = changes
        item = FileChange(id=self.b.item_id(native.call_id), native_id=native.call_id,
                          status="in_progress", changes=changes)
        return self._item("started", item, native.call_id)

    def patch_end(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyPatchEnd, frame)
        item = FileChange(id=self.b.item_id(native.call_id), native_id=native.call_id,
                          status="completed" if native.success else "failed",
                          changes=self.patches.pop(native.call_id, []),
                          error=None if native.success else native.stderr or None)
        return self._item("completed", item, native.call_id)

    def mcp_begin(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyMcpBegin, frame)
        call = native.invocation
        item = McpToolCall(id=self.b.item_id(native.call_id), native_id=native.call_id,
                           status="in_progress", server=call.server, tool=call.tool,
                           arguments=call.arguments)
        return self._item("started", item, native.call_id)

    def mcp_end(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyMcpEnd, frame)
        call = native.invocation
        status, result, error = legacy_mcp_outcome(native.result)
        item = McpToolCall(id=self.b.item_id(native.call_id), native_id=native.call_id,
                           status=status, server=call.server, tool=call.tool,
                           arguments=call.arguments, result=result, error=error)
        return self._item("completed", item, native.call_id)

    def web_begin(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyWebBegin, frame)
        item = WebSearch(id=self.b.item_id(native.call_id), native_id=native.call_id,
                         status="in_progress", query="")
        return self._item("started", item, native.call_id)

    def web_end(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        native = self._parse(LegacyWebEnd, frame)
        item = WebSearch(id=self.b.item_id(native.call_id), native_id=native.call_id,
                         status="completed", query=native.query)
        return self._item("completed", item, native.call_id)


LegacyHandler: TypeAlias = Callable[[LegacyReader, Frame, dict[str, Any]], list[Event]]
LEGACY_HANDLERS: dict[str, LegacyHandler] = {
    "task_started": LegacyReader.task_started,
    "task_complete": LegacyReader.task_complete,
    "error": LegacyReader.error,
    "stream_error": LegacyReader.error,
    "turn_aborted": LegacyReader.turn_aborted,
    "token_count": LegacyReader.token_count,
    "agent_message": LegacyReader.agent_message,
    "agent_reasoning": LegacyReader.reasoning,
    "agent_reasoning_raw_content": LegacyReader.reasoning,
    "plan_update": LegacyReader.plan_update,
    "exec_command_begin": LegacyReader.exec_begin,
    "exec_command_output_delta": LegacyReader.exec_delta,
    "exec_command_end": LegacyReader.exec_end,
    "patch_apply_begin": LegacyReader.patch_begin,
    "patch_apply_end": LegacyReader.patch_end,
    "mcp_tool_call_begin": LegacyReader.mcp_begin,
    "mcp_tool_call_end": LegacyReader.mcp_end,
    "web_search_begin": LegacyReader.web_begin,
    "web_search_end": LegacyReader.web_end,
}
"""Legacy `msg.type` -> how it is read (codex-rs/protocol `EventMsg` before 0.44, as 0.25 and
0.42 print them); any other type is kept whole as an `unknown` item."""


# ------------------------------------------------------------------------------ fast path

FAST_ITEM_TYPES: tuple[NativeItemType, ...] = (
    "agent_message", "plan", "reasoning", "command_execution", "file_change", "mcp_tool_call",
    "web_search", "todo_list", "error")
"""Item types the fast path writes itself (the pydantic path reads `collab_tool_call`, unknown
types, and every line but `item.*`, `turn.started` and `turn.completed`)."""

FAST_TEXT = frozenset({"text", "aggregated_output"})
"""Native fields kept as raw JSON, to go to the output as they came (fastlog.text)."""

FAST_ITEMS: dict[type[msgspec.Struct], NativeItemType] = {
    struct_of(ITEM_MODELS[item_type], tag=item_type, raw=FAST_TEXT, extra=(("id", str),),
              name=f"Fast_{item_type}"): item_type
    for item_type in FAST_ITEM_TYPES
}
"""The Struct reading each fast item type (derived from its pydantic model) -> its type."""

_FastItem: Any = Union[tuple(FAST_ITEMS)]  # noqa: UP007
FAST_PHASES: dict[type[msgspec.Struct], Phase] = {
    msgspec.defstruct(f"Fast_{etype}", [("item", _FastItem)], tag=etype, tag_field="type",
                      **NATIVE_STRUCT): phase
    for etype, phase in ITEM_PHASES.items()
}
FastTurnStarted = msgspec.defstruct("FastTurnStarted", [], tag="turn.started", tag_field="type",
                                    **NATIVE_STRUCT)
FastTurnCompleted = msgspec.defstruct(
    "FastTurnCompleted", [("usage", struct_of(NativeUsage) | None, None)],
    tag="turn.completed", tag_field="type", **NATIVE_STRUCT)
FAST_DECODER = Checked(
    Union[(*FAST_PHASES, FastTurnStarted, FastTurnCompleted)])
_DECODE_RAW, _CHECK = FAST_DECODER.decode_raw, FAST_DECODER.check

FAST_MODELS: dict[NativeItemType, type[BaseModel]] = {
    "agent_message": AssistantMessage, "reasoning": Reasoning, "plan": Plan,
    "command_execution": CommandExecution, "file_change": FileChange,
    "mcp_tool_call": McpToolCall, "web_search": WebSearch, "todo_list": Plan,
    "error": ErrorNotice,
}
"""The normalized item each fast item type becomes (`build_item`'s map)."""
FAST_OUTPUT = {item_type: template(model) for item_type, model in FAST_MODELS.items()}
"""Their field templates (fastlog.template)."""
FAST_ENVELOPES: dict[Phase, dict[str, Any]] = {
    "started": template(ItemStarted, lane=LANE_ID),
    "updated": template(ItemUpdated, lane=LANE_ID),
    "completed": template(ItemCompleted, lane=LANE_ID),
}
_CHANGE = template(FileChangeEntry)
_ENTRY = template(PlanEntry)
_TURN_STARTED = template(TurnStarted, lane=LANE_ID)
_TURN_COMPLETED = template(TurnCompleted, lane=LANE_ID)
_USAGE = template(Usage, scope="cumulative")
"""`thread_usage`'s fields as a template (the fast path's `turn.completed.usage`)."""


class FastReader:
    """The fast path (harness.contract.fastlog) of item and turn lines: decoded by Structs
    derived from the native models, checked as `Translator.feed` checks them, item events
    written as plain dicts in one pass. It shares the translator's state and refuses (returns
    None for) every line it cannot prove `Translator.feed` reads the same way: `read_line`
    reads those."""

    def __init__(self, translator: Translator) -> None:
        self.t = translator
        self.b = translator.b

    def feed(self, raw: bytes | memoryview) -> bytes | None:
        """The line's events as JSONL bytes, or None: not for the fast path."""
        try:
            event = _DECODE_RAW(raw)
            _CHECK(raw)  # every line: nearly all hold a raw text
            phase = FAST_PHASES.get(type(event))
            if phase is not None:
                return self._item(event.item, phase)
            return self._turn(event)
        except UNFIT:
            return None

    def _turn(self, event: Any) -> bytes:
        """`Translator._turn_started` / `_turn_completed` where neither can fail (a session,
        and no open turn for a start, an open one for an end), the event written from its
        template (the builder's events only when the end fails items still open)."""
        b, t = self.b, self.t
        if not b.has_session:
            raise UnfitError
        if type(event) is FastTurnStarted:
            if b.in_turn:
                raise UnfitError
            t._end_turn()
            out = _TURN_STARTED.copy()
            out["seq"], out["turn"] = b.turn_started_written()
            out["thread_id"] = b.thread_id
            return orjson.dumps(out, option=LINE_OPTIONS)
        if not b.in_turn:
            raise UnfitError
        native = event.usage
        if t.usage_scope != "cumulative":
            raise UnfitError  # an older release's resumed run: `Translator._usage` scopes it
        t._end_turn()
        ended = b.turn_ended_written()
        if ended is None:  # items still open: the builder fails them first
            usage = None if native is None else thread_usage(native)
            return event_lines(b.turn_completed(usage))
        out = _TURN_COMPLETED.copy()
        out["seq"], out["turn"] = ended
        out["thread_id"] = b.thread_id
        if native is not None:
            usage_fields = _USAGE.copy()
            usage_fields["input_tokens"] = native.input_tokens
            usage_fields["cached_input_tokens"] = native.cached_input_tokens
            usage_fields["cache_write_input_tokens"] = native.cache_write_input_tokens
            usage_fields["output_tokens"] = native.output_tokens
            usage_fields["reasoning_tokens"] = native.reasoning_output_tokens
            out["usage"] = usage_fields
        return orjson.dumps(out, option=LINE_OPTIONS)

    def _item(self, native: Any, phase: Phase) -> bytes:
        """`Translator._item` and `build_item` on the Struct."""
        b, t = self.b, self.t
        native_id: str = native.id
        item_type, fields_of, model = FAST_KINDS[type(native)]
        if not b.has_session or (phase == "started" and native_id in t.live):
            raise UnfitError  # a sequence error in strict mode, a recovery in lenient mode
        if b.turn is None and item_type != "error":
            raise UnfitError
        fields = fields_of(native, phase)
        # everything is checked: from here on the translator's state changes
        fields["id"] = item_id = b.item_id(native_id)
        fields["native_id"] = native_id
        if phase == "completed":
            b.forget_native(native_id)
            t.live.discard(native_id)
            if t.plan_text:
                t.plan_text.pop(native_id, None)
        else:
            t.live.add(native_id)
        out = FAST_ENVELOPES[phase].copy()
        out["seq"] = b.item_written(phase, item_id, model, fields)
        out["thread_id"] = b.thread_id
        out["turn"] = b.turn
        out["item"] = fields
        return orjson.dumps(out, option=LINE_OPTIONS)


def _as_text(phase: Phase) -> Callable[[msgspec.Raw], Any]:
    """A text goes out as it came when its item completes; an item the builder may hold open
    needs it as a str."""
    return text if phase == "completed" else string


def _fast_command(native: Any, phase: Phase) -> dict[str, Any]:
    fields = FAST_OUTPUT["command_execution"].copy()
    fields["status"] = _status(phase, native.status)
    fields["command"] = native.command
    fields["exit_code"] = native.exit_code
    fields["output"] = _as_text(phase)(native.aggregated_output)
    return fields


def _fast_text(item_type: NativeItemType) -> Callable[[Any, Phase], dict[str, Any]]:
    def fields_of(native: Any, phase: Phase) -> dict[str, Any]:
        fields = FAST_OUTPUT[item_type].copy()
        fields["status"] = _status(phase, None)
        fields["text"] = _as_text(phase)(native.text)
        return fields
    return fields_of


def _fast_file_change(native: Any, phase: Phase) -> dict[str, Any]:
    fields = FAST_OUTPUT["file_change"].copy()
    fields["status"] = _status(phase, native.status)
    fields["changes"] = [{**_CHANGE, "path": change.path, "kind": CHANGE_KINDS[change.kind]}
                         for change in native.changes]
    return fields


def _fast_mcp(native: Any, phase: Phase) -> dict[str, Any]:
    arguments, result = free(native.arguments), free(native.result)
    if _brackets(native.arguments) + _brackets(native.result) >= KEPT_DEPTH and deeper_than(
            [arguments, result]):  # as deep as in the item (`Translator._item`)
        raise UnfitError
    fields = FAST_OUTPUT["mcp_tool_call"].copy()
    fields["status"] = _status(phase, native.status)
    fields["server"] = native.server
    fields["tool"] = native.tool
    fields["arguments"] = arguments
    fields["result"] = result
    fields["error"] = None if native.error is None else native.error.message
    return fields


def _brackets(raw: msgspec.Raw) -> int:
    """How many containers a raw value opens (brackets in its strings too): a bound on its
    depth, so a value with fewer than `KEPT_DEPTH` is not walked (`deeper_than`)."""
    data = bytes(raw)
    return data.count(b"[") + data.count(b"{")


def _fast_web_search(native: Any, phase: Phase) -> dict[str, Any]:
    fields = FAST_OUTPUT["web_search"].copy()
    fields["status"] = _status(phase, None)
    action = free(native.action)  # raw: read even when unused, orjson must accept it
    fields["query"] = native.query or search_detail(action)
    return fields


def _fast_todo_list(native: Any, phase: Phase) -> dict[str, Any]:
    fields = FAST_OUTPUT["todo_list"].copy()
    fields["status"] = _status(phase, None)
    fields["entries"] = [{**_ENTRY, "text": todo.text,
                          "status": "completed" if todo.completed else "pending"}
                         for todo in native.items]
    return fields


def _fast_error(native: Any, phase: Phase) -> dict[str, Any]:
    fields = FAST_OUTPUT["error"].copy()
    fields["status"] = "completed"
    fields["message"] = native.message
    return fields


FAST_FIELDS: dict[NativeItemType, Callable[[Any, Phase], dict[str, Any]]] = {
    "agent_message": _fast_text("agent_message"),
    "reasoning": _fast_text("reasoning"),
    "plan": _fast_text("plan"),
    "command_execution": _fast_command,
    "file_change": _fast_file_change,
    "mcp_tool_call": _fast_mcp,
    "web_search": _fast_web_search,
    "todo_list": _fast_todo_list,
    "error": _fast_error,
}
"""Each fast item type's normalized fields but its ids, from its Struct (`build_item`)."""
FAST_KINDS: dict[type[msgspec.Struct], tuple[NativeItemType, Callable[[Any, Phase], dict[str, Any]],
                                            type[BaseModel]]] = {
    struct: (item_type, FAST_FIELDS[item_type], FAST_MODELS[item_type])
    for struct, item_type in FAST_ITEMS.items()}
"""Item Struct -> its native type, how its fields are written, its normalized model."""


# ------------------------------------------------------------------------------------- entry


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Stream `codex exec --json` lines into normalized events, one line at a time."""
    translator = Translator(context, source.name)
    number = 0
    for number, line in iter_lines(source.stream):
        yield from read_line(translator, number, line)
    yield from translator.close(number)


def read_line(translator: Translator, number: int, line: bytes) -> list[Event]:
    """One non-blank line through the pydantic path: its events, or in lenient mode what the
    line's problem leaves in the log (a notice and the line kept whole)."""
    data: dict[str, Any] | None = None
    try:
        data = parse_object(line, number=number, lane=LANE_ID, source=translator.source)
        return translator.feed(Frame(number, data, line))
    except LaneError as exc:
        if not translator.context.lenient:
            raise
        whole = kept(data, line) if data is not None else line.decode(
            "utf-8", "backslashreplace")
        return translator.problem(exc, whole)


def normalize_lines(source: LaneInput, context: RunContext) -> Iterator[bytes]:
    """`normalize`'s log as JSONL bytes, the same byte for byte: item lines through the fast path
    (`FastReader`), every other line through `read_line`, sharing one translator."""
    translator = Translator(context, source.name)
    return encoded_lines(source.stream, FastReader(translator).feed,
                         lambda number, line: read_line(translator, number, line),
                         translator.close)


LANE = LaneSpec(
    id=LANE_ID,
    provider="openai",
    input_kind="jsonl",
    description="Codex CLI's own `codex exec --json` event stream (threads, turns, items), "
                "mapped one line at a time.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "resume", "sandbox_context", "cwd_context", "mcp", "reasoning", "usage",
        "web_search", "plan", "file_change",
        "plugins",  # the only lane where Codex plugins run (cassettes/plugin_native)
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="codex-native.jsonl",
    recognizes=jsonl_recognizer(
        frozenset({"thread.started", "turn.started", "turn.completed", "turn.failed",
                   "item.started", "item.updated", "item.completed"}),
        also=lambda first: is_legacy_event(first) or is_legacy_summary(first)
        or is_experimental(first)),  # pre-0.44 streams: strict mode refuses them by name
)
