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
  Quirk: an init without a model (older builds, blanked recordings) holds the session back until
  the first assistant line names `message.model` (lines that say nothing wait with it); a run
  with no init at all (lenient) takes the model from the line that opens it.
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
  the tool's item then completes `declined`, its `error` the denial text the model got.
  A refusal nothing announced (older builds print no `permission_denied` line and no
  `tool_result_meta`; a deny rule; a prompt tool over MCP) is read from the tool_result -- the
  meta (`permission_decision` reject, a refusing `non_execution_kind`) or, without meta, the
  refusal words of `claude_family.DECLINED` -- and gets the same pair (`refusal_decision`).
  An allow nothing announced (a client answering a permission-prompt tool over MCP) is read
  from the meta too: accept by a user source with no `reason_type` gets an approved pair
  (`unannounced_grant`); a rule's accept (`reason_type`) is no decision of this call.
- Permission prompts answered by a client (`--permission-prompt-tool stdio`; a transcript may
  hold the client's lines too): `control_request` `can_use_tool` -> approval.requested (id = the
  request id, item = the tool's, reason = `description`, else `blocked_path`, else
  `decision_reason`). The client's `control_response` decides it (decided_by user): allow ->
  approved (an edited `updatedInput` is what runs: the item follows it), allow with
  `updatedPermissions` -> approved_for_session, deny -> denied with its
  `message` as reason, deny with `interrupt` -> abort. With stdout only, the tool_result decides:
  `tool_result_meta.permission_decision` (accept/reject by `source`, `SOURCES`), a
  `non_execution_kind` of `user-rejected` (the interrupt) -> abort, else an error result that
  names no exit code -> denied; a prompt still open at the `result` is denied when
  `result.permission_denials` lists its call. A `control_response` with subtype `error` leaves
  the decision to the stdout (a notice keeps its text); `control_cancel_request` withdraws the
  prompt likewise.
  The client's own requests (`initialize`, `interrupt`) and the CLI's answers to them (an
  initialize answer is known by its `commands` when the request is not in the file) are no
  items; other control requests (hook callbacks, `mcp_message`, mode changes) are `unknown`.
