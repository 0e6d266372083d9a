"""codex-native lane: Codex CLI's own event stream, `codex exec --json` stdout (Codex CLI 0.169).

Input is one JSON object per line (`codex-native.jsonl`): `thread.started`, `turn.*`, `item.*`,
`error`. The lane's key is the item `id` Codex prints (`item_N`), valid within one run (one Codex
process): Codex mints it per process, so it restarts at `item_0` after `codex exec resume`; the
builder mints log-unique ids from it and forgets the mapping at every new run. A run starts at
each `thread.started`; a repeated `thread.started` with an id seen before is a resumed run
(`resumed_from` = that id). Field names and statuses follow `codex-rs/exec/src/exec_events.rs`.

Quirks handled on purpose (each has a test whose docstring names it):

- `turn.completed.usage` is cumulative over the thread (`Usage(scope="cumulative")`);
  `reasoning_output_tokens` is kept as reasoning tokens, `cache_write_input_tokens` has no field.
- Item ids restart at `item_0` after a resume: normalized ids stay unique per log.
- A `web_search` item carries two `id` keys in one object (Codex's `item_N`, then the provider's
  `ws_...` search id from the flattened payload). The JSON parser keeps the last one, so the
  native id of a web search is the provider's search id: it is the same in `item.started` and
  `item.completed` of one search, and it is the id the codex-adapter lane reports, so the two
  lanes agree on it.
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
  last status: N ...`), the status decides, through the core's one table
  (`harness.contract.model.status_kind`).

Unknown item types and unknown top-level events become `unknown` items carrying the whole native
payload, in both modes. Malformed input (not JSON, not an object, no string `type`, invalid
UTF-8, a known item without its fields, frames out of order) raises a `LaneError` naming
file:line in strict mode and becomes one `error` notice in lenient mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal, TypeAlias, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.contract.builder import LogBuilder, Phase, SessionInfo
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.jsonl import Frame, iter_lines, parse_object
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, jsonl_recognizer
from harness.contract.model import (
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
    ItemKind,
    ItemStatus,
    McpToolCall,
    Plan,
    PlanEntry,
    Reasoning,
    Runtime,
    ToolCall,
    TurnError,
    UnknownItem,
    Usage,
    WebSearch,
    status_kind,
)

LANE_ID = "codex-native"
RUNTIME_NAME = "codex"

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
    # CodexErr::Stream after the SSE stream closed without `response.completed`.
    (r"stream closed before response\.completed", "stream_truncated"),
    # CodexErr::Stream for transport failures (idle timeout, broken body).
    (r"idle timeout waiting for SSE|error decoding response body", "network"),
    # CodexErr::ConnectionFailed / ResponseStreamFailed.
    (r"^Connection failed|Error while reading the server response", "network"),
    # Any other CodexErr::Stream carries a `response.failed` error from the provider.
    (r"^stream disconnected before completion", "provider"),
    # CodexErr::RetryLimit: "exceeded retry limit, last status: 429 Too Many Requests", and
    # CodexErr::UnexpectedStatus: "unexpected status 401 Unauthorized: ...": the HTTP status
    # decides, unless the status table does not know it (then the wording below may).
    (r"exceeded retry limit, last status: (\d{3})|^unexpected status (\d{3})", None),
    # CodexErr::InternalServerError (HTTP 500 without retries).
    (r"currently experiencing high demand", "provider"),
    (r"Missing environment variable", "auth"),
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


def error_kind(message: str) -> ErrorKind:
    """Classify a Codex error message (see `ERROR_PATTERNS`) by its first `CLASSIFIED_PREFIX`
    characters."""
    head = message[:CLASSIFIED_PREFIX]
    for pattern, kind in ERROR_PATTERNS:
        match = pattern.search(head)
        if match is None:
            continue
        found = kind or status_kind(int(match.group(1) or match.group(2)))
        if found != "unknown":
            return found
    return "unknown"


def turn_error(message: str) -> TurnError:
    kind = error_kind(message)
    return TurnError.of(kind, message)


# ------------------------------------------------------------------------------ native models


class _Native(BaseModel):
    """A native payload: strict types (no coercion), fields Codex adds later are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


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
        return WebSearch(**common, status=_status(phase, None), query=payload.query)
    if type(payload) is NativeTodoList:
        entries = [PlanEntry(text=t.text, status="completed" if t.completed else "pending")
                   for t in payload.items]
        return Plan(**common, status=_status(phase, None), entries=entries)
    assert isinstance(payload, NativeErrorItem)  # the last model left
    return ErrorNotice(**common, status="completed", message=payload.message)


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

    # ---------------------------------------------------------------- entry points

    def feed(self, frame: Frame) -> list[Event]:
        etype = frame.data.get("type")
        if not isinstance(etype, str):
            problem = "missing `type`" if etype is None else \
                f"`type` is not a string (got {type(etype).__name__})"
            raise self._error(FrameError, frame, problem)
        if etype == "thread.started":
            return self._thread_started(frame)
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
        return [*self._ensure_session(), self.b.unknown(etype, frame.data)]

    def problem(self, error: LaneError) -> list[Event]:
        """Lenient mode: one bad frame becomes one `error` notice (after a session exists)."""
        return [*self._ensure_session(), self.b.notice(str(error))]

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
        self.live.clear()
        return self.b.close()

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
        native = self._parse(NativeUsage, raw, frame, "turn.completed usage")
        return Usage(scope="cumulative", input_tokens=native.input_tokens,
                     cached_input_tokens=native.cached_input_tokens,
                     cache_write_input_tokens=native.cache_write_input_tokens,
                     output_tokens=native.output_tokens,
                     reasoning_tokens=native.reasoning_output_tokens)

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
        if not isinstance(native_id, str) or not isinstance(item_type, str):
            raise self._error(FrameError, frame, "item without a string `id` and `type`")
        if phase == "started" and native_id in self.live:
            phase = self._restart(frame, native_id)
        model = ITEM_MODELS.get(item_type)  # type: ignore[call-overload]
        if model is None:
            out = self._ensure_session()
            return [*out, self._unknown_item(item_type, raw, native_id, phase)]
        known = cast(NativeItemType, item_type)
        payload = self._parse(model, raw, frame, item_type, " item")
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

    def _unknown_item(self, item_type: str, raw: dict[str, Any], native_id: str,
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


# ------------------------------------------------------------------------------------- entry


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Stream `codex exec --json` lines into normalized events, one line at a time."""
    translator = Translator(context, source.name)
    number = 0
    for number, line in iter_lines(source.stream):
        try:
            data = parse_object(line, number=number, lane=LANE_ID, source=source.name)
            events = translator.feed(Frame(number, data, line))
        except LaneError as exc:
            if not context.lenient:
                raise
            events = translator.problem(exc)
        yield from events
    yield from translator.close(number)


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
    native_file="codex-native.jsonl",
    recognizes=jsonl_recognizer(
        frozenset({"thread.started", "turn.started", "turn.completed", "turn.failed",
                   "item.started", "item.updated", "item.completed"}),
        also=lambda first: "msg" in first and "id" in first),  # pre-0.44 `{id, msg}` lines
)
