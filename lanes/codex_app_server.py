"""codex-app-server lane: a client's transcript of `codex app-server` (JSON-RPC over stdio,
Codex CLI 0.169), `codex-app-server.jsonl`.

Input is one JSON object per line, `{"dir": "in"|"out", "msg": {...}}`: `in` is what the client
read from the app-server, `out` what it wrote (written by `harness.record.runtimes.
codex_app_server`). Messages carry no `"jsonrpc"` field: a request has `method` and `id`, a
notification `method` only, a response `id` with `result` or `error`. Method and field names
follow the protocol schema `codex app-server generate-json-schema` prints for 0.169.

Mapping, to the same model as codex-native (the same runtime seen through its other surface):

- A run starts at the answer to the client's `thread/start` (new thread) or `thread/resume`
  (`resumed_from` = that thread). cwd and auth mode come from the run context; model, sandbox and
  approval policy from the answer (what the app-server really applied), else the context.
- `turn/started` / `turn/completed`: status `completed` -> `turn.completed` with the last
  `thread/tokenUsage/updated` total (cumulative over the thread, as in exec); `interrupted` ->
  `turn.failed` kind `cancelled`; `failed` -> `turn.failed`, kind from `codexErrorInfo` (an HTTP
  status through the core's one table, else the named cases in `ERROR_INFO_KINDS`, else the
  message's start, `MESSAGE_KINDS`).
- `item/started` / `item/completed` by item type (`ITEM_KINDS`); `agentMessage`, reasoning and
  command output deltas are `item.updated` with a delta. A `commandExecution` keeps the
  shell-wrapped command as printed; `fileChange` kinds `{type: add|delete|update}` (an update with
  `move_path` is a `move`); `mcpToolCall` error `{message}` -> its text. A reasoning item that
  completes with neither summary nor content (the model's encrypted-only reasoning) is an
  `encrypted` reasoning item with no text (exec prints no item for it). The prompt's
  `userMessage` item is the client's own input, no item (exec shows none).
- `turn/plan/updated` (update_plan has no item here): one `plan` item per turn, started at the
  first update, updated at each, completed when the turn ends.
- Approvals, decided by the client (`decided_by: user`):
  `item/commandExecution/requestApproval` -> `approval.requested` (action = the command, reason
  = the request's reason), `item/fileChange/requestApproval` (action = the file paths the
  item's `item/started` named, joined by ", "); the client's answer -> `approval.resolved` with
  `DECISIONS`. `acceptWithExecpolicyAmendment` is `approved_for_session`: it allows the command's
  prefix beyond this one call (Codex stores it as a rule, so it even outlives the session; the
  model has no broader decision). A declined item is `declined`. A file change whose approval was
  cancelled never gets `item/completed`: when its turn ends it is closed `declined` (it was not
  applied because the user said no), not `failed`.
- `error` notifications and `configWarning` / `warning` / `deprecationNotice` are `error`
  notices. `IGNORED` notifications (thread status, rate limits, login progress, the turn diff
  the file-change items already show, ...) are no items. The control plane's answers of the
  connection (`skills/list`, `mcpServerStatus/list`) become the session's
  `session.capabilities` right after its `session.started` (skills; MCP servers with status,
  tools and auth state; the effective settings the thread's start answered);
  `config/read` and `account/read` add nothing the thread's start does not already say.
- Any other method the 0.169 protocol defines (`KNOWN_SERVER_METHODS`) is kept whole as an
  `unknown` item (a server request this client does not decide, and the client's answer to it,
  e.g. a JSON-RPC error, each as one); a method it does not define is refused in strict mode
  (`file:line: reason`) and kept as `unknown` in lenient mode; a malformed line is refused in
  strict mode and one `error` notice in lenient mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

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
    ApprovalPolicy,
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
    McpServerInfo,
    McpServerStatus,
    McpToolCall,
    Plan,
    PlanEntry,
    PlanStatus,
    Reasoning,
    Runtime,
    Sandbox,
    SkillInfo,
    ToolCall,
    TurnError,
    UnknownItem,
    Usage,
    WebSearch,
    status_kind,
)

LANE_ID = "codex-app-server"
RUNTIME_NAME = "codex"

# ------------------------------------------------------------------------------------- tables

ITEM_KINDS: dict[str, str] = {
    "agentMessage": "assistant_message",
    "reasoning": "reasoning",
    "commandExecution": "command_execution",
    "fileChange": "file_change",
    "mcpToolCall": "mcp_tool_call",
    "dynamicToolCall": "tool_call",
    "collabAgentToolCall": "tool_call",
    "webSearch": "web_search",
    "plan": "plan",
}
"""Thread item type -> normalized kind; `userMessage` is no item; any other type is `unknown`."""

NO_ITEM_TYPES = frozenset({"userMessage"})

UNKNOWN_ITEM_TYPES: dict[str, str] = {
    "hookPrompt": "a hook's injected prompt fragments: no normalized kind",
    "functionCallOutput": "a raw tool output record: the tool's own item carries its result",
    "subAgentActivity": "a sub-agent's progress marker: no normalized kind",
    "imageView": "the agent looked at an image file: no normalized kind",
    "sleep": "the agent waited: no normalized kind",
    "imageGeneration": "a generated image: no normalized kind",
    "enteredReviewMode": "review mode markers: no normalized kind",
    "exitedReviewMode": "review mode markers: no normalized kind",
    "contextCompaction": "the thread's context was compacted: no normalized kind",
}
"""Thread item types of the vendored schema kept whole as `unknown` items, each with why."""

DISPATCHED_METHODS = frozenset({
    "item/started", "item/completed", "turn/started", "turn/completed", "turn/plan/updated",
    "thread/tokenUsage/updated",
})
"""Notifications `_server_message` reads into events by name (beside the tables below)."""

STATUSES: dict[str, ItemStatus] = {
    "inProgress": "in_progress",
    "completed": "completed",
    "failed": "failed",
    "declined": "declined",
}

PLAN_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending",
    "inProgress": "in_progress",
    "completed": "completed",
}

DECISIONS: dict[str, Decision] = {
    "accept": "approved",
    "acceptForSession": "approved_for_session",
    "acceptWithExecpolicyAmendment": "approved_for_session",
    "applyNetworkPolicyAmendment": "approved_for_session",
    "decline": "denied",
    "cancel": "abort",
}
"""The client's answer -> decision (an object decision is named by its one key)."""

