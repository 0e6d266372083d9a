"""gemini-cli lane: Gemini CLI's own stream (`gemini -p ... --output-format stream-json`).

One JSON object per line, `type` one of `init`, `message`, `tool_use`, `tool_result`, `error`,
`result`. Keys: a tool execution's `tool_id` (`<tool_name>__<functionCall.id>`; in older releases
the bare `functionCall.id`) pairs its `tool_use` with its `tool_result`; assistant text has no
id, so consecutive assistant `message` lines (`delta: true` chunks) form one assistant_message,
closed by the next line of another kind.

How the log is built (each decision has a test):

- A *run* is one `init` (session id = thread id, model). A later `init` with a session id seen
  earlier in the input is a `--resume` of it (`resumed_from`). cwd, sandbox, approval policy and
  auth mode are not in the stream: they come from the `RunContext` (the recorder's meta file).
- A *turn* starts at the user `message` and ends at `result` (`success` -> turn.completed with the
  run's token counts; `error` -> turn.failed, its kind read from the error text).
- Tool items start at `tool_use` (kind by tool name, `TOOL_KINDS`; Gemini CLI's tool rules live
  in `lanes.gemini_family`, shared with the gemini lane) and complete at the matching
  `tool_result`: `success` -> completed, `error` -> failed, except `tool_not_registered` (headless
  approval mode `default` drops every tool that would ask) -> declined, with an approval pair
  decided by policy; under `yolo` (context policy `never`) nothing is dropped, so it is failed.

Quirks (each has a test; none is papered over):

- Gemini CLI prints no thought parts: this lane has no `reasoning` kind or capability.
- A shell command's exit code reaches only the model; a failing command is `status: success`.
  Items keep `exit_code: null` and status `completed` (the stream's word), never a guessed code.
- `write_file` creates or overwrites, and the stream does not say which: it is read as `add`.
- MCP tools are named `mcp_<server>_<tool>`; a server name containing `_` cannot be told apart
  from the tool name, so the split is at the first `_` after the prefix, as Gemini CLI splits.
- A stream that breaks off prints an `error` line ("Model stream ended without a finish reason")
  and a `result` with `status: error` and no `error` object: the turn fails `stream_truncated`.
  A failed `result` with no such line before it (cancelled, an API error after some chunks)
  also cuts the answer being streamed: that assistant_message is `failed`, not completed.
- An error's kind is read from the first `CLASSIFIED_PREFIX` characters of its text (the cause
  comes first): a giant provider error body is not scanned whole. An HTTP status in the text
  (`"code": N`) goes through the core's one table (`harness.contract.model.status_kind`).
- `--output-format json` prints one object indented over many lines (`JSON.stringify(..., 2)`):
  an input whose first line is `{` alone is held whole until its end and read as that one
  object (a run: session, model, answer, usage, outcome); anything else is JSONL.
- An answer Gemini CLI finds unusable (no text, thoughts only, cut by the token limit, blocked)
  prints one of its fixed `error` lines and a `result` with `status: error`: the turn fails
  `provider` (the model's answer was the problem), not `unknown`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union, cast

import msgspec
import orjson

from harness.contract.builder import LogBuilder, SessionInfo, held_item
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.fastlog import (
    NATIVE_STRUCT,
    UNFIT,
    Checked,
    UnfitError,
    dumps_line,
    encoded_lines,
    event_lines,
    free,
    last_text,
    template,
)
from harness.contract.jsonl import Frame, iter_lines, kept_text, parse_object
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, jsonl_recognizer
from harness.contract.model import (
    ApprovalPolicy,
    AssistantMessage,
    CommandExecution,
    Delta,
    ErrorKind,
    Event,
    FileChange,
    FileChangeEntry,
    Item,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    McpToolCall,
    Plan,
    Runtime,
    SessionStarted,
    ToolCall,
    TurnCompleted,
    TurnError,
    TurnStarted,
    Usage,
    WebSearch,
    dump_event_line,
    status_kind,
)
from lanes.gemini_family import (
    DECLINED_ERROR_TYPES,
    FILE_CHANGE_KINDS,
    POLICY_DENIED_ERROR_TYPES,
    TOOL_KINDS,
    file_path,
    mcp_names,
    plan_entries,
    shell_cwd,
    tool_kind,
)

LANE_ID = "gemini-cli"
PROVIDER = "google"

# ------------------------------------------------------------------------------------- tables

NativeType = Literal["init", "message", "tool_use", "tool_result", "error", "result"]

MESSAGE_ERROR_KINDS: tuple[tuple[re.Pattern[str], ErrorKind], ...] = (
    (re.compile(r"without a finish reason|stream (?:ended|closed|broke)", re.I),
     "stream_truncated"),
    (re.compile(r"quota|RESOURCE_EXHAUSTED|rate limit", re.I), "rate_limit"),
    (re.compile(r"API key|UNAUTHENTICATED|PERMISSION_DENIED", re.I), "auth"),
    (re.compile(r"fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network", re.I), "network"),
    (re.compile(r"cancel|abort", re.I), "cancelled"),
    (re.compile(r"returned an empty response|no final response text|exceeded the token limit"
                r"|response was blocked", re.I), "provider"),
    (re.compile(r"\[API Error", re.I), "provider"),
)
"""Error text -> kind, first match wins, when no HTTP status is in the text (default unknown)."""

_STATUS_CODE = re.compile(r'"code"\s*:\s*(\d{3})')

CLASSIFIED_PREFIX = 4096
"""Characters of an error message `error_kind` looks at: Gemini CLI prints the cause first (the
`[API Error: {"error":{"code":N` head), and scanning a giant message (a 100 MB provider error
body) with every pattern took ~15 s, a hang in practice."""


# ------------------------------------------------------------------------------------- mapping


def error_kind(message: str) -> ErrorKind:
    """The kind of a failed turn, from the status code in the text or its wording, read in
    the message's first `CLASSIFIED_PREFIX` characters."""
    head = message[:CLASSIFIED_PREFIX]
    match = _STATUS_CODE.search(head)
    if match:
        return status_kind(int(match.group(1)))
    for pattern, kind in MESSAGE_ERROR_KINDS:
        if pattern.search(head):
            return kind
    return "unknown"