- The client's prompt line (a `user` line with no tool_result outside a turn) is the turn's
  input, not an item, and so is its echo (`isReplay`, `--replay-user-messages`) inside the turn
  (a slash command's `<local-command-stdout>` user line is output: kept whole as unknown);
  `[Request interrupted by user...]` text lines mark the interrupt, and a failed `result` after
  one (or `terminal_reason` `aborted_*`) is turn.failed `cancelled`.
- `stream_event` lines (`--include-partial-messages`) are the same content as the assistant
  lines that follow, in pieces: no items of their own. `system/status` is progress.
- `claude -p --output-format json --verbose` prints the same messages as one JSON array on
  one line: each element is read as the line it would have been (without `--verbose` the one
  `result` object is the run).
- `result` ends the turn. Quirk: `subtype` is `"success"` even when the API failed, so the
  outcome is read from `is_error` / `terminal_reason` / an `error_*` subtype /
  `api_error_status`, else the `API Error: NNN` head of its text (an HTTP status: the
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

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Union, cast

import msgspec
import orjson
from pydantic import BaseModel

from harness.contract.builder import LogBuilder, SessionInfo
from harness.contract.errors import FrameError, LaneError, SequenceError
from harness.contract.fastlog import (
    NATIVE_STRUCT,
    UNFIT,
    Checked,
    UnfitError,
    dumps_line,
    encoded_lines,
    free,
    template,
)
from harness.contract.jsonl import Frame, iter_lines, kept_text, parse_object
from harness.contract.lane import Capability, LaneInput, LaneSpec, RunContext, jsonl_recognizer
from harness.contract.model import (
    ApprovalPolicy,
    AssistantMessage,
    AuthMode,
    CommandExecution,
    DecidedBy,
    Decision,
    ErrorKind,
    Event,
    FileChange,
    FileChangeEntry,
    Item,
    ItemCompleted,
    ItemStarted,
    ItemStatus,
    McpToolCall,
    Plan,
    Reasoning,
    Runtime,
    SessionStarted,
    ToolCall,
    TurnCompleted,
    TurnError,
    TurnStarted,
    Usage,
    WebSearch,
    status_kind,
)
from lanes import claude_family
from lanes.claude_family import (
    DECLINED,
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
SystemSubtype = Literal["init", "permission_denied", "api_retry", "thinking_tokens", "status"]
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

SOURCES: dict[str, DecidedBy] = {
    "user_temporary": "user",
    "user_permanent": "user",
    "user_reject": "user",
    "user_abort": "user",
    "config": "policy",
    "hook": "policy",
    "classifier": "reviewer",
}
"""`tool_result_meta.permission_decision.source` -> who decided (2.1.328 also writes `unknown`,
read as the user who was asked). `user_permanent` is an always-allow (approved_for_session),
`user_abort` an interrupt (abort)."""

CLIENT_REQUESTS = frozenset({"initialize", "interrupt"})
"""Control requests a client sends whose answers carry nothing for the log (`interrupt` marks
the turn as interrupted)."""

UNRUN_KINDS = frozenset({"user-rejected", "permission-rule", "automode-blocked",
                         "automode-unavailable", "automode-parsing-error"})
"""`tool_result_meta.non_execution_kind` values of a call that was refused, never run
(`interrupted` / `cancelled` are calls cut while running: failed, not declined)."""

POLICY_REFUSAL = re.compile(
    r"haven't granted it yet|needs approval|permission to use \S+ .*(?:has been|was) denied",
    re.IGNORECASE)
"""Words of a refusal nobody was asked about (headless, a deny rule): the policy decided."""

INTERRUPT_MARK = "[Request interrupted by user"
"""Head of the text line Claude Code writes when the user interrupts (at a prompt or mid-stream)."""

API_ERROR = re.compile(r"API Error: (\d{3})\b")
"""Head of the text of a failed API call (`API Error: 500 {...}`): older builds print no
`api_error_status`, only this."""

ASSISTANT_ERROR_KINDS: dict[str, ErrorKind] = {
    "authentication_failed": "auth",
    "rate_limit": "rate_limit",
    "overloaded": "provider",
    "server_error": "provider",
    "invalid_request": "provider",
}
"""The `error` name Claude Code puts on its synthetic assistant line (SDK
`SDKAssistantMessageError`) -> kind, for a failure whose `result` names no HTTP status (a
signed-out run: "Not logged in · Please run /login", `authentication_failed`; a subscription's
"You've hit your session limit", `rate_limit`). A status, when there is one, wins; `unknown` and
`billing_error` (no kind of the model fits an exhausted balance) stay `unknown`."""

API_ERROR_NAME_KINDS: dict[str, ErrorKind] = {
    **{name: "network" for name in (
        "connection_failed", "stream_idle_timeout", "computer_slept", "no_response",
        "tls_untrusted_ca", "tls_cert_signature_failure", "network_edge_blocked")},
    **{name: "auth" for name in (
        "provider_credentials", "gateway_signin_required", "gateway_session_expired",
        "api_key_auth_disabled", "org_disabled_credential", "invalid_credential_header",
        "stored_login_refused", "oauth_refresh_store_refused")},
    "usage_limit_reached": "rate_limit",
}
"""The synthetic line's typed `api_error` (Claude Code 2.1.3xx: its `error` says only
`server_error` for a refused connection) -> kind, where one fits; the others read on."""

CONNECTION_ERROR = re.compile(
    r"^API Error: (?:Connection (?:error|refused)|Request timed out)|ECONNREFUSED|ECONNRESET"
    r"|ETIMEDOUT|ENOTFOUND")
"""The text of a failure to reach the API at all (every release: "API Error: Connection error."
up to 2.1.x, "API Error: Connection refused ... (ECONNREFUSED)" in 2.1.3xx): network."""

CLASSIFIED_PREFIX = 4096
"""Characters of a failure's text `CONNECTION_ERROR` looks at (the cause comes first; a giant
error body is not scanned whole)."""

ABORTED = frozenset({"aborted_tools", "aborted_streaming"})
"""`result.terminal_reason` of a run the user interrupted."""


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


def turn_error(result: dict[str, Any], api_message: str | None,
               interrupt: str | None = None, api_error: str | None = None,
               api_error_name: str | None = None) -> TurnError:
    """The failed run's error: `api_error_status` by the core's HTTP status table, else the
    synthetic assistant line's typed `api_error_name` (`API_ERROR_NAME_KINDS`), a connection
    failure's words (`CONNECTION_ERROR`), its `error` name (`ASSISTANT_ERROR_KINDS`); a run the
    user interrupted (`interrupt` seen, or an `aborted_*` terminal reason) is `cancelled`."""
    status = result.get("api_error_status")
    text = str(result.get("result") or api_message or "")
    if not isinstance(status, int) and (match := API_ERROR.match(text)):
        status = int(match.group(1))  # builds before 2.1.x name the status only in the text
    kind: ErrorKind = "unknown"
    if isinstance(status, int):
        kind = status_kind(status)
    elif api_error_name in API_ERROR_NAME_KINDS:
        kind = API_ERROR_NAME_KINDS[api_error_name]
    elif CONNECTION_ERROR.search(text[:CLASSIFIED_PREFIX]):
        kind = "network"
    elif api_error is not None:
        kind = ASSISTANT_ERROR_KINDS.get(api_error, "unknown")
    reason = str(result.get("terminal_reason") or result.get("subtype") or "error")
    if interrupt is not None or reason in ABORTED:
        kind = "cancelled"
    errors = result.get("errors")
    listed = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    message = str(result.get("result") or api_message or interrupt or listed
                  or f"claude run ended: {reason}")
    return TurnError.of(kind, message)


def usage_of(result: dict[str, Any]) -> Usage | None:
    raw = result.get("usage")
    if not isinstance(raw, dict):
        return None
    details = raw.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, dict) else None

    def number(value: Any) -> int | None:
        return value if isinstance(value, int) else None

    plain, reads = number(raw.get("input_tokens")), number(raw.get("cache_read_input_tokens"))
    writes = number(raw.get("cache_creation_input_tokens"))
    # the model's input_tokens is every input token, cache reads and writes included (as the
    # anthropic lane and OpenAI count it); Anthropic's own `input_tokens` is the uncached rest
    total = None if plain is None else plain + (reads or 0) + (writes or 0)
    return Usage(scope="turn", input_tokens=total, cached_input_tokens=reads,
                 cache_write_input_tokens=writes,
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
class _Ask:
    """A permission prompt (`can_use_tool`) and, once known, its decision."""

    request_id: str
    tool_id: str
    decision: Decision | None = None


def action_of(tool: _Tool) -> str:
    """What an approval asks: the tool name, and for Bash the command."""
    if isinstance(tool.item, CommandExecution):
        return f"{tool.name}: {tool.item.command}"
    return tool.name


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _meta(line: dict[str, Any], tool_id: str) -> dict[str, Any]:
    """This tool's entry of the line's `tool_result_meta` (empty when there is none)."""
    metas = line.get("tool_result_meta")
    for meta in metas if isinstance(metas, list) else []:
        if isinstance(meta, dict) and meta.get("id") == tool_id:
            return meta
    return {}


def stdout_decision(line: dict[str, Any], tool_id: str, content: Any,
                    is_error: bool) -> tuple[Decision, DecidedBy, str | None]:
    """The decision on a prompt whose answer the transcript does not hold, read from the
    tool_result (see module docstring)."""
    meta = _meta(line, tool_id)
    text = _text(result_text(content))
    verdict = meta.get("permission_decision")
    if isinstance(verdict, dict) and verdict.get("decision") in {"accept", "reject"}:
        source = str(verdict.get("source"))
        by = SOURCES.get(source, "user")
        if verdict["decision"] == "accept":
            return ("approved_for_session" if source == "user_permanent" else "approved"), by, None
        return ("abort" if source == "user_abort" else "denied"), by, text
    if meta.get("non_execution_kind") == "user-rejected":
        return "abort", "user", None
    tool_use_result = line.get("tool_use_result")
    ran = not is_error or exit_code(
        tool_use_result if isinstance(tool_use_result, str) else text or "") is not None
    return ("approved", "user", None) if ran else ("denied", "user", text)


@dataclass
class Translator:
    """One stream-json file -> normalized events (`feed` per line, `close` at the end)."""

    context: RunContext
    source: str
    b: LogBuilder = field(default_factory=lambda: LogBuilder(LANE_ID))
    tools: dict[str, _Tool] = field(default_factory=dict)
    kept_line: int = 0
    """The last line lenient mode kept whole as an `unknown` item (kept once however many of
    its parts failed)."""
    denied: set[str] = field(default_factory=set)
    block_counts: dict[str, int] = field(default_factory=dict)
    sessions_seen: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)
    api_message: str | None = None
    api_error: str | None = None
    api_error_name: str | None = None
    asks: dict[str, _Ask] = field(default_factory=dict)
    tool_asks: dict[str, _Ask] = field(default_factory=dict)
    client_requests: dict[str, str] = field(default_factory=dict)
    interrupt: str | None = None
    held: tuple[str | None, SessionInfo] | None = None

    # ---------------------------------------------------------------- dispatch

    def feed(self, frame: Frame) -> list[Event]:
        ltype = frame.data.get("type")
        if not isinstance(ltype, str):
            return self._problem(frame, "line has no string `type`", FrameError)
        if self.held is not None and not self._says_nothing(frame.data):
            return self._open_held(frame.data) + self._dispatch(frame, ltype)
        return self._dispatch(frame, ltype)

    def _dispatch(self, frame: Frame, ltype: str) -> list[Event]:
        if ltype == "stream_event":
            return []  # partial deltas of the assistant line that follows (module docstring)
        if ltype == "control_request":
            return self._control_request(frame)
        if ltype == "control_response":
            return self._control_response(frame)
        if ltype == "control_cancel_request":
            return self._control_cancel(frame)
        if ltype == "user" and _is_local_command_output(frame.data):
            return [self.b.unknown("user/local_command_output", frame.data)]
        if ltype == "user" and not self.b.in_turn and _is_prompt(frame.data):
            return []  # the client's prompt: the turn's input, not an item
        if ltype == "user" and _is_replayed_prompt(frame.data):
            return []  # `--replay-user-messages` echoing that prompt inside its turn
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
        opened = self._open_held({}) if self.held is not None else []
        return opened + self.b.close()

    # ---------------------------------------------------------------- a run held for its model

    def _says_nothing(self, data: dict[str, Any]) -> bool:
        """Lines that may pass while a run waits for its model: they emit nothing."""
        ltype = data.get("type")
        return ltype == "stream_event" or (
            ltype == "system" and data.get("subtype") in {"status", "thinking_tokens"}) or (
            ltype == "user" and _is_prompt(data))

    def _open_held(self, data: dict[str, Any]) -> list[Event]:
        """Start the held run, with the model this line names (an assistant line) if any."""
        assert self.held is not None
        session, info = self.held
        self.held = None
        model = _model_of(data) or self.context.model
        info = info.model_copy(update={"model": model})
        return self.b.session_started(session, info) + self.b.turn_started()

    # ---------------------------------------------------------------- system lines

    def _system(self, frame: Frame) -> list[Event]:
        data = frame.data
        subtype = data.get("subtype")
        if subtype == "init":
            return self._init(data)
        if subtype in {"thinking_tokens", "status"}:
            return []  # progress: an estimate, `compacting`, a permission-mode change
        if subtype == "api_retry":
            status = data.get("error_status")  # null when no HTTP answer came (no connection)
            cause = f"HTTP {status}" if status is not None else "no HTTP status"
            message = (f"API retry {data.get('attempt')}/{data.get('max_retries')} after "
                       f"{cause} ({data.get('error')})")
            return [self.b.notice(message)]
        if subtype == "permission_denied":
            return self._ensure_turn(frame) + self._denied(frame)
        return [self.b.unknown(f"system/{subtype}", data)]

    def _init(self, data: dict[str, Any]) -> list[Event]:
        session, info = self.run_info(data)
        if _text(data.get("model")) is None:
            # the model comes with the first assistant line; an open turn ends now all the same
            self.held = (session, info)
            return self.b.close_turn_truncated() if self.b.in_turn else []
        return self.b.session_started(session, info) + self.b.turn_started()

    def run_info(self, data: dict[str, Any]) -> tuple[str | None, SessionInfo]:
        """A `system/init` line's session id and run facts; forgets the last run's tools,
        prompts and failure (`_init`, and the fast path's `FastReader._init`)."""
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
            model=_text(data.get("model")) or self.context.model,
            auth_mode=auth,
            cwd=str(data["cwd"]) if isinstance(data.get("cwd"), str) else self.context.cwd,
            sandbox=self.context.sandbox,
            approval_policy=policy,
            resumed_from=resumed,
        )
        self.tools.clear()
        self.block_counts.clear()
        self.tool_asks.clear()
        self.api_message = None
        self.api_error = None
        self.api_error_name = None
        self.interrupt = None
        return session, info

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
                              model=_model_of(frame.data) or self.context.model,
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
        reason = data.get("message")
        return [self.b.approval_requested(request_id, tool.item.id, action_of(tool),
                                          str(reason) if reason else None),
                self.b.approval_resolved(request_id, "denied", "policy")]

    # ---------------------------------------------------------------- control protocol

    def _control_request(self, frame: Frame) -> list[Event]:
        data = frame.data
        request_id, request = data.get("request_id"), data.get("request")
        subtype = request.get("subtype") if isinstance(request, dict) else None
        if not isinstance(request_id, str) or not isinstance(request, dict):
            return [self.b.unknown("control_request", data)]
        if subtype == "can_use_tool":
            return self._ask(frame, request_id, request)
        if subtype in CLIENT_REQUESTS:
            self.client_requests[request_id] = str(subtype)
            if subtype == "interrupt" and self.b.in_turn:
                self.interrupt = self.interrupt or "interrupted by the client"
            return []
        return [self.b.unknown(f"control_request/{subtype}", data)]

    def _ask(self, frame: Frame, request_id: str, request: dict[str, Any]) -> list[Event]:
        """A permission prompt about a running tool. Quirk: a prompt whose tool_use this run
        has not shown (a subagent's, a cut transcript) has no item to name: kept as unknown."""
        tool_id = str(request.get("tool_use_id") or "")
        tool = self.tools.get(tool_id)
        if tool is None or not self.b.in_turn:
            return [self.b.unknown("control_request/can_use_tool", frame.data)]
        if request_id in self.asks or request_id in self.requested:
            return self._problem(frame, f"permission request {request_id!r} asked twice",
                                 SequenceError)
        ask = _Ask(request_id, tool_id)
        self.asks[request_id] = self.tool_asks[tool_id] = ask
        self.requested.add(request_id)
        reason = (_text(request.get("description")) or _text(request.get("blocked_path"))
                  or _text(request.get("decision_reason")))
        return [self.b.approval_requested(request_id, tool.item.id, action_of(tool), reason)]

    def _control_response(self, frame: Frame) -> list[Event]:
        """The client's answer to a prompt, or the CLI's answer to the client's own request."""
        data = frame.data
        response = data.get("response")
        request_id = response.get("request_id") if isinstance(response, dict) else None
        if (isinstance(request_id, str) and request_id in self.client_requests) or (
                isinstance(response, dict) and _is_initialize_answer(response)):
            return []  # the CLI answering the client's own request
        ask = self.asks.get(request_id) if isinstance(request_id, str) else None
        if ask is None or not isinstance(response, dict) or not self.b.in_turn:
            return [self.b.unknown("control_response", data)]
        if ask.decision is not None:
            return self._problem(frame, f"permission request {ask.request_id!r} answered "
                                 "twice", SequenceError)
        answer = response.get("response")
        if response.get("subtype") != "success" or not isinstance(answer, dict):
            return [self.b.notice(f"permission request {ask.request_id}: the client answered "
                                  f"{json_text(response.get('error') or response)}; the "
                                  "outcome is read from the tool result")]
        behavior = answer.get("behavior")
        if behavior == "allow":
            decision: Decision = ("approved_for_session" if answer.get("updatedPermissions")
                                  else "approved")
            return [self._resolve(ask, decision, "user", None),
                    *self._edited(ask.tool_id, answer.get("updatedInput"))]
        if behavior == "deny":
            if answer.get("interrupt") is True:
                self.interrupt = self.interrupt or "interrupted at a permission prompt"
                return [self._resolve(ask, "abort", "user", _text(answer.get("message")))]
            return [self._resolve(ask, "denied", "user", _text(answer.get("message")))]
        return [self.b.unknown("control_response", data)]

    def _edited(self, tool_id: str, updated: Any) -> list[Event]:
        """Quirk: an allow may carry an `updatedInput` other than the asked one, and that is
        what runs (stdout never says so): the item is updated to it."""
        tool = self.tools.get(tool_id)
        if tool is None or not isinstance(updated, dict) or updated == tool.arguments:
            return []
        item = tool_item(tool.item.id, tool_id, tool.name, updated, self.context.cwd)
        self.tools[tool_id] = _Tool(item, tool.name, updated)
        return [self.b.item("updated", item)]

    def _control_cancel(self, frame: Frame) -> list[Event]:
        """The CLI withdraws a prompt (the call was cut): the tool result says what happened."""
        ask = self.asks.get(str(frame.data.get("request_id")))
        if ask is None or ask.decision is not None:
            return [self.b.unknown("control_cancel_request", frame.data)]
        return []  # the ask stays open: its tool_result decides

    def _resolve(self, ask: _Ask, decision: Decision, by: DecidedBy,
                 reason: str | None) -> Event:
        ask.decision = decision
        return self.b.approval_resolved(ask.request_id, decision, by, reason)

    # ---------------------------------------------------------------- assistant lines

    def _assistant(self, frame: Frame, message: dict[str, Any]) -> list[Event]:
        if frame.data.get("is_api_error_message") or message.get("model") == "<synthetic>":
            if frame.data.get("parent_tool_use_id"):
                return []  # a sub-agent's failure: its Agent/Task tool_result reports it
            self.api_message = result_text(message.get("content")) or None
            error, name = frame.data.get("error"), frame.data.get("api_error")
            self.api_error = error if isinstance(error, str) else None
            self.api_error_name = name if isinstance(name, str) else None
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
            elif isinstance(block, dict) and block.get("type") == "text" and str(
                    block.get("text")).startswith(INTERRUPT_MARK):
                self.interrupt = str(block["text"])  # the turn's end says `cancelled`
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
        out: list[Event] = []
        ask = self.tool_asks.pop(tool_id, None)
        if ask is not None and ask.decision is None:
            decision, by, reason = stdout_decision(frame.data, tool_id, block.get("content"),
                                                   is_error)
            out.append(self._resolve(ask, decision, by, reason))
        text = result_text(block.get("content"))
        declined = tool_id in self.denied or _rejected(frame.data, tool_id) or (
            ask is not None and ask.decision in {"denied", "abort"}) or (
            is_error and not _meta(frame.data, tool_id) and DECLINED.search(text) is not None)
        if declined and ask is None and tool_id not in self.denied:
            out += self._unannounced_refusal(tool, tool_id, frame.data, text)
        elif not declined and ask is None:
            out += self._unannounced_grant(tool, tool_id, frame.data)
        done = complete(tool, block.get("content"), frame.data.get("tool_use_result"),
                        is_error=is_error, declined=declined)
        self.b.forget_native(tool_id)
        return [*out, self.b.item("completed", done)]

    def _unannounced_refusal(self, tool: _Tool, tool_id: str, line: dict[str, Any],
                             text: str) -> list[Event]:
        """A refusal no prompt or `system/permission_denied` line announced (older builds, a
        deny rule, a prompt tool over MCP): the same approval pair, from the tool_result."""
        request_id = f"permission_{tool_id}"
        if request_id in self.requested:
            return []
        self.requested.add(request_id)
        decision, by = refusal_decision(line, tool_id, text)
        return [self.b.approval_requested(request_id, tool.item.id, action_of(tool),
                                          text or None),
                self.b.approval_resolved(request_id, decision, by)]

    def _unannounced_grant(self, tool: _Tool, tool_id: str, line: dict[str, Any]) -> list[Event]:
        """A user's allow through a permission-prompt tool (`unannounced_grant`): the pair."""
        decision = unannounced_grant(line, tool_id)
        request_id = f"permission_{tool_id}"
        if decision is None or request_id in self.requested:
            return []
        self.requested.add(request_id)
        return [self.b.approval_requested(request_id, tool.item.id, action_of(tool), None),
                self.b.approval_resolved(request_id, decision, "user")]

    # ---------------------------------------------------------------- result lines

    def _result(self, frame: Frame) -> list[Event]:
        data = frame.data
        if not self.b.in_turn and not self.b.has_session and _whole_answer(data):
            return self._whole_run(data) + self._outcome(data, [])
        if not self.b.in_turn:
            return [self.b.unknown("result", data)] if self.b.has_session else \
                self._problem(frame, "result line before system/init", SequenceError)
        return self._outcome(data, self._unanswered(data.get("permission_denials")))

    def _whole_run(self, data: dict[str, Any]) -> list[Event]:
        """`claude -p --output-format json` prints one result object and nothing before it:
        a run whose facts are its session, model (`modelUsage`), answer text and outcome."""
        session = data.get("session_id")
        models = data.get("modelUsage")
        model = next(iter(models), None) if isinstance(models, dict) and models else None
        info = SessionInfo(provider="anthropic", runtime=Runtime(name=RUNTIME_NAME),
                           model=str(model) if model else self.context.model,
                           auth_mode=self.context.auth_mode, cwd=self.context.cwd,
                           sandbox=self.context.sandbox,
                           approval_policy=self.context.approval_policy,
                           resumed_from=self.context.resumed_from)
        out = self.b.session_started(session if isinstance(session, str) else None, info)
        out += self.b.turn_started()
        text = data.get("result")
        if isinstance(text, str) and text and not data.get("is_error"):
            out.append(self.b.item("completed", AssistantMessage(
                id=self.b.fresh_id(), status="completed", text=text)))
        return out

    def _outcome(self, data: dict[str, Any], out: list[Event]) -> list[Event]:
        if run_failed(data):
            return out + self.b.turn_failed(turn_error(data, self.api_message, self.interrupt,
                                                           self.api_error, self.api_error_name))
        stop = data.get("stop_reason")
        return out + self.b.turn_completed(usage_of(data), str(stop) if stop else None)

    def _unanswered(self, denials: Any) -> list[Event]:
        """Prompts still open when the run ends (no answer, no tool_result in the file): one
        `permission_denials` lists is denied and its item declined; any other stays open."""
        listed = {str(d.get("tool_use_id")) for d in denials if isinstance(d, dict)} \
            if isinstance(denials, list) else set()
        out: list[Event] = []
        for tool_id, ask in list(self.tool_asks.items()):
            tool = self.tools.get(tool_id)
            if ask.decision is not None or tool_id not in listed or tool is None:
                continue
            out.append(self._resolve(ask, "denied", "user", None))
            out.append(self.b.item("completed", tool.item.model_copy(
                update={"status": "declined"})))
            del self.tool_asks[tool_id], self.tools[tool_id]
        return out

    # ---------------------------------------------------------------- problems

    def _problem(self, frame: Frame, reason: str, error: type[LaneError]) -> list[Event]:
        """Strict: refuse the line. Lenient: a notice naming why, and the line kept whole as an
        `unknown` item (once per line, however many of its parts failed)."""
        if not self.context.lenient:
            raise error(reason, lane=LANE_ID, source=self.source, line=frame.line,
                        excerpt=frame.raw.decode("utf-8", "replace"))
        return self.unreadable(frame.line, frame.raw, reason)

    def unreadable(self, number: int, line: bytes, reason: str) -> list[Event]:
        """Lenient mode's answer to a line it cannot read: nothing of it is lost."""
        out = [self.b.notice(f"line {number}: {reason}")]
        if self.kept_line != number:
            self.kept_line = number
            out.append(self.b.unknown("unreadable", kept_text(line)))
        return out


def run_failed(result: dict[str, Any]) -> bool:
    """Whether a `result` line ends its turn failed (a tuple below: the field may hold
    anything, even a list)."""
    return bool(result.get("is_error")) or result.get("terminal_reason") not in (
        None, "completed") or str(result.get("subtype")).startswith("error")


def _whole_answer(line: dict[str, Any]) -> bool:
    """A result object that is a whole run (`--output-format json`): its answer or error."""
    return isinstance(line.get("result"), str) or isinstance(line.get("is_error"), bool)


def _rejected(line: dict[str, Any], tool_id: str) -> bool:
    """`tool_result_meta` marks a call the permission system or the user refused."""
    meta = _meta(line, tool_id)
    decision = meta.get("permission_decision")
    return (isinstance(decision, dict) and decision.get("decision") == "reject") or \
        meta.get("non_execution_kind") in UNRUN_KINDS


USER_GRANTS: dict[str, Decision] = {"user_temporary": "approved",
                                     "user_permanent": "approved_for_session"}
"""`permission_decision.source` of a user's allow -> the decision."""


def unannounced_grant(line: dict[str, Any], tool_id: str) -> Decision | None:
    """A user's allow no prompt line announced: the client answered a permission-prompt tool
    over MCP (`--permission-prompt-tool mcp__...`), so only the tool_result's meta says so:
    accept by `user_temporary` (approved) or `user_permanent` (approved_for_session). A meta
    with a `reason_type` is a rule deciding (e.g. a session rule the user granted earlier: the
    call runs unasked), not a prompt."""
    verdict = _meta(line, tool_id).get("permission_decision")
    if not isinstance(verdict, dict) or verdict.get("decision") != "accept" or \
            "reason_type" in verdict:
        return None
    return USER_GRANTS.get(str(verdict.get("source")))


def refusal_decision(line: dict[str, Any], tool_id: str, text: str) -> tuple[Decision, DecidedBy]:
    """Who refused an unannounced refusal: the meta's `source` when it names one, a deny rule
    (`permission-rule`) or a headless refusal (`POLICY_REFUSAL` words) is policy, anything else
    the user."""
    meta = _meta(line, tool_id)
    verdict = meta.get("permission_decision")
    source = str(verdict.get("source")) if isinstance(verdict, dict) else ""
    decision: Decision = "abort" if source == "user_abort" else "denied"
    if source in SOURCES:
        return decision, SOURCES[source]
    if meta.get("non_execution_kind") == "permission-rule" or POLICY_REFUSAL.search(text):
        return decision, "policy"
    return decision, "user"


def _is_prompt(line: dict[str, Any]) -> bool:
    """A `user` line carrying no tool_result: what a client writes as the prompt."""
    message = line.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(message, dict) and not (isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content))