SANDBOXES: dict[str, Sandbox] = {
    "readOnly": "read-only",
    "workspaceWrite": "workspace-write",
    "dangerFullAccess": "full-access",
}
APPROVAL_POLICIES: dict[str, ApprovalPolicy] = {
    "never": "never", "on-request": "on-request", "on-failure": "on-failure",
    "untrusted": "untrusted",
}

ERROR_INFO_KINDS: dict[str, ErrorKind] = {
    "usageLimitExceeded": "rate_limit",
    "rateLimitExceeded": "rate_limit",
    "sessionBudgetExceeded": "rate_limit",
    "serverOverloaded": "provider",
    "internalServerError": "provider",
    "badRequest": "provider",
    "modelNotFound": "provider",
    "contextWindowExceeded": "provider",
    "unauthorized": "auth",
    "responseStreamDisconnected": "stream_truncated",
    "httpConnectionFailed": "network",
    "responseStreamConnectionFailed": "network",
    "flexUnavailable": "provider",
    "policyCapacityUnavailable": "provider",
    "cyberPolicy": "provider",
    "misalignmentPolicyViolation": "provider",
    "bioPolicy": "provider",  # 0.171
}
"""`codexErrorInfo` (a string, or an object named by its one key) -> error kind, when no HTTP
status decides; anything else is `unknown`."""

UNMAPPED_ERROR_INFO: dict[str, str] = {
    "responseTooManyFailedAttempts": "retries ran out; its httpStatusCode, when given, decides",
    "tooManyDenials": "the turn stopped after repeated denials: no error kind says that",
    "threadRollbackFailed": "a client-requested rollback failed, not the model's turn",
    "sandboxError": "the local sandbox failed: neither provider, network nor auth",
    "inferenceHookDenied": "a local hook refused the request",
    "activeTurnNotSteerable": "a client request the turn could not take",
    "other": "Codex itself does not say",
}
"""`codexErrorInfo` variants of the vendored schema (schemas/codex/) read as `unknown` on
purpose, each with why (tests/test_codex_schema.py holds the two tables to the schema)."""

NOTICES: dict[str, str] = {
    "error": "error",
    "configWarning": "summary",
    "warning": "message",
    "deprecationNotice": "summary",
    "guardianWarning": "message",
}
"""Notifications that are non-fatal notices -> the params field holding their text."""

