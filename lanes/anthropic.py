"""anthropic lane: any client's Anthropic Messages API traffic, read by the official SDK.

Input is a vcrpy cassette of Messages API traffic: Claude Code's (`claude.http.yaml`), a plain
`anthropic` SDK client's, or another framework's. Every recorded `POST /v1/messages` is re-issued
through `anthropic.Anthropic().beta.messages.create(...)` inside a vcrpy replay, so the provider's
stream (or whole JSON message) is read by the SDK's typed models, never by a parser of ours. The
beta surface is used for every request because it is a superset of the plain one and only it
knows every server tool block (`mcp_tool_use`, code execution, ...). Keys: a content block's
`index` within one message (native id `<message id>/<index>`); a tool execution's `tool_use.id`
across requests.

Who sent it. Readings that belong to one runtime apply only when the request itself says Claude
Code sent it (`claude_code_sent`): a Claude Code request header (`x-app: cli`, a `claude-cli/`
user agent, a `claude-code-*` beta, `x-claude-code-session-id`), its billing header or identity
line at the head of the system prompt, or its `metadata.user_id` shape. Never a model name,
never words of a prompt.
Traffic without a marker is read as a plain conversation: every text, thinking, tool use and
tool result, turn by turn, client tools as `tool_call`s under their own names.

How a log is rebuilt from model calls (the decisions this lane makes; each has a test):

- A *tool execution* is a `tool_use` block in one answer (its input streamed as
  `input_json_delta`) plus the `tool_result` block with the same `tool_use_id` in a later request.
  The item starts `in_progress` when the block stops and completes when the result arrives. For
  Claude Code the kind comes from the tool name (`lanes.claude_family`: Claude Code's tool table,
  MCP naming and result texts, shared with the claude-code lane); any other client's tool is a
  `tool_call` (result: the tool_result content; `is_error` fails it).
- *Server tools* complete inside the answer that ran them, or in the `pause_turn` continuation
  after it, from their result blocks (`SERVER_TOOL_KINDS`): `web_search` is a web_search item
  with the hits' url and title; `bash_code_execution` a command_execution (exit code, stdout then
  stderr as output); `web_fetch`, `code_execution`, `text_editor_code_execution`, tool search and
  the rest `tool_call`s named after the tool, the result block's content kept whole as the result;
  `mcp_tool_use`/`mcp_tool_result` (MCP connector) an mcp_tool_call. A result object of an
  `*_error` type fails the item with its `error_code` (and `error_message`).
- A *turn* spans every model call from a user prompt to the final answer. The last user message
  decides: one carrying `tool_result` blocks continues the turn (Claude Code may append text after
  them, e.g. "Tool loaded."), and so do Claude Code's own recovery prompts (`CONTINUATION_MARKERS`)
  and a request ending in an assistant message (a prefill, or the re-sent answer after
  `pause_turn`); anything else is a new prompt. Except: when the turn those results belong to has
  already ended (it failed), text after them is the next run's prompt (Claude Code merges adjacent
  user messages), so it is a new prompt. `role: "system"` messages (Claude Code injects them
  mid-conversation) are not user messages. A turn ends when the next prompt arrives or the input
  ends: so a `max_tokens` answer that Claude Code continues stays one turn. Calls still waiting
  then fail with a cut turn (`stream_truncated`), except after a finished `tool_use` answer from
  any client but Claude Code (an output tool, `tool_choice` forcing one): the turn completed, the
  calls end `failed` with "no result recorded" (`api_shell.close_unanswered`).
- A *run* (session.started) for Claude Code is one process, and `claude -p` answers one prompt per
  process, so every prompt starts a run (over HTTP a `--resume`d process and a continued one look
  the same: the request carries the history, the session id in `metadata.user_id` stays). A run
  whose first request already carries an answer in its history, or whose session id is the one
  of the log's earlier run (runs that all failed before any answer leave only prompts behind),
  was resumed: `resumed_from` is the earlier run's session (Claude Code keeps the id on
  `--resume`), else the request's own session id. The thread is that session id. For any other
  client a prompt whose request carries earlier answers continues the conversation (a new turn of
  the same run); one without history starts a new run (thread unknown, nothing resumed).
- *Side calls* (not conversation) never form turns: `count_tokens` and requests on other paths
  from any client; for Claude Code also its side queries, told by structure: a non-streaming
  request whose messages are not the conversation's (its fallback after a failed stream re-sends
  the same messages: a retry of the conversation call), and a streaming one that offers no tools
  on another model than the conversation's. Inside a turn each becomes one completed `tool_call`
  named `side_call.<kind>`; before any turn it is held into the next one; with no turn after it an
  `unknown` item (allowed outside turns). The nested request Claude Code's WebSearch makes (only
  the server `web_search` tool offered) is the execution of the pending WebSearch call, not a
  side call: its query and hits complete that item.
- Usage: per call the latest of `message_start.usage` and `message_delta.usage`, summed over the
  conversation calls of a turn (`scope: turn`); side calls are excluded. `input_tokens` counts all
  input (plain + cache reads + cache writes, OpenAI's meaning), `cached_input_tokens` the reads,
  `cache_write_input_tokens` the writes (`cache_creation_input_tokens`).

Quirks worth knowing (each has a test):
- The SDK builds stream events leniently: an unknown event, block or delta type still arrives as
  *some* known class carrying the foreign `type`. This lane dispatches on the `type` string and
  keeps anything unlisted as an `unknown` item with its raw payload.
- The SDK drops an SSE frame without an `event:` line and `ping` frames before the lane sees them,
  and raises `APIStatusError` (with the HTTP status of the stream, usually 200) for an `error`
  event; its `body.error.type` gives the kind (`ERROR_TYPE_KINDS`). An HTTP error status goes
  through the core's one table (`harness.contract.model.status_kind`).
- Signatures have no field: a thinking block whose text is empty but signed, and a
  `redacted_thinking` block, are opaque reasoning (`encrypted: true`). Citations arrive on the
  text block (whole answers) or as `citations_delta` events before the text they cite: each
  streamed one is an `item.updated` with a `citations` delta (the citation JSON), and the item
  carries them all as `citations` [{url, title, cited_text}].
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal, cast

from anthropic import Anthropic, APIConnectionError, APIError, APIStatusError, DefaultHttpxClient
from anthropic.resources.beta.messages import Messages
from anthropic.types.beta import (
    BetaMessage,
    BetaRawContentBlockDeltaEvent,
    BetaRawContentBlockStartEvent,
    BetaRawContentBlockStopEvent,
    BetaRawMessageDeltaEvent,
    BetaRawMessageStartEvent,
    BetaRawMessageStopEvent,
    BetaStopReason,
)
from anthropic.types.shared import ErrorType

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
    ItemStatus,
    McpToolCall,
    Plan,
    Reasoning,
    Runtime,
    SearchResult,
    ToolCall,
    TurnError,
    Usage,
    WebSearch,
    status_kind,
)
from harness.record.cassette import Interaction
from harness.record.replay import consume_raw, replay_ssl, safe_base_url
from lanes import claude_family
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
from lanes.claude_family import (
    DECLINED,
    NOISE_TOOLS,
    WRITE_CREATED,
    exit_code,
    mcp_names,
    plan_entries,
    result_text,
    tool_kind,
)

LANE_ID = "anthropic"

# ------------------------------------------------------------------------------------- tables

StopMeaning = Literal["answer", "tool_use", "continue"]
STOP_REASONS: dict[BetaStopReason, StopMeaning] = {
    "end_turn": "answer",
    "stop_sequence": "answer",
    "max_tokens": "answer",
    "refusal": "answer",
    "model_context_window_exceeded": "answer",
    "tool_use": "tool_use",
    "pause_turn": "continue",
    "compaction": "continue",
}
"""What a stop reason says about the turn: `answer` (the model finished; the turn ends unless the
client continues it), `tool_use` (waiting for tool results), `continue` (the client must re-send,
the answer is partial). The raw value is kept as `turn.completed.stop_reason`."""

ERROR_TYPE_KINDS: dict[ErrorType, ErrorKind] = {
    "invalid_request_error": "provider",
    "authentication_error": "auth",
    "billing_error": "auth",
    "permission_error": "auth",
    "not_found_error": "provider",
    "rate_limit_error": "rate_limit",
    "timeout_error": "network",
    "api_error": "provider",
    "overloaded_error": "provider",
    "memory_precondition_failed_error": "unknown",
    "memory_path_conflict_error": "unknown",
    "conflict_error": "unknown",
}
"""`error.type` of an `error` event (or of an HTTP error body) -> error kind. An invalid request
and a missing resource are the provider refusing the call, as their HTTP statuses (400, 404)
say in `harness.contract.model.HTTP_STATUS_KINDS`; an HTTP error goes by its status."""

HANDLED_EVENTS: dict[str, type[Any]] = {
    "message_start": BetaRawMessageStartEvent,
    "message_delta": BetaRawMessageDeltaEvent,
    "message_stop": BetaRawMessageStopEvent,
    "content_block_start": BetaRawContentBlockStartEvent,
    "content_block_delta": BetaRawContentBlockDeltaEvent,
    "content_block_stop": BetaRawContentBlockStopEvent,
}
"""SSE event type -> the SDK class it must arrive as (`ping` and `error` the SDK handles)."""

STREAMED_BLOCKS = frozenset({"text", "thinking"})
CALL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
RESULT_BLOCKS = frozenset({
    "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
    "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
    "tool_search_tool_result", "advisor_tool_result", "mcp_tool_result",
})
"""Content block types this lane maps; any other (`redacted_thinking` is handled on its own,
`container_upload`, `compaction`, `fallback`, `mcp_tool_listing`, future ones) is `unknown`."""

HANDLED_DELTAS = frozenset({"text_delta", "thinking_delta", "signature_delta",
                            "input_json_delta", "citations_delta"})

SERVER_TOOL_KINDS: dict[str, Literal["web_search", "command_execution"]] = {
    "web_search": "web_search",
    "bash_code_execution": "command_execution",
}
"""Server tool name (`server_tool_use.name`) -> item kind when it is not a plain `tool_call`:
a web search with its hits, a shell command in the code execution sandbox. `code_execution`
(Python source, not a command) and `text_editor_code_execution` stay tool_calls."""

SIDE_CALL_PATHS: dict[str, str] = {"/messages/count_tokens": "count_tokens"}
"""Request path suffix -> side-call kind, for requests that are not the conversation."""

CONTINUATION_MARKERS = ("Output token limit hit.",)
"""User texts Claude Code sends by itself to continue a turn (after a `max_tokens` stop)."""

CLAUDE_CODE_HEADERS: dict[str, re.Pattern[str]] = {
    "x-app": re.compile(r"^cli$"),
    "user-agent": re.compile(r"^claude-cli/"),
    "anthropic-beta": re.compile(r"(?:^|,)\s*claude-code-\d{8}\s*(?:,|$)"),
    "x-claude-code-session-id": re.compile(r"\S"),
}
"""Request header -> the value Claude Code sends (its app tag, its user agent, the beta only
Claude Code enables, the session header newer versions add)."""

CLAUDE_CODE_SYSTEM = re.compile(
    r"^(?:x-anthropic-billing-header: cc_version=|You are Claude Code, Anthropic's official CLI"
    r"|You are a Claude agent, built on Anthropic's Claude Agent SDK)")
"""The head of a system prompt block Claude Code sends: its billing header, or its identity line
(the CLI's own, or the Agent SDK's that runs Claude Code)."""

CLAUDE_CODE_USER_ID = re.compile(
    r"^user_[0-9a-f]{64}_account_[0-9a-fA-F-]*_session_[0-9a-fA-F-]+$")
"""The older `metadata.user_id` form of Claude Code (the newer is a JSON object with
`device_id` and `session_id`)."""

_CWD = re.compile(r"Primary working directory: (\S+)")
_CREATE_PARAMS = sdk_params(Messages.create, "betas")
_COUNT_PARAMS = sdk_params(Messages.count_tokens, "betas")


# ------------------------------------------------------------------------------------- replay


CallKind = Literal["stream", "message", "count_tokens", "raw"]


@dataclass
class Replayed:
    """One interaction after replay: the request body and what the SDK made of the answer."""

    index: int
    interaction: Interaction
    body: dict[str, Any] | None = None
    body_error: str | None = None
    events: list[Any] = field(default_factory=list)
    message: BetaMessage | None = None
    tokens: int | None = None
    error: APIError | None = None
    stream_error: str | None = None

    @property
    def call(self) -> CallKind:
        req = self.interaction.request
        path = req.path.rstrip("/")
        if req.method.upper() != "POST":
            return "raw"
        if path.endswith("/messages/count_tokens"):
            return "count_tokens"
        if not path.endswith("/messages"):
            return "raw"
        return "stream" if _streams(self.interaction) else "message"


ClientFor = Callable[[Interaction], Anthropic]


def _streams(interaction: Interaction) -> bool:
    """A Messages call streams when its body says so or its answer is an event stream."""
    ctype = interaction.response.headers.get("content-type", "")
    if "text/event-stream" in ctype:
        return True
    body, _ = parse_body(interaction.request.body)
    return bool(body and body.get("stream") is True)


REPLAY_BASE = "http://replay.invalid"
"""Where the SDK is pointed when a recorded URI is not a usable URL (e.g. a templated
`127.0.0.1:{port}`); vcrpy matches on method and path only, so the host never matters."""


def _replay_base(interaction: Interaction) -> str:
    """The recorded host plus any path before `/v1/messages` (a gateway's prefix, e.g. a proxy
    serving the API under `/anthropic/v1/messages`), so the SDK asks for the recorded path."""
    head, found, _ = interaction.request.path.rstrip("/").rpartition("/v1/messages")
    return safe_base_url(interaction, REPLAY_BASE) + (head if found else "")


def _new_client(interaction: Interaction) -> Anthropic:
    return Anthropic(base_url=_replay_base(interaction), api_key="replay", max_retries=0,
                     http_client=DefaultHttpxClient(verify=replay_ssl()))


def default_clients() -> ClientFor:
    """One SDK client per recorded base URL, for one replay."""
    return client_per_key(_new_client, _replay_base)


def replay_one(index: int, interaction: Interaction, client_for: ClientFor) -> Replayed:
    """Re-issue one recorded request through the SDK and collect what it reads from the answer."""
    rep = Replayed(index, interaction)
    if rep.call == "raw":
        _consume_raw(interaction)
        return rep
    rep.body, rep.body_error = parse_body(interaction.request.body)
    if rep.body is None:
        _consume_raw(interaction)
        return rep
    body, messages = rep.body, client_for(interaction).beta.messages

    def call() -> None:  # API errors: HTTP statuses, and `error` events inside the stream
        if rep.call == "count_tokens":
            rep.tokens = messages.count_tokens(
                **sdk_kwargs(body, _COUNT_PARAMS, stream=None)).input_tokens
        elif rep.call == "message":
            # an explicit timeout: the SDK refuses a non-streaming call with a large max_tokens
            # ("Streaming is required ...") unless the caller chose one
            rep.message = messages.create(**sdk_kwargs(body, _CREATE_PARAMS, stream=False),
                                          timeout=600)
        else:
            rep.events.extend(messages.create(**sdk_kwargs(body, _CREATE_PARAMS, stream=True)))

    rep.error, rep.stream_error = call_sdk(index, call, APIError, line=interaction.line)
    return rep


def _consume_raw(interaction: Interaction) -> None:
    """Play a request the SDK does not send, at a usable URL (see `REPLAY_BASE`)."""
    req = interaction.request
    consume_raw(interaction, safe_base_url(interaction, REPLAY_BASE) + req.path
                + (f"?{req.query}" if req.query else ""))


def replay_cassette(path: Path) -> Iterator[Replayed]:
    """Every interaction of the cassette at `path` through the SDK under vcrpy (network
    impossible; the cassette reader has already refused wrong-typed fields)."""
    clients = default_clients()
    return replay_file(path, lambda n, i: replay_one(n, i, clients))


# ------------------------------------------------------------------------------------- parsing


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    return [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's content as blocks (a plain string is one text block)."""
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _texts(message: dict[str, Any]) -> list[str]:
    return [str(b.get("text", "")) for b in _blocks(message) if b.get("type") == "text"]