def turn_error(message: str) -> TurnError:
    kind = error_kind(message)
    return TurnError.of(kind, message)


def usage_of(stats: Any) -> Usage | None:
    """The run's token counts (`stats`); Gemini CLI reports no reasoning tokens (null)."""
    if not isinstance(stats, dict):
        return None

    def number(key: str) -> int | None:
        value = stats.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Usage(scope="turn", input_tokens=number("input_tokens"),
                 cached_input_tokens=number("cached"), output_tokens=number("output_tokens"))


def model_usage(models: dict[str, Any]) -> Usage | None:
    """Token counts of `--output-format json` (`stats.models.<model>.tokens`), summed over the
    models the run used: prompt (cached included), cached, candidates, thoughts."""
    totals: dict[str, int] = {}
    for entry in models.values():
        tokens = _dict(_dict(entry).get("tokens"))
        for key, value in tokens.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    if not totals:
        return None
    return Usage(scope="turn", input_tokens=totals.get("prompt"),
                 cached_input_tokens=totals.get("cached"),
                 output_tokens=totals.get("candidates"), reasoning_tokens=totals.get("thoughts"))


def _whole_answer(line: dict[str, Any]) -> bool:
    """The one object `--output-format json` prints: an answer or error, with stats."""
    return "stats" in line and ("response" in line or "error" in line)


def start_item(item_id: str, name: str, parameters: dict[str, Any], native: str) -> Item:
    """The in-progress item a `tool_use` starts (see `gemini_family.TOOL_KINDS`)."""
    kind = tool_kind(name)
    if kind == "command_execution":
        return CommandExecution(id=item_id, status="in_progress", native_id=native,
                                **command_fields(parameters))
    if kind == "file_change":
        change = FileChangeEntry(path=file_path(parameters), kind=FILE_CHANGE_KINDS[name])
        return FileChange(id=item_id, status="in_progress", changes=[change], native_id=native)
    if kind == "plan":
        return Plan(id=item_id, status="in_progress", entries=plan_entries(parameters),
                    native_id=native)
    if kind == "web_search":
        return WebSearch(id=item_id, status="in_progress", query=str(parameters.get("query", "")),
                         native_id=native)
    if kind == "mcp_tool_call":
        server, tool = mcp_names(name)
        return McpToolCall(id=item_id, status="in_progress", server=server, tool=tool,
                           arguments=parameters, native_id=native)
    return ToolCall(id=item_id, status="in_progress", name=name, arguments=parameters,
                    native_id=native)


def command_fields(parameters: dict[str, Any]) -> dict[str, Any]:
    """A shell call's command and directory, as its item holds them."""
    return {"command": str(parameters.get("command", "")), "cwd": shell_cwd(parameters)}