LOCAL_COMMAND_OUTPUT = ("<local-command-stdout>", "<local-command-stderr>")
"""Heads of a slash command's output, which Claude Code also prints as a replayed user line."""


def _texts(line: dict[str, Any]) -> list[str]:
    """The text of a user line's content (a string, or its text blocks)."""
    message = line.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [content]
    blocks = content if isinstance(content, list) else []
    return [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]


def _is_local_command_output(line: dict[str, Any]) -> bool:
    """A slash command's output (`/model`, `/context`, ...) printed as a user line: the
    command's result, kept whole wherever it stands (between turns too), never a prompt."""
    return _is_prompt(line) and any(
        t.lstrip().startswith(LOCAL_COMMAND_OUTPUT) for t in _texts(line))


def _is_replayed_prompt(line: dict[str, Any]) -> bool:
    """A prompt echoed back by `--replay-user-messages` (`isReplay`, after the run's init): the
    turn's input again, not an item. An interrupt mark is not a prompt."""
    return line.get("isReplay") is True and _is_prompt(line) and not any(
        t.startswith(INTERRUPT_MARK) for t in _texts(line))


def _is_initialize_answer(response: dict[str, Any]) -> bool:
    """The CLI's answer to `initialize` (its commands, models, account), recognized by content
    when the transcript lacks the client's request (a stdout-only recording)."""
    answer = response.get("response")
    return response.get("subtype") == "success" and isinstance(answer, dict) and \
        "commands" in answer


