"""acp lane: a client's transcript of an Agent Client Protocol agent (JSON-RPC 2.0 over stdio,
protocol version 1, agentclientprotocol.com), e.g. `gemini --acp`, `gemini-acp.jsonl`.

Input is one JSON object per line, `{"dir": "in"|"out", "msg": {...}}`: `in` is what the client
read from the agent, `out` what it wrote (written by `harness.record.runtimes.gemini_acp`).
Every message carries `"jsonrpc": "2.0"`. The lane reads any ACP agent; what is one agent's own
habit is named where it is used (`AGENT_PROVIDERS`, `tool_name`, `mcp_names`, `prompt_usage`).

Mapping:

- A run starts at the answer to the client's `session/new` (its `sessionId`) or `session/load`
  (`resumed_from` = the loaded id); the agent named in the `initialize` answer (`agentInfo`) is
  the runtime, the session's `models.currentModelId` the model; cwd, sandbox, approval policy
  and auth mode come from the run context. A load's history replay (updates before its answer)
  repeats the earlier run and is no item.
- The client's `session/prompt` opens a turn; its answer closes it: `stopReason` `end_turn` ->
  `turn.completed`; `max_tokens`, `max_turn_requests`, `refusal` -> `turn.completed` with that
  stop reason (the agent ended the turn normally, short of the goal); `cancelled` ->
  `turn.failed` kind `cancelled`; an error answer -> `turn.failed` (`ERROR_CODES`; its
  message with the error data's `details` or `message`). Usage: the answer's `usage` (ACP's
  end-of-turn token counts), else `prompt_usage`.
- `session/update` by `sessionUpdate`: `agent_message_chunk` / `agent_thought_chunk` text ->
  assistant message / reasoning (one item per run of consecutive chunks, each later chunk an
  `item.updated` delta; Gemini CLI's empty-subject marker, `GEMINI_EMPTY_SUBJECT`, is no
  text, and a thought that is nothing else is its own `encrypted` reasoning item);
  `tool_call` / `tool_call_update` -> one item per `toolCallId` by `kind`
  (`ITEM_KINDS`; an MCP tool, `mcp_names`, is an `mcp_tool_call`), completed at status
  `completed` / `failed`; a second `tool_call` for an open id restates the call (Claude Code's
  adapter sends one as the input starts to stream, another with it); a command's output is
  `rawOutput` (its `output` key, or the text itself), else the content text; `plan` -> one
  `plan` item per turn, completed at turn end.
  `user_message_chunk` (the client's own prompt), `usage_update` (context-window size, no
  per-turn counts), the session's command, mode, config and info updates, and Gemini CLI's
  mode notice (`GEMINI_MODE_NOTICE`) are no items.
- Approvals: `session/request_permission` -> `approval.requested` (action: the command, or the
  paths an edit touches as the agent names them; its `toolCall` starts the item when no
  `tool_call` did); the client's answer -> `approval.resolved` (`decided_by:
  user`): the selected option's `kind` through `DECISIONS`, `cancelled` -> `abort`. A rejected
  or cancelled call gets no `tool_call_update`: at the agent's next update about anything
  else, or when the turn ends, it is closed `declined` (output empty, `error` says the user
  refused it).
- Other agent requests (`fs/*`, `terminal/*`) and extension methods (`_...`) are kept whole as
  `unknown` items, with the client's answer; a method ACP does not define is refused in strict
  mode (`file:line: reason`) and kept as `unknown` in lenient mode, like an unknown
  `sessionUpdate`; a malformed line is refused in strict mode and an `error` notice in lenient
  mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeGuard, cast

from harness.contract.builder import LogBuilder, Phase, SessionInfo
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.jsonl import Frame, kept_text, translate_lines
from harness.contract.lane import (
    Capability,
    LaneInput,
    LaneSpec,
    RunContext,
    first_json_object,
)
from harness.contract.model import (
    AssistantMessage,
    ChangeKind,
    CommandExecution,
    Decision,
    Delta,
    ErrorKind,
    Event,
    FileChange,
    FileChangeEntry,
    Item,
    ItemStatus,
    McpToolCall,
    Plan,
    PlanEntry,
    PlanStatus,
    Reasoning,
    Runtime,
    ToolCall,
    TurnError,
    Usage,
    WebSearch,
    status_kind,
)

LANE_ID = "acp"

# ------------------------------------------------------------------------------------- tables

ITEM_KINDS: dict[str, str] = {
    "execute": "command_execution",
    "edit": "file_change",
    "delete": "file_change",
    "move": "file_change",
    "fetch": "web_search",
    "search": "tool_call",
    "read": "tool_call",
    "think": "tool_call",
    "switch_mode": "tool_call",
    "other": "tool_call",
}
"""Tool call `kind` -> item kind. `search` is ACP's file search (grep, glob) unless the tool is
a web search (`WEB_SEARCH_TOOLS`); a missing or unknown kind is `other`."""

WEB_SEARCH_TOOLS = frozenset({"google_web_search", "WebSearch", "web_search"})
"""Tool names of web searches whose ACP kind is `search` (Gemini CLI, Claude Code, Codex)."""

STATUSES: dict[str, ItemStatus] = {
    "pending": "in_progress",
    "in_progress": "in_progress",
    "completed": "completed",
    "failed": "failed",
}

PLAN_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending", "in_progress": "in_progress", "completed": "completed",
}

DECISIONS: dict[str, Decision] = {
    "allow_once": "approved",
    "allow_always": "approved_for_session",
    "reject_once": "denied",
    "reject_always": "denied",
}
"""The selected permission option's kind -> decision (`cancelled` is `abort`)."""