def finish_item(item: Item, data: dict[str, Any], policy: ApprovalPolicy = "unknown") -> Item:
    """The item a `tool_result` completes: its status, output and error (never an exit code).

    `tool_not_registered` is a decline only where an approval mode could have dropped the tool:
    under `yolo` (policy `never`) nothing is dropped, so the call named a tool the CLI does not
    have (e.g. Gemini CLI 0.20 registers MCP tools under their bare names) and simply failed.
    `policy_violation` (a policy rule denied the call) is a decline under every mode."""
    failed = data.get("status") != "success"
    error = _dict(data.get("error"))
    message = str(error.get("message") or data.get("output") or "tool failed") if failed else None
    kind = _str_or_none(error.get("type"))
    declined = (kind in POLICY_DENIED_ERROR_TYPES or (
        kind in DECLINED_ERROR_TYPES and policy != "never"))
    status = "declined" if declined else \
        "failed" if failed else "completed"
    output = data.get("output")
    update: dict[str, Any] = {"status": status}
    if isinstance(item, CommandExecution):
        # status error: the call never ran (refused or rejected), so no output, only why
        update["output"] = "" if failed or not isinstance(output, str) else output
        update["error"] = message
    elif isinstance(item, FileChange):
        update["error"] = message
    elif isinstance(item, McpToolCall | ToolCall):
        update["result"] = output
        update["error"] = message
    return item.model_copy(update=update)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------------------------- state


Handler = Callable[[Frame], list[Event]]


@dataclass
class _Text:
    """The assistant message being streamed: the item as it started and its text so far (the
    item with that text is built only for an event that holds it: the fast path appends chunks
    without it).

    The fast path lets the builder hold the message open as it started: the translator
    completes its message before anything ends a turn (`_close_text` comes first in every step
    that can, and at the end of input), so the builder never fails it nor reads that copy."""

    started: AssistantMessage
    text: str = ""

    def item(self, status: Literal["in_progress", "completed", "failed"] = "in_progress"
             ) -> AssistantMessage:
        return self.started.model_copy(update={"text": self.text, "status": status})