IGNORED = frozenset({
    "thread/started", "thread/status/changed", "serverRequest/resolved", "turn/diff/updated",
    "account/rateLimits/updated", "account/updated", "account/login/completed",
    "remoteControl/status/changed", "mcpServer/startupStatus/updated", "skills/changed",
    "thread/name/updated", "thread/settings/updated", "thread/readState/changed",
    "item/fileChange/patchUpdated", "item/fileChange/outputDelta",
    "item/reasoning/summaryPartAdded",
    "thread/search/partial",  # 0.171: partial results of a client's thread search
})
"""Known notifications with nothing for a transcript: the thread's status and name, rate
limits, login progress, the turn diff (the file-change items carry the changes), MCP startup."""

CLIENT_METHODS = frozenset({
    "initialize", "initialized", "skills/list", "mcpServerStatus/list", "config/read",
    "account/read", "account/login/start", "getAuthStatus", "model/list", "plugin/list",
    "hooks/list", "thread/list", "thread/start", "thread/resume", "turn/start",
    "turn/interrupt",
})
"""What a client may write here: its own traffic says nothing for the log except the thread
it opens and its approval answers."""

APPROVAL_METHODS = frozenset({"item/commandExecution/requestApproval",
                              "item/fileChange/requestApproval"})

KNOWN_SERVER_METHODS = frozenset({
    "thread/archived", "thread/deleted", "thread/unarchived", "thread/closed", "thread/reverted",
    "thread/section/changed", "thread/attachment/updated", "thread/goal/updated",
    "thread/prediction/updated", "thread/goal/cleared", "thread/queue/changed",
    "project/changed", "thread/project/updated", "thread/environment/connected",
    "thread/environment/disconnected", "hook/started", "hook/completed",
    "item/autoApprovalReview/started", "item/autoApprovalReview/completed",
    "autoApprovalReview/strictReviewRequired", "command/exec/outputDelta",
    "process/outputDelta", "process/exited", "item/commandExecution/terminalInteraction",
    "item/mcpToolCall/progress", "mcpServer/oauthLogin/completed",
    "mcpServer/event/stream/notification", "account/gatewayOAuth/changed",
    "app/list/updated", "externalAgentConfig/import/progress",
    "externalAgentConfig/import/completed", "fs/changed", "thread/compacted",
    "model/rerouted", "model/verification", "modelProvider/authRecoveryStarted",
    "modelProvider/authRecoveryCompleted", "turn/moderationMetadata",
    "model/safetyBuffering/updated", "fuzzyFileSearch/sessionUpdated",
    "fuzzyFileSearch/sessionCompleted", "thread/realtime/started", "thread/realtime/itemAdded",
    "thread/realtime/item/started", "thread/realtime/item/transcript/delta",
    "thread/realtime/item/completed", "thread/realtime/transcript/delta",
    "thread/realtime/transcript/done", "thread/realtime/outputAudio/delta",
    "thread/realtime/sdp", "thread/realtime/error", "thread/realtime/closed",
    "windows/worldWritableWarning", "windowsSandbox/setupCompleted",
    "account/login/completed",
    # server requests this client does not answer with a decision
    "item/tool/requestUserInput", "mcpServer/elicitation/request",
    "item/permissions/requestApproval", "item/tool/call", "account/chatgptAuthTokens/refresh",
    "attestation/generate", "applyPatchApproval", "execCommandApproval",
})
"""Protocol methods (0.169) the model has no shape for: kept whole as `unknown` items."""

DELTAS: dict[str, str] = {
    "item/agentMessage/delta": "text",
    "item/reasoning/summaryTextDelta": "text",
    "item/reasoning/textDelta": "text",
    "item/commandExecution/outputDelta": "output",
    "item/plan/delta": "text",
}
"""Streaming notifications -> the item field their `delta` extends."""


MESSAGE_KINDS: tuple[tuple[str, ErrorKind], ...] = (
    ("stream disconnected before completion", "provider"),
)
"""Message starts that decide when `codexErrorInfo` is `other`: the provider's own
`response.failed` reaches the client only as Codex's message (codex-rs core error.rs)."""


CONTROL_PLANE = ("skills/list", "mcpServerStatus/list")
"""Control-plane answers a session's `session.capabilities` is made of."""

MCP_RUNTIME_STATUSES: dict[str, McpServerStatus] = {
    "connected": "ready", "starting": "starting", "notStarted": "starting",
    "failed": "failed", "cancelled": "failed", "authenticationRequired": "failed",
    "disabled": "disabled",
}
"""`McpServerStatus.runtimeStatus` -> status. Null (no live connection state) with a tool
catalog and no `toolsError` is `ready`: the server answered the tool listing."""