def _model_of(line: dict[str, Any]) -> str | None:
    """The model an assistant line names (not the `<synthetic>` of an API failure)."""
    message = line.get("message")
    model = message.get("model") if line.get("type") == "assistant" and isinstance(
        message, dict) else None
    return model if isinstance(model, str) and model and model != "<synthetic>" else None


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def complete(tool: _Tool, content: Any, tool_use_result: Any, *, is_error: bool,
             declined: bool) -> Item:
    """The tool's item finished with what its tool_result says."""
    item = tool.item
    status: ItemStatus = "declined" if declined else "failed" if is_error else "completed"
    refusal = (result_text(content) or _text(tool_use_result) or "declined") if declined \
        else None
    if isinstance(item, CommandExecution):
        code, output = bash_outcome(tool_use_result, content, is_error)
        if not declined and code is not None:
            status = "completed" if code == 0 else "failed"
        return item.model_copy(update={"status": status, "exit_code": None if declined else code,
                                       "output": "" if declined else output, "error": refusal})
    if isinstance(item, FileChange):
        changes = file_changes(tool.name, tool.arguments, tool_use_result) or item.changes
        error = refusal or ((result_text(content) or "not applied") if is_error else None)
        return item.model_copy(update={"status": status, "changes": changes, "error": error})
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
        yield from read_line(translator, number, line)
    yield from translator.close()