class Translator:
    """One stream's state: open message, open tools by tool_id, sessions seen (feed/close)."""

    def __init__(self, context: RunContext, source: str) -> None:
        self.context = context
        self.source = source
        self.b = LogBuilder(LANE_ID)
        self.text: _Text | None = None
        self.tools: dict[str, Item] = {}
        self.tool_names: dict[str, str] = {}  # tool_id -> tool_name, for approval actions
        self.sessions: set[str] = set()
        self.last_error: str | None = None
        self.infos: dict[tuple[str | None, str | None], SessionInfo] = {}
        self.document: list[bytes] | None = None
        """The lines of a `--output-format json` answer, once its first line (`{` alone) was
        read: the CLI prints that one object indented over many lines (read at the end)."""
        self.document_line = 0
        self.read_any = False

    # ---------------------------------------------------------------- dispatch

    def feed(self, frame: Frame) -> list[Event]:
        native_type = frame.data.get("type")
        if native_type is None and not self.b.has_session and _whole_answer(frame.data):
            return self._whole_run(frame.data)
        if not isinstance(native_type, str):
            return self._problem(frame, "line has no string `type`", FrameError, keep=True)
        handler = self._handlers().get(native_type)
        if handler is None:
            return [*self._close_text(), self.b.unknown(native_type, frame.data)]
        return handler(frame)

    def _handlers(self) -> dict[str, Handler]:
        handlers: dict[NativeType, Handler] = {
            "init": self._init, "message": self._message, "tool_use": self._tool_use,
            "tool_result": self._tool_result, "error": self._error, "result": self._result,
        }
        return cast(dict[str, Handler], handlers)

    def close(self) -> list[Event]:
        out = self._read_document() if self.document is not None else []
        return [*out, *self._close_text(), *self.b.close()]

    def take_document_line(self, number: int, line: bytes) -> bool:
        """Whether `line` belongs to an indented `--output-format json` answer (held until the
        end of input): its first line is `{` alone, the input's first line."""
        if self.document is not None:
            self.document.append(line)
            return True
        first = not self.read_any
        self.read_any = True
        if first and line.strip() == b"{":
            self.document, self.document_line = [line], number
            return True
        return False

    def _read_document(self) -> list[Event]:
        """The held answer as one object (strict: refused naming its first line when it is no
        JSON object; lenient: a notice and the text kept whole)."""
        raw = b"\n".join(self.document or [])
        self.document = None
        try:
            data = parse_object(raw, number=self.document_line, lane=LANE_ID,
                                source=self.source)
        except FrameError as exc:
            if not self.context.lenient:
                raise
            return [self.b.notice(f"line {self.document_line}: {exc.reason}"),
                    self.b.unknown("unreadable", kept_text(raw))]
        return self.feed(Frame(self.document_line, data, raw))

    # ---------------------------------------------------------------- session and turn

    def _init(self, frame: Frame) -> list[Event]:
        return self.start_run(frame.data.get("session_id"), frame.data.get("model"))

    def start_run(self, session_id: Any, model: Any) -> list[Event]:
        """An `init` line's run (both paths: an `init` has no problem to report)."""
        out = self._close_text()
        sid, info = self.new_run(session_id, model)
        out += self.b.session_started(sid, info)
        return out

    def new_run(self, session_id: Any, model: Any) -> tuple[str | None, SessionInfo]:
        """The session id and facts of the run an `init` starts, the run's state reset."""
        sid = _str_or_none(session_id)
        resumed = sid if sid is not None and sid in self.sessions else self.context.resumed_from
        if sid is not None:
            self.sessions.add(sid)
        self.forget_tools()
        self.last_error = None
        return sid, self._info({"model": model}, resumed)

    def forget_tools(self) -> None:
        """A run or turn ends (or starts): its open tools are closed or gone."""
        self.tools.clear()
        self.tool_names.clear()

    def _whole_run(self, data: dict[str, Any]) -> list[Event]:
        """`gemini -p --output-format json` prints one object (`response`, `stats`, `error`)
        and nothing else: a run whose facts are its session, model, answer, usage, outcome."""
        models = _dict(_dict(data.get("stats")).get("models"))
        model = next(iter(models), None)
        info = self._info({"model": model}, self.context.resumed_from)
        out = self.b.session_started(_str_or_none(data.get("session_id")), info)
        out += self.b.turn_started()
        text = data.get("response")
        if isinstance(text, str) and text:
            out.append(self.b.item("completed", AssistantMessage(
                id=self.b.fresh_id(), status="completed", text=text)))
        error = _dict(data.get("error"))
        if error:
            return out + self.b.turn_failed(turn_error(str(error.get("message") or error)))
        return out + self.b.turn_completed(model_usage(models))

    def _info(self, data: dict[str, Any], resumed: str | None) -> SessionInfo:
        """A run's facts (kept: a stream's runs mostly share them, and they are frozen)."""
        ctx = self.context
        model = _str_or_none(data.get("model")) or ctx.model
        info = self.infos.get((model, resumed))
        if info is None:
            info = self.infos[model, resumed] = SessionInfo(
                provider=PROVIDER, runtime=Runtime(name=LANE_ID, version=ctx.runtime_version),
                model=model, auth_mode=ctx.auth_mode, cwd=ctx.cwd, sandbox=ctx.sandbox,
                approval_policy=ctx.approval_policy, resumed_from=resumed)
        return info

    def _ensure_session(self, frame: Frame) -> list[Event]:
        if self.b.has_session:
            return []
        problem = self._problem(frame, f"`{frame.data.get('type')}` before any `init`",
                                SequenceError)
        return problem + self.b.session_started(None, self._info({}, self.context.resumed_from))

    def _ensure_turn(self, frame: Frame) -> list[Event]:
        out = self._ensure_session(frame)
        if self.b.in_turn:
            return out
        out += self._problem(frame, f"`{frame.data.get('type')}` outside a turn", SequenceError)
        return out + self.b.turn_started()

    def _result(self, frame: Frame) -> list[Event]:
        """A failed `result` cuts an answer still streaming (cancelled, or an API error after
        some chunks, with no `error` line before it): that message failed."""
        data = frame.data
        cut = data.get("status") != "success"
        out = [*self._close_text("failed" if cut else "completed"), *self._ensure_session(frame)]
        return out + self.end_turn(data.get("status"), data.get("stats"), data.get("error"))

    def end_turn(self, status: Any, stats: Any, error: Any) -> list[Event]:
        """A `result` line's end of the turn, once the text is closed and a session is there
        (both paths)."""
        out = [] if self.b.in_turn else self.b.turn_started()  # failed before the prompt echo
        if status == "success":
            out += self.b.turn_completed(usage_of(stats))
        else:
            message = str(_dict(error).get("message") or self.last_error
                          or f"run ended with status {status!r}")
            out += self.b.turn_failed(turn_error(message))
        self.forget_tools()
        return out

    # ---------------------------------------------------------------- messages

    def _message(self, frame: Frame) -> list[Event]:
        role = frame.data.get("role")
        content = frame.data.get("content")
        if role == "user":
            out = [*self._close_text(), *self._ensure_session(frame)]
            return out + self.start_turn()
        if role != "assistant" or not isinstance(content, str):
            return [*self._close_text(), self.b.unknown("message", frame.data)]
        out = self._ensure_turn(frame)
        if self.text is None:
            item = AssistantMessage(id=self.b.fresh_id(), status="in_progress", text="")
            self.text = _Text(item)
            out.append(self.b.item("started", item))
        if not frame.data.get("delta"):  # a whole message, not a chunk
            self.text.text = content
            return out + self._close_text()
        self.text.text += content
        out.append(self.b.item("updated", self.text.item(), Delta(field="text", text=content)))
        return out

    def start_turn(self) -> list[Event]:
        """A user `message`'s turn, once the text is closed and a session is there (both
        paths): a turn still open ends truncated, its tools with it."""
        self.forget_tools()
        return self.b.turn_started()

    def _close_text(self, status: Literal["completed", "failed"] = "completed") -> list[Event]:
        if self.text is None:
            return []
        item = self.text.item(status)
        self.text = None
        return [self.b.item("completed", item)]

    # ---------------------------------------------------------------- tools

    def _tool_use(self, frame: Frame) -> list[Event]:
        name, tool_id = frame.data.get("tool_name"), frame.data.get("tool_id")
        if not isinstance(name, str) or not isinstance(tool_id, str):
            return self._problem(frame, "tool_use needs string `tool_name` and `tool_id`",
                                 FrameError, keep=True)
        out = [*self._close_text(), *self._ensure_turn(frame)]
        if tool_id in self.tools:
            return out + self._problem(frame, f"tool_id {tool_id!r} used twice", SequenceError,
                                       keep=True)
        out.append(self.start_tool(name, tool_id, frame.data.get("parameters")))
        return out

    def start_tool(self, name: str, tool_id: str, parameters: Any) -> Event:
        """A `tool_use` line's item, once the text is closed, a turn is open and `tool_id` is
        new (both paths)."""
        item = start_item(self.b.fresh_id(), name,
                          parameters if isinstance(parameters, dict) else {}, tool_id)
        self.tool_started(name, tool_id, item)
        return self.b.item("started", item)

    def tool_started(self, name: str, tool_id: str, item: Item) -> None:
        """Remember a started tool item until its result (both paths)."""
        self.tools[tool_id] = item
        self.tool_names[tool_id] = name

    def _tool_result(self, frame: Frame) -> list[Event]:
        tool_id = frame.data.get("tool_id")
        out = self._close_text()
        item = self.tools.pop(tool_id, None) if isinstance(tool_id, str) else None
        if item is None:
            return out + self._problem(frame, f"tool_result for unknown tool_id {tool_id!r}",
                                       SequenceError, keep=True)
        name = self.tool_names.pop(str(tool_id), "")
        done = finish_item(item, frame.data, self.context.approval_policy)
        if done.status == "declined":
            out += self._declined(done, name, _dict(frame.data.get("error")))
        out.append(self.b.item("completed", done))
        return out

    def _declined(self, item: Item, tool_name: str, error: dict[str, Any]) -> list[Event]:
        """The approval nobody could give: requested, then denied by the approval policy. The
        action is the command, or the tool's name (not read from `tool_id`: that is
        the bare call id in older releases, e.g. 0.20 and 0.30); the reason is the policy
        rule's own message, or (a dropped tool) the approval mode."""
        request_id = f"approval_{item.id}"
        action = item.command if isinstance(item, CommandExecution) else tool_name
        reason = str(error.get("message") or "denied by policy") \
            if _str_or_none(error.get("type")) in POLICY_DENIED_ERROR_TYPES \
            else "not allowed by the approval mode"
        return [self.b.approval_requested(request_id, item.id, action, reason),
                self.b.approval_resolved(request_id, "denied", "policy")]

    # ---------------------------------------------------------------- notices and problems

    def _error(self, frame: Frame) -> list[Event]:
        message = str(frame.data.get("message") or "error")
        self.last_error = message
        cut = frame.data.get("severity", "error") == "error"  # the answer stops here
        return [*self._close_text("failed" if cut else "completed"), self.b.notice(message)]

    def _problem(self, frame: Frame, reason: str, error: type[LaneError], *,
                 keep: bool = False) -> list[Event]:
        """Strict: raise `error` naming file and line. Lenient: an `error` notice, and with
        `keep` (the line is not read any further) the line itself as an `unknown` item, so
        nothing it carried (a tool's output, an orphan result) is lost."""
        if not self.context.lenient:
            raise error(reason, lane=LANE_ID, source=self.source, line=frame.line,
                        excerpt=frame.raw.decode("utf-8", "replace"))
        out = [self.b.notice(f"line {frame.line}: {reason}")]
        if keep:
            native = frame.data.get("type")
            out.append(self.b.unknown(native if isinstance(native, str) else "unreadable",
                                      frame.data))
        return out