STOP_COMPLETED = frozenset({"end_turn", "max_tokens", "max_turn_requests", "refusal"})

AGENT_PROVIDERS: dict[str, str] = {
    "gemini-cli": "google",
    "claude-code-acp": "anthropic",
    "@zed-industries/claude-code-acp": "anthropic",
    "claude-agent-acp": "anthropic",
    "codex-acp": "openai",
}
"""`agentInfo.name` -> the model provider behind it; any other agent's is `unknown`."""

IGNORED_UPDATES = frozenset({
    "user_message_chunk", "available_commands_update", "current_mode_update",
    "config_option_update", "session_info_update", "usage_update",
})

CLIENT_METHODS = frozenset({
    "initialize", "authenticate", "session/new", "session/load", "session/resume",
    "session/list", "session/fork", "session/prompt", "session/cancel", "session/set_mode",
    "session/set_model", "session/set_config_option", "logout",
})
"""What a client may send an agent (ACP v1 and its published unstable methods)."""

AGENT_REQUESTS = frozenset({
    "fs/read_text_file", "fs/write_text_file", "terminal/create", "terminal/output",
    "terminal/wait_for_exit", "terminal/kill", "terminal/release",
})
"""Agent requests with no shape in the model: kept whole, with the client's answer."""

PERMISSION = "session/request_permission"
REFUSALS: dict[Decision, str] = {"denied": "rejected by the user",
                                 "abort": "cancelled by the user"}

ERROR_CODES: dict[int, ErrorKind] = {-32000: "auth"}
"""JSON-RPC error code of a failed prompt -> kind (ACP's `auth_required`); else an HTTP
`status` in the error's data, or an error code in the HTTP range (Gemini CLI answers a failed
prompt with its API error's HTTP code as the JSON-RPC code, the API's error body as the
message), through the one status table; else `unknown`."""

_MCP_TITLE = re.compile(r"^(?P<tool>\S+) \((?P<server>\S+) MCP Server\)$")
_MCP_NAME = re.compile(r"^mcp__(?P<server>[^_]+(?:_[^_]+)*)__(?P<tool>.+)$")


def _error_detail(data: Any) -> Any:
    """What a failed prompt's error `data` says beyond its message: `details` (Gemini CLI),
    else `message` (Codex's ACP adapter puts the provider's failure there, e.g. "unexpected
    status 401 Unauthorized: ..."), else the data itself."""
    if not isinstance(data, dict):
        return data
    return data.get("details") if "details" in data else data.get("message")


