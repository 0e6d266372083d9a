"""claude-code lane: Claude Code's own stream (`claude -p --output-format stream-json --verbose`).

Input is `claude-code.jsonl`: one JSON object per line, the stdout of one or more `claude -p` runs
(a later run resumes the session). Keys: an assistant content block is `message.id` plus its
position among the lines sharing that id (Claude Code prints exactly one content block per line);
a tool execution is the `tool_use.id` of the assistant line and the `tool_use_id` of the
`tool_result` in a later `user` line.

How the stream becomes a log (each rule has a test):

- `system/init` starts a run (session.started: cwd, model, permission mode, session id) and its
  one turn: a `claude -p` invocation answers one prompt. An init whose session id was already seen
  in this file (or given as `RunContext.resumed_from`) is a resume: `resumed_from` = that id.
- `assistant` text -> assistant_message, thinking -> reasoning, redacted_thinking -> reasoning
  with `encrypted`, tool_use -> a tool item started `in_progress`, by name (`TOOL_KINDS`, MCP by
  prefix; Claude Code's tool rules live in `lanes.claude_family`, shared with the anthropic
  lane): Bash -> command_execution, Write/Edit/MultiEdit/NotebookEdit -> file_change,
  TodoWrite -> plan, `mcp__<server>__<tool>` -> mcp_tool_call, WebSearch -> web_search, anything
  else -> tool_call. ToolSearch is plumbing (deferred tools are loaded through it): a tool_call
  listed in `noise_tools`.
- `user` tool_result completes the item: Bash exit code and output come from `tool_use_result`
  (stdout/stderr object on success, `"Error: Exit code N\n..."` string on failure).
- `system/permission_denied` -> an approval.requested / approval.resolved(denied, policy) pair;
  the tool's item then completes `declined`.
- `result` ends the turn. Quirk: `subtype` is `"success"` even when the API failed, so the
  outcome is read from `is_error` / `terminal_reason` / `api_error_status` (an HTTP status: the
  core's one table, `harness.contract.model.status_kind`). On an API failure
  Claude Code also prints a synthetic assistant line (`model: "<synthetic>"`,
  `is_api_error_message`) holding the error text: it is the failure, not a message.
- `system/api_retry` -> a non-fatal `error` notice; `system/thinking_tokens` is progress only.
- A replayed line that would start a running tool_use again, or deny one permission twice, is
  a `SequenceError` (strict) or a notice (lenient): one id never starts twice.
- Anything else (line types, system subtypes, content blocks) -> an `unknown` item with the raw
  payload. Malformed lines: strict mode raises a `LaneError` naming file and line; lenient mode
  turns them into `error` notices and goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from harness.contract.builder import LogBuilder, SessionInfo
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.jsonl import Frame, iter_lines, parse_object
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, jsonl_recognizer
from harness.contract.model import (
    ApprovalPolicy,
    AssistantMessage,
    AuthMode,
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
    ToolCall,
    TurnError,
    Usage,
    WebSearch,
    status_kind,
)
from lanes import claude_family
from lanes.claude_family import (
    NOISE_TOOLS,
    exit_code,
    mcp_names,
    plan_entries,
    result_text,
    tool_kind,
)

LANE_ID = "claude-code"
RUNTIME_NAME = "claude-code"

# ------------------------------------------------------------------------------------- tables

LineType = Literal["system", "assistant", "user", "result"]
SystemSubtype = Literal["init", "permission_denied", "api_retry", "thinking_tokens"]
BlockType = Literal["text", "thinking", "redacted_thinking", "tool_use"]

PERMISSION_MODES: dict[str, ApprovalPolicy] = {
    "default": "on-request",
    "acceptEdits": "on-request",
    "plan": "on-request",
    "bypassPermissions": "never",
    "dontAsk": "never",
}
"""`permissionMode` -> approval policy, when the run context does not say (headless Claude Code
cannot ask anyone: a tool needing approval is denied by policy)."""

API_KEY_SOURCES: dict[str, AuthMode] = {
    "ANTHROPIC_API_KEY": "api_key",
    "apiKeyHelper": "api_key",
    "/login managed key": "api_key",
    "none": "unknown",
}
"""`apiKeySource` of system/init -> auth mode (an auth token shows as `none`)."""


# ------------------------------------------------------------------------------------- helpers


def bash_outcome(tool_use_result: Any, content: Any, is_error: bool) -> tuple[int | None, str]:
    """Exit code and output of a Bash call. Success: `{stdout, stderr}` (exit 0 implied).
    Failure: `"Error: Exit code N\\n<output>"`; no exit code when it never ran (denied).
    Quirk: a non-zero exit Claude Code reads as an answer (`test`, `grep` without match) comes
    as success with `returnCodeInterpretation` ("Condition is false") and no code: exit_code
    stays null rather than a guessed number."""
    if isinstance(tool_use_result, dict) and not is_error:
        out = str(tool_use_result.get("stdout") or "")
        err = str(tool_use_result.get("stderr") or "")
        code = None if tool_use_result.get("returnCodeInterpretation") else 0
        return code, out + (("\n" if out else "") + err if err else "")
    text = tool_use_result if isinstance(tool_use_result, str) else result_text(content)
    return exit_code(text) or ((None if is_error else 0), text)


def file_changes(name: str, arguments: Any, tool_use_result: Any) -> list[FileChangeEntry]:
    """The files a file tool call touches. Write is an `add` unless its `tool_use_result` says
    it updated an existing file (`type` other than `create`)."""
    created = name == "Write" and (
        not isinstance(tool_use_result, dict) or tool_use_result.get("type") == "create")
    return claude_family.file_changes(arguments, created=created)


def turn_error(result: dict[str, Any], api_message: str | None) -> TurnError:
    """The failed run's error: `api_error_status` by the core's HTTP status table."""
    status = result.get("api_error_status")
    kind: ErrorKind = "unknown"
    if isinstance(status, int):
        kind = status_kind(status)
    reason = str(result.get("terminal_reason") or "error")
    message = str(result.get("result") or api_message or f"claude run ended: {reason}")
    return TurnError.of(kind, message)


def usage_of(result: dict[str, Any]) -> Usage | None:
    raw = result.get("usage")
    if not isinstance(raw, dict):
        return None
    details = raw.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, dict) else None

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) else None

    return Usage(scope="turn", input_tokens=number(raw.get("input_tokens")),
                 cached_input_tokens=number(raw.get("cache_read_input_tokens")),
                 output_tokens=number(raw.get("output_tokens")),
                 reasoning_tokens=number(thinking))


def tool_item(item_id: str, tool_id: str, name: str, args: Any, cwd: str | None) -> Item:
    """The `in_progress` item a tool_use block starts, by the tool's kind
    (`claude_family.TOOL_KINDS`)."""
    kind = tool_kind(name)
    if kind == "command_execution":
        command = args.get("command", "") if isinstance(args, dict) else ""
        return CommandExecution(id=item_id, status="in_progress", command=str(command),
                                cwd=cwd, native_id=tool_id)
    if kind == "file_change":
        return FileChange(id=item_id, status="in_progress",
                          changes=file_changes(name, args, None), native_id=tool_id)
    if kind == "plan":
        return Plan(id=item_id, status="in_progress", entries=plan_entries(args),
                    native_id=tool_id)
    if kind == "mcp_tool_call":
        server, tool = mcp_names(name)
        return McpToolCall(id=item_id, status="in_progress", server=server, tool=tool,
                           arguments=args, native_id=tool_id)
    if kind == "web_search":
        query = args.get("query", "") if isinstance(args, dict) else ""
        return WebSearch(id=item_id, status="in_progress", query=str(query), native_id=tool_id)
    return ToolCall(id=item_id, status="in_progress", name=name, arguments=args,
                    native_id=tool_id)


# ------------------------------------------------------------------------------------- translate


@dataclass
class _Tool:
    item: Item
    name: str
    arguments: Any


@dataclass
class Translator:
    """One stream-json file -> normalized events (`feed` per line, `close` at the end)."""

    context: RunContext
    source: str
    b: LogBuilder = field(default_factory=lambda: LogBuilder(LANE_ID))
    tools: dict[str, _Tool] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    block_counts: dict[str, int] = field(default_factory=dict)
    sessions_seen: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)
    api_message: str | None = None

    # ---------------------------------------------------------------- dispatch

    def feed(self, frame: Frame) -> list[Event]:
        ltype = frame.data.get("type")
        if not isinstance(ltype, str):
            return self._problem(frame, "line has no string `type`", FrameError)
        if ltype == "system":
            return self._system(frame)
        if ltype == "result":
            return self._result(frame)
        if ltype in {"assistant", "user"}:
            out = self._ensure_turn(frame)
            message = frame.data.get("message")
            if not isinstance(message, dict):
                return out + self._problem(frame, f"{ltype} line without `message`",
                                           FrameError)
            handler = self._assistant if ltype == "assistant" else self._user
            return out + handler(frame, message)
        return [self.b.unknown(ltype, frame.data)]

    def close(self) -> list[Event]:
        return self.b.close()

    # ---------------------------------------------------------------- system lines

    def _system(self, frame: Frame) -> list[Event]:
        data = frame.data
        subtype = data.get("subtype")
        if subtype == "init":
            return self._init(data)
        if subtype == "thinking_tokens":
            return []  # a progress estimate; the thinking itself arrives as a content block
        if subtype == "api_retry":
            message = (f"API retry {data.get('attempt')}/{data.get('max_retries')} after "
                       f"HTTP {data.get('error_status')} ({data.get('error')})")
            return [self.b.notice(message)]
        if subtype == "permission_denied":
            return self._ensure_turn(frame) + self._denied(frame)
        return [self.b.unknown(f"system/{subtype}", data)]

    def _init(self, data: dict[str, Any]) -> list[Event]:
        session = data.get("session_id")
        session = session if isinstance(session, str) else None
        resumed = session if session in self.sessions_seen else None
        if not self.sessions_seen and resumed is None:
            resumed = self.context.resumed_from
        if session is not None:
            self.sessions_seen.add(session)
        mode = str(data.get("permissionMode") or "")
        policy = self.context.approval_policy
        if policy == "unknown":
            policy = PERMISSION_MODES.get(mode, "unknown")
        auth = self.context.auth_mode
        if auth == "unknown":
            auth = API_KEY_SOURCES.get(str(data.get("apiKeySource")), "unknown")
        version = data.get("claude_code_version") or self.context.runtime_version
        info = SessionInfo(
            provider="anthropic",
            runtime=Runtime(name=RUNTIME_NAME, version=str(version) if version else None),
            model=str(data["model"]) if isinstance(data.get("model"), str) else
            self.context.model,
            auth_mode=auth,
            cwd=str(data["cwd"]) if isinstance(data.get("cwd"), str) else self.context.cwd,
            sandbox=self.context.sandbox,
            approval_policy=policy,
            resumed_from=resumed,
        )
        self.tools.clear()
        self.block_counts.clear()
        self.api_message = None
        return self.b.session_started(session, info) + self.b.turn_started()

    def _ensure_turn(self, frame: Frame) -> list[Event]:
        """Content outside a run: strict refuses, lenient opens an anonymous run and turn."""
        if self.b.in_turn:
            return []
        if not self.context.lenient:
            raise SequenceError(f"{frame.data.get('type')} line before system/init",
                                lane=LANE_ID, source=self.source, line=frame.line,
                                excerpt=frame.raw.decode("utf-8", "replace"))
        out = [] if self.b.has_session else self.b.session_started(
            None, SessionInfo(provider="anthropic", cwd=self.context.cwd,
                              sandbox=self.context.sandbox,
                              approval_policy=self.context.approval_policy))
        notice = self.b.notice(f"line {frame.line}: content before system/init")
        return [*out, notice, *self.b.turn_started()]

    def _denied(self, frame: Frame) -> list[Event]:
        """A policy denial as an approval pair. Quirk: a replayed denial line would request
        the same approval twice: strict refuses it, lenient notes it and goes on."""
        data = frame.data
        tool_id = str(data.get("tool_use_id") or "")
        tool = self.tools.get(tool_id)
        if tool is None:
            return [self.b.unknown("system/permission_denied", data)]
        request_id = f"permission_{tool_id}"
        if request_id in self.requested:
            return self._problem(frame, f"permission for {tool_id!r} denied twice",
                                 SequenceError)
        self.requested.add(request_id)
        self.denied.add(tool_id)
        action = tool.name
        if isinstance(tool.item, CommandExecution):
            action = f"{tool.name}: {tool.item.command}"
        reason = data.get("message")
        return [self.b.approval_requested(request_id, tool.item.id, action,
                                          str(reason) if reason else None),
                self.b.approval_resolved(request_id, "denied", "policy")]

    # ---------------------------------------------------------------- assistant lines

    def _assistant(self, frame: Frame, message: dict[str, Any]) -> list[Event]:
        if frame.data.get("is_api_error_message") or message.get("model") == "<synthetic>":
            self.api_message = result_text(message.get("content")) or None
            return []  # the failure itself; `result` ends the turn with it
        mid = str(message.get("id") or "")
        content = message.get("content")
        if isinstance(content, str):  # the Messages API shorthand for one text block
            content = [{"type": "text", "text": content}]
        elif not isinstance(content, list):
            return self._problem(frame, "assistant `message.content` is not a list of blocks",
                                 FrameError)
        out: list[Event] = []
        for block in content:
            position = self.block_counts.get(mid, 0)
            self.block_counts[mid] = position + 1
            native = f"{mid}:{position}" if mid else None
            out += self._block(frame, block, native)
        return out

    def _block(self, frame: Frame, block: Any, native: str | None) -> list[Event]:
        if not isinstance(block, dict):
            return [self.b.unknown("assistant/<not an object>", block, native)]
        btype = block.get("type")
        item: Item
        if btype == "text":
            item = AssistantMessage(id=self.b.fresh_id(), status="completed",
                                    text=str(block.get("text", "")), native_id=native)
        elif btype == "thinking":
            item = Reasoning(id=self.b.fresh_id(), status="completed",
                             text=str(block.get("thinking", "")), native_id=native)
        elif btype == "redacted_thinking":
            item = Reasoning(id=self.b.fresh_id(), status="completed", text="", encrypted=True,
                             native_id=native)
        elif btype == "tool_use":
            return self._tool_use(frame, block)
        else:
            return [self.b.unknown(f"assistant/{btype}", block, native)]
        return [self.b.item("completed", item)]

    def _tool_use(self, frame: Frame, block: dict[str, Any]) -> list[Event]:
        """Start the tool's item. Quirk: a tool_use id that is still running, or whose item
        already ended without its result being taken (a turn closed over it), is a replayed
        line (Claude Code prints each tool_use block whole, once): strict refuses it, lenient
        keeps the first item and says so in a notice, so one id never starts twice."""
        tool_id = str(block.get("id") or "")
        name = str(block.get("name") or "")
        args = block.get("input")
        item_id = self.b.item_id(tool_id or None)
        if tool_id and (tool_id in self.tools or self.b.is_completed(item_id)):
            return self._problem(frame, f"tool_use {tool_id!r} started twice", SequenceError)
        item = tool_item(item_id, tool_id, name, args, self.context.cwd)
        self.tools[tool_id] = _Tool(item, name, args)
        return [self.b.item("started", item)]

    # ---------------------------------------------------------------- user lines

    def _user(self, frame: Frame, message: dict[str, Any]) -> list[Event]:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        out: list[Event] = []
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                out += self._tool_result(frame, block)
            else:
                out.append(self.b.unknown("user/" + str(
                    block.get("type") if isinstance(block, dict) else "<not an object>"),
                    block))
        return out

    def _tool_result(self, frame: Frame, block: dict[str, Any]) -> list[Event]:
        tool_id = str(block.get("tool_use_id") or "")
        tool = self.tools.pop(tool_id, None)
        if tool is None or self.b.is_completed(tool.item.id):
            return self._problem(frame, f"tool_result for unknown tool_use {tool_id!r}",
                                 SequenceError)
        is_error = bool(block.get("is_error"))
        declined = tool_id in self.denied or _rejected(frame.data, tool_id)
        done = complete(tool, block.get("content"), frame.data.get("tool_use_result"),
                        is_error=is_error, declined=declined)
        self.b.forget_native(tool_id)
        return [self.b.item("completed", done)]

    # ---------------------------------------------------------------- result lines

    def _result(self, frame: Frame) -> list[Event]:
        data = frame.data
        if not self.b.in_turn:
            return [self.b.unknown("result", data)] if self.b.has_session else \
                self._problem(frame, "result line before system/init", SequenceError)
        failed = bool(data.get("is_error")) or data.get("terminal_reason") not in (
            None, "completed")  # a tuple: the field may hold anything, even a list
        if failed:
            return self.b.turn_failed(turn_error(data, self.api_message))
        stop = data.get("stop_reason")
        return self.b.turn_completed(usage_of(data), str(stop) if stop else None)

    # ---------------------------------------------------------------- problems

    def _problem(self, frame: Frame, reason: str, error: type[LaneError]) -> list[Event]:
        if not self.context.lenient:
            raise error(reason, lane=LANE_ID, source=self.source, line=frame.line,
                        excerpt=frame.raw.decode("utf-8", "replace"))
        return [self.b.notice(f"line {frame.line}: {reason}")]


def _rejected(line: dict[str, Any], tool_id: str) -> bool:
    """`tool_result_meta` marks a call the permission system refused."""
    metas = line.get("tool_result_meta")
    for meta in metas if isinstance(metas, list) else []:
        if isinstance(meta, dict) and meta.get("id") == tool_id:
            decision = meta.get("permission_decision")
            if isinstance(decision, dict) and decision.get("decision") == "reject":
                return True
    return False


def complete(tool: _Tool, content: Any, tool_use_result: Any, *, is_error: bool,
             declined: bool) -> Item:
    """The tool's item finished with what its tool_result says."""
    item = tool.item
    status: ItemStatus = "declined" if declined else "failed" if is_error else "completed"
    if isinstance(item, CommandExecution):
        code, output = bash_outcome(tool_use_result, content, is_error)
        if not declined and code is not None:
            status = "completed" if code == 0 else "failed"
        return item.model_copy(update={"status": status, "exit_code": None if declined else code,
                                       "output": output})
    if isinstance(item, FileChange):
        changes = file_changes(tool.name, tool.arguments, tool_use_result) or item.changes
        return item.model_copy(update={"status": status, "changes": changes})
    if isinstance(item, Plan | WebSearch):
        return item.model_copy(update={"status": status})
    error = (result_text(content) or "tool failed") if is_error else None
    result = tool_use_result if tool_use_result is not None else content
    return item.model_copy(update={"status": status, "result": result, "error": error})