# ------------------------------------------------------------------------------------- entry


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Stream the file line by line; memory holds only the open message and open tools."""
    translator = Translator(context, source.name)
    for number, line in iter_lines(source.stream):
        yield from read_line(translator, number, line)
    yield from translator.close()


def read_line(translator: Translator, number: int, line: bytes) -> list[Event]:
    """One non-blank line through the pydantic path (lenient: an unreadable line becomes a
    notice and the line kept whole)."""
    if translator.take_document_line(number, line):
        return []
    try:
        data = parse_object(line, number=number, lane=LANE_ID, source=translator.source)
    except FrameError as exc:
        if not translator.context.lenient:
            raise
        return [*translator._close_text(), translator.b.notice(f"line {number}: {exc.reason}"),
                translator.b.unknown("unreadable", kept_text(line))]
    return translator.feed(Frame(number, data, line))


def normalize_lines(source: LaneInput, context: RunContext) -> Iterator[bytes]:
    """`normalize`'s log as JSONL bytes, the same byte for byte: the lines of an ordinary run
    through the fast path (`FastReader`), every other line (errors, failed or declined calls,
    anything it cannot prove it reads the same) through `read_line`, sharing one translator."""
    translator = Translator(context, source.name)
    return encoded_lines(source.stream, FastReader(translator).feed,
                         lambda number, line: read_line(translator, number, line),
                         lambda _: translator.close())


# ------------------------------------------------------------------------------ fast path

_MESSAGE = msgspec.defstruct(
    "FastMessage", [("role", Literal["user", "assistant"]), ("content", str),
                    ("delta", bool, False), ("timestamp", str, "")],
    tag="message", tag_field="type", **NATIVE_STRUCT)
"""A user message (a turn starts) or an assistant text chunk (`delta: true`)."""
_TOOL_USE = msgspec.defstruct(
    "FastToolUse", [("tool_name", str), ("tool_id", str),
                    ("parameters", msgspec.Raw, msgspec.Raw(b"null")), ("timestamp", str, "")],
    tag="tool_use", tag_field="type", **NATIVE_STRUCT)
_TOOL_RESULT = msgspec.defstruct(
    "FastToolResult", [("tool_id", str), ("status", Literal["success"]),
                       ("output", msgspec.Raw, msgspec.Raw(b"null")), ("timestamp", str, "")],
    tag="tool_result", tag_field="type", **NATIVE_STRUCT)
"""A successful `tool_result` without an `error` object (an error may decline the call)."""
_INIT = msgspec.defstruct(
    "FastInit", [("session_id", Union[str, None], None),  # noqa: UP007
                 ("model", Union[str, None], None), ("timestamp", str, "")],  # noqa: UP007
    tag="init", tag_field="type", **NATIVE_STRUCT)
_RESULT = msgspec.defstruct(
    "FastResult", [("status", Literal["success"]), ("stats", msgspec.Raw, msgspec.Raw(b"null")),
                   ("timestamp", str, "")],
    tag="result", tag_field="type", **NATIVE_STRUCT)
"""A successful `result` (a failed one reads the error text)."""
FAST_DECODER = Checked(Union[_MESSAGE, _TOOL_USE, _TOOL_RESULT, _INIT, _RESULT])  # noqa: UP007
"""Lines are decoded raw (`decode_raw`); a line whose free-form value the fast path reads is
then checked (`check`), except a tool's output when `last_text` proves it (the big lines)."""
_COMPLETED = template(ItemCompleted, lane=LANE_ID)
_STARTED = template(ItemStarted, lane=LANE_ID)
_COMMAND = template(CommandExecution)
_SESSION = template(SessionStarted, lane=LANE_ID)
_TURN_STARTED = template(TurnStarted, lane=LANE_ID)
_TURN_COMPLETED = template(TurnCompleted, lane=LANE_ID)
_UPDATED = template(ItemUpdated, lane=LANE_ID)
_DELTA = template(Delta, field="text")