def read_line(translator: Translator, number: int, line: bytes) -> list[Event]:
    """One non-blank line through the pydantic path (lenient: an unreadable line a notice and
    the line kept whole as an `unknown` item)."""
    messages = message_array(line)
    if messages is not None:
        return [event for message in messages
                for event in translator.feed(Frame(number, message, orjson.dumps(message)))]
    try:
        data = parse_object(line, number=number, lane=LANE_ID, source=translator.source)
    except FrameError as exc:
        if not translator.context.lenient:
            raise
        return translator.unreadable(number, line, exc.reason)
    return translator.feed(Frame(number, data, line))


def message_array(line: bytes) -> list[dict[str, Any]] | None:
    """The messages of `claude -p --output-format json --verbose`, which prints the whole run
    as one JSON array of stream-json messages (init ... result) on one line; None for any
    other line (an array holding anything but objects is the ordinary refusal's)."""
    if not line.lstrip().startswith(b"["):
        return None
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        return cast(list[dict[str, Any]], value)
    return None


def normalize_lines(source: LaneInput, context: RunContext) -> Iterator[bytes]:
    """`normalize`'s log as JSONL bytes, the same byte for byte: one-block text and thinking
    lines and successful Bash results through the fast path (`FastReader`), every other line
    through `read_line`, sharing one translator."""
    translator = Translator(context, source.name)
    return encoded_lines(source.stream, FastReader(translator).feed,
                         lambda number, line: read_line(translator, number, line),
                         lambda _: translator.close())