# ------------------------------------------------------------------------------------- entry


def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
    """Stream the file line by line; constant memory apart from open tool calls."""
    translator = Translator(context, source.name)
    for number, line in iter_lines(source.stream):
        try:
            data = parse_object(line, number=number, lane=LANE_ID, source=source.name)
        except FrameError as exc:
            if not context.lenient:
                raise
            yield translator.b.notice(f"line {number}: {exc.reason}")
            continue
        yield from translator.feed(Frame(number, data, line))
    yield from translator.close()


def _error_prefix(text: str) -> str:
    """Claude Code's `tool_use_result` of a failed tool is `"Error: " + <what the model saw>`."""
    return text.removeprefix("Error: ")


LANE = LaneSpec(
    id=LANE_ID,
    provider="anthropic",
    input_kind="jsonl",
    description="Claude Code's stream-json (`claude -p --output-format stream-json --verbose`): "
                "init, one content block per assistant line, tool results, permission denials, "
                "result.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "approvals", "resume", "cwd_context", "mcp", "reasoning", "usage", "web_search",
        "plan", "file_change",
    ])),
    normalize=normalize,
    native_file="claude-code.jsonl",
    recognizes=jsonl_recognizer(frozenset({"system", "assistant", "user", "control_request",
                                           "control_response", "stream_event"})),
    noise_tools=NOISE_TOOLS,
    output_rules=(("claude-code.error-prefix", _error_prefix),),
)