def _http_status(value: Any) -> TypeGuard[int]:
    """An HTTP status code (an int 100-599, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def tool_name(raw: dict[str, Any]) -> str:
    """The agent's tool name: Claude Code's `_meta.claudeCode.toolName`, Gemini CLI's
    `toolCallId` prefix (`<tool>__<call id>`), else the title."""
    meta = raw.get("_meta")
    claude = meta.get("claudeCode") if isinstance(meta, dict) else None
    if isinstance(claude, dict) and isinstance(claude.get("toolName"), str):
        return str(claude["toolName"])
    call_id = str(raw.get("toolCallId", ""))
    if "__" in call_id:
        return call_id.split("__", 1)[0]
    return str(raw.get("title") or call_id)


def mcp_names(raw: dict[str, Any]) -> tuple[str, str] | None:
    """(server, tool) when the call is an MCP tool: Gemini CLI titles it `<tool> (<server> MCP
    Server)`, Claude Code names it `mcp__<server>__<tool>`."""
    match = _MCP_TITLE.match(str(raw.get("title", "")))
    if match is None:
        match = _MCP_NAME.match(tool_name(raw))
    return (match["server"], match["tool"]) if match else None


def prompt_usage(result: dict[str, Any]) -> Usage | None:
    """ACP's end-of-turn `usage` (`inputTokens`, ...), else Gemini CLI's
    `_meta.quota.token_count` (`input_tokens`, `output_tokens`)."""
    usage = result.get("usage")
    if isinstance(usage, dict):
        return Usage(scope="turn", input_tokens=_int(usage.get("inputTokens")),
                     cached_input_tokens=_int(usage.get("cachedReadTokens")),
                     cache_write_input_tokens=_int(usage.get("cachedWriteTokens")),
                     output_tokens=_int(usage.get("outputTokens")),
                     reasoning_tokens=_int(usage.get("thoughtTokens")))
    meta = result.get("_meta")
    quota = meta.get("quota") if isinstance(meta, dict) else None
    count = quota.get("token_count") if isinstance(quota, dict) else None
    if isinstance(count, dict):
        return Usage(scope="turn", input_tokens=_int(count.get("input_tokens")),
                     output_tokens=_int(count.get("output_tokens")))
    return None


GEMINI_MODE_NOTICE = "[MODE_UPDATE] "
"""Gemini CLI announces an approval-mode change (e.g. to `autoEdit` after an allow-always on
an edit) as an `agent_message_chunk` starting with this: the agent's mode, not the model's
words, so no item (like `current_mode_update`)."""


GEMINI_EMPTY_SUBJECT = "****\n"
"""Gemini CLI sends a thought as `**<subject>**\n<description>`; a thought with no subject
starts with this empty bold marker (and a signature-only thought part is nothing else): the
marker is Gemini CLI's formatting, not the model's text, so it is left out."""


def thought_text(text: str) -> str:
    return text[len(GEMINI_EMPTY_SUBJECT):] if text.startswith(GEMINI_EMPTY_SUBJECT) else text


def mode_notice(content: Any) -> bool:
    return isinstance(content, dict) and str(content.get("text", "")).startswith(
        GEMINI_MODE_NOTICE)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def content_text(content: Any) -> str:
    """The text of a tool call's `content` list (`{type: content, content: {type: text}}`
    blocks, joined by newlines); diffs and terminals carry no text."""
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        inner = block.get("content") if isinstance(block, dict) else None
        if block.get("type") == "content" and isinstance(inner, dict) and \
                isinstance(inner.get("text"), str):
            parts.append(inner["text"])
    return "\n".join(parts)


def relative(path: str, cwd: str | None) -> str:
    """A path under the session's cwd as workspace-relative (as the CLI lanes print it)."""
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1:]
    return path


def _arguments(raw: dict[str, Any], first: dict[str, Any]) -> Any:
    """`rawInput`, else the JSON object Gemini CLI shows as the call's first content text."""
    if "rawInput" in raw:
        return raw["rawInput"]
    text = content_text(first.get("content"))
    try:
        value = json.loads(text) if text.startswith("{") else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else None


# ------------------------------------------------------------------------------ item mapping


def item_kind(raw: dict[str, Any]) -> str:
    kind = str(raw.get("kind") or "other")
    if mcp_names(raw) is not None:
        return "mcp_tool_call"
    if kind == "search" and tool_name(raw) in WEB_SEARCH_TOOLS:
        return "web_search"
    return ITEM_KINDS.get(kind, "tool_call")