def skills_of(result: Any) -> list[SkillInfo]:
    """`skills/list`'s answer: the skills of every listed cwd, in the runtime's order."""
    found: list[SkillInfo] = []
    for entry in _list(result, "data"):
        for raw in _list(entry, "skills"):
            if isinstance(raw.get("name"), str):
                found.append(SkillInfo(
                    name=raw["name"], scope=_str_or_none(raw.get("scope")),
                    enabled=raw["enabled"] if isinstance(raw.get("enabled"), bool) else None,
                    description=_str_or_none(raw.get("description"))))
    return found


def mcp_servers_of(result: Any) -> list[McpServerInfo]:
    """`mcpServerStatus/list`'s answer: each server, its state and the tools it lists."""
    found: list[McpServerInfo] = []
    for raw in _list(result, "data"):
        if not isinstance(raw.get("name"), str):
            continue
        tools = raw.get("tools")
        error = _str_or_none(raw.get("toolsError"))
        runtime = MCP_RUNTIME_STATUSES.get(str(raw.get("runtimeStatus")))
        status: McpServerStatus = "failed" if error is not None else runtime or (
            "ready" if isinstance(tools, dict) else "unknown")
        found.append(McpServerInfo(
            name=raw["name"], status=status, error=error,
            tools=sorted(tools) if isinstance(tools, dict) else [],
            auth_status=_str_or_none(raw.get("authStatus"))))
    return found


def _list(value: Any, key: str) -> list[dict[str, Any]]:
    items = value.get(key) if isinstance(value, dict) else None
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def error_kind(info: Any, message: str = "") -> ErrorKind:
    """Classify a turn error by its `codexErrorInfo` (see `ERROR_INFO_KINDS`), then by
    `MESSAGE_KINDS`."""
    kind = _info_kind(info)
    if kind == "unknown":
        for start, by_message in MESSAGE_KINDS:
            if message.startswith(start):
                return by_message
    return kind


def _info_kind(info: Any) -> ErrorKind:
    if isinstance(info, str):
        return ERROR_INFO_KINDS.get(info, "unknown")
    if isinstance(info, dict) and len(info) == 1:
        name, body = next(iter(info.items()))
        status = body.get("httpStatusCode") if isinstance(body, dict) else None
        if isinstance(status, int):
            kind = status_kind(status)
            if kind != "unknown":
                return kind
        return ERROR_INFO_KINDS.get(name, "unknown")
    return "unknown"


def decision_of(raw: Any) -> Decision | None:
    """The client's `decision` value as a decision (None: not one this protocol defines)."""
    name = raw if isinstance(raw, str) else \
        next(iter(raw)) if isinstance(raw, dict) and len(raw) == 1 else None
    return DECISIONS.get(name) if isinstance(name, str) else None


# ------------------------------------------------------------------------------ item mapping


def _text(value: Any) -> str:
    """Reasoning `summary`/`content`: a list of strings (or of `{text}` parts), joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p if isinstance(p, str) else p.get("text", "") if isinstance(p, dict) else ""
                 for p in value]
        return "\n\n".join(p for p in parts if p)
    return ""


def _changes(raw: Any) -> list[FileChangeEntry]:
    entries: list[FileChangeEntry] = []
    for change in raw:
        kind = change["kind"]
        name = kind.get("type") if isinstance(kind, dict) else kind
        move = kind.get("move_path") if isinstance(kind, dict) else None
        if name not in {"add", "delete", "update"}:
            raise ValueError(f"file change kind {name!r}")
        entries.append(FileChangeEntry(path=change["path"],
                                       kind=cast(ChangeKind, "move" if move else name),
                                       move_path=move))
    return entries


def build_item(raw: dict[str, Any], *, item_id: str, native_id: str, phase: Phase) -> Item:
    """One normalized item from a thread item (raises KeyError/TypeError/ValueError when a
    known type lacks its fields)."""
    itype = raw["type"]
    common: dict[str, Any] = {"id": item_id, "native_id": native_id}
    native_status = raw.get("status")
    if isinstance(native_status, str):
        status = STATUSES[native_status]
        if phase == "completed" and status == "in_progress":
            status = "failed"
    else:
        status = "completed" if phase == "completed" else "in_progress"
    if itype == "agentMessage":
        return AssistantMessage(**common, status=status, text=raw["text"])
    if itype == "reasoning":
        text = _text(raw.get("summary")) or _text(raw.get("content"))
        return Reasoning(**common, status=status, text=text,
                         encrypted=phase == "completed" and not text)
    if itype == "commandExecution":
        return CommandExecution(**common, status=status, command=raw["command"],
                                exit_code=raw.get("exitCode"),
                                output=raw.get("aggregatedOutput") or "")
    if itype == "fileChange":
        return FileChange(**common, status=status, changes=_changes(raw["changes"]))
    if itype == "mcpToolCall":
        error = raw.get("error")
        return McpToolCall(**common, status=status, server=raw["server"], tool=raw["tool"],
                           arguments=raw.get("arguments"), result=raw.get("result"),
                           error=error.get("message") if isinstance(error, dict) else None)
    if itype in {"dynamicToolCall", "collabAgentToolCall"}:
        return ToolCall(**common, status=status, name=raw["tool"],
                        arguments=raw.get("arguments") if itype == "dynamicToolCall" else
                        {"prompt": raw.get("prompt"),
                         "receiver_thread_ids": raw.get("receiverThreadIds")},
                        result=raw.get("contentItems") or raw.get("agentsStates") or None)
    if itype == "webSearch":
        return WebSearch(**common, status=status, query=raw["query"])
    assert itype == "plan"
    return Plan(**common, status=status, text=raw["text"])


# ------------------------------------------------------------------------------ translation


@dataclass
class _Approval:
    request_id: str
    item_native: str
    decision: Decision | None = None


@dataclass
class _RunState:
    """What one app-server process's ids mean (ids restart with each process)."""

    client_requests: dict[Any, str] = field(default_factory=dict)
    approvals: dict[Any, _Approval] = field(default_factory=dict)
    other_requests: dict[Any, str] = field(default_factory=dict)
    """Server requests kept as `unknown` items, by id: the client's answer is kept too."""