# ------------------------------------------------------------------------------ fast path

_LINE: list[tuple[str, Any, Any]] = [
    (name, Any, None) for name in ("parent_tool_use_id", "session_id", "uuid", "timestamp",
                                   "thinking_duration_ms", "thinking_display")]
"""Fields of an assistant or user line the lane does not read: declared so that msgspec checks
them as orjson would (a field no Struct declares sends the line to the pydantic path)."""

FastText: Any = msgspec.defstruct("FastText", [("text", str)], tag="text",
                                  tag_field="type", **NATIVE_STRUCT)
FastThinking: Any = msgspec.defstruct("FastThinking", [("thinking", str),
                                                       ("signature", Any, None)],
                                      tag="thinking", tag_field="type", **NATIVE_STRUCT)
FastToolUse: Any = msgspec.defstruct("FastToolUse", [
    ("id", str), ("name", str), ("input", msgspec.Raw, msgspec.Raw(b"null"))],
    tag="tool_use", tag_field="type", **NATIVE_STRUCT)
"""A tool_use block: its `input` kept raw and read by orjson (`fastlog.free`), so the tool's
arguments are the very value the pydantic path holds."""
FastAssistant: Any = msgspec.defstruct("FastAssistant", [
    ("message", msgspec.defstruct("FastAssistantMessage", [
        ("id", str),
        ("content", list[Union[FastText, FastThinking, FastToolUse]]),  # noqa: UP007
        *[(name, Any, None) for name in ("model", "type", "role", "stop_reason",
                                         "stop_sequence", "usage", "context_management")]],
        **NATIVE_STRUCT)),
    *_LINE], tag="assistant", tag_field="type", **NATIVE_STRUCT)