class FastReader:
    """The fast path (harness.contract.fastlog) of the lines of an ordinary run: `init`, the
    user message, assistant text chunks, `tool_use`, successful tool results and `result`, read
    from msgspec Structs with the translator's own steps (`new_run`, `start_turn`,
    `start_tool`, `end_turn`, ...). Its commonest events are written as plain dicts of their
    fields: chunks and the message's completion, a shell call's start, tool results, and the
    runs and turns the builder's `*_written` bookkeeping allows (else the translator's step
    writes them). It shares the translator's state and refuses (returns None for) every line
    it cannot prove the translator reads the same way, before changing any state: `read_line`
    reads those (every problem a line can raise is the pydantic path's)."""

    def __init__(self, translator: Translator) -> None:
        self.t = translator
        self.b = translator.b
        self.facts: dict[int, dict[str, Any]] = {}  # id(SessionInfo) -> its fields

    def feed(self, raw: bytes | memoryview) -> bytes | None:
        if self.t.document is not None:
            return None  # the lines of an indented `--output-format json` answer
        try:
            line = FAST_DECODER.decode_raw(raw)
            self.t.read_any = True  # a whole object: no `{` opening an indented answer
            kind = type(line)
            if kind is _MESSAGE:
                if line.role == "user":
                    return self._user(line)
                return self._chunk(line)
            if kind is _TOOL_RESULT:
                return self._tool_result(raw, line)
            if kind is _TOOL_USE:
                return self._tool_use(raw, line)
            if kind is _RESULT:
                return self._result(raw, line)
            return self._init(line)
        except UNFIT:
            return None

    @staticmethod
    def _free(raw: bytes | memoryview, value: msgspec.Raw) -> Any:
        """A free-form value as orjson reads it, every occurrence of every key checked."""
        FAST_DECODER.check(raw)
        return free(value)

    def _init(self, line: Any) -> bytes:
        """`Translator._init`; outside a turn its `session.started` is written here."""
        t, b = self.t, self.b
        if b.turn is not None or t.text is not None:
            return event_lines(t.start_run(line.session_id, line.model))
        sid, info = t.new_run(line.session_id, line.model)
        facts = self.facts.get(id(info))
        if facts is None:  # (the translator keeps `info`: its id stays its own)
            facts = self.facts[id(info)] = info.model_dump()
            try:
                orjson.dumps(facts)
            except orjson.JSONEncodeError:  # (a context text orjson cannot write)
                facts = self.facts[id(info)] = {}
        if not facts:
            return event_lines(b.session_started(sid, info))
        seq = b.session_started_written(sid)
        return dumps_line({**_SESSION, **facts, "seq": seq, "thread_id": sid})

    def _user(self, line: Any) -> bytes:
        """`Translator._message` for a user message: a turn starts (written here when none
        is open)."""
        t, b = self.t, self.b
        if not b.has_session:
            raise UnfitError  # `_ensure_session`'s problem
        if b.turn is not None or t.text is not None:
            return event_lines([*t._close_text(), *t.start_turn()])
        t.forget_tools()
        seq, turn = b.turn_started_written()
        return dumps_line({**_TURN_STARTED, "seq": seq, "thread_id": b.thread_id, "turn": turn})

    def _result(self, raw: bytes | memoryview, line: Any) -> bytes:
        """`Translator._result` for a successful run (its `turn.completed` written here when
        a turn is open and no item is)."""
        t, b = self.t, self.b
        if not b.has_session:
            raise UnfitError  # `_ensure_session`'s problem
        stats = self._free(raw, line.stats)
        out = self._close_text()
        ended = b.turn_ended_written()
        if ended is None:  # no turn, or items to fail first: `end_turn` writes them
            return out + event_lines(t.end_turn("success", stats, None))
        t.forget_tools()
        seq, turn = ended
        return out + dumps_line({**_TURN_COMPLETED, "seq": seq, "thread_id": b.thread_id,
                                 "turn": turn, "usage": usage_of(stats)})

    def _tool_use(self, raw: bytes | memoryview, line: Any) -> bytes:
        """`Translator._tool_use` inside a turn, for a new `tool_id`."""
        t, b = self.t, self.b
        if b.turn is None or not b.has_session or line.tool_id in t.tools:
            raise UnfitError  # `_ensure_turn`'s or a reused tool_id's problem
        parameters = self._free(raw, line.parameters)
        name, tool_id = line.tool_name, line.tool_id
        if TOOL_KINDS.get(name) != "command_execution":
            return self._close_text() + event_lines([t.start_tool(name, tool_id, parameters)])
        # `start_item` of a shell call, written from its (flat) fields
        out = self._close_text()
        fields = _COMMAND.copy()
        fields.update(command_fields(parameters if type(parameters) is dict else {}))
        fields["id"], fields["status"], fields["native_id"] = b.fresh_id(), "in_progress", tool_id
        item = held_item(CommandExecution, fields)
        t.tool_started(name, tool_id, item)
        event = _STARTED.copy()
        event["seq"] = b.item_written("started", fields["id"], CommandExecution, fields, item)
        event["thread_id"], event["turn"], event["item"] = b.thread_id, b.turn, fields
        return out + dumps_line(event)

    def _close_text(self) -> bytes:
        """`Translator._close_text` (completed), written from the message's fields."""
        t, b = self.t, self.b
        text = t.text
        if text is None:
            return b""
        t.text = None
        started = text.started
        fields = started.__dict__.copy()
        fields["text"], fields["status"] = text.text, "completed"
        event = _COMPLETED.copy()
        event["seq"] = b.item_written("completed", started.id, AssistantMessage, fields)
        event["thread_id"], event["turn"], event["item"] = b.thread_id, b.turn, fields
        return dumps_line(event)

    def _chunk(self, line: Any) -> bytes:
        """`Translator._message` for an assistant chunk inside a turn."""
        t, b = self.t, self.b
        if not line.delta:
            raise UnfitError  # a whole message
        if b.turn is None or not b.has_session:
            raise UnfitError  # `_ensure_turn`'s problems
        out = b""
        text = t.text
        if text is None:
            started = AssistantMessage(id=b.fresh_id(), status="in_progress", text="")
            text = t.text = _Text(started)
            out = dump_event_line(b.item("started", started))
        started = text.started
        text.text += line.content
        fields = started.__dict__.copy()  # (copies and sets: cheaper than {**a, k: v})
        fields["text"] = text.text
        delta = _DELTA.copy()
        delta["text"] = line.content
        event = _UPDATED.copy()
        event["seq"] = b.item_written("updated", started.id, AssistantMessage, fields,
                                      started)  # (see _Text)
        event["thread_id"], event["turn"], event["item"], event["delta"] = \
            b.thread_id, b.turn, fields, delta
        return out + dumps_line(event)

    def _tool_result(self, raw: bytes | memoryview, line: Any) -> bytes:
        """`Translator._tool_result` and `finish_item` for a successful call."""
        t, b = self.t, self.b
        if b.turn is None or not b.has_session:
            raise UnfitError
        item = t.tools.get(line.tool_id)
        if item is None:
            raise UnfitError  # an unknown tool_id's problem
        output = last_text(raw, line.output, "output")
        if output is None:
            FAST_DECODER.check(raw)
            output = free(line.output)
        fields = dict(item.__dict__)
        fields["status"] = "completed"
        kind = type(item)
        if kind is CommandExecution:
            fields["output"] = output if isinstance(output, str | orjson.Fragment) else ""
            fields["error"] = None
        elif kind is McpToolCall or kind is ToolCall:
            if output is not None and not isinstance(output, str | orjson.Fragment):
                raise UnfitError  # a free-form result: the model's validator reads it
            fields["result"] = output
            fields["error"] = None
        elif kind is FileChange:
            fields["error"] = None
        # everything is checked: from here on the translator's state changes
        out = self._close_text()
        del t.tools[line.tool_id]
        t.tool_names.pop(line.tool_id, None)
        event = _COMPLETED.copy()
        event["seq"] = b.item_written("completed", item.id, kind, fields)
        event["thread_id"], event["turn"], event["item"] = b.thread_id, b.turn, fields
        return out + dumps_line(event)


EMPTY_FAILURE_OUTPUT = re.compile(r"\ACommand exited with code: -?\d+\Z")
"""What Gemini CLI shows for a failed shell command that printed nothing."""


def _empty_failure_placeholder(text: str) -> str:
    return "" if EMPTY_FAILURE_OUTPUT.match(text.strip()) else text


LANE = LaneSpec(
    id=LANE_ID,
    provider=PROVIDER,
    input_kind="jsonl",
    description="Gemini CLI's stream-json (`gemini -p --output-format stream-json`): init, "
                "assistant text deltas, tool_use/tool_result by tool_id, result. No reasoning "
                "and no exit codes: the CLI prints neither.",
    item_kinds=frozenset({
        "assistant_message", "command_execution", "file_change", "mcp_tool_call",
        "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "approvals", "resume", "sandbox_context", "cwd_context", "mcp", "usage",
        "web_search", "plan", "file_change",
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="gemini-cli.jsonl",
    recognizes=jsonl_recognizer(frozenset({"init", "message", "tool_use", "tool_result"})),
    output_rules=(("gemini-cli.empty-failure-placeholder", _empty_failure_placeholder),),
)