def _carries_history(messages: list[dict[str, Any]]) -> bool:
    """Whether a request carries an earlier answer before its last message."""
    return any(m.get("role") == "assistant" for m in _conversation(messages)[:-1])


def _conversation(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User and assistant messages; `system` messages are Claude Code's own injections."""
    # a tuple, not a set: the recorded field may hold anything, even an unhashable list
    return [m for m in messages if m.get("role") in ("user", "assistant")]


def session_id_of(body: dict[str, Any]) -> str | None:
    """Claude Code's session id from `metadata.user_id`: a JSON object string with `session_id`
    (2.x), or the older `user_<hash>_account_<uuid>_session_<uuid>` form."""
    meta = body.get("metadata")
    user_id = meta.get("user_id") if isinstance(meta, dict) else None
    if not isinstance(user_id, str):
        return None
    parsed = json_or_none(user_id)
    if isinstance(parsed, dict):
        sid = parsed.get("session_id")
        return sid if isinstance(sid, str) and sid else None
    match = re.search(r"_session_([0-9a-fA-F-]+)$", user_id)
    return match.group(1) if match else None


def claude_code_sent(interaction: Interaction, body: dict[str, Any] | None) -> bool:
    """Whether the request says Claude Code sent it: one of its headers
    (`CLAUDE_CODE_HEADERS`), a system block opening with its billing header or identity line
    (`CLAUDE_CODE_SYSTEM`), or its `metadata.user_id` shape. Model names and prompt wording
    never count."""
    headers = interaction.request.headers
    if any(p.search(headers.get(name, "")) for name, p in CLAUDE_CODE_HEADERS.items()):
        return True
    if body is None:
        return False
    if any(CLAUDE_CODE_SYSTEM.match(text.lstrip()) for text in _system_blocks(body)):
        return True
    return _claude_code_user_id(body)


def _claude_code_user_id(body: dict[str, Any]) -> bool:
    meta = body.get("metadata")
    user_id = meta.get("user_id") if isinstance(meta, dict) else None
    if not isinstance(user_id, str):
        return False
    parsed = json_or_none(user_id)
    if isinstance(parsed, dict):
        return {"device_id", "session_id"} <= set(parsed)
    return CLAUDE_CODE_USER_ID.match(user_id) is not None


def _system_blocks(body: dict[str, Any]) -> list[str]:
    system = body.get("system")
    if isinstance(system, str):
        return [system]
    if isinstance(system, list):
        return [str(b.get("text", "")) for b in system if isinstance(b, dict)]
    return []


def _system_text(body: dict[str, Any]) -> str:
    return "\n".join(_system_blocks(body))


def _cwd_from(body: dict[str, Any]) -> str | None:
    texts = [_system_text(body)] + [t for m in _messages(body) for t in _texts(m)]
    for text in texts:
        match = _CWD.search(text)
        if match:
            return match.group(1)
    return None


def parse_bash_result(text: str, is_error: bool) -> tuple[int | None, str]:
    """Exit code and output from Claude Code's Bash tool_result: success is the output itself
    (exit code 0); a failure is `Exit code N` then the output (`claude_family.exit_code`); a
    refusal or an interrupt has no exit code and its whole text is the output."""
    if not is_error:
        return 0, text
    return exit_code(text) or (None, text)


def file_changes(name: str, arguments: Any, result: str = "") -> list[FileChangeEntry]:
    """The files a Write/Edit/MultiEdit/NotebookEdit call touches. Write is an `add` when Claude
    Code's tool_result reports it created the file, else (overwrite, or not yet known) an
    `update`."""
    return claude_family.file_changes(
        arguments, created=name == "Write" and WRITE_CREATED.match(result) is not None)


def http_error(status: int, message: str) -> TurnError:
    """An HTTP error status as a turn error (the core's one status table)."""
    return TurnError.of(status_kind(status), f"HTTP {status}: {message}")


def typed_error(error_type: str | None, message: str) -> TurnError:
    kind = ERROR_TYPE_KINDS.get(cast(ErrorType, error_type or ""), "provider")
    return TurnError.of(kind, message)


def _error_object(body: object) -> dict[str, Any]:
    """The `error` object of an Anthropic error body ({"type": "error", "error": {...}})."""
    if isinstance(body, dict):
        inner = body.get("error")
        return inner if isinstance(inner, dict) else body
    return {}


def api_error(exc: APIError) -> TurnError:
    """An SDK exception as a turn error: HTTP statuses by table, `error` events by their type."""
    if isinstance(exc, APIConnectionError):
        return TurnError.of("network", str(exc))
    err = _error_object(exc.body)
    message = str(err.get("message") or exc.message)
    if isinstance(exc, APIStatusError) and exc.status_code >= 400:
        return http_error(exc.status_code, message)
    return typed_error(str(err.get("type") or ""), message)


def _raw(model: Any) -> Any:
    """The payload as received (fields the SDK does not know included)."""
    to_dict = getattr(model, "to_dict", None)
    return to_dict(mode="json", warnings=False) if callable(to_dict) else model


def _json_input(partial: str, start: Any) -> Any:
    """A tool call's input: the streamed `input_json_delta` text parsed, else the start input."""
    if not partial:
        return start if start is not None else {}
    return json_or_text(partial)


# ------------------------------------------------------------------------------------- translate


@dataclass
class _Pending:
    """A call waiting for its result (client tools: in a later request)."""

    item: Item
    name: str
    arguments: Any = None
    claude_code: bool = False


@dataclass
class _Block:
    """One content block of the message being streamed."""

    type: str
    start: dict[str, Any]
    item: Item | None = None
    text: str = ""
    partial_json: str = ""
    signature: str = ""
    extra: list[Any] = field(default_factory=list)


@dataclass
class _CallUsage:
    """One model call's usage: the latest value per field (message_delta counts are cumulative)."""

    input_tokens: int = 0
    cache_read: int = 0
    cache_write: int | None = None
    output_tokens: int = 0
    thinking_tokens: int | None = None

    def update(self, usage: Any) -> None:
        if usage is None:
            return
        for name, attr in (("input_tokens", "input_tokens"),
                           ("cache_read", "cache_read_input_tokens"),
                           ("cache_write", "cache_creation_input_tokens"),
                           ("output_tokens", "output_tokens")):
            value = getattr(usage, attr, None)
            if isinstance(value, int):
                setattr(self, name, value)
        details = getattr(usage, "output_tokens_details", None)
        thinking = getattr(details, "thinking_tokens", None)
        if isinstance(thinking, int):
            self.thinking_tokens = thinking

    def add_to(self, total: _TurnUsage) -> None:
        """This call into the turn's sum: `input_tokens` counts all input (plain + cache reads
        + cache writes, OpenAI's meaning), `cached_input_tokens` the reads, the writes apart."""
        total.add(self.input_tokens + self.cache_read + (self.cache_write or 0), self.cache_read,
                  self.output_tokens, self.thinking_tokens)
        if self.cache_write is not None:
            total.cache_write = (total.cache_write or 0) + self.cache_write


@dataclass
class _TurnUsage(TurnUsage):
    """The shell's turn sum plus prompt-cache writes (None when no call reported them)."""

    cache_write: int | None = None

    def model(self) -> Usage | None:
        usage = super().model()
        if usage is None:
            return None
        return usage.model_copy(update={"cache_write_input_tokens": self.cache_write})


Outcome = Literal["completed", "failed", "truncated"]


class Translator(ExchangeTranslator[Replayed]):
    """Replayed interactions -> normalized events (pure; see the module docstring for rules)."""

    def __init__(self, context: RunContext, source: str) -> None:
        super().__init__(LANE_ID, context, source)
        self.session: str | None = None
        self.model: str | None = None
        self.pending: dict[str, _Pending] = {}
        self.server_calls: dict[str, _Pending] = {}
        self.blocks: dict[int, _Block] = {}
        self.message_id = ""
        self.call_usage = _CallUsage()
        self.usage = _TurnUsage()
        self.stop_reason: str | None = None
        self.answered = False
        self.asked_tools = False
        self.retrying = False
        self.held: list[ToolCall] = []
        self.last_messages: list[dict[str, Any]] = []
        self.claude_code = False

    # ---------------------------------------------------------------- driver

    def finish(self) -> list[Event]:
        """End of input: close the open turn; side calls still held (no turn followed them)
        become `unknown` items, the only kind allowed outside a turn."""
        out = self._close_turn() if self.b.in_turn else []
        out += [self.b.unknown("side_call", item.model_dump(mode="json")) for item in self.held]
        self.held = []
        return out

    def exchange(self, rep: Replayed, following: Replayed | None) -> Iterable[Event]:
        if rep.call != "raw" and rep.body is None:
            return self.frame_problem(rep, rep.body_error or "request body unusable")
        self.claude_code = claude_code_sent(rep.interaction, rep.body)
        kind = self._side_kind(rep)
        if kind == "nested_search" and self._pending_search() is not None:
            return self._nested_search(rep)
        if kind is not None:
            return self._side_call(rep, kind)
        assert rep.body is not None
        out = self._request(rep.body)
        self.last_messages = _messages(rep.body)
        return chain(out, self._response(rep, following))

    # ---------------------------------------------------------------- classification

    def _side_kind(self, rep: Replayed) -> str | None:
        """None for conversation; else the side-call kind ("" when unrecognised). Only the
        API's own side paths hold for every client; Claude Code's side queries are told by
        the request's structure, never by its model name or prompt words."""
        path = rep.interaction.request.path.rstrip("/")
        for suffix, kind in SIDE_CALL_PATHS.items():
            if path.endswith(suffix):
                return kind
        if rep.call == "raw":
            return ""
        if not self.claude_code:
            return None
        body = rep.body or {}
        if rep.call == "message" and _messages(body) != self.last_messages:
            return "side_query"  # its conversation calls stream; a fallback re-sends them
        tools = body.get("tools")
        if isinstance(tools, list) and tools and all(
                isinstance(t, dict) and str(t.get("type", "")).startswith("web_search")
                for t in tools):
            return "nested_search"
        model = body.get("model")
        if self.model and isinstance(model, str) and model != self.model and not tools:
            return "side_query"  # its conversation calls always offer its tools
        return None

    # ---------------------------------------------------------------- requests

    def _request(self, body: dict[str, Any]) -> list[Event]:
        messages = _messages(body)
        out = self._collect_results(messages)
        new_prompt = self._is_new_prompt(messages) and not self.retrying
        self.retrying = False
        if new_prompt and self.b.in_turn:
            out += self._close_turn()
        if not self.b.has_session or (new_prompt and self._starts_run(messages)):
            out += self._new_run(body, messages)
        if new_prompt or not self.b.in_turn:
            out += self._start_turn()
        return out

    def _is_new_prompt(self, messages: list[dict[str, Any]]) -> bool:
        conversation = _conversation(messages)
        if not conversation:
            return True
        last = conversation[-1]
        if last.get("role") == "assistant":
            return False  # a prefill or a `pause_turn` continuation
        markers = CONTINUATION_MARKERS if self.claude_code else ()
        prompts = [t for t in _texts(last) if not t.lstrip().startswith(markers)]
        if any(b.get("type") == "tool_result" for b in _blocks(last)):
            # results of a turn that already ended (it failed) merged with the next prompt
            return not self.b.in_turn and bool(prompts)
        return len(prompts) == len(_texts(last))

    def _starts_run(self, messages: list[dict[str, Any]]) -> bool:
        """A new prompt starts a run: always for Claude Code (one prompt per process); for any
        other client only when the request carries no earlier answer (a new conversation)."""
        return self.claude_code or not _carries_history(messages)

    def _new_run(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> list[Event]:
        sid = session_id_of(body) if self.claude_code else None
        same_session = self.b.has_session and sid is not None and sid == self.session
        resumed = self.context.resumed_from if not self.b.has_session else None
        if resumed is None and self.claude_code and (_carries_history(messages) or same_session):
            resumed = self.session if self.b.has_session and self.session else sid
        self.session = sid
        model = body.get("model")
        self.model = model if isinstance(model, str) else self.context.model
        return self.b.session_started(sid, self._session_info(body, resumed))

    def _session_info(self, body: dict[str, Any], resumed: str | None) -> SessionInfo:
        ctx = self.context
        return SessionInfo(
            provider="anthropic",
            runtime=Runtime(name=LANE_ID, version=ctx.runtime_version),
            model=self.model,
            auth_mode=ctx.auth_mode,
            cwd=ctx.cwd or (_cwd_from(body) if self.claude_code else None),
            sandbox=ctx.sandbox,
            approval_policy=ctx.approval_policy,
            resumed_from=resumed,
        )

    def _start_turn(self) -> list[Event]:
        self.usage = _TurnUsage()
        self.stop_reason = None
        self.answered = False
        out = self.b.turn_started()
        out += [self.b.item("completed", item) for item in self.held]
        self.held = []
        return out

    def _close_turn(self) -> list[Event]:
        """End the open turn: completed after a final answer, or (any client but Claude Code)
        after a finished answer whose tool calls the client never answered (`close_unanswered`);
        else the input stopped inside it (calls still waiting for results are failed by the
        builder)."""
        done = self.answered and not self.pending
        out: list[Event] = []
        if not done and self.asked_tools and not self.claude_code:
            out = close_unanswered(self.b, [p.item for p in self.pending.values()])
            done = True
        self.pending.clear()
        self.server_calls.clear()
        if done:
            return out + self.b.turn_completed(self.usage.model(), self.stop_reason)
        return self.b.close_turn_truncated()

    def _collect_results(self, messages: list[dict[str, Any]]) -> list[Event]:
        out: list[Event] = []
        for message in messages:
            if message.get("role") != "user":
                continue
            for block in _blocks(message):
                if block.get("type") != "tool_result":
                    continue
                pending = self.pending.pop(str(block.get("tool_use_id")), None)
                if pending is not None:
                    out.append(self.b.item("completed", _complete(pending, block)))
        return out

    # ---------------------------------------------------------------- responses

    def _response(self, rep: Replayed, following: Replayed | None) -> Iterator[Event]:
        """The answer's events as they are made: a long streamed answer is hundreds of deltas,
        each `item.updated` carrying the text so far, so a list of them grew as the square of
        the answer's length."""
        self.blocks.clear()
        self.call_usage = _CallUsage()
        self.asked_tools = False
        outcome: Outcome = "truncated"
        if rep.message is not None:
            yield from self._whole_message(rep.message)
            outcome = "completed"
        for event in rep.events:
            step, terminal = self._event(event)
            yield from step
            if terminal is not None:
                outcome = terminal
                break
        if outcome == "completed":
            self.call_usage.add_to(self.usage)
            return
        yield from self._close_blocks()
        retry = following is not None and _is_retry(rep, following)
        if rep.error is not None:
            error = api_error(rep.error)
            if retry:  # Claude Code re-sends a failed call: the turn goes on
                self.retrying = True
                yield self.b.notice(error.message)
                return
            yield from self._fail(error)
            return
        if rep.stream_error is not None:
            yield from self.frame_problem(rep, rep.stream_error)
        if retry:
            self.retrying = True
            return
        if self.b.in_turn:
            yield from self._fail_truncated()

    def _fail(self, error: TurnError) -> list[Event]:
        if not self.b.in_turn:
            return [self.b.notice(error.message)]
        self.pending.clear()
        self.server_calls.clear()
        return self.b.turn_failed(error)

    def _fail_truncated(self) -> list[Event]:
        self.pending.clear()
        self.server_calls.clear()
        return self.b.close_turn_truncated()

    def _event(self, event: Any) -> tuple[list[Event], Outcome | None]:
        etype = str(getattr(event, "type", ""))
        expected = HANDLED_EVENTS.get(etype)
        if expected is None or not isinstance(event, expected):
            return [self.b.unknown(etype or "<no type>", _raw(event))], None
        if isinstance(event, BetaRawMessageStartEvent):
            self.message_id = str(event.message.id)
            self.call_usage.update(event.message.usage)
            return [], None
        if isinstance(event, BetaRawContentBlockStartEvent):
            return self._block_start(event.index, _raw(event.content_block)), None
        if isinstance(event, BetaRawContentBlockDeltaEvent):
            return self._block_delta(event.index, event.delta), None
        if isinstance(event, BetaRawContentBlockStopEvent):
            return self._block_stop(event.index), None
        if isinstance(event, BetaRawMessageDeltaEvent):
            self.call_usage.update(event.usage)
            reason = event.delta.stop_reason
            if reason is not None:
                self.stop_reason = str(reason)
            return [], None
        return self._message_stop(), "completed"

    def _whole_message(self, message: BetaMessage) -> list[Event]:
        """A non-streamed answer (any client's `stream: false` call, or Claude Code's fallback
        after a failed stream): each content block, whole, goes through the same start/stop
        logic as a streamed one, so both forms give the same items."""
        self.message_id = str(message.id)
        self.call_usage.update(message.usage)
        if message.stop_reason is not None:
            self.stop_reason = str(message.stop_reason)
        out: list[Event] = []
        for index, block in enumerate(message.content):
            out += self._block_start(index, _raw(block))
            out += self._block_stop(index)
        return out + self._message_stop()

    def _message_stop(self) -> list[Event]:
        out = self._close_blocks()
        meaning = STOP_REASONS.get(cast(BetaStopReason, self.stop_reason or ""), "answer")
        self.answered = meaning == "answer" or (meaning == "tool_use" and not self.pending)
        self.asked_tools = meaning == "tool_use" and bool(self.pending)
        return out

    # ---------------------------------------------------------------- content blocks

    def _native(self, index: int) -> str:
        return f"{self.message_id}/{index}"

    def _block_start(self, index: int, start: Any) -> list[Event]:
        payload = start if isinstance(start, dict) else {"content_block": start}
        block = _Block(type=str(payload.get("type", "")), start=payload)
        self.blocks[index] = block
        native = self._native(index)
        if block.type == "text":
            block.text = str(payload.get("text") or "")
            cited = payload.get("citations")
            citations = [citation_of(c) for c in cited] if isinstance(cited, list) else []
            block.item = AssistantMessage(id=self.b.item_id(native), status="in_progress",
                                          text=block.text, citations=citations,
                                          native_id=native)
        elif block.type == "thinking":
            block.text = str(payload.get("thinking") or "")
            block.signature = str(payload.get("signature") or "")
            block.item = Reasoning(id=self.b.item_id(native), status="in_progress",
                                   text=block.text, native_id=native)
        else:
            return []
        return [self.b.item("started", block.item)]

    def _block_delta(self, index: int, delta: Any) -> list[Event]:
        dtype = str(getattr(delta, "type", ""))
        block = self.blocks.get(index)
        if block is None or dtype not in HANDLED_DELTAS:
            payload = {"index": index, "delta": _raw(delta)}
            if block is None:
                return [self.b.unknown(f"content_block_delta.{dtype}", payload)]
            block.extra.append(payload["delta"])
            return []
        if dtype in {"text_delta", "thinking_delta"}:
            piece = str(getattr(delta, "text", None) or getattr(delta, "thinking", None) or "")
            return self._streamed(block, piece, "text")
        if dtype == "signature_delta":
            block.signature += str(getattr(delta, "signature", "") or "")
        elif dtype == "input_json_delta":
            block.partial_json += str(getattr(delta, "partial_json", "") or "")
        else:  # citations_delta
            raw = _raw(getattr(delta, "citation", None))
            return self._streamed(block, json.dumps(raw, ensure_ascii=False), "citations", raw)
        return []

    def _streamed(self, block: _Block, piece: str, field_name: str,
                  citation: Any = None) -> list[Event]:
        if block.item is None:
            block.extra.append({"field": field_name, "text": piece})
            return []
        if field_name == "text":
            block.text += piece
            block.item = with_text(block.item, block.text)
        elif isinstance(block.item, AssistantMessage):
            cited = [*block.item.citations, citation_of(citation)]
            block.item = block.item.model_copy(update={"citations": cited})
        return [self.b.item("updated", block.item, streamed_delta(field_name, piece))]

    def _block_stop(self, index: int) -> list[Event]:
        block = self.blocks.pop(index, None)
        if block is None:
            return [self.b.unknown("content_block_stop", {"index": index})]
        native = self._native(index)
        if block.type in STREAMED_BLOCKS and block.item is not None:
            self.b.forget_native(native)
            update: dict[str, Any] = {"status": "completed", "text": block.text}
            if block.type == "thinking":
                update["encrypted"] = not block.text and bool(block.signature)
            return [self.b.item("completed", block.item.model_copy(update=update))]
        if block.type == "redacted_thinking":
            item = Reasoning(id=self.b.fresh_id(), status="completed", text="", encrypted=True,
                             native_id=native)
            return [self.b.item("completed", item)]
        if block.type in CALL_BLOCKS:
            return self._call(block)
        if block.type in RESULT_BLOCKS:
            return self._server_result(block)
        payload = dict(block.start)
        if block.extra:
            payload["deltas"] = block.extra
        return [self.b.unknown(block.type or "<no type>", payload, native)]

    def _close_blocks(self) -> list[Event]:
        """Blocks cut off mid-stream: streamed text ends failed, keeping what arrived."""
        out: list[Event] = []
        for index, block in list(self.blocks.items()):
            if block.item is not None:
                self.b.forget_native(self._native(index))
                failed = block.item.model_copy(update={"status": "failed", "text": block.text})
                out.append(self.b.item("completed", failed))
        self.blocks.clear()
        return out

    # ---------------------------------------------------------------- calls

    def _call(self, block: _Block) -> list[Event]:
        start = block.start
        call_id = str(start.get("id") or "")
        name = str(start.get("name") or "")
        arguments = _json_input(block.partial_json, start.get("input"))
        if block.type == "mcp_tool_use":
            item: Item = McpToolCall(id=self.b.fresh_id(), status="in_progress",
                                     server=str(start.get("server_name") or ""), tool=name,
                                     arguments=arguments, native_id=call_id)
            self.server_calls[call_id] = _Pending(item, name)
        elif block.type == "server_tool_use":
            item = self._server_item(name, arguments, call_id)
            self.server_calls[call_id] = _Pending(item, name)
        else:
            item = self._client_item(name, arguments, call_id)
            self.pending[call_id] = _Pending(item, name, arguments, self.claude_code)
        return [self.b.item("started", item)]

    def _server_item(self, name: str, arguments: Any, call_id: str) -> Item:
        args = arguments if isinstance(arguments, dict) else {}
        kind = SERVER_TOOL_KINDS.get(name)
        if kind == "web_search":
            return WebSearch(id=self.b.fresh_id(), status="in_progress",
                             query=str(args.get("query") or ""), native_id=call_id)
        if kind == "command_execution":
            return CommandExecution(id=self.b.fresh_id(), status="in_progress",
                                    command=str(args.get("command") or ""), native_id=call_id)
        return ToolCall(id=self.b.fresh_id(), status="in_progress", name=name,
                        arguments=arguments, native_id=call_id)

    def _client_item(self, name: str, arguments: Any, call_id: str) -> Item:
        """Claude Code's tools by its tool table; any other client's tool is a tool_call."""
        item_id = self.b.fresh_id()
        kind = tool_kind(name) if self.claude_code else "tool_call"
        args = arguments if isinstance(arguments, dict) else {}
        if kind == "command_execution":
            return CommandExecution(id=item_id, status="in_progress",
                                    command=str(args.get("command", "")), native_id=call_id)
        if kind == "file_change":
            return FileChange(id=item_id, status="in_progress",
                              changes=file_changes(name, arguments), native_id=call_id)
        if kind == "plan":
            return Plan(id=item_id, status="in_progress", entries=plan_entries(arguments),
                        native_id=call_id)
        if kind == "web_search":
            return WebSearch(id=item_id, status="in_progress", query=str(args.get("query", "")),
                             native_id=call_id)
        if kind == "mcp_tool_call":
            server, tool = mcp_names(name)
            return McpToolCall(id=item_id, status="in_progress", server=server, tool=tool,
                               arguments=arguments, native_id=call_id)
        return ToolCall(id=item_id, status="in_progress", name=name, arguments=arguments,
                        native_id=call_id)

    def _server_result(self, block: _Block) -> list[Event]:
        """A server tool's result block completes the call it answers (in this answer, or in
        the earlier one a `pause_turn` continued)."""
        start = block.start
        pending = self.server_calls.pop(str(start.get("tool_use_id")), None)
        if pending is None:
            return [self.b.unknown(block.type, dict(start))]
        return [self.b.item("completed", server_done(pending.item, block.type, start))]

    # ---------------------------------------------------------------- side calls and problems

    def _pending_search(self) -> _Pending | None:
        return next((p for p in self.pending.values() if isinstance(p.item, WebSearch)), None)

    def _nested_search(self, rep: Replayed) -> list[Event]:
        """WebSearch's own model call: its answer is the search, kept with the WebSearch call
        (the hits of its web_search_tool_result blocks become the item's results)."""
        pending = self._pending_search()
        assert pending is not None and isinstance(pending.item, WebSearch)
        blocks = [_raw(e.content_block) for e in rep.events
                  if isinstance(e, BetaRawContentBlockStartEvent)]
        if rep.message is not None:
            blocks += [_raw(b) for b in rep.message.content]
        hits = [hit for b in blocks if isinstance(b, dict)
                and b.get("type") == "web_search_tool_result"
                for hit in search_hits(b.get("content"))]
        pending.item = pending.item.model_copy(update={"results": hits})
        return []

    def _side_call(self, rep: Replayed, kind: str) -> list[Event]:
        """A recognised side call inside a turn is a `side_call.<kind>` tool_call; before any
        turn it is held until the next turn starts (items live inside turns); an unrecognised
        one is an `unknown` item, allowed anywhere."""
        if kind == "nested_search":
            kind = "web_search"
        if not kind:
            req = rep.interaction.request
            payload = {"method": req.method, "path": req.path,
                       "status": rep.interaction.response.status}
            return [self.b.unknown("side_call", payload)]
        item = self._side_item(rep, kind)
        if not self.b.in_turn:
            self.held.append(item)
            return []
        return [self.b.item("completed", item)]

    def _side_item(self, rep: Replayed, kind: str) -> ToolCall:
        error = _side_error(rep)
        arguments: dict[str, Any] = {"model": (rep.body or {}).get("model")}
        return ToolCall(id=self.b.fresh_id(), status="failed" if error else "completed",
                        name=f"side_call.{kind}", arguments=arguments,
                        result=_side_result(rep), error=error)



def _is_retry(rep: Replayed, following: Replayed) -> bool:
    """Claude Code re-sends a failed or cut call with the same messages."""
    return following.body is not None and rep.body is not None \
        and _messages(following.body) == _messages(rep.body)


def server_done(item: Item, block_type: str, start: dict[str, Any]) -> Item:
    """A server tool call finished by its result block (see the module docstring)."""
    content = start.get("content")
    error = _server_error(block_type, start, content)
    status: ItemStatus = "failed" if error else "completed"
    if isinstance(item, WebSearch):
        return item.model_copy(update={"status": status, "results": search_hits(content)})
    if isinstance(item, CommandExecution):
        if error or not isinstance(content, dict):
            return item.model_copy(update={"status": "failed", "error": error or "no result"})
        code = content.get("return_code")
        exit_code = code if isinstance(code, int) and not isinstance(code, bool) else None
        output = str(content.get("stdout") or "") + str(content.get("stderr") or "")
        return item.model_copy(update={"status": "completed" if exit_code == 0 else "failed",
                                       "exit_code": exit_code, "output": output})
    if isinstance(item, McpToolCall | ToolCall):
        code = content.get("return_code") if isinstance(content, dict) else None
        if error is None and isinstance(code, int) and code != 0:  # code_execution's Python
            error, status = f"return code {code}", "failed"
        return item.model_copy(update={"status": status, "result": content, "error": error})
    return item.model_copy(update={"status": status})


def search_hits(content: Any) -> list[SearchResult]:
    """The url and title of each `web_search_result` of a web_search_tool_result."""
    if not isinstance(content, list):
        return []
    return [SearchResult(url=str(hit["url"]), title=_str_or_none(hit.get("title")))
            for hit in content if isinstance(hit, dict)
            and hit.get("type") == "web_search_result" and isinstance(hit.get("url"), str)]


def citation_of(raw: Any) -> Citation:
    """One text citation as {url, title, cited_text}: a web search hit names its url and
    title, a search result its source, a document location its document title."""
    data = raw if isinstance(raw, dict) else {}
    return Citation(url=_str_or_none(data.get("url") or data.get("source")),
                    title=_str_or_none(data.get("title") or data.get("document_title")),
                    cited_text=_str_or_none(data.get("cited_text")))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _server_error(block_type: str, start: dict[str, Any], content: Any) -> str | None:
    """Why a server tool failed: an MCP result marked `is_error`, or a result object of an
    `*_error` type (its error code, and message when it gives one)."""
    if block_type == "mcp_tool_result":
        return result_text(content) or "tool failed" if start.get("is_error") else None
    if isinstance(content, dict) and str(content.get("type", "")).endswith("_error"):
        code = str(content.get("error_code") or content.get("type"))
        message = content.get("error_message")
        return f"{code}: {message}" if isinstance(message, str) and message else code
    return None


def _side_error(rep: Replayed) -> str | None:
    error = None if rep.error is None else api_error(rep.error).message
    return side_error(error, rep.stream_error, rep.interaction.response.status)


def _side_result(rep: Replayed) -> Any:
    """What a side call answered: the token count, or the answer's text."""
    if rep.tokens is not None:
        return {"input_tokens": rep.tokens}
    if rep.message is not None:
        return "".join(str(getattr(b, "text", "") or "") for b in rep.message.content)
    texts = [str(getattr(e.delta, "text", "") or "") for e in rep.events
             if isinstance(e, BetaRawContentBlockDeltaEvent)
             and getattr(e.delta, "type", "") == "text_delta"]
    return "".join(texts) or None


def _complete(pending: _Pending, block: dict[str, Any]) -> Item:
    """A pending client call, finished with what its tool_result says."""
    item, content = pending.item, block.get("content")
    is_error = block.get("is_error") is True
    text = result_text(content)
    declined = is_error and pending.claude_code and DECLINED.search(text) is not None
    failed: ItemStatus = "declined" if declined else "failed"
    refusal = (text or "declined") if declined else None  # the denial, in Claude Code's words
    if isinstance(item, CommandExecution):
        code, output = parse_bash_result(text, is_error)
        status: ItemStatus = "completed" if code == 0 else failed
        return item.model_copy(update={"status": status, "exit_code": code,
                                       "output": "" if declined else output, "error": refusal})
    if isinstance(item, FileChange):
        changes = file_changes(pending.name, pending.arguments, text) or item.changes
        error = refusal or ((text or "not applied") if is_error else None)
        return item.model_copy(update={"status": failed if is_error else "completed",
                                       "changes": changes, "error": error})
    if isinstance(item, Plan | WebSearch):
        return item.model_copy(update={"status": failed if is_error else "completed"})
    update: dict[str, Any] = {"status": failed if is_error else "completed", "result": content}
    if is_error:
        update["error"] = text or "tool failed"
    return item.model_copy(update=update)


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


EMPTY_BASH_OUTPUT = "(Bash completed with no output)"
"""What Claude Code sends the model for a command that printed nothing."""


def _empty_output_placeholder(text: str) -> str:
    return "" if text.strip() == EMPTY_BASH_OUTPUT else text


LANE = LaneSpec(
    id=LANE_ID,
    provider="anthropic",
    input_kind="http-cassette",
    description="Messages API traffic (Claude Code's or any client's), replayed through the "
                "official anthropic SDK; tool executions rebuilt from tool_use + next-request "
                "tool_result.",
    item_kinds=frozenset({
        "assistant_message", "reasoning", "command_execution", "file_change",
        "mcp_tool_call", "tool_call", "web_search", "plan", "error", "unknown",
    }),
    capabilities=frozenset(cast(list[Capability], [
        "resume", "cwd_context", "mcp", "reasoning", "usage", "web_search", "plan",
        "file_change",
    ])),
    normalize=normalize,
    normalize_lines=normalize_lines,
    native_file="claude.http.yaml",
    recognizes=cassette_recognizer(("/v1/messages",)),
    noise_tools=frozenset({*NOISE_TOOLS, *(f"side_call.{k}" for k in (
        *SIDE_CALL_PATHS.values(), "side_query", "web_search"))}),
    output_rules=(("claude.empty-output-placeholder", _empty_output_placeholder),),
)