def _changes(raw: dict[str, Any], cwd: str | None) -> list[FileChangeEntry]:
    entries: list[FileChangeEntry] = []
    for block in raw.get("content") or []:
        if not isinstance(block, dict) or block.get("type") != "diff":
            continue
        meta = block.get("_meta")
        hint = meta.get("kind") if isinstance(meta, dict) else None
        kind: ChangeKind = "add" if hint == "add" or block.get("oldText") is None else \
            "delete" if hint == "delete" else "update"
        entries.append(FileChangeEntry(path=relative(str(block["path"]), cwd), kind=kind))
    if not entries:
        kind = "delete" if raw.get("kind") == "delete" else "update"
        entries = [FileChangeEntry(path=relative(str(loc["path"]), cwd), kind=kind)
                   for loc in raw.get("locations") or [] if isinstance(loc, dict)]
    return entries


def build_item(raw: dict[str, Any], first: dict[str, Any], *, item_id: str, phase: Phase,
               cwd: str | None, refused: Decision | None = None) -> Item:
    """One item from a tool call's merged state (`first`: the call as first seen)."""
    native = str(raw["toolCallId"])
    status: ItemStatus = "declined" if refused else STATUSES[str(raw.get("status", "pending"))]
    if phase == "completed" and status == "in_progress":
        status = "failed"
    done = phase == "completed"
    text = content_text(raw.get("content")) if done and not refused else ""
    error = REFUSALS[refused] if refused else text if status == "failed" else None
    common: dict[str, Any] = {"id": item_id, "native_id": native, "status": status}
    kind = item_kind(raw)
    given = raw.get("rawInput")
    raw_input: dict[str, Any] = given if isinstance(given, dict) else {}
    if kind == "command_execution":
        command = raw_input.get("command")
        output = raw.get("rawOutput")  # an object (Gemini CLI), or the output text itself
        out_text = output.get("output") if isinstance(output, dict) else output  # (Claude Code)
        return CommandExecution(
            **common, command=command if isinstance(command, (str, list)) else
            str(raw.get("title", "")),
            exit_code=_int(output.get("exit_code", output.get("exitCode")))
            if isinstance(output, dict) else None,
            output="" if refused or status == "failed" else
            out_text if isinstance(out_text, str) else text, error=error)
    if kind == "file_change":
        return FileChange(**common, changes=_changes(raw, cwd), error=error)
    if kind == "web_search":
        query = raw_input.get("query")
        return WebSearch(**common, query=query if isinstance(query, str) else
                         str(raw.get("title", "")))
    arguments = _arguments(raw, first)
    result = None if status != "completed" else text or raw.get("rawOutput")
    if kind == "mcp_tool_call":
        names = mcp_names(raw)
        assert names is not None
        return McpToolCall(**common, server=names[0], tool=names[1], arguments=arguments,
                           result=result, error=error)
    return ToolCall(**common, name=tool_name(raw), arguments=arguments, result=result,
                    error=error)


# ------------------------------------------------------------------------------ translation


@dataclass
class _Call:
    first: dict[str, Any]
    raw: dict[str, Any]
    refused: Decision | None = None


@dataclass
class _Text:
    """The open assistant message or reasoning (consecutive chunks of one kind)."""

    update: str
    item_id: str
    text: str = ""