class Translator:
    """One transcript's state: `feed` one frame, `close` at end of input."""

    def __init__(self, context: RunContext, source: str) -> None:
        self.context = context
        self.source = source
        self.b = LogBuilder(LANE_ID)
        self.run = _RunState()
        self.runs = 0
        self.connected = False
        """Whether the client's `initialize` was seen (the transcript is a real connection)."""
        self.live: dict[str, dict[str, Any]] = {}
        """Open native items (by id): their latest raw state."""
        self.texts: dict[str, dict[str, str]] = {}
        self.paths: dict[str, list[str]] = {}
        self.refused: dict[str, Decision] = {}
        """Native item id -> a denial or abort the client answered for it."""
        self.usage: Usage | None = None
        self.plan_id: str | None = None
        self.plan: list[PlanEntry] = []
        self.control: dict[str, Any] = {}
        """This connection's control-plane answers (`CONTROL_PLANE`), by method."""

    # ---------------------------------------------------------------- entry points

    def feed(self, frame: Frame) -> list[Event]:
        direction, msg = frame.data.get("dir"), frame.data.get("msg")
        if direction not in ("in", "out") or not isinstance(msg, dict):
            raise self._error(FrameError, frame, 'not a transcript line: needs "dir" '
                              '("in" or "out") and a "msg" object')
        method = msg.get("method")
        if method is not None and not isinstance(method, str):
            raise self._error(FrameError, frame, "`method` is not a string")
        if direction == "out":
            return self._client(frame, msg, method)
        if method is None:
            return self._response(frame, msg)
        if "id" in msg:
            return self._server_request(frame, msg, method)
        return self._notification(frame, msg, method)

    def problem(self, error: LaneError, line: bytes | None = None) -> list[Event]:
        """Lenient mode: a line the lane cannot read is one notice naming why, and the line
        itself kept whole as an `unknown` item (its text)."""
        notice = self.b.notice(f"line {error.line}: {error.reason}")
        return [notice] if line is None else [notice, self.b.unknown("unreadable", kept_text(line))]

    def close(self, last_line: int = 0) -> list[Event]:
        """End of input: an open turn fails as `stream_truncated`. A transcript that never
        opened a thread is a session without a thread and one notice when the client did
        connect (`initialize`: a transcript cut early), else refused (strict) or the same
        (lenient)."""
        if not self.b.has_session:
            error = SequenceError("no thread/start or thread/resume answer: the transcript "
                                  "holds no Codex run", lane=LANE_ID, source=self.source,
                                  line=last_line + 1)
            if not self.connected and not self.context.lenient:
                raise error
            return [*self.b.session_started(None, self._info(None, {})), *self.problem(error)]
        out = self._close_refused() if self.b.in_turn else []
        return out + self.b.close()

    # ---------------------------------------------------------------- the client's lines

    def _client(self, frame: Frame, msg: dict[str, Any], method: str | None) -> list[Event]:
        if method is None:  # the client's answer to a server request
            other = self.run.other_requests.pop(msg.get("id"), None)
            if other is not None:
                return [self.b.unknown(f"answer to {other}", msg)]
            approval = self.run.approvals.get(msg.get("id"))
            if approval is None or approval.decision is not None:
                raise self._error(SequenceError, frame,
                                  f"client answer to no open server request (id {msg.get('id')!r})")
            decision = decision_of((msg.get("result") or {}).get("decision"))
            if decision is None:
                raise self._error(FrameError, frame, "client answer without a known `decision`")
            approval.decision = decision
            if decision in {"denied", "abort"}:
                self.refused[approval.item_native] = decision
            return [self.b.approval_resolved(approval.request_id, decision, "user")]
        if method not in CLIENT_METHODS:
            return self._unknown_method(frame, msg, method)
        if method == "initialize":
            self.run = _RunState()
            self.connected = True
            self.control = {}
        if "id" in msg:
            self.run.client_requests[msg["id"]] = method
        return []

    # ---------------------------------------------------------------- the server's lines

    def _response(self, frame: Frame, msg: dict[str, Any]) -> list[Event]:
        method = self.run.client_requests.pop(msg.get("id"), None)
        if method is None:
            raise self._error(SequenceError, frame,
                              f"response to no client request (id {msg.get('id')!r})")
        if "error" in msg:
            error = msg["error"] if isinstance(msg["error"], dict) else {}
            text = f"{method} failed: {error.get('message', msg['error'])}"
            return [self.b.notice(text)]
        if method in CONTROL_PLANE:
            self.control[method] = msg.get("result")
            return []
        if method not in {"thread/start", "thread/resume"}:
            return []
        result = msg.get("result")
        thread = result.get("thread") if isinstance(result, dict) else None
        thread_id = thread.get("id") if isinstance(thread, dict) else None
        if not isinstance(thread_id, str):
            raise self._error(FrameError, frame, f"{method} answer without `thread.id`")
        assert isinstance(result, dict)
        resumed = thread_id if method == "thread/resume" else \
            self.context.resumed_from if not self.b.has_session else None
        self.runs += 1
        self._reset_run()
        info = self._info(resumed, result)
        return self.b.session_started(thread_id, info) + self._capabilities(info)

    def _capabilities(self, info: SessionInfo) -> list[Event]:
        """The connection's control-plane answers as the session's capabilities (none seen:
        no event, the lane cannot say)."""
        if not self.control:
            return []
        skills = skills_of(self.control["skills/list"]) if "skills/list" in self.control \
            else None
        servers = mcp_servers_of(self.control["mcpServerStatus/list"]) \
            if "mcpServerStatus/list" in self.control else None
        return self.b.session_capabilities(info, skills, servers)

    def _info(self, resumed: str | None, result: dict[str, Any]) -> SessionInfo:
        ctx = self.context
        sandbox = result.get("sandbox")
        sandbox_type = sandbox.get("type") if isinstance(sandbox, dict) else None
        model = result.get("model")
        return SessionInfo(
            provider="openai", runtime=Runtime(name=RUNTIME_NAME, version=ctx.runtime_version),
            model=model if isinstance(model, str) else ctx.model, auth_mode=ctx.auth_mode,
            cwd=ctx.cwd, sandbox=SANDBOXES.get(str(sandbox_type), ctx.sandbox),
            approval_policy=APPROVAL_POLICIES.get(str(result.get("approvalPolicy")),
                                                  ctx.approval_policy),
            resumed_from=resumed)

    def _reset_run(self) -> None:
        self.live.clear()
        self.texts.clear()
        self.paths.clear()
        self.refused.clear()

    def _server_request(self, frame: Frame, msg: dict[str, Any], method: str) -> list[Event]:
        if method not in APPROVAL_METHODS:
            kept = self._unknown_method(frame, msg, method)
            self.run.other_requests[msg["id"]] = method
            return kept
        params = self._params(frame, msg)
        native = params.get("itemId")
        if not isinstance(native, str) or native not in self.live:
            raise self._error(SequenceError, frame, f"{method} for no running item")
        self._need_turn(frame, method)
        request_id = f"{self.runs}:{msg['id']}"
        self.run.approvals[msg["id"]] = _Approval(request_id, native)
        if method == "item/commandExecution/requestApproval":
            command = params.get("command")
            action = command if isinstance(command, str) else \
                str(self.live[native].get("command", ""))
        else:
            action = ", ".join(self.paths.get(native, []))
        reason = params.get("reason")
        return [self.b.approval_requested(request_id, self.b.item_id(native), action,
                                          reason if isinstance(reason, str) else None)]

    def _notification(self, frame: Frame, msg: dict[str, Any], method: str) -> list[Event]:
        if method in IGNORED:
            return []
        params = self._params(frame, msg)
        if method in NOTICES:
            return self._notice(params, NOTICES[method])
        if method in {"item/started", "item/completed"}:
            return self._item(frame, params, "started" if method == "item/started"
                              else "completed")
        if method in DELTAS:
            return self._delta(frame, params, DELTAS[method])
        if method == "turn/started":
            return self._turn_started(frame)
        if method == "turn/completed":
            return self._turn_completed(frame, params)
        if method == "turn/plan/updated":
            return self._plan(frame, params)
        if method == "thread/tokenUsage/updated":
            return self._usage(frame, params)
        return self._unknown_method(frame, msg, method)

    def _unknown_method(self, frame: Frame, msg: dict[str, Any], method: str) -> list[Event]:
        if method not in KNOWN_SERVER_METHODS and not self.context.lenient:
            raise self._error(FrameError, frame, f"unknown method {method!r}")
        return [self.b.unknown(method, msg)]

    def _notice(self, params: dict[str, Any], key: str) -> list[Event]:
        value = params.get(key)
        if isinstance(value, dict):
            value = value.get("message")
        return [self.b.notice(str(value) if value is not None else "")]

    # ---------------------------------------------------------------- turns

    def _need_session(self, frame: Frame, what: str) -> None:
        if not self.b.has_session:
            raise self._error(SequenceError, frame, f"{what} before a thread was opened")

    def _need_turn(self, frame: Frame, what: str) -> None:
        if not self.b.in_turn:
            raise self._error(SequenceError, frame, f"{what} outside a turn")

    def _turn_started(self, frame: Frame) -> list[Event]:
        self._need_session(frame, "turn/started")
        if self.b.in_turn:
            raise self._error(SequenceError, frame, "turn/started inside an open turn")
        self.usage, self.plan_id, self.plan = None, None, []
        return self.b.turn_started()

    def _turn_completed(self, frame: Frame, params: dict[str, Any]) -> list[Event]:
        self._need_turn(frame, "turn/completed")
        turn = params.get("turn")
        status = turn.get("status") if isinstance(turn, dict) else None
        if status not in {"completed", "interrupted", "failed"}:
            raise self._error(FrameError, frame, f"turn/completed with status {status!r}")
        assert isinstance(turn, dict)
        out = self._close_plan() + self._close_refused()
        for native in self.live:  # the builder fails what is still open
            self.b.forget_native(native)
        self.live.clear()
        self.refused.clear()
        if status == "completed":
            return out + self.b.turn_completed(self.usage)
        if status == "interrupted":
            return out + self.b.turn_failed(TurnError.of("cancelled", "turn interrupted"))
        raw_error = turn.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        message = str(error.get("message", "turn failed"))
        kind = error_kind(error.get("codexErrorInfo"), message)
        return out + self.b.turn_failed(TurnError.of(kind, message))

    def _close_refused(self) -> list[Event]:
        """Items a refusal left open (a cancelled file change never completes): `declined`."""
        out: list[Event] = []
        for native, raw in list(self.live.items()):
            if native in self.refused and raw.get("type") in ITEM_KINDS:
                item = build_item({**raw, "status": "declined"}, item_id=self.b.item_id(native),
                                  native_id=native, phase="completed")
                out.append(self._emit("completed", item, native))
        return out

    def _usage(self, frame: Frame, params: dict[str, Any]) -> list[Event]:
        usage = params.get("tokenUsage")
        total = usage.get("total") if isinstance(usage, dict) else None
        if not isinstance(total, dict):
            raise self._error(FrameError, frame, "thread/tokenUsage/updated without `total`")

        def count(name: str) -> int | None:
            value = total.get(name)
            return value if isinstance(value, int) else None

        self.usage = Usage(scope="cumulative", input_tokens=count("inputTokens"),
                           cached_input_tokens=count("cachedInputTokens"),
                           cache_write_input_tokens=count("cacheWriteInputTokens"),
                           output_tokens=count("outputTokens"),
                           reasoning_tokens=count("reasoningOutputTokens"))
        return []

    def _plan(self, frame: Frame, params: dict[str, Any]) -> list[Event]:
        self._need_turn(frame, "turn/plan/updated")
        steps = params.get("plan")
        if not isinstance(steps, list):
            raise self._error(FrameError, frame, "turn/plan/updated without a `plan` list")
        try:
            self.plan = [PlanEntry(text=s["step"], status=PLAN_STATUSES[s["status"]])
                         for s in steps]
        except (KeyError, TypeError) as exc:
            raise self._error(FrameError, frame, f"plan step: {exc!r}") from None
        phase: Phase = "updated" if self.plan_id is not None else "started"
        if self.plan_id is None:
            self.plan_id = self.b.fresh_id()
        return [self.b.item(phase, Plan(id=self.plan_id, status="in_progress",
                                        entries=self.plan))]

    def _close_plan(self) -> list[Event]:
        if self.plan_id is None:
            return []
        item = Plan(id=self.plan_id, status="completed", entries=self.plan)
        self.plan_id = None
        return [self.b.item("completed", item)]

    # ---------------------------------------------------------------- items

    def _item(self, frame: Frame, params: dict[str, Any], phase: Phase) -> list[Event]:
        raw = params.get("item")
        if not isinstance(raw, dict):
            raise self._error(FrameError, frame, f"item/{phase} without an `item` object")
        native, itype = raw.get("id"), raw.get("type")
        if not isinstance(native, str) or not isinstance(itype, str):
            raise self._error(FrameError, frame, "item without a string `id` and `type`")
        if itype in NO_ITEM_TYPES:
            return []
        self._need_turn(frame, f"item/{phase} {itype}")
        if phase == "started" and native in self.live:
            raise self._error(SequenceError, frame, f"item {native!r} started twice")
        if itype not in ITEM_KINDS:
            item: Item = UnknownItem(id=self.b.item_id(native), native_id=native,
                                     status="in_progress" if phase == "started" else "completed",
                                     native_type=itype, payload=raw)
            return [self._emit(phase, item, native, raw)]
        try:
            item = build_item(raw, item_id=self.b.item_id(native), native_id=native, phase=phase)
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(FrameError, frame, f"{itype} item: {exc!r}") from None
        if itype == "fileChange" and isinstance(item, FileChange):
            self.paths[native] = [c.path for c in item.changes]
        return [self._emit(phase, item, native, raw)]

    def _emit(self, phase: Phase, item: Item, native: str, raw: dict[str, Any] | None = None,
              delta: Delta | None = None) -> Event:
        if phase == "completed":
            self.live.pop(native, None)
            self.texts.pop(native, None)
            self.b.forget_native(native)
        elif raw is not None:
            self.live[native] = raw
        return self.b.item(phase, item, delta)

    def _delta(self, frame: Frame, params: dict[str, Any], field_name: str) -> list[Event]:
        native, delta = params.get("itemId"), params.get("delta")
        if not isinstance(native, str) or not isinstance(delta, str):
            raise self._error(FrameError, frame, "delta without a string `itemId` and `delta`")
        self._need_turn(frame, "delta")
        out: list[Event] = []
        raw = self.live.get(native)
        if raw is None:
            raise self._error(SequenceError, frame, f"delta for item {native!r} not running")
        texts = self.texts.setdefault(native, {})
        texts[field_name] = texts.get(field_name, "") + delta
        current = dict(raw)
        if raw.get("type") == "agentMessage" or raw.get("type") == "plan":
            current["text"] = texts[field_name]
        elif raw.get("type") == "reasoning":
            current["summary"] = [texts[field_name]]
        elif raw.get("type") == "commandExecution":
            current["aggregatedOutput"] = texts[field_name]
        item = build_item(current, item_id=self.b.item_id(native), native_id=native,
                          phase="updated")
        out.append(self._emit("updated", item, native, raw,
                              Delta(field=field_name, text=delta)))
        return out

    # ---------------------------------------------------------------- errors

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
    """Stream a `codex app-server` transcript into normalized events, one line at a time."""
    return translate_lines(Translator(context, source.name), source.stream, lane=LANE_ID,
                           source=source.name, lenient=context.lenient)


def recognizes(head: bytes) -> bool:
    """A transcript line: `dir` in/out and a `msg` object without `"jsonrpc"` (the app-server
    omits it; an ACP transcript, lane acp, carries `"jsonrpc": "2.0"`)."""
    first = first_json_object(head)
    msg = first.get("msg") if first is not None else None
    return first is not None and first.get("dir") in {"in", "out"} and \
        isinstance(msg, dict) and "jsonrpc" not in msg


LANE = LaneSpec(
    id=LANE_ID,
    provider="openai",
    input_kind="jsonl",
    description="A client's transcript of `codex app-server` (JSON-RPC over stdio, both "
                "directions): Codex's items plus approvals the client decided.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "approvals", "resume", "sandbox_context", "cwd_context", "mcp", "reasoning", "usage",
        "web_search", "plan", "file_change", "control_plane",
    ])),
    normalize=normalize,
    native_file="codex-app-server.jsonl",
    recognizes=recognizes,
)