"""An assistant line (no `is_api_error_message`, no `error`: those are the pydantic path's)."""
FastToolResult: Any = msgspec.defstruct("FastToolResult", [
    ("tool_use_id", str), ("content", str), ("is_error", bool, False)],
    tag="tool_result", tag_field="type", **NATIVE_STRUCT)
FastUser: Any = msgspec.defstruct("FastUser", [
    ("message", msgspec.defstruct("FastUserMessage", [
        ("content", list[FastToolResult]), ("role", Any, None)], **NATIVE_STRUCT)),
    ("tool_use_result", msgspec.defstruct("FastBashResult", [
        ("stdout", str), ("stderr", str, ""),
        *[(name, Any, None) for name in ("interrupted", "isImage", "noOutputExpected")]],
        **NATIVE_STRUCT)),
    ("tool_result_meta", Any, None), *_LINE], tag="user", tag_field="type", **NATIVE_STRUCT)
"""A user line with one tool_result and a Bash `tool_use_result` (no `returnCodeInterpretation`:
a code Claude Code reads as an answer is the pydantic path's)."""
FAST_DECODER = Checked(Union[FastAssistant, FastUser])  # noqa: UP007
_DECODE, _CHECK = FAST_DECODER.decode_raw, FAST_DECODER.check
"""An assistant line is decoded a second time, reading its tool_use `input`, whatever its
blocks (`Checked`: a duplicated key may hide a raw value msgspec never looked at); a user line
holds no raw value, so one decode checks it all."""
_OTHER_LINES = frozenset({"Invalid value 'system' - at `$.type`",
                          "Invalid value 'result' - at `$.type`"})
"""msgspec's refusals of a `system` or `result` line (only a hint: such a line is then read by
orjson, as the pydantic path reads it, and anything else is still the pydantic path's)."""
_COMPLETED = template(ItemCompleted, lane=LANE_ID)
_STARTED = template(ItemStarted, lane=LANE_ID)
_SESSION_STARTED = template(SessionStarted, lane=LANE_ID)
_TURN_STARTED = template(TurnStarted, lane=LANE_ID)
_TURN_COMPLETED = template(TurnCompleted, lane=LANE_ID)
_BLOCK_ITEMS: dict[type, tuple[type[AssistantMessage] | type[Reasoning], dict[str, Any], str]] = {
    FastText: (AssistantMessage, template(AssistantMessage, status="completed"), "text"),
    FastThinking: (Reasoning, template(Reasoning, status="completed"), "thinking"),
}
"""Block Struct -> (item model, its field template, the block's text field)."""
_SHALLOW = 200
"""Brackets a tool_use `input` may hold on the fast path: it surely nests less than the log's
JSON writer takes (a deeper one goes to the pydantic path, which writes it another way)."""