@dataclass
class _Requests:
    """Open JSON-RPC requests of one connection, both directions."""

    client: dict[Any, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[Any, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    other: dict[Any, str] = field(default_factory=dict)


class Translator:
    """One transcript's state: `feed` one frame, `close` at end of input."""

    def __init__(self, context: RunContext, source: str) -> None:
        self.context = context
        self.source = source
        self.b = LogBuilder(LANE_ID)
        self.requests = _Requests()
        self.agent: dict[str, Any] = {}
        self.runs = 0
        self.cwd: str | None = context.cwd
        self.loading = False
        self.connected = False
        """Whether the client's `initialize` was seen (the transcript is a real connection)."""
        self.calls: dict[str, _Call] = {}
        self.text: _Text | None = None
        self.plan_id: str | None = None
        self.plan: list[PlanEntry] = []

    # ---------------------------------------------------------------- entry points

    def feed(self, frame: Frame) -> list[Event]:
        direction, msg = frame.data.get("dir"), frame.data.get("msg")
        if direction not in ("in", "out") or not isinstance(msg, dict):
            raise self._error(FrameError, frame, 'not a transcript line: needs "dir" '
                              '("in" or "out") and a "msg" object')
        if msg.get("jsonrpc") != "2.0":
            raise self._error(FrameError, frame, 'not JSON-RPC 2.0 (no "jsonrpc": "2.0")')
        method = msg.get("method")
        if method is not None and not isinstance(method, str):
            raise self._error(FrameError, frame, "`method` is not a string")
        if direction == "out":
            return self._client(frame, msg, method)
        if method is None:
            return self._response(frame, msg)
        if "id" in msg:
            return self._agent_request(frame, msg, method)
        if method != "session/update":
            return self._unknown_method(frame, msg, method)
        return self._update(frame, msg)

    def problem(self, error: LaneError, line: bytes | None = None) -> list[Event]:
        """Lenient mode: a line the lane cannot read is one notice naming why, and the line
        itself kept whole as an `unknown` item (its text)."""
        notice = self.b.notice(f"line {error.line}: {error.reason}")
        return [notice] if line is None else [notice, self.b.unknown("unreadable", kept_text(line))]

    def close(self, last_line: int = 0) -> list[Event]:
        """End of input: an open turn fails as `stream_truncated`. A transcript with no
        session is a session without a thread and a notice when the client did connect
        (`initialize`: a transcript cut early), else refused (strict) or the same (lenient)."""
        if not self.b.has_session:
            error = SequenceError("no session/new or session/load answer: the transcript "
                                  "holds no ACP session", lane=LANE_ID, source=self.source,
                                  line=last_line + 1)
            if not self.connected and not self.context.lenient:
                raise error
            return [*self.b.session_started(None, self._info(None, {})), *self.problem(error)]
        out = self._end_turn() if self.b.in_turn else []
        return out + self.b.close()

    # ---------------------------------------------------------------- the client's lines

    def _client(self, frame: Frame, msg: dict[str, Any], method: str | None) -> list[Event]:
        if method is None:
            return self._client_answer(frame, msg)
        if method not in CLIENT_METHODS and not method.startswith("_"):
            return self._unknown_method(frame, msg, method)
        params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
        assert isinstance(params, dict)
        if "id" in msg:
            self.requests.client[msg["id"]] = (method, params)
        if method == "initialize":
            self.connected = True
        if method == "session/load":
            self.loading = True
        if method != "session/prompt":
            return []
        if not self.b.has_session:
            raise self._error(SequenceError, frame, "session/prompt before a session opened")
        if self.b.in_turn:
            raise self._error(SequenceError, frame, "session/prompt inside an open turn")
        self.plan_id, self.plan = None, []
        return self.b.turn_started()

    def _client_answer(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        other = self.requests.other.pop(msg.get("id"), None)
        if other is not None:
            return [self.b.unknown(f"answer to {other}", msg)]
        open_request = self.requests.permissions.pop(msg.get("id"), None)
        if open_request is None:
            raise self._error(SequenceError, frame,
                              f"client answer to no open agent request (id {msg.get('id')!r})")
        request_id, params = open_request
        result = msg.get("result")
        outcome = result.get("outcome") if isinstance(result, dict) else None
        decision = self._decision(outcome, params)
        if decision is None:
            raise self._error(FrameError, frame, "permission answer without a known outcome")
        call_id = str((params.get("toolCall") or {}).get("toolCallId"))
        if decision in REFUSALS and call_id in self.calls:
            self.calls[call_id].refused = decision
        return [self.b.approval_resolved(request_id, decision, "user")]

    @staticmethod
    def _decision(outcome: Any, params: dict[str, Any]) -> Decision | None:
        if not isinstance(outcome, dict):
            return None
        if outcome.get("outcome") == "cancelled":
            return "abort"
        if outcome.get("outcome") != "selected":
            return None
        for option in params.get("options") or []:
            if isinstance(option, dict) and option.get("optionId") == outcome.get("optionId"):
                return DECISIONS.get(str(option.get("kind")))
        return None

    # ---------------------------------------------------------------- the agent's lines

    def _response(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        request = self.requests.client.pop(msg.get("id"), None)
        if request is None:
            raise self._error(SequenceError, frame,
                              f"response to no client request (id {msg.get('id')!r})")
        method, params = request
        result = msg.get("result") if isinstance(msg.get("result"), dict) else {}
        assert isinstance(result, dict)
        if method == "session/prompt":
            return self._prompt_answer(frame, msg, result)
        if "error" in msg:
            self.loading = False
            error = msg["error"] if isinstance(msg["error"], dict) else {}
            data = error.get("data")
            detail = data.get("details") if isinstance(data, dict) else None
            text = f"{method} failed: {error.get('message', msg['error'])}"
            return [self.b.notice(f"{text} ({detail})" if detail else text)]
        if method == "initialize":
            info = result.get("agentInfo")
            self.agent = info if isinstance(info, dict) else {}
            return []
        if method not in {"session/new", "session/load"}:
            return []
        self.loading = False
        session = result.get("sessionId") if method == "session/new" else params.get("sessionId")
        if not isinstance(session, str):
            raise self._error(FrameError, frame, f"{method} without a `sessionId`")
        if isinstance(params.get("cwd"), str) and self.context.cwd is None:
            self.cwd = params["cwd"]
        resumed = session if method == "session/load" else \
            self.context.resumed_from if not self.b.has_session else None
        self.runs += 1
        self.calls.clear()
        return self.b.session_started(session, self._info(resumed, result))

    def _info(self, resumed: str | None, result: dict[str, Any]) -> SessionInfo:
        ctx = self.context
        models = result.get("models")
        model = models.get("currentModelId") if isinstance(models, dict) else None
        name = self.agent.get("name")
        version = self.agent.get("version")
        runtime = Runtime(name=name, version=version if isinstance(version, str) else
                          ctx.runtime_version) if isinstance(name, str) else None
        return SessionInfo(
            provider=AGENT_PROVIDERS.get(str(name), "unknown"), runtime=runtime,
            model=model if isinstance(model, str) else ctx.model, auth_mode=ctx.auth_mode,
            cwd=self.cwd, sandbox=ctx.sandbox, approval_policy=ctx.approval_policy,
            resumed_from=resumed)

    def _prompt_answer(self, frame: Frame, msg: dict[str, Any],
                       result: dict[str, Any]) -> list[Event]:
        if not self.b.in_turn:
            raise self._error(SequenceError, frame, "prompt answer outside a turn")
        out = self._end_turn()
        if "error" in msg:
            error = msg["error"] if isinstance(msg["error"], dict) else {}
            code = error.get("code")
            kind = ERROR_CODES.get(code, "unknown") if isinstance(code, int) else "unknown"
            data = error.get("data")
            status = data.get("status") if isinstance(data, dict) else None
            if not _http_status(status) and isinstance(code, int) and _http_status(code):
                status = code
            if kind == "unknown" and _http_status(status):
                kind = status_kind(status)  # an agent passing its provider's HTTP status on
            detail = _error_detail(data)
            message = str(error.get("message", "prompt failed"))
            if isinstance(detail, str) and detail:
                message = f"{message}: {detail}"
            return out + self.b.turn_failed(TurnError.of(kind, message))
        stop = result.get("stopReason")
        if stop == "cancelled":
            return out + self.b.turn_failed(TurnError.of("cancelled", "turn cancelled"))
        if stop not in STOP_COMPLETED:
            raise self._error(FrameError, frame, f"prompt answer with stopReason {stop!r}")
        return out + self.b.turn_completed(prompt_usage(result),
                                           None if stop == "end_turn" else str(stop))

    def _agent_request(self, frame: Frame, msg: dict[str, Any], method: str) -> list[Event]:
        if method != PERMISSION:
            kept = self._unknown_method(frame, msg, method)
            self.requests.other[msg["id"]] = method
            return kept
        params = self._params(frame, msg)
        call = params.get("toolCall")
        if not isinstance(call, dict) or not isinstance(call.get("toolCallId"), str):
            raise self._error(FrameError, frame, f"{method} without a `toolCall.toolCallId`")
        self._need_turn(frame, method)
        out = self._close_text()
        native = str(call["toolCallId"])
        if native not in self.calls:
            out += self._tool_call(frame, call, new=True)
        raw = self.calls[native].raw
        request_id = f"{self.runs}:{msg['id']}"
        self.requests.permissions[msg["id"]] = (request_id, params)
        action = self._action(raw)
        return [*out, self.b.approval_requested(request_id, self.b.item_id(native), action)]

    @staticmethod
    def _action(raw: dict[str, Any]) -> str:
        """What the user is asked about: the command, the paths an edit touches as the agent
        names them (joined by ", "), else the call's title."""
        item = build_item(raw, raw, item_id="-", phase="started", cwd=None)
        if isinstance(item, CommandExecution):
            return item.command if isinstance(item.command, str) else " ".join(item.command)
        if isinstance(item, FileChange) and item.changes:
            return ", ".join(c.path for c in item.changes)
        return str(raw.get("title", ""))

    def _unknown_method(self, frame: Frame, msg: dict[str, Any], method: str) -> list[Event]:
        known = method in AGENT_REQUESTS or method.startswith("_")
        if not known and not self.context.lenient:
            raise self._error(FrameError, frame, f"unknown method {method!r}")
        return [self.b.unknown(method, msg)]

    # ---------------------------------------------------------------- session/update

    def _update(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        params = self._params(frame, msg)
        update = params.get("update")
        kind = update.get("sessionUpdate") if isinstance(update, dict) else None
        if not isinstance(kind, str):
            raise self._error(FrameError, frame, "session/update without `update.sessionUpdate`")
        assert isinstance(update, dict)
        if kind in IGNORED_UPDATES:
            return []
        if self.loading and not self.b.in_turn:
            return []  # session/load replays the loaded history: the earlier run's transcript
        if kind not in {"agent_message_chunk", "agent_thought_chunk", "tool_call",
                        "tool_call_update", "plan"}:
            if not self.context.lenient:
                raise self._error(FrameError, frame, f"unknown sessionUpdate {kind!r}")
            return [self.b.unknown(f"session/update {kind}", msg)]
        self._need_turn(frame, f"session/update {kind}")
        out = self._close_refused(update.get("toolCallId"))
        if kind == "agent_message_chunk" and mode_notice(update.get("content")):
            return out
        if kind in {"agent_message_chunk", "agent_thought_chunk"}:
            return out + self._chunk(frame, kind, update)
        out += self._close_text()
        if kind == "plan":
            return out + self._plan(frame, update)
        return out + self._tool_call(frame, update, new=kind == "tool_call")

    def _chunk(self, frame: Frame, kind: str, update: dict[str, Any]) -> list[Event]:
        content = update.get("content")
        if not isinstance(content, dict) or content.get("type") != "text" or \
                not isinstance(content.get("text"), str):
            if not self.context.lenient:
                raise self._error(FrameError, frame, f"{kind} without text content")
            return [self.b.unknown(f"session/update {kind}", update)]
        chunk = str(content["text"])
        out: list[Event] = []
        if kind == "agent_thought_chunk":
            if chunk == GEMINI_EMPTY_SUBJECT:
                return self._close_text() + self._opaque_thought()
            chunk = thought_text(chunk)
        if self.text is not None and self.text.update != kind:
            out += self._close_text()
        if self.text is None:
            self.text = _Text(kind, self.b.fresh_id(), chunk)
            return [*out, self.b.item("started", self._text_item("in_progress"))]
        self.text.text += chunk
        delta = Delta(field="text", text=chunk)
        return [*out, self.b.item("updated", self._text_item("in_progress"), delta)]

    def _opaque_thought(self) -> list[Event]:
        """A thought with neither subject nor text (Gemini CLI: a signature-only part): the
        model's opaque reasoning, one `encrypted` item."""
        item_id = self.b.fresh_id()
        return [self.b.item("started", Reasoning(id=item_id, status="in_progress", text="")),
                self.b.item("completed", Reasoning(id=item_id, status="completed", text="",
                                                   encrypted=True))]

    def _text_item(self, status: ItemStatus) -> Item:
        assert self.text is not None
        if self.text.update == "agent_message_chunk":
            return AssistantMessage(id=self.text.item_id, status=status, text=self.text.text)
        return Reasoning(id=self.text.item_id, status=status, text=self.text.text)

    def _close_text(self) -> list[Event]:
        if self.text is None:
            return []
        event = self.b.item("completed", self._text_item("completed"))
        self.text = None
        return [event]

    def _tool_call(self, frame: Frame, update: dict[str, Any], *, new: bool) -> list[Event]:
        native = update.get("toolCallId")
        if not isinstance(native, str):
            raise self._error(FrameError, frame, "tool call without a string `toolCallId`")
        fields = {k: v for k, v in update.items() if k != "sessionUpdate"}
        call = self.calls.get(native)
        if call is None:
            if not new:
                raise self._error(SequenceError, frame, f"tool_call_update for {native!r} "
                                  "never started")
            call = self.calls[native] = _Call(first=fields, raw=dict(fields))
            phase: Phase = "started"
        else:
            if new:  # restated whole (Claude Code's adapter: once as its input starts to
                call.first = {**call.first, **fields}  # stream, again with the input)
            call.raw.update(fields)
            phase = "updated"
        status = call.raw.get("status", "pending")
        if status not in STATUSES:
            raise self._error(FrameError, frame, f"tool call status {status!r}")
        finished = STATUSES[str(status)] != "in_progress"
        try:
            events = [self._emit(call, phase)] if phase == "started" or not finished else []
            if finished:
                events.append(self._emit(call, "completed"))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(FrameError, frame, f"tool call: {exc!r}") from None
        return events

    def _emit(self, call: _Call, phase: Phase) -> Event:
        native = str(call.raw["toolCallId"])
        item = build_item(call.raw, call.first, item_id=self.b.item_id(native), phase=phase,
                          cwd=self.cwd, refused=call.refused if phase == "completed" else None)
        if phase == "started":
            item = item.model_copy(update={"status": "in_progress"})
        if phase == "completed":
            self.calls.pop(native, None)
            self.b.forget_native(native)
        return self.b.item(phase, item)

    def _plan(self, frame: Frame, update: dict[str, Any]) -> list[Event]:
        entries = update.get("entries")
        if not isinstance(entries, list):
            raise self._error(FrameError, frame, "plan without an `entries` list")
        try:
            self.plan = [PlanEntry(text=e["content"], status=PLAN_STATUSES[e["status"]])
                         for e in entries]
        except (KeyError, TypeError) as exc:
            raise self._error(FrameError, frame, f"plan entry: {exc!r}") from None
        phase: Phase = "updated" if self.plan_id is not None else "started"
        if self.plan_id is None:
            self.plan_id = self.b.fresh_id()
        return [self.b.item(phase, Plan(id=self.plan_id, status="in_progress",
                                        entries=self.plan))]

    def _close_refused(self, current: Any = None) -> list[Event]:
        """Refused calls get no update: the agent moving on (any update about something else)
        closes them `declined`, in the order the runtime went on."""
        return [self._emit(call, "completed") for native, call in list(self.calls.items())
                if call.refused is not None and native != current]

    def _end_turn(self) -> list[Event]:
        """Close what the turn left open: text, plan, and refused calls (`declined`); the
        builder fails any other open call."""
        out = self._close_text()
        if self.plan_id is not None:
            out.append(self.b.item("completed", Plan(id=self.plan_id, status="completed",
                                                     entries=self.plan)))
            self.plan_id = None
        for call in list(self.calls.values()):
            if call.refused is not None:
                out.append(self._emit(call, "completed"))
        for native in self.calls:
            self.b.forget_native(native)
        self.calls.clear()
        return out

    # ---------------------------------------------------------------- errors

    def _need_turn(self, frame: Frame, what: str) -> None:
        if not self.b.in_turn:
            raise self._error(SequenceError, frame, f"{what} outside a prompt turn")

    def _params(self, frame: Frame, msg: dict[str, Any]) -> dict[str, Any]:
        params = msg.get("params")
        if not isinstance(params, dict):
            raise self._error(FrameError, frame, f"{msg.get('method')} without a `params` object")
        return params

    def _error(self, cls: type[LaneError], frame: Frame, reason: str) -> LaneError:
        return cls(reason, lane=LANE_ID, source=self.source, line=frame.line,
                   excerpt=frame.raw[:200].decode("utf-8", errors="replace"))


# ------------------------------------------------------------------------------------- entry


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Stream an ACP client transcript into normalized events, one line at a time."""
    return translate_lines(Translator(context, source.name), source.stream, lane=LANE_ID,
                           source=source.name, lenient=context.lenient)


def recognizes(head: bytes) -> bool:
    """A transcript line whose message is JSON-RPC 2.0 (`"jsonrpc": "2.0"`)."""
    first = first_json_object(head)
    msg = first.get("msg") if first is not None else None
    return first is not None and first.get("dir") in {"in", "out"} and \
        isinstance(msg, dict) and msg.get("jsonrpc") == "2.0"


LANE = LaneSpec(
    id=LANE_ID,
    provider="any",
    input_kind="jsonl",
    description="A client's transcript of an Agent Client Protocol agent (JSON-RPC 2.0 over "
                "stdio, both directions, e.g. `gemini --acp`): session updates plus the "
                "permissions the client decided.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "approvals", "mcp", "reasoning", "usage", "file_change", "cwd_context",
    ])),
    normalize=normalize,
    native_file="gemini-acp.jsonl",
    recognizes=recognizes,
)