class FastReader:
    """The fast path (harness.contract.fastlog) of the commonest lines: an assistant line of one
    text, thinking or tool_use block, the result of a Bash call that ran and succeeded without
    stderr, a run's `system/init` and its successful `result`, checked as `Translator.feed`
    checks them and written as plain dicts. It shares the translator's state and refuses
    (returns None for) every line it cannot prove the translator reads the same way:
    `read_line` reads those."""

    def __init__(self, translator: Translator) -> None:
        self.t = translator
        self.b = translator.b

    def feed(self, raw: bytes | memoryview) -> bytes | None:
        try:
            line = _DECODE(raw)
        except UNFIT as exc:
            return self._other(raw) if str(exc) in _OTHER_LINES else None
        try:
            if self.t.held is not None or not self.b.in_turn:
                raise UnfitError  # a held run opens, or content outside a turn
            if type(line) is FastAssistant:
                _CHECK(raw)
                return self._block(line.message)
            return self._bash_result(line)
        except UNFIT:
            return None

    def _other(self, raw: bytes | memoryview) -> bytes | None:
        """A `system/init` or `result` line, read by orjson as `read_line` reads it."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict or self.t.held is not None:
            return None
        ltype = data.get("type")
        try:
            if ltype == "system" and data.get("subtype") == "init":
                return self._init(data)
            if ltype == "result":
                return self._result(data)
        except UnfitError:
            return None
        return None

    def _init(self, data: dict[str, Any]) -> bytes:
        """`Translator._init` of a run that names its model, outside a turn."""
        t, b = self.t, self.b
        if b.in_turn or _text(data.get("model")) is None:
            raise UnfitError  # an open turn fails first, or the run waits for its model
        session, info = t.run_info(data)
        started = _SESSION_STARTED.copy()
        started.update(info.__dict__)
        started["seq"] = b.session_started_written(session)
        started["thread_id"] = session
        turn = _TURN_STARTED.copy()
        turn["seq"], turn["turn"] = b.turn_started_written()
        turn["thread_id"] = session
        return dumps_line(started) + dumps_line(turn)

    def _result(self, data: dict[str, Any]) -> bytes:
        """`Translator._result` of a successful run with no prompt left open, inside a turn."""
        t, b = self.t, self.b
        if not b.in_turn or t.tool_asks or run_failed(data):
            raise UnfitError
        usage = usage_of(data)
        stop = data.get("stop_reason")
        ended = b.turn_ended_written()
        if ended is None:
            raise UnfitError  # items still open: the builder fails them first
        event = _TURN_COMPLETED.copy()
        event["seq"], event["turn"] = ended
        event["thread_id"] = b.thread_id
        event["usage"] = usage
        event["stop_reason"] = str(stop) if stop else None
        return dumps_line(event)

    def _block(self, message: Any) -> bytes:
        """`Translator._assistant` and `_block` for one text, thinking or tool_use block."""
        if message.model == "<synthetic>" or not message.id or len(message.content) != 1:
            raise UnfitError
        block = message.content[0]
        if type(block) is FastToolUse:
            return self._tool_use(message.id, block)
        model, fields, field_name = _BLOCK_ITEMS[type(block)]
        fields = fields.copy()
        fields["text"] = getattr(block, field_name)
        t, b = self.t, self.b
        position = t.block_counts.get(message.id, 0)
        t.block_counts[message.id] = position + 1
        fields["id"] = item_id = b.fresh_id()
        fields["native_id"] = f"{message.id}:{position}"
        return self._completed(item_id, model, fields)

    def _tool_use(self, message_id: str, block: Any) -> bytes:
        """`Translator._tool_use` of a tool_use id not seen running or ended."""
        t, b = self.t, self.b
        tool_id: str = block.id
        if not tool_id or tool_id in t.tools:
            raise UnfitError
        if bytes(block.input).count(b"[") + bytes(block.input).count(b"{") >= _SHALLOW:
            raise UnfitError
        args = free(block.input)
        item_id = b.item_id(tool_id)  # mints a new id (never completed) or changes nothing
        if b.is_completed(item_id):
            raise UnfitError  # a replayed tool_use: the pydantic path says so
        # everything is checked: from here on the translator's state changes
        t.block_counts[message_id] = t.block_counts.get(message_id, 0) + 1
        item = tool_item(item_id, tool_id, block.name, args, t.context.cwd)
        t.tools[tool_id] = _Tool(item, block.name, args)
        event = _STARTED.copy()
        event["seq"] = b.item_written("started", item_id, type(item), item.__dict__, held=item)
        event["thread_id"] = b.thread_id
        event["turn"] = b.turn
        event["item"] = item
        return dumps_line(event)

    def _bash_result(self, line: Any) -> bytes:
        """`Translator._tool_result`, `complete` and `bash_outcome` for a Bash call that ran."""
        t, b = self.t, self.b
        blocks = line.message.content
        if len(blocks) != 1 or blocks[0].is_error or line.tool_use_result.stderr:
            raise UnfitError
        tool_id: str = blocks[0].tool_use_id
        tool = t.tools.get(tool_id) if tool_id else None
        if tool is None or type(tool.item) is not CommandExecution or b.is_completed(
                tool.item.id) or tool_id in t.tool_asks or tool_id in t.denied or _rejected(
                {"tool_result_meta": line.tool_result_meta}, tool_id) or unannounced_grant(
                {"tool_result_meta": line.tool_result_meta}, tool_id):
            raise UnfitError
        fields = dict(tool.item.__dict__)
        fields.update(status="completed", exit_code=0, output=line.tool_use_result.stdout,
                      error=None)
        # everything is checked: from here on the translator's state changes
        del t.tools[tool_id]
        b.forget_native(tool_id)
        return self._completed(tool.item.id, CommandExecution, fields)

    def _completed(self, item_id: str, model: type[BaseModel], fields: dict[str, Any]) -> bytes:
        b = self.b
        seq = b.item_written("completed", item_id, model, fields)
        event = _COMPLETED.copy()
        event.update(seq=seq, thread_id=b.thread_id, turn=b.turn, item=fields)
        return dumps_line(event)


def _error_prefix(text: str) -> str:
    """Claude Code's `tool_use_result` of a failed tool is `"Error: " + <what the model saw>`."""
    return text.removeprefix("Error: ")


LANE = LaneSpec(
    id=LANE_ID,
    provider="anthropic",
    input_kind="jsonl",
    description="Claude Code's stream-json (`claude -p --output-format stream-json --verbose`): "
                "init, one content block per assistant line, tool results, permission denials, "
                "permission prompts answered over the control protocol, result.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "approvals", "resume", "cwd_context", "mcp", "reasoning", "usage", "web_search",
        "plan", "file_change",
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="claude-code.jsonl",
    recognizes=jsonl_recognizer(frozenset({"system", "assistant", "user", "control_request",
                                           "control_response", "stream_event"})),
    noise_tools=NOISE_TOOLS,
    output_rules=(("claude-code.error-prefix", _error_prefix),),
)
